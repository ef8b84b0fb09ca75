"""The Celery app: settings that really reach Celery, and a real worker on Redis."""

import time

import pytest
from celery.app.defaults import DEFAULTS
from django.conf import settings

from accounts.models import Team, Workspace
from accounts.services import team_create
from pm_value.celery import app as celery_app


@celery_app.task(name="tests.team_create")
def team_create_task(workspace_id: int, name: str) -> int:
    """Test-only task: writes a row the test can look for."""
    return team_create(workspace=Workspace.objects.get(pk=workspace_id), name=name).pk


def test_every_celery_setting_in_django_settings_is_a_setting_celery_knows() -> None:
    # A misspelled CELERY_ name is silently ignored by Celery: catch it here.
    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    unknown = [name for name in names if name.removeprefix("CELERY_").lower() not in DEFAULTS]
    assert len(names) > 10
    assert unknown == []


def test_the_effective_celery_configuration_is_the_one_we_wrote() -> None:
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit == 300
    assert conf.task_time_limit == 360
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    # An unacknowledged task comes back after visibility_timeout: it must outlast the
    # longest task, or a slow task would be delivered twice.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_url == (settings.CELERY_BROKER_URL or None) or conf.task_always_eager


def test_without_a_broker_tasks_run_in_process() -> None:
    assert celery_app.conf.task_always_eager is (not settings.CELERY_BROKER_URL)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_task_that_writes_a_row(workspace: Workspace) -> None:
    from celery.contrib.testing.worker import start_worker

    assert celery_app.conf.task_always_eager is False
    celery_app.control.purge()  # nothing left over from an earlier run
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # when a task is sent through the broker
        team_create_task.delay(workspace.pk, "Made by the worker")
        # then the worker, in its own thread and database connection, writes the row
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Team.objects.filter(workspace=workspace, name="Made by the worker").exists():
                break
            time.sleep(0.1)
    assert Team.objects.filter(workspace=workspace, name="Made by the worker").count() == 1
