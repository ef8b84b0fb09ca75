"""Report runs on the real Redis broker with real Celery workers (DESIGN.md §6): a run
goes queued → running → succeeded and its files exist; a task delivered twice makes one
run; a worker killed with SIGKILL mid-run gives the run back and a second worker
completes it once; the beat task fired twice makes one run; a failing section fails the
run with the reason and leaves an earlier run as it was.

Each test routes the report tasks to a queue of its own (purged before and after), so
no other worker on the same broker takes them and none of theirs come here. The in-thread
worker (celery.contrib.testing) runs in this process, so it sees the test's settings; the
SIGKILL test starts worker processes (tests/reports/report_worker.py) on the test
database instead.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import Workspace
from pm_value.celery import app as celery_app
from reports import report_data as report_data_module
from reports.models import ReportDefinition, ReportRun, RunStatus, RunTrigger
from reports.services import period_bounds, report_definition_create, report_run_request
from reports.tasks import generate_run
from strategy.services import workspace_today
from tests.reports.test_value_selectors import build_portfolio

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("report_worker.py")
RECIPIENTS = ["cfo@example.com", "board@example.com"]
VISIBILITY_TIMEOUT = 5
LEASE_SECONDS = 3


def _purge(queue: str) -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


def _route_reports_to(queue: str | None) -> None:
    celery_app.conf.task_routes = {"reports.tasks.*": {"queue": queue}} if queue else None
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


@pytest.fixture
def queue(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A queue of the test's own for the report tasks; report files in a temporary
    directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    name = f"reports-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    saved_routes = celery_app.conf.task_routes
    _route_reports_to(name)
    _purge(name)
    try:
        yield name
    finally:
        _purge(name)
        celery_app.conf.task_routes = saved_routes
        celery_app.amqp.flush_routes()
        celery_app.amqp.__dict__.pop("router", None)
        celery_app.amqp.queues._consume_from = None  # as start_worker(queues=…) found it


def worker(queue: str) -> AbstractContextManager[Any]:
    """A worker in a thread of this process that takes only `queue`."""
    return start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        queues=[queue],
    )


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout:g} s for {what}")


def definition_of(workspace: Workspace, **overrides: Any) -> ReportDefinition:
    values: dict[str, Any] = {
        "by": None,
        "name": "Monthly value review",
        "period": "month",
        "formats": ["html", "pdf", "csv"],
        "recipient_emails": RECIPIENTS,
    }
    values.update(overrides)
    return report_definition_create(workspace=workspace, **values)


def last_month(workspace: Workspace) -> Any:
    this_start, _ = period_bounds("month", workspace_today(workspace))
    return this_start - timedelta(days=1)


def slow_section(monkeypatch: pytest.MonkeyPatch, key: str, seconds: float) -> None:
    sections = list(report_data_module.SECTIONS)
    for n, (k, title, build) in enumerate(sections):
        if k == key:

            def slow(ctx: Any, build: Any = build) -> Any:
                time.sleep(seconds)
                return build(ctx)

            sections[n] = (k, title, slow)
    monkeypatch.setattr(report_data_module, "SECTIONS", sections)


def files_of(run: ReportRun) -> dict[str, bytes]:
    return {
        name: Path(getattr(run, name).path).read_bytes()
        for name in ("html_file", "pdf_file", "csv_file")
        if getattr(run, name)
    }


def test_a_requested_run_is_made_by_the_worker_and_its_files_exist(
    workspace: Workspace, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_portfolio(workspace)
    definition = definition_of(workspace)
    slow_section(monkeypatch, "objectives", 1.0)  # long enough to be seen running
    with worker(queue):
        run = report_run_request(definition=definition, by=None, day=last_month(workspace))
        assert run.status == RunStatus.QUEUED
        seen: list[tuple[str, int]] = []

        def finished() -> bool:
            run.refresh_from_db()
            if not seen or seen[-1] != (run.status, run.progress):
                seen.append((run.status, run.progress))
            return run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

        wait_for("the run to finish", finished)
        wait_for("the e-mails", lambda: len(mail.outbox) == len(RECIPIENTS))
    statuses = [s for s, _ in seen]
    assert statuses[-1] == "succeeded", run.error
    assert "running" in statuses
    assert any(s == "running" and p > 1 for s, p in seen)
    assert (run.progress, run.attempts) == (100, 1)
    assert set(files_of(run)) == {"html_file", "pdf_file", "csv_file"}
    assert all(content for content in files_of(run).values())
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS)
    assert set(run.deliveries.values_list("status", flat=True)) == {"sent"}


def test_the_same_task_delivered_twice_makes_one_run(workspace: Workspace, queue: str) -> None:
    definition = definition_of(workspace)
    start, end = period_bounds("month", last_month(workspace))
    run = ReportRun.objects.create(
        workspace=workspace,
        definition=definition,
        period_start=start,
        period_end=end,
        as_of=end,
        trigger=RunTrigger.MANUAL,
    )
    generate_run.delay(run.pk)
    generate_run.delay(run.pk)
    with worker(queue):
        wait_for("the e-mails", lambda: len(mail.outbox) >= len(RECIPIENTS))
        time.sleep(1.0)  # anything that would come twice has come by now
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert sorted(run.deliveries.values_list("email", "status", "attempts")) == sorted(
        (email, "sent", 1) for email in RECIPIENTS
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS)


def test_the_beat_task_sent_twice_makes_one_run(workspace: Workspace, queue: str) -> None:
    definition = definition_of(workspace, send_hour=0)
    ReportDefinition.objects.filter(pk=definition.pk).update(
        created_at=timezone.now() - timedelta(days=70)
    )
    celery_app.send_task("reports.tasks.schedule_due")
    celery_app.send_task("reports.tasks.schedule_due")
    with worker(queue):
        wait_for(
            "the scheduled run",
            lambda: ReportRun.objects.filter(status=RunStatus.SUCCEEDED).exists(),
        )
        wait_for("the e-mails", lambda: len(mail.outbox) >= len(RECIPIENTS))
        time.sleep(0.5)
    start, _ = period_bounds("month", last_month(workspace))
    run = ReportRun.objects.get()
    assert (run.trigger, run.period_start, run.attempts) == ("schedule", start, 1)
    assert len(mail.outbox) == len(RECIPIENTS)


def test_a_failing_section_fails_the_run_with_the_reason_and_earlier_runs_stay(
    workspace: Workspace, queue: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORT_RUN_MAX_ATTEMPTS = 2
    settings.REPORT_RUN_RETRY_BACKOFF_SECONDS = 0.3
    build_portfolio(workspace)
    definition = definition_of(workspace)
    earlier_day = last_month(workspace) - timedelta(days=40)
    with worker(queue):
        earlier = report_run_request(definition=definition, by=None, day=earlier_day)
        wait_for(
            "the earlier run",
            lambda: ReportRun.objects.filter(pk=earlier.pk, status=RunStatus.SUCCEEDED).exists(),
        )
        earlier.refresh_from_db()
        kept = (earlier.data, files_of(earlier), earlier.finished_at)

        def broken(ctx: Any) -> Any:
            raise RuntimeError("the objectives table is locked")

        sections = [(k, t, broken if k == "next" else b) for k, t, b in report_data_module.SECTIONS]
        monkeypatch.setattr(report_data_module, "SECTIONS", sections)
        run = report_run_request(definition=definition, by=None, day=last_month(workspace))
        wait_for(
            "the run to fail",
            lambda: ReportRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).exists(),
        )
    run.refresh_from_db()
    assert run.attempts == 2
    assert run.error == (
        "The report could not be made after 2 attempts. The section “What comes next” "
        "could not be built: the objectives table is locked"
    )
    assert run.data is None
    assert not run.deliveries.exists()
    earlier.refresh_from_db()
    assert earlier.status == "succeeded"
    assert (earlier.data, files_of(earlier), earlier.finished_at) == kept


# --- a worker killed mid-run ------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker_process(
    queue: str, env: dict[str, str], log: Path, *slowdown: str
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 — our own runner, with our own arguments
            [sys.executable, str(RUNNER), queue, *slowdown],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_killed_mid_run_gives_the_run_back_and_it_completes_once(
    workspace: Workspace, queue: str, tmp_path: Path
) -> None:
    build_portfolio(workspace)
    definition = definition_of(workspace)
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": "",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "REPORT_RUN_LEASE_SECONDS": str(LEASE_SECONDS),
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "EMAIL_URL": f"filemail:///{mail_dir}",  # an absolute path after the scheme
    }
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    began = time.monotonic()
    try:
        # given a worker process whose "What comes next" takes 60 s, and a second one
        # loaded and waiting to be told to start
        first = _start_worker_process(queue, env, log, "--slow", "next", "60")
        workers.append(first)
        go = tmp_path / "second-worker-go"
        workers.append(_start_worker_process(queue, env, log, "--start-after", str(go)))
        run = report_run_request(definition=definition, by=None, day=last_month(workspace))

        def in_the_slow_section() -> bool:
            run.refresh_from_db()
            return run.status == RunStatus.RUNNING and run.step == "What comes next"

        wait_for("the first worker to be mid-run", in_the_slow_section, timeout=30)
        assert run.attempts == 1
        assert run.progress > 1
        # when it is killed outright: no chance to give anything back
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()

        # then, once the message's visibility timeout has passed, a second worker gets it
        # back from the broker, finds the lease run out, and makes the run
        claimed = run.started_at
        assert claimed is not None
        wait_s = VISIBILITY_TIMEOUT + 0.5 - (timezone.now() - claimed).total_seconds()
        time.sleep(max(wait_s, 0))
        go.touch()

        def finished() -> bool:
            run.refresh_from_db()
            return run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

        wait_for("the second worker to finish the run", finished, timeout=30)
        done_at = time.monotonic()
        assert (run.status, run.attempts, run.progress) == ("succeeded", 2, 100), run.error
        assert set(files_of(run)) == {"html_file", "pdf_file", "csv_file"}

        def delivered() -> bool:
            return not run.deliveries.exclude(status="sent").exists()

        wait_for("the e-mails", delivered, timeout=15)
        time.sleep(0.5)
        assert sorted(run.deliveries.values_list("email", "attempts")) == sorted(
            (email, 1) for email in RECIPIENTS
        )
        sent = [
            line
            for f in mail_dir.iterdir()
            for line in f.read_text().splitlines()
            if line.startswith("To: ")
        ]
        assert sorted(sent) == sorted(f"To: {email}" for email in RECIPIENTS)
        # only the second attempt's files were written: the killed one wrote none
        written = [p.name for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]
        assert all(name.startswith("a2-") for name in written), written
        print(  # noqa: T201 — the figures the report quotes
            f"SIGKILL test: attempts {run.attempts}; killed {killed_at - began:.1f} s "
            f"after start, run succeeded {done_at - killed_at:.1f} s after the kill, "
            f"{time.monotonic() - began:.1f} s in all"
        )
    except BaseException:
        print(log.read_text()[-6000:] if log.exists() else "no worker log")  # noqa: T201
        raise
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.wait(10)
