"""Demo value reports for `make run` (manage.py demo_data): a monthly and a quarterly report
of the demo workspace, each with the runs of its last periods made and delivered, so the
report pages show real reports from the first visit."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.test.utils import override_settings

from accounts.models import User, Workspace
from reports.models import ReportDefinition, ReportPeriod, RunStatus
from reports.services import (
    period_bounds,
    report_definition_create,
    report_run_generate,
    report_run_request,
)
from strategy.services import workspace_today


@dataclass(frozen=True)
class DemoReport:
    name: str
    period: str
    runs: int  # of the periods that ended last
    emails: tuple[str, ...]
    send_hour: int


DEMO_REPORTS = (
    DemoReport(
        "Monthly value review", ReportPeriod.MONTH, 3, ("leadership@acme.example",), send_hour=8
    ),
    DemoReport(
        "Quarterly board report",
        ReportPeriod.QUARTER,
        2,
        ("board@acme.example", "cfo@acme.example"),
        send_hour=7,
    ),
)


def _ended_periods(period: str, today: date, count: int) -> list[date]:
    """The last day of each of the `count` periods that ended before today, oldest first."""
    ends = []
    start, _ = period_bounds(period, today)
    for _ in range(count):
        end = start - timedelta(days=1)
        ends.append(end)
        start, _ = period_bounds(period, end)
    return list(reversed(ends))


def seed_reports(
    *, workspace: Workspace, admin: User, say: Callable[[str], object] | None = None
) -> int | None:
    """Creates the demo reports and makes their runs in this process, unless the workspace
    has reports already (then nothing: returns None). Returns the number of runs made.

    The e-mails of these runs go to a mailbox in memory, not to the console: they are
    marked sent, and `make run` does not print five reports with their PDFs."""
    if ReportDefinition.objects.filter(workspace=workspace).exists():
        return None
    today = workspace_today(workspace)
    made = 0
    # The e-mails are sent when the transaction commits (tasks run in process without a
    # broker), so the in-memory mailbox holds until after it.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        transaction.atomic(),
    ):
        for spec in DEMO_REPORTS:
            definition = report_definition_create(
                workspace=workspace,
                by=admin,
                name=spec.name,
                period=spec.period,
                formats=["html", "pdf", "csv"],
                send_hour=spec.send_hour,
                recipient_users=[admin],
                recipient_emails=spec.emails,
            )
            for day in _ended_periods(spec.period, today, spec.runs):
                run = report_run_request(definition=definition, by=admin, day=day)
                attempt = report_run_generate(run_id=run.pk)
                run.refresh_from_db(fields=["status", "error"])
                if run.status != RunStatus.SUCCEEDED:
                    raise RuntimeError(f"The demo report {run} was not made: {attempt} {run.error}")
                made += 1
                if say is not None:
                    say(f"  made the demo report “{spec.name}” of {run.period_start}")
    return made
