"""The realized value of many shipped initiatives at once (DESIGN.md §3 "Realized impact"),
for the portfolio figures: the same totals as initiatives.selectors.impacts_for and
initiative_totals give, without summing every window's measurements, or building a model
instance per impact, on every read.

At the reference scale (DESIGN.md §7) the realized value was nearly all the cost of
`value/summary/`: 3,500 shipped initiatives with 7,000 impacts, each summing some 75 days
of its metric before and after its release (700,000 measurements read, 300 ms of
PostgreSQL alone, however the SQL is written), then 20,000 model instances. So on
PostgreSQL what does not change is kept, at two levels, each checked on every read
against a version that triggers renew on every write of what it depends on, whoever
writes (ingestion, CSV import, admin, loaders; migrations reports 0002 and 0003):

- in `reports_impactwindow`, the window aggregates of each expected impact (sums, counts
  or levels before and after the release), valid while its metric, release day, span L,
  aggregation and the version of its metric's measurements are those they were computed
  for. A read computes the missing ones in the same statement and stores them (a writable
  CTE): after measurements of a metric are written, only its impacts are summed again.
- in this process's memory, the totals of each initiative of a workspace as of a day,
  valid while the workspace's value-data version (its measurements, its metrics'
  aggregation, direction and value per unit, its impacts, its initiatives' release days
  and windows) is the one they were computed at. The statement reads that version, the
  scope's initiatives, and the impacts of those without totals at it.

Versions and data are read in one statement, one snapshot, and come from one sequence
(never the same number twice, rollbacks included), so kept figures are never read after
their data changed: this costs no freshness. The first read after a change pays: after
measurements of a metric are written, its impacts' windows are summed again; after any
change of the workspace's value data, every initiative's totals are computed again from
the kept windows; on the first read of a day, every window still open grew by a day and
is summed again. A read for an earlier day computes the windows that were open then each
time and keeps none of them over a later day's.

Elsewhere (SQLite: the embedded default and its small data) the aggregates come from the
ORM's query of impacts_for each time. Either way the figures are computed in plain
Decimal arithmetic, the operations of initiatives.selectors.figures_of and
initiative_totals in the same order, so the numbers are the same to the last digit
(tests/reports/test_value_fast.py checks it on random data, and after every kind of write).
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from accounts.models import Team, User
from initiatives.models import ExpectedImpact, Initiative
from initiatives.selectors import HUNDRED, ImpactTotals, with_release_aggregates
from reports.models import ImpactWindow, MetricDataVersion, ValueDataVersion
from strategy.models import Aggregation, Direction, Measurement, Metric

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Shipped:
    """A released initiative and its totals as of the day asked (§3)."""

    id: int
    title: str
    status: str
    owner_id: int | None
    owner_name: str
    team_id: int | None
    team_name: str
    released_on: date
    totals: ImpactTotals


# An impact's inputs to its figures: expected_change, confidence, attribution,
# value_per_unit, direction, aggregation, before_value, after_value, before_count,
# after_count (the last four as with_release_aggregates names them).
ImpactRow = tuple[
    Decimal,
    int,
    int,
    Decimal | None,
    str,
    str,
    Decimal | None,
    Decimal | None,
    int | None,
    int | None,
]


def shipped_totals(
    initiatives: QuerySet[Initiative], *, workspace_id: int, as_of: date
) -> dict[int, Shipped]:
    """The initiatives of the queryset (of the workspace) released on or before `as_of`,
    with their totals as of that day, by id: one query on PostgreSQL, two elsewhere."""
    released = initiatives.filter(released_on__isnull=False, released_on__lte=as_of)
    if connection.vendor == "postgresql":
        return _from_postgresql(released, workspace_id, as_of)
    people = released.values_list(
        "pk",
        "title",
        "status",
        "owner_id",
        "owner__full_name",
        "owner__email",
        "team_id",
        "team__name",
        "released_on",
        "measurement_window_days",
    ).order_by("pk")
    impacts = _impacts_by_orm(released, as_of)
    out = {}
    names = _Names()
    for (
        pk,
        title,
        status,
        owner_id,
        full_name,
        email,
        team_id,
        team_name,
        released_on,
        days,
    ) in people:
        if released_on is None:  # not in `released`; for the type checker
            continue
        totals = totals_of(impacts.get(pk, ()), released_on, days, as_of)
        out[pk] = Shipped(
            pk,
            title,
            status,
            owner_id,
            names[full_name, email],
            team_id,
            team_name or "",
            released_on,
            totals,
        )
    return out


def totals_by_id(
    initiatives: QuerySet[Initiative], known: Sequence[Initiative], *, as_of: date
) -> dict[int, ImpactTotals]:
    """The totals as of `as_of` of `known`, the initiatives of the queryset released on or
    before that day (of one workspace), which the caller read already: one query."""
    if not known:
        return {}
    if connection.vendor == "postgresql":
        workspace_id = known[0].workspace_id
        if any(i.workspace_id != workspace_id for i in known):
            raise ValueError("The totals are kept per workspace: ask for one at a time.")
        released = initiatives.filter(released_on__isnull=False, released_on__lte=as_of)
        shipped = _from_postgresql(released, workspace_id, as_of)
        return {pk: s.totals for pk, s in shipped.items()}
    impacts = _impacts_by_orm(initiatives.filter(pk__in=[i.pk for i in known]), as_of)
    return {
        i.pk: totals_of(impacts.get(i.pk, ()), i.released_on, i.measurement_window_days, as_of)
        for i in known
        if i.released_on is not None
    }


def value_data_version(*, workspace_id: int) -> int | None:
    """The workspace's value-data version (its measurements, its metrics' aggregation,
    direction and value per unit, its impacts, its initiatives' release days and windows):
    a number that every write of those changes, on PostgreSQL (one query); None elsewhere,
    where no trigger keeps it."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(MAX(version), 0) FROM {_TABLES['value_version']} "  # noqa: S608 - a table name
            "WHERE workspace_id = %s",
            [workspace_id],
        )
        version: int = cursor.fetchone()[0]
    return version


