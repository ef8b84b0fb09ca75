"""Celery tasks of initiatives: thin, no arguments, each runs one job of initiatives.jobs.

Both are on Celery beat's schedule (CELERY_BEAT_SCHEDULE) and safe to deliver twice: a
second run finds nothing left to do. A database that is briefly unreachable is retried;
any other error fails the task so it is seen.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from initiatives.jobs import decisions_remind_due, initiatives_measure_due

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name="initiatives.tasks.measure_due",
    autoretry_for=TRANSIENT,
    retry_backoff=60,
    max_retries=3,
)
def measure_due() -> int:
    """Moves released initiatives whose window has ended to measured, e-mails the owners."""
    return initiatives_measure_due()


@shared_task(
    name="initiatives.tasks.remind_revisits",
    autoretry_for=TRANSIENT,
    retry_backoff=60,
    max_retries=3,
)
def remind_revisits() -> int:
    """E-mails "Time to revisit" for decisions and declined ideas whose date has come."""
    return decisions_remind_due()
