"""Report definitions and runs through their services, in process (DESIGN.md §6): the
periods, the definition's bad input, requesting and scheduling runs (the unique
constraints decide, also between two threads on PostgreSQL), making a run (claimed once,
retried with backoff, failed with the reason in words, taken over when its worker's lease
ran out), e-mailing it, and what it says: the dashboard's numbers, a PDF that opens and a
CSV with one row per initiative.

The portfolio is the hand-computed one of test_value_selectors.py. Its Q2 2026
(1 April … 30 June, valued as of 30 June)::

    released in Q2: I2 (04-01) 10 € and I4 (06-01) 40 €    → realized in period 50
    realized to date: I1 600 + I2 10 + I3 400 + I4 40        → 1050
    pipeline: I5 200 + I6 250 + I7 5                         → 455
    team Growth (I1, I2, I5, I7, I9):   10, 610, 205
    team Platform (I3, I4, I6, I8):     40, 440, 250
"""

import csv
import email
import io
import re
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from accounts.models import Workspace
from initiatives.models import Decision, Experiment
from reports import rendering, services
from reports import report_data as report_data_module
from reports.dashboard import Period, dashboard
from reports.models import (
    ReportDefinition,
    ReportRecipient,
    ReportRun,
    RunStatus,
    RunTrigger,
)
from reports.selectors import Scope
from reports.services import (
    ReportRefused,
    period_bounds,
    report_definition_create,
    report_definition_delete,
    report_definition_update,
    report_run_deliver,
    report_run_generate,
    report_run_request,
    report_runs_schedule_due,
)
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.reports.mail_backends import RefusingBackend
from tests.reports.test_value_selectors import Portfolio, build_elsewhere, build_portfolio
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure

D = Decimal
PDFTOTEXT = "/usr/bin/pdftotext"
IN_Q2 = date(2026, 5, 15)
IN_Q1 = date(2026, 2, 15)


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> Path:
    """Report files go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.REPORT_RUN_MAX_ATTEMPTS = 3
    settings.REPORT_RUN_RETRY_BACKOFF_SECONDS = 30.0
    settings.REPORT_RUN_LEASE_SECONDS = 600
    settings.REPORT_DELIVERY_MAX_ATTEMPTS = 3
    # As with a broker: in process (the embedded default) the services do not back off.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The tasks the services queue, instead of a broker (the worker tests use one)."""
    sent: list[tuple[str, int]] = []

    def record(task_name: str, run_id: int, countdown: float | None = None) -> None:
        sent.append((task_name, run_id))

    monkeypatch.setattr(services, "_enqueue", record)
    return sent


def make_definition(workspace: Workspace, **overrides: Any) -> ReportDefinition:
    values: dict[str, Any] = {
        "by": None,
        "name": "Quarterly value review",
        "period": "quarter",
        "formats": ["html", "pdf", "csv"],
        "recipient_emails": ["cfo@example.com"],
    }
    values.update(overrides)
    return report_definition_create(workspace=workspace, **values)


def generate(run: ReportRun, **kwargs: Any) -> services.Attempt:
    attempt = report_run_generate(run_id=run.pk, **kwargs)
    run.refresh_from_db()
    return attempt


def files_of(run: ReportRun) -> dict[str, bytes]:
    return {
        name: Path(getattr(run, name).path).read_bytes()
        for name in ("html_file", "pdf_file", "csv_file")
        if getattr(run, name)
    }


def replace_section(monkeypatch: pytest.MonkeyPatch, key: str, build: Callable[..., Any]) -> str:
    """Puts `build` in place of section `key`; returns the section's title."""
    sections = list(report_data_module.SECTIONS)
    for n, (k, title, _) in enumerate(sections):
        if k == key:
            sections[n] = (k, title, build)
            monkeypatch.setattr(report_data_module, "SECTIONS", sections)
            return title
    raise AssertionError(f"no section {key}")


def broken(ctx: Any) -> Any:
    raise RuntimeError("the objectives table is locked")


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("week", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),  # a Monday
        ("week", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),  # its Sunday
        ("week", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4)),  # across the year
        ("month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("month", date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28)),
        ("month", date(2000, 2, 1), date(2000, 2, 1), date(2000, 2, 29)),  # leap century
        ("month", date(2100, 2, 15), date(2100, 2, 1), date(2100, 2, 28)),  # not a leap year
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
        ("month", date(2026, 4, 30), date(2026, 4, 1), date(2026, 4, 30)),
        ("quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
        ("quarter", date(2026, 5, 15), date(2026, 4, 1), date(2026, 6, 30)),
        ("quarter", date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30)),
        ("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31)),
        ("quarter", date(2024, 2, 29), date(2024, 1, 1), date(2024, 3, 31)),
    ],
)
def test_period_bounds(kind: str, day: date, start: date, end: date) -> None:
    assert period_bounds(kind, day) == (start, end)


def test_an_unknown_period_is_an_error() -> None:
    with pytest.raises(ValueError, match="year"):
        period_bounds("year", date(2026, 1, 1))