class _Names(dict[tuple[str | None, str | None], str]):
    """User.display_name of (full_name, email), once per person."""

    def __missing__(self, key: tuple[str | None, str | None]) -> str:
        full_name, email = key
        name = "" if email is None else User(full_name=full_name or "", email=email).display_name
        self[key] = name
        return name


# --- the figures: figures_of and initiative_totals, operation for operation -----------------


def totals_of(
    impacts: Iterable[ImpactRow], released_on: date | None, window_days: int, as_of: date
) -> ImpactTotals:
    """initiative_totals of the figures_of of each impact, in their order (by id)."""
    expected_total = risk_total = realized_total = ZERO
    has_expected = has_risk = has_realized = False
    realizations: list[Decimal] = []
    span = 0
    if released_on is not None and released_on <= as_of:
        full_end = released_on + timedelta(days=window_days)
        span = (min(as_of, full_end) - released_on).days
    for (
        expected_change,
        confidence,
        attribution,
        per_unit,
        direction,
        aggregation,
        before,
        after,
        before_count,
        after_count,
    ) in impacts:
        if per_unit is not None:
            expected_value = expected_change * per_unit
            expected_total += expected_value
            risk_total += expected_value * confidence / HUNDRED
            has_expected = has_risk = True
        # Released on the day (L < 1): nothing is due yet.
        if span < 1 or before is None or after is None:
            continue
        if aggregation == Aggregation.MEAN:
            change = after / after_count - before / before_count  # type: ignore[operator]
        else:
            change = after - before
        improvement = change if direction == Direction.INCREASE else -change
        realized_change = improvement * attribution / HUNDRED
        if per_unit is not None:
            realized_total += realized_change * per_unit
            has_realized = True
        if expected_change != 0:
            realizations.append(realized_change / expected_change)
    expected = expected_total if has_expected else None
    realized = realized_total if has_realized else None
    realization: Decimal | None
    if expected is not None and realized is not None and expected != 0:
        realization = realized / expected
    else:
        realization = sum(realizations, ZERO) / len(realizations) if realizations else None
    return ImpactTotals(
        expected_value=expected,
        risk_adjusted_value=risk_total if has_risk else None,
        realized_value=realized,
        realization=realization,
    )


# --- the aggregates, elsewhere: the ORM's query of impacts_for --------------------------------


