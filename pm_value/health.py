"""/healthz: is the database answering, and the Celery broker?"""

import time

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pm_value.celery import app as celery_app

BROKER_TIMEOUT_SECONDS = 2.0


def _check_database() -> dict[str, object]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "error": f"The database does not answer: {exc}".strip()}
    return {"ok": True, "vendor": connection.vendor, "ms": _ms(started)}


def _check_broker() -> dict[str, object]:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "transport": "in-process (tasks run eagerly)"}
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "down"
        return {"ok": False, "error": f"The Celery broker does not answer: {exc}"}
    return {"ok": True, "transport": str(transport), "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _check_database(), _check_broker()
    healthy = bool(database["ok"] and broker["ok"])
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )
