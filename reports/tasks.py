"""Celery tasks of reports: thin, each calls one service with ids.

Every task is safe to deliver twice: the services claim their work under row locks and
leave alone what is finished or held by a live worker. A run's task acknowledges its
message only when done (acks_late) and gives it back if its worker dies
(reject_on_worker_lost), so a run survives a killed worker. When the service asks for
another attempt later, the task retries itself with that countdown.
"""

from collections.abc import Callable

from celery import Task, shared_task

from reports.services import (
    Attempt,
    report_run_deliver,
    report_run_generate,
    report_runs_schedule_due,
)


def _outcome(task: Task, work: Callable[[], Attempt]) -> str:
    attempt = work()
    if task.request.is_eager:
        # In process (the embedded default) no worker comes back later, and a Celery retry
        # would leave the request as an exception: the attempts the service allows run
        # now, one after another (no pause: `_backoff` is 0 there), until it is done or
        # gives up, which it records on the row. A pause asked for all the same leaves
        # the row waiting.
        while attempt.retry_in == 0:
            attempt = work()
        return attempt.outcome
    if attempt.retry_in is not None:
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
    return _outcome(self, lambda: report_run_generate(run_id=run_id))


@shared_task(
    bind=True,
    name="reports.tasks.deliver_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def deliver_run(self: Task, run_id: int) -> str:
    """E-mails the run to the recipients still waiting for it."""
    return _outcome(self, lambda: report_run_deliver(run_id=run_id))


@shared_task(name="reports.tasks.schedule_due", acks_late=True)
def schedule_due() -> int:
    """Creates and queues the scheduled runs that are due; the number created."""
    return report_runs_schedule_due()