def _impacts_by_orm(released: QuerySet[Initiative], as_of: date) -> dict[int, list[ImpactRow]]:
    rows = (
        with_release_aggregates(  # type: ignore[misc]  # values of its annotations
            ExpectedImpact.objects.filter(initiative__in=released.values("pk")), today=as_of
        )
        .order_by("initiative_id", "id")
        .values_list(
            "initiative_id",
            "expected_change",
            "confidence",
            "attribution",
            "metric__value_per_unit",
            "metric__direction",
            "metric__aggregation",
            "before_value",
            "after_value",
            "before_count",
            "after_count",
        )
    )
    out: dict[int, list[ImpactRow]] = {}
    for initiative_id, *impact in rows:
        out.setdefault(initiative_id, []).append(tuple(impact))
    return out


# --- on PostgreSQL: kept totals and windows, the missing ones computed -----------------------


@dataclass
class _Kept:
    """The totals of a workspace's initiatives as of a day, at one value-data version."""

    version: int
    totals: dict[int, ImpactTotals] = field(default_factory=dict)


KEPT_DAYS = 32  # (workspace, day) pairs kept; the least recently read goes first
_kept: OrderedDict[tuple[int, date], _Kept] = OrderedDict()
_kept_lock = threading.Lock()

_TABLES = {
    "impact": ExpectedImpact._meta.db_table,
    "metric": Metric._meta.db_table,
    "measurement": Measurement._meta.db_table,
    "user": User._meta.db_table,
    "team": Team._meta.db_table,
    "window": ImpactWindow._meta.db_table,
    "metric_version": MetricDataVersion._meta.db_table,
    "value_version": ValueDataVersion._meta.db_table,
}
_WINDOW_COLUMNS = (
    "impact_id, metric_id, released_on, span, aggregation, version, "
    "before_value, after_value, before_count, after_count"
)
# {chosen}: the caller's initiatives released by as_of, their columns that the figures
# read. Parameters: the workspace, those of {chosen}, as_of, the kept version and ids. JIT
# is off: the plan's estimate counts the subqueries of every impact, kept or not, and
# compiling it took a second.
_SQL = """
SET LOCAL jit = off;
WITH current AS MATERIALIZED (
    SELECT COALESCE(MAX(version), 0) AS version FROM {value_version} WHERE workspace_id = %s
),
chosen(id, title, status, owner_id, team_id, released_on, window_days)
    AS MATERIALIZED ({chosen}),
scope AS MATERIALIZED (
    SELECT i.id, i.title, i.status, i.owner_id, i.team_id, i.released_on, i.window_days,
           LEAST(i.window_days, %s::date - i.released_on) AS span,
           current.version, current.version <> %s OR k.id IS NULL AS todo
    FROM chosen i
    CROSS JOIN current
    LEFT JOIN unnest(%s::bigint[]) AS k(id) ON k.id = i.id
),
impacts AS MATERIALIZED (
    SELECT s.id AS initiative_id, s.released_on, s.span, e.id AS impact_id, e.metric_id,
           e.expected_change, e.confidence, e.attribution, m.value_per_unit, m.direction,
           m.aggregation, COALESCE(v.version, 0) AS version,
           c.impact_id IS NOT NULL AND c.metric_id = e.metric_id
               AND c.released_on = s.released_on AND c.span = s.span
               AND c.aggregation = m.aggregation AND c.version = COALESCE(v.version, 0) AS kept,
           c.before_value, c.after_value, c.before_count, c.after_count
    FROM scope s
    JOIN {impact} e ON e.initiative_id = s.id
    JOIN {metric} m ON m.id = e.metric_id
    LEFT JOIN {window} c ON c.impact_id = e.id
    LEFT JOIN {metric_version} v ON v.metric_id = e.metric_id
    WHERE s.todo
),
live AS MATERIALIZED (
    SELECT x.impact_id, x.metric_id, x.released_on, x.span, x.aggregation, x.version,
        CASE WHEN x.aggregation IN ('sum', 'mean') THEN (
            SELECT SUM(y.value) FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on > x.released_on - x.span AND y.observed_on <= x.released_on
        ) ELSE (
            SELECT y.value FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on <= x.released_on ORDER BY y.observed_on DESC LIMIT 1
        ) END AS before_value,
        CASE WHEN x.aggregation IN ('sum', 'mean') THEN (
            SELECT SUM(y.value) FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on > x.released_on AND y.observed_on <= x.released_on + x.span
        ) ELSE (
            SELECT y.value FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on > x.released_on AND y.observed_on <= x.released_on + x.span
            ORDER BY y.observed_on DESC LIMIT 1
        ) END AS after_value,
        CASE WHEN x.aggregation = 'mean' THEN (
            SELECT COUNT(*) FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on > x.released_on - x.span AND y.observed_on <= x.released_on
        ) END AS before_count,
        CASE WHEN x.aggregation = 'mean' THEN (
            SELECT COUNT(*) FROM {measurement} y WHERE y.metric_id = x.metric_id
                AND y.observed_on > x.released_on AND y.observed_on <= x.released_on + x.span
        ) END AS after_count
    FROM impacts x
    WHERE NOT x.kept AND x.span >= 1
),
stored AS (
    INSERT INTO {window} AS w ({window_columns})
    SELECT {window_columns} FROM live ORDER BY impact_id
    ON CONFLICT (impact_id) DO UPDATE SET
        metric_id = EXCLUDED.metric_id, released_on = EXCLUDED.released_on,
        span = EXCLUDED.span, aggregation = EXCLUDED.aggregation, version = EXCLUDED.version,
        before_value = EXCLUDED.before_value, after_value = EXCLUDED.after_value,
        before_count = EXCLUDED.before_count, after_count = EXCLUDED.after_count
    -- an earlier day's read keeps a later day's row that still holds
    WHERE NOT (w.metric_id = EXCLUDED.metric_id AND w.released_on = EXCLUDED.released_on
        AND w.aggregation = EXCLUDED.aggregation AND w.version = EXCLUDED.version
        AND w.span > EXCLUDED.span)
)
SELECT s.id, s.status, s.owner_id, u.full_name, u.email, s.team_id, t.name, s.released_on,
       s.window_days, s.version, s.todo, s.title, x.impact_id,
       x.expected_change, x.confidence, x.attribution, x.value_per_unit, x.direction,
       x.aggregation,
       CASE WHEN x.kept THEN x.before_value ELSE l.before_value END,
       CASE WHEN x.kept THEN x.after_value ELSE l.after_value END,
       CASE WHEN x.kept THEN x.before_count ELSE l.before_count END,
       CASE WHEN x.kept THEN x.after_count ELSE l.after_count END
FROM scope s
LEFT JOIN {user} u ON u.id = s.owner_id
LEFT JOIN {team} t ON t.id = s.team_id
LEFT JOIN impacts x ON x.initiative_id = s.id
LEFT JOIN live l ON l.impact_id = x.impact_id
ORDER BY s.id, x.impact_id
"""


