"""/healthz answers 200 when the database and the broker answer, 503 when one does not."""

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from pm_value import health
from pm_value.celery import app as celery_app


@pytest.mark.django_db
def test_healthy_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_the_embedded_default_counts_the_in_process_broker(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    body = client.get("/healthz").json()
    assert body["broker"] == {"ok": True, "transport": "in-process (tasks run eagerly)"}


@pytest.mark.redis
@pytest.mark.django_db
def test_the_real_redis_broker_is_checked(client: Client) -> None:
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is True
    assert "redis" in body["broker"]["transport"].lower()


@pytest.mark.django_db
def test_unavailable_when_the_broker_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a broker address where nothing listens
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    # (Celery reads CELERY_BROKER_URL from the environment before its own settings.)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setattr(health, "BROKER_TIMEOUT_SECONDS", 0.5)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"].startswith("The Celery broker does not answer")


class _BrokenConnection:
    vendor = "broken"

    def cursor(self) -> Any:
        raise OperationalError("connection refused")


def test_unavailable_when_the_database_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "connection", _BrokenConnection())
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {
        "ok": False,
        "error": "The database does not answer: connection refused",
    }


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
