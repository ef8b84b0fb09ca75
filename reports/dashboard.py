"""The value dashboard's reads: the period a page looks at, its headline figures and the
data of its charts (DESIGN.md §5), built on reports.selectors in a fixed number of queries.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Workspace
from reports.selectors import Scope, ValueSummary, value_summary
from strategy.forms import quarter_of

PERIODS = {
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "all_time": "All time",
}
# Realized value shows during a release's measurement window (90 days by default), so a
# quarter that has just begun holds little; twelve months is the view that is never empty
# for a team that ships.
DEFAULT_PERIOD = "last_12_months"


@dataclass(frozen=True)
class Period:
    """The days a dashboard looks at: releases on `start` … `end` (no start: all of them),
    valued as of `end`, the evaluation date (§3's `today`)."""

    key: str
    label: str
    phrase: str  # completes "€1.2M realized …": "this quarter", "in Q2 2026"
    start: date | None
    end: date


def period_of(key: str, today: date) -> Period:
    """The period `key` (one of PERIODS) seen from `today`."""
    label = PERIODS[key]
    if key == "this_quarter":
        start, _ = quarter_of(today)
        return Period(key, label, f"this quarter (Q{_quarter(start)} {start.year})", start, today)
    if key == "last_quarter":
        start, end = quarter_of(quarter_of(today)[0] - timedelta(days=1))
        return Period(key, label, f"last quarter (Q{_quarter(start)} {start.year})", start, end)
    if key == "this_year":
        return Period(key, label, f"this year ({today.year})", date(today.year, 1, 1), today)
    if key == "last_12_months":
        start = _year_before(today) + timedelta(days=1)
        return Period(key, label, "in the last 12 months", start, today)
    return Period(key, label, "to date", None, today)


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Headline:
    summary: ValueSummary
    realized_in_period: Decimal | None


@dataclass(frozen=True)
class Dashboard:
    period: Period
    headline: Headline


def dashboard(*, workspace: Workspace, scope: Scope, period: Period) -> Dashboard:
    summary = value_summary(workspace=workspace, as_of=period.end, scope=scope)
    return Dashboard(period=period, headline=Headline(summary=summary, realized_in_period=None))