def _from_postgresql(
    released: QuerySet[Initiative], workspace_id: int, as_of: date
) -> dict[int, Shipped]:
    key = (workspace_id, as_of)
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    known = list(kept.totals) if kept is not None else []
    columns = released.order_by().values_list(
        "pk", "title", "status", "owner_id", "team_id", "released_on", "measurement_window_days"
    )
    try:
        chosen, chosen_params = columns.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can pass, such as `pk__in=[]`
        return {}
    sql = _SQL.format(chosen=chosen, window_columns=_WINDOW_COLUMNS, **_TABLES)
    kept_version = kept.version if kept is not None else -1
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id, *chosen_params, as_of, kept_version, known])
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    if not rows:
        return {}
    version = rows[0][9]
    fresh = kept if kept is not None and kept.version == version else _Kept(version)
    out: dict[int, Shipped] = {}
    names = _Names()
    for pk, group in groupby(rows, key=itemgetter(0)):
        first = next(group)
        _, status, owner_id, full_name, email, team_id, team_name, released_on, days = first[:9]
        title = first[11]
        if first[10]:  # to do: no totals kept at this version
            impacts = [row[13:] for row in (first, *group) if row[12] is not None]
            totals = fresh.totals[pk] = totals_of(impacts, released_on, days, as_of)
        else:
            totals = fresh.totals[pk]
        out[pk] = Shipped(
            pk,
            title,
            status,
            owner_id,
            names[full_name, email],
            team_id,
            team_name or "",
            released_on,
            totals,
        )
    with _kept_lock:
        _kept[key] = fresh
        _kept.move_to_end(key)
        while len(_kept) > KEPT_DAYS:
            _kept.popitem(last=False)
    return out