@given(
    kind=st.sampled_from(["week", "month", "quarter"]),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 1)),
)
def test_periods_hold_their_day_and_tile_the_calendar(kind: str, day: date) -> None:
    start, end = period_bounds(kind, day)
    assert start <= day <= end
    # every day of the period has the same period, and the next one starts the day after
    assert period_bounds(kind, start) == (start, end)
    assert period_bounds(kind, end) == (start, end)
    assert period_bounds(kind, end + timedelta(days=1))[0] == end + timedelta(days=1)
    assert period_bounds(kind, start - timedelta(days=1))[1] == start - timedelta(days=1)
    if kind == "week":
        assert (start.weekday(), (end - start).days) == (0, 6)
    else:
        assert start.day == 1
        assert (end + timedelta(days=1)).day == 1
        assert (start.month - 1) % (3 if kind == "quarter" else 1) == 0


# --- definitions ------------------------------------------------------------------------------


def _outsiders(workspace: Workspace, other: Workspace) -> dict[str, Any]:
    return {
        "team": TeamFactory.create(workspace=other, name="Their team"),
        "objective": ObjectiveFactory.create(workspace=other, title="Their objective"),
        "stranger": MembershipFactory.create(workspace=other).user,
    }


BAD_DEFINITIONS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, str]] = [
    (
        "no recipients",
        lambda o: {"recipient_emails": [], "recipient_users": []},
        "recipients",
        "Add at least one recipient: a member of the workspace or an e-mail address.",
    ),
    (
        "an invalid e-mail address",
        lambda o: {"recipient_emails": ["cfo@example.com", "cfo at example"]},
        "recipient_emails",
        "Not a valid e-mail address: cfo at example.",
    ),
    (
        "an empty e-mail address",
        lambda o: {"recipient_emails": ["  "]},
        "recipient_emails",
        "Not a valid e-mail address: (empty).",
    ),
    (
        "an unknown format",
        lambda o: {"formats": ["html", "docx"]},
        "formats",
        "Unknown format: docx. The formats are html, pdf and csv.",
    ),
    (
        "no format",
        lambda o: {"formats": []},
        "formats",
        "Choose at least one format: HTML, PDF or CSV.",
    ),
    ("an unknown period", lambda o: {"period": "year"}, "period", "Choose a period"),
    ("a blank name", lambda o: {"name": "   "}, "name", "Give the report a name"),
    ("an hour past 23", lambda o: {"send_hour": 24}, "send_hour", "from 0 to 23"),
    (
        "a team of another workspace",
        lambda o: {"team": o["team"]},
        "team",
        "This team is not a team of this workspace.",
    ),
    (
        "an objective of another workspace",
        lambda o: {"objective": o["objective"]},
        "objective",
        "This objective is not an objective of this workspace.",
    ),
    (
        "a user who is not a member",
        lambda o: {"recipient_users": [o["stranger"]]},
        "recipient_users",
        "Recipients chosen by name must be members of this workspace.",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [pytest.param(c, f, m, id=i) for i, c, f, m in BAD_DEFINITIONS],
)
def test_a_bad_definition_is_refused_by_field_and_nothing_is_written(
    workspace: Workspace,
    other_workspace: Workspace,
    changes: Callable[[dict[str, Any]], dict[str, Any]],
    field: str,
    message: str,
) -> None:
    outsiders = _outsiders(workspace, other_workspace)
    with pytest.raises(ValidationError) as refused:
        make_definition(workspace, **changes(outsiders))
    assert list(refused.value.message_dict) == [field]
    assert message in refused.value.message_dict[field][0]
    assert not ReportDefinition.objects.exists()
    assert not ReportRecipient.objects.exists()


def test_every_problem_of_a_definition_comes_back_at_once(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    outsiders = _outsiders(workspace, other_workspace)
    with pytest.raises(ValidationError) as refused:
        make_definition(
            workspace, name="", formats=["xls"], team=outsiders["team"], recipient_emails=["x"]
        )
    assert set(refused.value.message_dict) == {"name", "formats", "team", "recipient_emails"}
    assert not ReportDefinition.objects.exists()


def test_a_definition_keeps_each_address_once_and_the_formats_in_order(
    workspace: Workspace,
) -> None:
    ada = MembershipFactory.create(workspace=workspace).user
    definition = make_definition(
        workspace,
        name="  Monthly   review ",
        period="month",
        formats=["csv", "html", "csv"],
        recipient_users=[ada, ada],
        recipient_emails=["CFO@example.com", "cfo@example.com", " board@example.com "],
    )
    assert definition.name == "Monthly review"
    assert definition.formats == ["html", "csv"]
    assert sorted((r.user_id or 0, r.email) for r in definition.recipients.all()) == [
        (0, "CFO@example.com"),
        (0, "board@example.com"),
        (ada.pk, ""),
    ]


def test_a_second_definition_of_the_same_name_is_refused(workspace: Workspace) -> None:
    make_definition(workspace)
    with pytest.raises(ValidationError) as refused:
        make_definition(workspace)
    assert refused.value.message_dict == {"name": ["Another report already has this name."]}
    assert ReportDefinition.objects.count() == 1


def test_update_changes_what_is_given_and_refuses_bad_input_whole(workspace: Workspace) -> None:
    definition = make_definition(workspace)
    updated = report_definition_update(
        definition=definition,
        changes={"name": "Board pack", "recipient_emails": ["board@example.com"]},
    )
    assert updated.name == "Board pack"
    assert updated.period == "quarter"
    assert [r.email for r in updated.recipients.all()] == ["board@example.com"]

    # a bad change leaves the definition and its recipients as they were
    with pytest.raises(ValidationError) as refused:
        report_definition_update(
            definition=definition, changes={"name": "Renamed", "recipient_emails": []}
        )
    assert "recipients" in refused.value.message_dict
    definition.refresh_from_db()
    assert definition.name == "Board pack"
    assert [r.email for r in definition.recipients.all()] == ["board@example.com"]

    with pytest.raises(ValidationError, match="cannot be changed here: workspace"):
        report_definition_update(definition=definition, changes={"workspace": None})


def test_a_definition_without_runs_is_deleted_one_with_runs_archived(
    workspace: Workspace,
) -> None:
    unused = make_definition(workspace, name="Never run")
    assert report_definition_delete(definition=unused) == "deleted"
    assert not ReportDefinition.objects.filter(pk=unused.pk).exists()

    definition = make_definition(workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    assert report_definition_delete(definition=definition) == "archived"
    definition.refresh_from_db()
    assert definition.archived_at is not None
    assert definition.scheduled is False
    assert ReportRun.objects.filter(pk=run.pk).exists()  # the record of what was told
    # it makes no more runs and cannot be changed; its name is free again
    with pytest.raises(ReportRefused, match="archived"):
        report_run_request(definition=definition, by=None, day=IN_Q1)
    with pytest.raises(ReportRefused, match="archived"):
        report_definition_update(definition=definition, changes={"name": "Again"})
    assert make_definition(workspace).pk != definition.pk


# --- requesting runs --------------------------------------------------------------------------


def test_run_now_queues_one_run_of_the_period(
    workspace: Workspace,
    enqueued: list[tuple[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    definition = make_definition(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        run = report_run_request(definition=definition, by=None, day=IN_Q2)
    assert (run.status, run.trigger, run.attempts, run.progress) == ("queued", "manual", 0, 0)
    assert (run.period_start, run.period_end, run.as_of) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
        date(2026, 6, 30),
    )
    assert enqueued == [(services.GENERATE_TASK, run.pk)]


def test_a_period_under_way_is_valued_as_of_today(workspace: Workspace) -> None:
    definition = make_definition(workspace, period="week")
    run = report_run_request(definition=definition, by=None)
    today = workspace_today(workspace)
    assert run.period_start <= today <= run.period_end
    assert run.as_of == today


def test_a_second_run_of_a_period_in_flight_is_refused(workspace: Workspace) -> None:
    definition = make_definition(workspace)
    first = report_run_request(definition=definition, by=None, day=IN_Q2)
    for status in (RunStatus.QUEUED, RunStatus.RUNNING):
        ReportRun.objects.filter(pk=first.pk).update(status=status)
        with pytest.raises(ReportRefused) as refused:
            report_run_request(definition=definition, by=None, day=date(2026, 6, 1))
        assert refused.value.detail == (
            "A report of Q2 2026 is already being made: wait for it to finish."
        )
        assert ReportRun.objects.count() == 1
    # once it has finished, the period can be made again; another period at any time
    ReportRun.objects.filter(pk=first.pk).update(status=RunStatus.FAILED)
    report_run_request(definition=definition, by=None, day=IN_Q2)
    report_run_request(definition=definition, by=None, day=IN_Q1)
    assert ReportRun.objects.count() == 3


def test_a_period_in_the_future_is_refused(workspace: Workspace) -> None:
    definition = make_definition(workspace, period="week")
    today = workspace_today(workspace)
    next_week = today + timedelta(days=7)
    with pytest.raises(ValidationError) as refused:
        report_run_request(definition=definition, by=None, day=next_week)
    assert refused.value.message_dict["period"] == [
        f"This period has not begun yet: choose a day up to {today.isoformat()}."
    ]
    assert not ReportRun.objects.exists()


def test_a_day_still_to_come_in_the_current_period_is_refused_as_such(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = make_definition(workspace, period="quarter")
    monkeypatch.setattr("reports.services.workspace_today", lambda _: date(2026, 11, 23))
    with pytest.raises(ValidationError) as refused:
        report_run_request(definition=definition, by=None, day=date(2026, 12, 31))
    assert refused.value.message_dict["period"] == [
        "That day is still to come: choose a day up to 2026-11-23 (a run of the current "
        "period covers it up to today)."
    ]
    assert not ReportRun.objects.exists()


# --- scheduling -------------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in UTC; the workspace's zone is Europe/Berlin, UTC+1 in November."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def monthly(workspace: Workspace) -> ReportDefinition:
    """Scheduled monthly at 07:00 Berlin time, made on 5 October 2026."""
    definition = make_definition(workspace, name="Monthly", period="month", send_hour=7)
    ReportDefinition.objects.filter(pk=definition.pk).update(created_at=utc(2026, 10, 5, 9))
    definition.refresh_from_db()
    return definition


def test_a_period_is_due_once_it_has_ended_and_the_send_hour_has_come(
    monthly: ReportDefinition, enqueued: list[tuple[str, int]]
) -> None:
    # 31 October, 23:30 in Berlin: October has not ended; September ended before the
    # definition was made
    assert report_runs_schedule_due(now=utc(2026, 10, 31, 22, 30)) == 0
    # 1 November, 06:59 in Berlin: October has ended, the send hour has not come
    assert report_runs_schedule_due(now=utc(2026, 11, 1, 5, 59)) == 0
    assert not ReportRun.objects.exists()
    # 07:00: due
    assert report_runs_schedule_due(now=utc(2026, 11, 1, 6, 0)) == 1
    run = ReportRun.objects.get()
    assert (run.trigger, run.status) == (RunTrigger.SCHEDULE, RunStatus.QUEUED)
    assert (run.period_start, run.period_end, run.as_of) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
        date(2026, 10, 31),
    )


def test_the_beat_fired_twice_makes_one_run(
    monthly: ReportDefinition,
    enqueued: list[tuple[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert report_runs_schedule_due(now=utc(2026, 11, 1, 6, 0)) == 1
        assert report_runs_schedule_due(now=utc(2026, 11, 1, 6, 0)) == 0
        assert report_runs_schedule_due(now=utc(2026, 11, 20, 12, 0)) == 0
    run = ReportRun.objects.get()
    assert enqueued == [(services.GENERATE_TASK, run.pk)]
    # even when the scheduled run failed, the period is not scheduled again
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    assert report_runs_schedule_due(now=utc(2026, 11, 2, 6, 0)) == 0
    assert ReportRun.objects.count() == 1


def test_periods_that_ended_before_the_definition_are_not_made(workspace: Workspace) -> None:
    definition = make_definition(workspace, name="Weekly", period="week", send_hour=0)
    # made on Wednesday 11 November: the week of 2 November had ended
    ReportDefinition.objects.filter(pk=definition.pk).update(created_at=utc(2026, 11, 11, 9))
    assert report_runs_schedule_due(now=utc(2026, 11, 14, 9)) == 0
    # the week of 9 November ends on the 15th: due on Monday 16th
    assert report_runs_schedule_due(now=utc(2026, 11, 16, 0, 0)) == 1
    assert ReportRun.objects.get().period_start == date(2026, 11, 9)


def test_unscheduled_and_archived_definitions_make_no_scheduled_runs(
    workspace: Workspace, monthly: ReportDefinition
) -> None:
    report_definition_update(definition=monthly, changes={"scheduled": False})
    assert report_runs_schedule_due(now=utc(2026, 11, 2, 9)) == 0
    report_definition_update(definition=monthly, changes={"scheduled": True})
    report_run_request(definition=monthly, by=None, day=date(2026, 10, 1))
    ReportRun.objects.update(status=RunStatus.SUCCEEDED, data={})
    report_definition_delete(definition=monthly)  # archived: it has a run
    assert report_runs_schedule_due(now=utc(2026, 11, 2, 9)) == 0
    assert not ReportRun.objects.filter(trigger=RunTrigger.SCHEDULE).exists()


def test_the_beat_queues_again_the_runs_whose_task_was_lost(
    workspace: Workspace, settings: Settings, enqueued: list[tuple[str, int]]
) -> None:
    settings.REPORT_RUN_STALE_SECONDS = 900
    definition = make_definition(workspace, scheduled=False)
    now = timezone.now()
    long_ago = now - timedelta(minutes=20)

    def run_of(day: date, **state: Any) -> ReportRun:
        run = report_run_request(definition=definition, by=None, day=day)
        ReportRun.objects.filter(pk=run.pk).update(**state)
        return run

    # queued 20 minutes ago and never taken up (the broker lost the message)
    lost_queued = run_of(date(2026, 2, 1), queued_at=long_ago)
    # its worker died: the lease ran out 16 minutes ago
    lost_running = run_of(
        date(2026, 5, 1),
        status=RunStatus.RUNNING,
        attempts=1,
        queued_at=long_ago,
        lease_until=now - timedelta(minutes=16),
    )
    # not lost: queued a minute ago; waiting for its next attempt; held by a live worker
    run_of(date(2026, 8, 1), queued_at=now - timedelta(minutes=1))
    run_of(
        date(2025, 11, 1), queued_at=long_ago, attempts=1, lease_until=now + timedelta(seconds=30)
    )
    run_of(
        date(2025, 8, 1),
        status=RunStatus.RUNNING,
        attempts=1,
        queued_at=long_ago,
        lease_until=now + timedelta(minutes=5),
    )
    enqueued.clear()
    assert report_runs_schedule_due(now=now) == 0
    assert sorted(enqueued) == sorted(
        [(services.GENERATE_TASK, lost_queued.pk), (services.GENERATE_TASK, lost_running.pk)]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_make_one_run(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a due period, and two beats that both get past the check in Python before
    # either writes, so only the unique constraint can decide
    definition = make_definition(workspace, name="Monthly", period="month", send_hour=7)
    ReportDefinition.objects.filter(pk=definition.pk).update(created_at=utc(2026, 10, 5, 9))
    both_checked = threading.Barrier(2, timeout=10)
    create = ReportRun.objects.create

    def create_together(**fields: Any) -> ReportRun:
        both_checked.wait()
        return create(**fields)

    monkeypatch.setattr(ReportRun.objects, "create", create_together)
    made: list[int] = []
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            made.append(report_runs_schedule_due(now=utc(2026, 11, 1, 6, 30)))
        except BaseException as exc:  # noqa: BLE001 — shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    # then one made the run, the other was refused by the constraint and made nothing
    assert errors == []
    assert sorted(made) == [0, 1]
    assert ReportRun.objects.filter(definition=definition).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_run_now_at_once_make_one_run(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = make_definition(workspace)
    both_ready = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def click() -> None:
        try:
            both_ready.wait()
            report_run_request(definition=definition, by=None, day=IN_Q2)
            outcomes.append("queued")
        except ReportRefused as refused:
            outcomes.append(refused.detail)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == [
        "A report of Q2 2026 is already being made: wait for it to finish.",
        "queued",
    ]
    assert ReportRun.objects.count() == 1


# --- making a run -----------------------------------------------------------------------------


@pytest.fixture
def portfolio(workspace: Workspace, other_workspace: Workspace) -> Portfolio:
    build_elsewhere(other_workspace)
    return build_portfolio(workspace)


def test_a_run_goes_queued_running_succeeded_with_its_files(
    portfolio: Portfolio,
    monkeypatch: pytest.MonkeyPatch,
    enqueued: list[tuple[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    seen: list[tuple[str, int, int]] = []
    objectives = report_data_module._objectives

    def watched(ctx: Any) -> Any:
        seen.append(ReportRun.objects.values_list("status", "progress", "attempts").get(pk=run.pk))
        return objectives(ctx)

    replace_section(monkeypatch, "objectives", watched)
    with django_capture_on_commit_callbacks(execute=True):
        assert generate(run).outcome == "done"
    assert seen[0][0] == "running"
    assert seen[0][1] > 1
    assert seen[0][2] == 1
    assert (run.status, run.progress, run.attempts, run.error) == ("succeeded", 100, 1, "")
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.lease_until is None
    assert run.data is not None
    assert run.data["report"]["period_label"] == "Q2 2026"
    assert set(run.data["sections"]) <= set(run.data)
    for name in ("html_file", "pdf_file", "csv_file"):
        assert Path(getattr(run, name).path).stat().st_size > 0, name
    assert [d.email for d in run.deliveries.all()] == ["cfo@example.com"]
    assert enqueued == [(services.DELIVER_TASK, run.pk)]


def test_only_the_chosen_formats_are_written_html_always(portfolio: Portfolio) -> None:
    definition = make_definition(portfolio.workspace, formats=["csv"])
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.status == "succeeded"
    assert run.html_file
    assert run.csv_file
    assert not run.pdf_file
    assert sorted(p.suffix for p in Path(run.html_file.path).parent.iterdir()) == [".csv", ".html"]


def test_the_same_run_made_twice_is_skipped_the_second_time(portfolio: Portfolio) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    before = (run.status, run.attempts, run.finished_at, run.data, files_of(run))
    files_on_disk = sorted(Path(run.html_file.path).parent.iterdir())

    assert generate(run).outcome == "skipped"
    assert (run.status, run.attempts, run.finished_at, run.data, files_of(run)) == before
    assert sorted(Path(run.html_file.path).parent.iterdir()) == files_on_disk
    assert run.deliveries.count() == 1


def test_a_run_held_by_a_live_worker_is_left_alone(portfolio: Portfolio) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    now = timezone.now()
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=1, progress=40, lease_until=now + timedelta(seconds=60)
    )
    attempt = generate(run, now=now)
    assert attempt.outcome == "retry"
    assert attempt.retry_in == pytest.approx(61)
    assert (run.status, run.attempts, run.progress) == ("running", 1, 40)


def test_a_run_whose_worker_died_is_claimed_again_once_its_lease_ran_out(
    portfolio: Portfolio,
) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    # the first worker claimed it and died at 40 %; its lease ran out a second ago
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        attempts=1,
        progress=40,
        started_at=timezone.now() - timedelta(minutes=11),
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert generate(run).outcome == "done"
    assert (run.status, run.attempts, run.progress) == ("succeeded", 2, 100)
    assert run.deliveries.count() == 1


def test_a_stale_workers_finish_is_refused_and_its_files_removed(
    portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch, media: Path
) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    render = services._render

    def render_then_lose_the_lease(run: ReportRun, data: dict[str, Any]) -> Any:
        files = render(run, data)
        # meanwhile our lease ran out and another worker claimed the run
        ReportRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1)
        return files

    monkeypatch.setattr(services, "_render", render_then_lose_the_lease)
    assert generate(run).outcome == "skipped"
    assert (run.status, run.attempts, run.data) == ("running", 2, None)
    assert not run.html_file
    assert [p for p in media.rglob("*") if p.is_file()] == []
    assert not run.deliveries.exists()


def test_a_worker_whose_run_was_taken_over_stops_at_its_next_step(
    portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch, media: Path
) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    objectives = report_data_module._objectives

    def taken_over(ctx: Any) -> Any:
        ReportRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1)
        return objectives(ctx)

    replace_section(monkeypatch, "objectives", taken_over)
    assert generate(run).outcome == "skipped"
    assert (run.status, run.attempts, run.data) == ("running", 2, None)
    assert not media.exists() or [p for p in media.rglob("*") if p.is_file()] == []


def test_a_failing_section_is_retried_with_backoff_then_fails_in_words_and_earlier_runs_stay(
    portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an earlier run of the same definition that succeeded
    definition = make_definition(portfolio.workspace)
    earlier = report_run_request(definition=definition, by=None, day=IN_Q1)
    generate(earlier)
    assert earlier.status == "succeeded"
    earlier_state = (earlier.data, files_of(earlier), earlier.finished_at)

    # when a section of the next run fails on every attempt
    title = replace_section(monkeypatch, "next", broken)
    assert title == "What comes next"
    reason = "The section “What comes next” could not be built: the objectives table is locked"
    run = report_run_request(definition=definition, by=None, day=IN_Q2)

    started = timezone.now()
    attempt = generate(run)
    assert attempt == services.Attempt("retry", 30.0)
    assert (run.status, run.attempts) == ("queued", 1)
    assert run.error == f"Attempt 1 of 3 failed: {reason} Trying again in 30 seconds."
    assert run.lease_until is not None
    assert (
        started + timedelta(seconds=29) < run.lease_until < timezone.now() + timedelta(seconds=31)
    )

    # a redelivered task during the backoff does not make another attempt
    assert generate(run).outcome == "retry"
    assert run.attempts == 1

    assert generate(run, now=run.lease_until + timedelta(seconds=1)) == services.Attempt(
        "retry", 60.0
    )
    assert (run.status, run.attempts) == ("queued", 2)
    assert run.error == f"Attempt 2 of 3 failed: {reason} Trying again in 60 seconds."

    # then the last attempt marks it failed with the reason in words
    assert generate(run, now=run.lease_until + timedelta(seconds=1)).outcome == "failed"
    assert (run.status, run.attempts, run.step) == ("failed", 3, "Failed")
    assert run.error == f"The report could not be made after 3 attempts. {reason}"
    assert run.finished_at is not None
    assert run.data is None
    assert not run.html_file
    assert not run.deliveries.exists()
    # a failed run is not made again
    assert generate(run, now=timezone.now() + timedelta(hours=1)).outcome == "skipped"

    earlier.refresh_from_db()
    assert (earlier.data, files_of(earlier), earlier.finished_at) == earlier_state
    assert earlier.status == "succeeded"


# --- delivery ---------------------------------------------------------------------------------


@pytest.fixture
def delivered_run(portfolio: Portfolio) -> ReportRun:
    """A succeeded run for Ada and Bob (members) and two addresses, one of them Bob's in
    other letters; Ada changed her address after the definition was made."""
    workspace = portfolio.workspace
    portfolio.ada.email = "ada@example.com"
    portfolio.ada.save()
    portfolio.bob.email = "bob@example.com"
    portfolio.bob.save()
    definition = make_definition(
        workspace,
        recipient_users=[portfolio.ada, portfolio.bob],
        recipient_emails=["cfo@example.com", "Bob@Example.COM"],
    )
    portfolio.ada.email = "ada.lovelace@example.com"
    portfolio.ada.save()
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.status == "succeeded"
    return run


def test_one_delivery_per_address_members_by_their_current_one(
    delivered_run: ReportRun,
) -> None:
    assert sorted(d.email.lower() for d in delivered_run.deliveries.all()) == [
        "ada.lovelace@example.com",
        "bob@example.com",
        "cfo@example.com",
    ]
    assert {d.status for d in delivered_run.deliveries.all()} == {"pending"}


def test_each_recipient_gets_the_report_once_with_the_html_and_the_pdf(
    delivered_run: ReportRun,
) -> None:
    assert report_run_deliver(run_id=delivered_run.pk).outcome == "done"
    assert sorted(m.to[0].lower() for m in mail.outbox) == [
        "ada.lovelace@example.com",
        "bob@example.com",
        "cfo@example.com",
    ]
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.subject == "Quarterly value review: Q2 2026"
    assert len(message.to) == 1
    (html,) = [str(body) for body, kind in message.alternatives if kind == "text/html"]
    # The run's HTML document, its charts carried in the message (cid:) instead of data:
    # URIs: mail clients show neither SVG nor data: images.
    stored = Path(delivered_run.html_file.path).read_text()
    assert re.findall(r'src="(cid:[^"]+)"', html) == [
        "cid:chart-1@pm-value",
        "cid:chart-2@pm-value",
    ]
    assert "data:image" not in html
    # Sized in pixels too, for Outlook, which ignores the stylesheet.
    assert html.count(' width="672"') == 2
    assert re.sub(r'src="cid:[^"]+"([^>]*) width="672"', r"SRC\1", html) == re.sub(
        r'src="data:[^"]+"', "SRC", stored
    )
    pdfs = [content for _, content, kind in message.attachments if kind == "application/pdf"]
    assert len(pdfs) == 1
    assert bytes(pdfs[0]).startswith(b"%PDF")
    # As it travels: the images beside the HTML they belong to, the files after them.
    sent = email.message_from_bytes(message.message().as_bytes())
    assert [part.get_content_type() for part in sent.walk()] == [
        "multipart/mixed",
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "image/png",
        "application/pdf",
        "text/csv",
    ]
    related = next(p for p in sent.walk() if p.get_content_type() == "multipart/related")
    assert related.get_param("type") == "multipart/alternative"  # RFC 2387
    images = [part for part in sent.walk() if part.get_content_type() == "image/png"]
    assert [part["Content-ID"] for part in images] == ["<chart-1@pm-value>", "<chart-2@pm-value>"]
    for part in images:
        assert part.get_content_disposition() == "inline"
        png = part.get_payload(decode=True)
        assert isinstance(png, bytes)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(png) > 5_000
    for delivery in delivered_run.deliveries.all():
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
        assert delivery.sent_at is not None

    # delivered again (the task came twice): nobody gets a second e-mail
    assert report_run_deliver(run_id=delivered_run.pk).outcome == "skipped"
    assert len(mail.outbox) == 3


def test_charts_that_cannot_be_drawn_for_the_e_mail_leave_the_stored_report_to_send(
    delivered_run: ReportRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(rendering, "_bars", broken)

    assert report_run_deliver(run_id=delivered_run.pk).outcome == "done"

    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    (html,) = [str(body) for body, kind in message.alternatives if kind == "text/html"]
    assert html == Path(delivered_run.html_file.path).read_text()
    assert {d.status for d in delivered_run.deliveries.all()} == {"sent"}


def test_a_refused_address_is_retried_then_failed_and_the_others_are_sent(
    delivered_run: ReportRun, settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "tests.reports.mail_backends.RefusingBackend"
    RefusingBackend.refused = {"cfo@example.com"}
    try:
        assert report_run_deliver(run_id=delivered_run.pk) == services.Attempt("retry", 30.0)
        refused = delivered_run.deliveries.get(email="cfo@example.com")
        assert (refused.status, refused.attempts) == ("pending", 1)
        assert refused.last_error.startswith("The mail server did not take the message: ")
        assert "cfo@example.com" in refused.last_error
        assert "Mailbox unavailable" in refused.last_error
        assert set(
            delivered_run.deliveries.exclude(pk=refused.pk).values_list("status", flat=True)
        ) == {"sent"}

        assert report_run_deliver(run_id=delivered_run.pk) == services.Attempt("retry", 60.0)
        assert report_run_deliver(run_id=delivered_run.pk).outcome == "done"
        refused.refresh_from_db()
        assert (refused.status, refused.attempts) == ("failed", 3)
        assert "Mailbox unavailable" in refused.last_error
        # the others were sent once each, never again
        assert sorted(m.to[0].lower() for m in mail.outbox) == [
            "ada.lovelace@example.com",
            "bob@example.com",
        ]
        assert report_run_deliver(run_id=delivered_run.pk).outcome == "skipped"
    finally:
        RefusingBackend.refused = set()


def test_a_mail_server_that_is_down_leaves_every_delivery_pending_with_the_reason(
    delivered_run: ReportRun, settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "tests.reports.mail_backends.DownBackend"
    assert report_run_deliver(run_id=delivered_run.pk).outcome == "retry"
    for delivery in delivered_run.deliveries.all():
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == (
            "The mail server did not take the message: [Errno 111] Connection refused"
        )
    # the server is back: everyone gets it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert report_run_deliver(run_id=delivered_run.pk).outcome == "done"
    assert len(mail.outbox) == 3
    assert set(delivered_run.deliveries.values_list("status", "attempts")) == {("sent", 2)}


# --- what the report says ---------------------------------------------------------------------

Q2 = Period(
    key="q2", label="Q2 2026", phrase="in Q2 2026", start=date(2026, 4, 1), end=date(2026, 6, 30)
)


@pytest.mark.parametrize(
    ("team", "realized_in_period", "realized_to_date", "pipeline"),
    [(None, "50", "1050", "455"), ("growth", "10", "610", "205"), ("platform", "40", "440", "250")],
)
def test_the_numbers_of_the_report_are_the_dashboards(
    portfolio: Portfolio,
    team: str | None,
    realized_in_period: str,
    realized_to_date: str,
    pipeline: str,
) -> None:
    scope_team = getattr(portfolio, team) if team else None
    definition = make_definition(portfolio.workspace, team=scope_team)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.status == "succeeded"
    assert run.data is not None
    headline = run.data["headline"]
    board = dashboard(workspace=portfolio.workspace, scope=Scope(team=scope_team), period=Q2)

    assert D(headline["realized_in_period"]) == board.headline.realized_in_period
    assert D(headline["realized_to_date"]) == board.headline.summary.realized_value
    assert D(headline["pipeline_value"]) == board.headline.summary.pipeline_value
    # and both are the money computed by hand
    assert D(headline["realized_in_period"]) == D(realized_in_period)
    assert D(headline["realized_to_date"]) == D(realized_to_date)
    assert D(headline["pipeline_value"]) == D(pipeline)
    assert run.data["currency"] == "EUR"


def test_the_released_section_lists_the_work_released_in_the_period(portfolio: Portfolio) -> None:
    definition = make_definition(portfolio.workspace)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.data is not None
    released = run.data["released"]
    assert released["count"] == 2
    assert [(r["title"], D(r["realized_value"])) for r in released["rows"]] == [
        ("Usage billing", D(40)),
        ("Faster first value", D(10)),
    ]


def test_the_pdf_opens_and_shows_the_headline(portfolio: Portfolio) -> None:
    definition = make_definition(portfolio.workspace, formats=["pdf"])
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.status == "succeeded", run.error
    shown = subprocess.run(  # noqa: S603 — a fixed program on a file we wrote
        [PDFTOTEXT, "-layout", run.pdf_file.path, "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    words = " ".join(shown.split())
    assert "Quarterly value review" in words
    assert "Q2 2026" in words
    assert run.data is not None
    assert run.data["sections"]["headline"] in words
    # the realized value to date, however the renderer groups its digits
    assert any(f in words for f in ("1,050", "1.050", "1 050", "1050", "1.05K", "1.1K")), words


def more_work(p: Portfolio, n: int) -> None:
    """`n` more initiatives of each kind a section reads: released in Q2 with an impact and
    an alignment, committed past its target with an impact and a running experiment, and
    declined in Q2 with the decision."""
    metric = MetricFactory.create(workspace=p.workspace, aggregation="sum", value_per_unit=D(3))
    measure(metric, {date(2026, 4, 20): "10", date(2026, 5, 10): "25"})
    decided_at = datetime(2026, 5, 2, 9, tzinfo=UTC)
    for k in range(n):
        released = InitiativeFactory.create(
            workspace=p.workspace,
            title=f"Released {k}",
            status="released",
            team=p.growth,
            owner=p.ada,
            released_on=date(2026, 5, 1),
            measurement_window_days=30,
        )
        ExpectedImpactFactory.create(initiative=released, metric=metric)
        AlignmentFactory.create(initiative=released, objective=p.objectives["S"], weight=50)
        committed = InitiativeFactory.create(
            workspace=p.workspace,
            title=f"Committed {k}",
            status="committed",
            team=p.platform,
            owner=p.bob,
            target_on=date(2026, 4, 1),
        )
        ExpectedImpactFactory.create(initiative=committed, metric=metric)
        Experiment.objects.create(
            initiative=committed, hypothesis="h", method="ab_test", started_on=date(2026, 4, 2)
        )
        declined = InitiativeFactory.create(
            workspace=p.workspace, title=f"Declined {k}", status="declined", team=p.growth
        )
        Decision.objects.create(
            workspace=p.workspace,
            initiative=declined,
            kind="decline",
            rationale="Not now.",
            decided_by=p.ada,
            decided_at=decided_at,
        )


def test_the_reports_queries_do_not_grow_with_the_portfolio(
    portfolio: Portfolio, django_assert_max_num_queries: Any
) -> None:
    # a query per initiative would show here: 20 more initiatives of every kind a section reads
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            data = report_data_module.report_data(
                workspace=portfolio.workspace,
                scope=Scope(),
                start=date(2026, 4, 1),
                end=date(2026, 6, 30),
                as_of=date(2026, 6, 30),
            )
        assert data["released"]["count"] >= 2
        return len(captured)

    small = queries()
    more_work(portfolio, 20)
    with django_assert_max_num_queries(small):
        data = report_data_module.report_data(
            workspace=portfolio.workspace,
            scope=Scope(),
            start=date(2026, 4, 1),
            end=date(2026, 6, 30),
            as_of=date(2026, 6, 30),
        )
    assert data["released"]["count"] == 22
    assert data["experiments"]["count"] == 20
    assert data["not_doing"]["count"] == 20  # the portfolio's declined work has no decision


def csv_rows(run: ReportRun) -> list[dict[str, str]]:
    text = Path(run.csv_file.path).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("team", "titles"),
    [
        (None, ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9"]),
        ("growth", ["I1", "I2", "I5", "I7", "I9"]),
    ],
)
def test_the_csv_parses_with_one_row_per_initiative_of_the_scope(
    portfolio: Portfolio, team: str | None, titles: list[str]
) -> None:
    scope_team = getattr(portfolio, team) if team else None
    definition = make_definition(portfolio.workspace, formats=["csv"], team=scope_team)
    run = report_run_request(definition=definition, by=None, day=IN_Q2)
    generate(run)
    assert run.status == "succeeded", run.error
    rows = csv_rows(run)
    expected = sorted(portfolio.initiatives[k].title for k in titles)
    assert len(rows) == len(expected)
    # each row names one initiative of the scope, each initiative has one row
    named = sorted(next(v for v in row.values() if v in expected) for row in rows)
    assert named == expected
