"""make bench, fourth part: one quarterly value report of the reference workspace, in one table.

For the workspace of DESIGN.md §7 (10,000 initiatives, 1,000,000 measurements): the run of
the last quarter made in process as a worker makes it (reports.services.report_run_generate:
the claim, every section of the data, the HTML, the PDF, the CSV, the files and the row),
end to end and per step, against the same aggregates as raw SQL on the same connection: the
headline's realized and pipeline sums (bench/value.py's statements, from the measurements)
and the initiative table with its realized values as one statement. The report's figures
and row count are checked equal to the raw SQL's.

Nothing stays behind: the definition and its runs are made in a transaction that is rolled
back (no e-mail is queued: that happens on commit), and the files go to a temporary
MEDIA_ROOT that is removed. The run is made twice: first in a fresh process (the realized
totals not yet in memory), then again.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MEDIA = tempfile.mkdtemp(prefix="pm-value-bench-report-")
os.environ["MEDIA_ROOT"] = MEDIA
os.environ["CELERY_BROKER_URL"] = ""  # nothing is queued: the transaction is rolled back

# The production-like environment of bench/strategy.py, set when it is imported.
import django  # noqa: E402

from bench.strategy import Row  # noqa: E402
from bench.value import (  # noqa: E402
    FROM_MEASUREMENTS,
    FROM_MEASUREMENTS_CHANGE,
    FROM_THE_MEASUREMENTS,
    INITIATIVES,
    SHIPPED,
    Raw,
    RawSql,
)

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import Workspace  # noqa: E402
from reports import rendering, report_data  # noqa: E402
from reports.models import ReportRun  # noqa: E402
from reports.services import (  # noqa: E402
    period_bounds,
    report_definition_create,
    report_run_generate,
    report_run_request,
)
from strategy.services import workspace_today  # noqa: E402

TARGET_SECONDS = 15.0
RAW_REPETITIONS = 3
CENT = Decimal("0.01")

# The initiative table of the CSV: every initiative of the workspace with its team, owner,
# stored priority figures and, for shipped work, its expected and realized value.
TABLE_SQL = """
WITH {initiatives}
SELECT i.id, i.title, i.status, i.kind, t.name, u.full_name, u.email, i.horizon,
       i.effort_weeks, i.confidence, i.target_on, i.released_on, i.risk_adjusted_value,
       i.value_density, tt.expected_value, r.realized_value, r.realization
FROM initiatives_initiative i
LEFT JOIN accounts_team t ON t.id = i.team_id
LEFT JOIN accounts_user u ON u.id = i.owner_id
LEFT JOIN released r ON r.id = i.id AND i.status IN {shipped}
LEFT JOIN totals tt ON tt.initiative_id = r.id
WHERE i.workspace_id = %(workspace)s
ORDER BY i.id
"""


class Rollback(Exception):
    """Ends the bench's transaction: nothing it wrote stays."""


def sum_of(values: Any) -> Decimal:
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def best_of(action: Callable[[], Any], n: int = RAW_REPETITIONS) -> tuple[float, Any]:
    runs = [timed(action) for _ in range(n)]
    return min(t for t, _ in runs), runs[0][1]


class Steps:
    """Wraps each section of reports.report_data and each renderer to time it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._restore: list[tuple[Any, str, Any]] = []

    def _timer(self, name: str, build: Callable[..., Any]) -> Callable[..., Any]:
        def timed_build(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return build(*args, **kwargs)
            finally:
                self.seconds[name] = time.perf_counter() - began

        return timed_build

    def __enter__(self) -> "Steps":
        sections = [
            (key, title, self._timer(f"section: {title}", build))
            for key, title, build in report_data.SECTIONS
        ]
        self._set(report_data, "SECTIONS", sections)
        for name in ("render_html", "render_pdf", "render_csv"):
            self._set(rendering, name, self._timer(name, getattr(rendering, name)))
        return self

    def _set(self, owner: Any, name: str, value: Any) -> None:
        self._restore.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def __exit__(self, *exc: object) -> None:
        for owner, name, value in reversed(self._restore):
            setattr(owner, name, value)


class RawInTransaction(Raw):
    """bench/value.py's statements from the measurements, on the bench's own connection
    inside its transaction (the same data the run read). The statements over the kept
    windows are not used: the table keeps the windows of today's spans, and a quarter
    valued as of its last day needs other spans for the work released near its end."""

    def __init__(self, sql: RawSql, workspace: Workspace, today: Any, start: Any) -> None:
        self.sql = sql
        self.params = {"workspace": workspace.pk, "today": today, "start": start}
        self.cursor = connection.cursor()
        self.cursor.execute("SET LOCAL jit = off")  # as Raw does, for this transaction only

    def table(self) -> list[tuple[Any, ...]]:
        initiatives = INITIATIVES.format(change=FROM_MEASUREMENTS_CHANGE, windows=FROM_MEASUREMENTS)
        return self._rows(TABLE_SQL.format(initiatives=initiatives, shipped=SHIPPED))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default="bench")
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    today = workspace_today(workspace)
    start, end = period_bounds("quarter", period_bounds("quarter", today)[0] - timedelta(days=1))
    rows: list[Row] = []
    began = time.perf_counter()
    try:
        with transaction.atomic():
            definition = report_definition_create(
                workspace=workspace,
                by=None,
                name=f"Bench quarterly report {time.time_ns()}",
                period="quarter",
                formats=["html", "pdf", "csv"],
                recipient_emails=["bench@example.com"],
            )
            runs: list[tuple[float, ReportRun, Steps]] = []
            for _ in range(2):
                run = report_run_request(definition=definition, by=None, day=start)
                with Steps() as steps:
                    seconds, attempt = timed(partial(report_run_generate, run_id=run.pk))
                run.refresh_from_db()
                if attempt.outcome != "done":
                    raise SystemExit(f"The report run did not succeed: {run.error}")
                runs.append((seconds, run, steps))
            report(rows, workspace, runs, start, end)
            raise Rollback
    except Rollback:
        pass
    finally:
        shutil.rmtree(MEDIA, ignore_errors=True)
    print_table(rows, workspace, start, end, seconds=time.perf_counter() - began)


def report(
    rows: list[Row],
    workspace: Workspace,
    runs: list[tuple[float, ReportRun, Steps]],
    start: Any,
    end: Any,
) -> None:
    first_seconds, run, steps = runs[0]
    data: dict[str, Any] = run.data or {}
    head = data["headline"]

    # The raw SQL, in the bench's transaction (it sees the windows the run kept), and its
    # figures held equal to the report's.
    raw = RawInTransaction(FROM_THE_MEASUREMENTS, workspace, run.as_of, start)
    summary_s, summary = best_of(raw.summary)
    period_s, period = best_of(raw.period)
    table_s, table = best_of(raw.table)
    sums = {row[0]: row for row in summary if row[0] in ("pipeline", "realized")}
    problems = [
        f"{name}: report {ours}, raw SQL {theirs}"
        for name, ours, theirs in [
            ("pipeline", head["pipeline_value"], sums["pipeline"][3]),
            ("realized to date", head["realized_to_date"], sums["realized"][3]),
            ("realized in the period", head["realized_in_period"], period[0][1]),
            (
                "Σ realized of the initiative table",
                sum_of(r["realized_value"] for r in data["initiatives"]["rows"]),
                sum_of(r[15] for r in table),
            ),
        ]
        if money(ours) != money(theirs)
    ]
    if len(data["initiatives"]["rows"]) != len(table):
        problems.append(f"initiatives: report {len(data['initiatives']['rows'])}, raw {len(table)}")
    csv_rows = run.csv_file.read().decode().count("\n") - 1 if run.csv_file else 0
    sizes = ", ".join(
        f"{name.removesuffix('_file').upper()} {getattr(run, name).size / 1024:,.0f} KiB"
        for name in ("html_file", "pdf_file", "csv_file")
    )

    target = f"≤ {TARGET_SECONDS:g} s"
    rows.append(
        Row(
            "quarterly run, end to end (fresh process)",
            f"{first_seconds:.2f} s",
            target,
            f"{'ok' if first_seconds <= TARGET_SECONDS else 'OVER TARGET'}; {sizes}; "
            f"{csv_rows:,} CSV rows",
        )
    )
    second_seconds = runs[1][0]
    rows.append(
        Row(
            "quarterly run, end to end (again)",
            f"{second_seconds:.2f} s",
            target,
            "ok" if second_seconds <= TARGET_SECONDS else "OVER TARGET",
        )
    )
    accounted = 0.0
    for name, seconds in steps.seconds.items():
        accounted += seconds
        again = runs[1][2].seconds.get(name, 0.0)
        rows.append(
            Row(f"  {name}", f"{seconds * 1000:,.0f} ms", "", f"again {again * 1000:,.0f} ms")
        )
    rows.append(
        Row(
            "  claim, progress, files and the row",
            f"{(first_seconds - accounted) * 1000:,.0f} ms",
        )
    )
    headline_s = steps.seconds.get("section: Headline value", 0.0)
    table_ours = steps.seconds.get("section: All initiatives", 0.0)
    rows.append(
        Row(
            "raw SQL: realized and pipeline sums",
            f"{(summary_s + period_s) * 1000:,.0f} ms",
            "",
            f"summary {summary_s * 1000:,.0f} + period {period_s * 1000:,.0f} ms, from the "
            f"measurements; the headline section took {headline_s * 1000:,.0f} ms "
            f"({headline_s / (summary_s + period_s):.1f}×)",
        )
    )
    rows.append(
        Row(
            "raw SQL: the initiative table (one statement)",
            f"{table_s * 1000:,.0f} ms",
            "",
            f"{len(table):,} rows with their realized value; the section took "
            f"{table_ours * 1000:,.0f} ms ({table_ours / table_s:.1f}×)",
        )
    )
    rows.append(
        Row(
            "figures equal to the raw SQL",
            "yes" if not problems else "NO",
            "",
            "; ".join(problems)
            or (
                f"realized in {data['report']['period_label']} "
                f"{money(head['realized_in_period'])}, to date {money(head['realized_to_date'])}, "
                f"pipeline {money(head['pipeline_value'])} {data['currency']}"
            ),
        )
    )


def print_table(
    rows: list[Row], workspace: Workspace, start: Any, end: Any, *, seconds: float
) -> None:
    headers = Row("What", "Result", "Target", "Notes")
    widths = [
        max(len(getattr(r, name)) for r in [headers, *rows])
        for name in ("what", "figure", "target", "note")
    ]

    def line(row: Row) -> str:
        cells = (row.what, row.figure, row.target, row.note)
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    print()
    print(
        f"PM Value report bench on PostgreSQL ({connection.settings_dict['NAME']}), workspace "
        f"{workspace.slug}, {start:%-d %B %Y} to {end:%-d %B %Y}, {os.cpu_count()} CPUs, "
        "DEBUG off, in process"
    )
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(f"\nBench ran in {seconds:.0f} s; nothing was kept (rolled back, files removed).")


if __name__ == "__main__":
    main()
