"""Celery tasks of webhooks: thin, each calls one service with ids.

`deliver` makes one attempt; when the service asks for another later, the task retries
itself with that countdown — up to WEBHOOK_MAX_COUNTDOWN_SECONDS (a longer countdown on
Redis outlives the visibility timeout and comes back early); longer waits are picked up
by `deliver_due`, which beat runs every minute. In eager mode (the embedded default) the
task does not wait in process: a retry waits for `deliver_due` or a resend.
"""

from celery import Task, shared_task
from django.conf import settings

from webhooks.services import webhook_deliveries_queue_due, webhook_delivery_send


@shared_task(bind=True, name="webhooks.tasks.deliver", acks_late=True, max_retries=None)
def deliver(self: Task, delivery_id: int) -> str:
    """One attempt at the delivery: "succeeded", "failed", "retry" or "skipped"."""
    attempt = webhook_delivery_send(delivery_id=delivery_id)
    if (
        attempt.retry_in is not None
        and not self.request.is_eager
        and attempt.retry_in <= settings.WEBHOOK_MAX_COUNTDOWN_SECONDS
    ):
        raise self.retry(countdown=attempt.retry_in)
    return attempt.outcome


@shared_task(name="webhooks.tasks.deliver_due", acks_late=True)
def deliver_due() -> int:
    """Queues the deliveries whose next attempt is overdue; the number queued."""
    return webhook_deliveries_queue_due()
