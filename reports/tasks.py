"""Celery tasks of reports: thin, each calls one service with ids.

Every task is safe to deliver twice: the services claim their work under row locks and
leave alone what is finished or held by a live worker. A run's task acknowledges its
message only when done (acks_late) and gives it back if its worker dies
(reject_on_worker_lost), so a run survives a killed worker. When the service asks for
another attempt later, the task retries itself with that countdown.
"""

from celery import Task, shared_task

from reports.services import (
    Attempt,
    report_run_deliver,
    report_run_generate,
    report_runs_schedule_due,
)


def _outcome(task: Task, attempt: Attempt) -> str:
    if attempt.retry_in is not None:
        if task.request.is_eager and attempt.retry_in > 0:
            # In process (the embedded default) a retry would run at once, again and
            # again: what waits stays recorded on its row instead.
            return attempt.outcome
        raise task.retry(countdown=attempt.retry_in)
    return attempt.outcome


@shared_task(
    bind=True,
    name="reports.tasks.generate_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def generate_run(self: Task, run_id: int) -> str:
    """Makes the run (one attempt); "done", "skipped" or "failed"."""
    return _outcome(self, report_run_generate(run_id=run_id))


@shared_task(
    bind=True,
    name="reports.tasks.deliver_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def deliver_run(self: Task, run_id: int) -> str:
    """E-mails the run to the recipients still waiting for it."""
    return _outcome(self, report_run_deliver(run_id=run_id))


@shared_task(name="reports.tasks.schedule_due", acks_late=True)
def schedule_due() -> int:
    """Creates and queues the scheduled runs that are due; the number created."""
    return report_runs_schedule_due()
