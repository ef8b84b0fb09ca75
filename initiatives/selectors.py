"""Reads of initiatives and the realized-impact and priority math of DESIGN.md §3.

The figures of every expected impact of a set of initiatives come from one SQL query: the
impacts with their metrics, each annotated with correlated aggregates over its metric's
measurements before and after the release (on the (metric, observed_on) index), then
plain Decimal arithmetic. The number of queries does not grow with the number of
initiatives, impacts or measurements.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Least
from django.db.models.sql.compiler import SQLCompiler

from accounts.models import Team, User
from initiatives.models import PRIORITY_FIELDS, ExpectedImpact, Initiative
from pm_value.prepared_reads import prepared_read
from strategy.models import VALUE_DIGITS, VALUE_PLACES, Aggregation, Direction, Measurement

ImpactStatus = Literal["not_started", "measuring", "measured", "no_data"]
HUNDRED = Decimal(100)
_VALUE = DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)


class _AddDays(Func):
    """date + n days, a date (n an integer expression, may be negative)."""

    arity = 2
    output_field = DateField()
    template = "(%(expressions)s)"
    arg_joiner = " + "  # PostgreSQL: date + integer is a date

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        day, days = self.get_source_expressions()
        day_sql, day_params = compiler.compile(day)
        days_sql, days_params = compiler.compile(days)
        return f"date({day_sql}, ({days_sql}) || ' days')", (*day_params, *days_params)


class _DaysBetween(Func):
    """later − earlier in whole days, an integer."""

    arity = 2
    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "  # PostgreSQL: date − date is an integer of days

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        later, earlier = self.get_source_expressions()
        later_sql, later_params = compiler.compile(later)
        earlier_sql, earlier_params = compiler.compile(earlier)
        return (
            f"CAST(julianday({later_sql}) - julianday({earlier_sql}) AS INTEGER)",
            (*later_params, *earlier_params),
        )


@dataclass(frozen=True)
class ImpactFigures:
    expected_change: Decimal
    expected_value: Decimal | None
    risk_adjusted_value: Decimal | None
    realized_change: Decimal | None
    realized_value: Decimal | None
    realization: Decimal | None
    status: ImpactStatus
    window_start: date | None
    release_date: date | None
    window_end: date | None


@dataclass(frozen=True)
class ImpactTotals:
    expected_value: Decimal | None
    risk_adjusted_value: Decimal | None
    realized_value: Decimal | None
    realization: Decimal | None


def with_release_aggregates(
    queryset: QuerySet[ExpectedImpact], *, today: date
) -> QuerySet[ExpectedImpact]:
    """Annotates each impact with the window bounds of its initiative's release R —
    `w_end` E = min(today, R + W) and `w_start` R − L with L = E − R — and the aggregates
    its metric's aggregation needs: `before_value`, `after_value` (sums of (R − L, R] and
    (R, E], or for a level the value as of R and the latest in (R, E]) and, for a mean,
    `before_count` and `after_count`. NULL where a window holds no measurement."""
    released_on = F("initiative__released_on")
    window_days = F("initiative__measurement_window_days")
    today_value = Value(today, output_field=DateField())
    span = Least(window_days, _DaysBetween(today_value, released_on))
    return queryset.annotate(
        r_on=released_on,
        w_end=_AddDays(released_on, span),
        w_start=_AddDays(released_on, span * Value(-1)),
    ).annotate(**_release_aggregates())


@cache
def _release_aggregates() -> dict[str, Case]:
    """The CASEs of `with_release_aggregates`, built once: they refer to the impact only
    through OuterRef, and annotate() resolves a copy."""
    metric = OuterRef("metric")
    before = Measurement.objects.filter(
        metric=metric, observed_on__gt=OuterRef("w_start"), observed_on__lte=OuterRef("r_on")
    ).order_by()
    after = Measurement.objects.filter(
        metric=metric, observed_on__gt=OuterRef("r_on"), observed_on__lte=OuterRef("w_end")
    ).order_by()
    # Plain SQL aggregates (no GROUP BY): NULL (sum) or 0 (count) on an empty window.
    sum_of = Func(F("value"), function="SUM", output_field=_VALUE)
    count_of = Func(F("id"), function="COUNT", output_field=IntegerField())
    level_at_release = (
        Measurement.objects.filter(metric=metric, observed_on__lte=OuterRef("r_on"))
        .order_by("-observed_on")
        .values("value")[:1]
    )
    level_after = after.order_by("-observed_on").values("value")[:1]
    flow = (Aggregation.SUM, Aggregation.MEAN)
    return {
        "before_value": Case(
            When(metric__aggregation__in=flow, then=Subquery(before.values(s=sum_of))),
            default=Subquery(level_at_release),
            output_field=_VALUE,
        ),
        "after_value": Case(
            When(metric__aggregation__in=flow, then=Subquery(after.values(s=sum_of))),
            default=Subquery(level_after),
            output_field=_VALUE,
        ),
        "before_count": Case(
            When(metric__aggregation=Aggregation.MEAN, then=Subquery(before.values(c=count_of))),
            default=None,
            output_field=IntegerField(),
        ),
        "after_count": Case(
            When(metric__aggregation=Aggregation.MEAN, then=Subquery(after.values(c=count_of))),
            default=None,
            output_field=IntegerField(),
        ),
    }


def _change(impact: ExpectedImpact) -> Decimal | None:
    """The metric's change over the release of an annotated impact; None without data."""
    before: Decimal | None = impact.before_value  # type: ignore[attr-defined]
    after: Decimal | None = impact.after_value  # type: ignore[attr-defined]
    if before is None or after is None:
        return None
    if impact.metric.aggregation == Aggregation.MEAN:
        before_count: int = impact.before_count  # type: ignore[attr-defined]
        after_count: int = impact.after_count  # type: ignore[attr-defined]
        return after / after_count - before / before_count
    return after - before


def figures_of(impact: ExpectedImpact, *, initiative: Initiative, today: date) -> ImpactFigures:
    """Figures of an impact annotated by `with_release_aggregates` (no query)."""
    value_per_unit = impact.metric.value_per_unit
    expected_change = impact.expected_change
    expected_value = None if value_per_unit is None else expected_change * value_per_unit
    risk_adjusted_value = (
        None if expected_value is None else expected_value * impact.confidence / HUNDRED
    )
    released_on = initiative.released_on
    status: ImpactStatus
    realized_change: Decimal | None = None
    window_start = window_end = None
    if released_on is None or released_on > today:
        status = "not_started"
    else:
        full_end = released_on + timedelta(days=initiative.measurement_window_days)
        window_end = min(today, full_end)
        span = window_end - released_on
        window_start = released_on - span
        status = "measuring" if today < full_end else "measured"
        # Released today (L < 1): both windows are empty and nothing is due yet.
        if span.days >= 1:
            change = _change(impact)
            if change is None:
                status = "no_data"
            else:
                improvement = change if impact.metric.direction == Direction.INCREASE else -change
                realized_change = improvement * impact.attribution / HUNDRED
    realized_value = (
        None
        if realized_change is None or value_per_unit is None
        else realized_change * value_per_unit
    )
    realization = (
        None
        if realized_change is None or expected_change == 0
        else realized_change / expected_change
    )
    return ImpactFigures(
        expected_change=expected_change,
        expected_value=expected_value,
        risk_adjusted_value=risk_adjusted_value,
        realized_change=realized_change,
        realized_value=realized_value,
        realization=realization,
        status=status,
        window_start=window_start,
        release_date=released_on,
        window_end=window_end,
    )


def impacts_for(
    *, initiatives: Sequence[Initiative], today: date
) -> dict[int, list[tuple[ExpectedImpact, ImpactFigures]]]:
    """Every expected impact of the initiatives with its figures, by initiative id (an
    initiative without impacts maps to an empty list): one query, whatever their number.

    On PostgreSQL the SQL of that query is written once and run again with each call's ids
    (one array parameter, so any number of initiatives shares it) and `today`
    (pm_value.prepared_reads); elsewhere the ORM writes it each time."""
    by_id = {initiative.pk: initiative for initiative in initiatives}
    result: dict[int, list[tuple[ExpectedImpact, ImpactFigures]]] = {pk: [] for pk in by_id}
    if not by_id:
        return result
    rows: list[ExpectedImpact] = prepared_read(
        _impacts_query, initiative_ids=list(by_id), today=today
    )
    for impact in rows:
        initiative = by_id[impact.initiative_id]
        impact.initiative = initiative  # the caller's instance: no query when read
        result[initiative.pk].append(
            (impact, figures_of(impact, initiative=initiative, today=today))
        )
    return result


def _impacts_query(*, initiative_ids: list[int], today: date) -> QuerySet[ExpectedImpact]:
    """The query of `impacts_for`: the initiatives' impacts with their metrics, annotated."""
    return with_release_aggregates(
        ExpectedImpact.objects.filter(_AnyOf("initiative_id", initiative_ids)).select_related(
            "metric"
        ),
        today=today,
    ).order_by("initiative_id", "id")


class _AnyOf(Func):
    """column is one of the values: `column = ANY(%s)` on PostgreSQL, where the values are
    one array parameter so that one SQL serves any number of them; `column IN (…)`
    elsewhere."""

    output_field = BooleanField()

    def __init__(self, column: str, values: Sequence[int]) -> None:
        super().__init__(F(column))
        self.values = list(values)

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.get_source_expressions()[0])
        placeholders = ", ".join(["%s"] * len(self.values))
        return f"{column_sql} IN ({placeholders})", (*column_params, *self.values)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.get_source_expressions()[0])
        return f"{column_sql} = ANY(%s)", (*column_params, self.values)


def _sum(values: Sequence[Decimal | None]) -> Decimal | None:
    """The sum skipping nulls; null when every value is null (or there is none)."""
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def initiative_totals(figures: Sequence[ImpactFigures]) -> ImpactTotals:
    """An initiative's totals over its impacts, and its realization: Σ realized value /
    Σ expected value when both are known and the latter is not 0, else the mean of the
    impacts' realizations (null when none has one)."""
    expected_value = _sum([f.expected_value for f in figures])
    realized_value = _sum([f.realized_value for f in figures])
    realization: Decimal | None
    if expected_value is not None and realized_value is not None and expected_value != 0:
        realization = realized_value / expected_value
    else:
        known = [f.realization for f in figures if f.realization is not None]
        realization = sum(known, Decimal(0)) / len(known) if known else None
    return ImpactTotals(
        expected_value=expected_value,
        risk_adjusted_value=_sum([f.risk_adjusted_value for f in figures]),
        realized_value=realized_value,
        realization=realization,
    )


def value_density(
    risk_adjusted_total: Decimal | None, effort_weeks: Decimal | None
) -> Decimal | None:
    """Risk-adjusted money per week of effort; null without money or effort."""
    if risk_adjusted_total is None or not effort_weeks:
        return None
    return risk_adjusted_total / effort_weeks


def rice(
    reach: int | None,
    impact: Decimal | None,
    confidence: int | None,
    effort_weeks: Decimal | None,
) -> Decimal | None:
    """reach × impact × confidence / 100 / effort_weeks; null when a factor or the effort
    is missing, or the effort is 0."""
    if reach is None or impact is None or confidence is None or not effort_weeks:
        return None
    return Decimal(reach) * impact * confidence / HUNDRED / effort_weeks


# --- lists: priority in the database, so a list sorts and pages without reading it all ------

# sort key → (the stored column, highest first by default)
PRIORITY_ORDERINGS = {
    "value_density": ("value_density", True),
    "rice": ("rice_score", True),
}


def with_priority(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Names the stored priority for sorting in SQL: `value_density_rank` and `rice_rank`
    are the columns `value_density` and `rice_score` that the services keep (NULL where §3
    says null), so an order by them reads the index instead of summing every
    initiative's impacts. Aliases, not annotations: nothing extra is selected."""
    return queryset.alias(value_density_rank=F("value_density"), rice_rank=F("rice_score"))


def order_initiatives(queryset: QuerySet[Initiative], ordering: str) -> QuerySet[Initiative]:
    """`value_density` and `rice` (highest first, unknown last) or a field name with an
    optional leading `-`; ties by id so pages never overlap."""
    name = ordering.lstrip("-")
    if name in PRIORITY_ORDERINGS:
        field, descending_first = PRIORITY_ORDERINGS[name]
        descending = descending_first != ordering.startswith("-")
        # Unknown last as "IS NULL" first: the keys of the index initiative_density_order
        # (SQLite takes no NULLS LAST in an index), so the default order reads it.
        unknown = ExpressionWrapper(Q(**{f"{field}__isnull": True}), output_field=BooleanField())
        key = F(field).desc() if descending else F(field).asc()
        return queryset.order_by(unknown.asc(), key, "id")
    return queryset.order_by(ordering, "id")


@dataclass(frozen=True)
class Row:
    """An initiative of a list with its money figures (from `list_rows`)."""

    initiative: Initiative
    totals: ImpactTotals
    value_density: Decimal | None
    rice: Decimal | None


def list_rows(initiatives: Sequence[Initiative], *, today: date) -> list[Row]:
    """The figures of a page of initiatives: one query for all their impacts."""
    impacts = impacts_for(initiatives=initiatives, today=today)
    rows = []
    for initiative in initiatives:
        totals = initiative_totals([figures for _, figures in impacts[initiative.pk]])
        # The stored figures, the very numbers the list sorts by (the totals depend on
        # today, so they are computed).
        rows.append(
            Row(
                initiative=initiative,
                totals=totals,
                value_density=initiative.value_density,
                rice=initiative.rice_score,
            )
        )
    return rows


# --- history -------------------------------------------------------------------------------------

# The derived priority is kept out of the history (Initiative.history): only what people typed.
HISTORY_SKIP = {"id", "workspace", "created_at", "updated_at", *PRIORITY_FIELDS}
HistoryAction = Literal["created", "changed", "deleted"]
HISTORY_ACTIONS: dict[str, HistoryAction] = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    action: HistoryAction
    changes: list[tuple[str, str, str]]  # (field label, old, new), in words


def initiative_history(initiative: Initiative) -> list[HistoryEntry]:
    """Who changed what and when, newest first: three queries (the history rows, and the
    names of the teams and people they mention), whatever the length of the history."""
    records = list(
        initiative.history.select_related("history_user").order_by("history_date", "history_id")
    )
    fields = [f for f in Initiative._meta.concrete_fields if f.name not in HISTORY_SKIP]
    team_ids = {r.team_id for r in records if r.team_id}
    owner_ids = {r.owner_id for r in records if r.owner_id}
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
    people = {u.pk: u.display_name for u in User.objects.filter(pk__in=owner_ids)}

    def shown(field: Any, record: Any) -> str:
        value = getattr(record, field.attname)
        if value is None or value == "":
            return "—"
        if field.name == "team":
            return str(teams.get(value, f"team {value}"))
        if field.name == "owner":
            return str(people.get(value, f"person {value}"))
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        return str(value)

    entries = []
    previous = None
    for record in records:
        action = HISTORY_ACTIONS[record.history_type]
        changes: list[tuple[str, str, str]] = []
        if previous is not None and action == "changed":
            for field in fields:
                old, new = shown(field, previous), shown(field, record)
                if old != new:
                    changes.append((str(field.verbose_name).capitalize(), old, new))
        user = record.history_user
        who = user.display_name if user is not None else "The system"
        if action != "changed" or changes:
            entries.append(HistoryEntry(record.history_date, who, action, changes))
        previous = record
    entries.reverse()
    return entries


# --- charts --------------------------------------------------------------------------------------


def series_between(
    *, ranges: Mapping[int, tuple[date, date]]
) -> dict[int, list[tuple[date, Decimal]]]:
    """(observed_on, value) of each metric id within its own [start, end], oldest first:
    one query for all the metrics of a page (the charts of an initiative's impacts)."""
    result: dict[int, list[tuple[date, Decimal]]] = {metric_id: [] for metric_id in ranges}
    if not ranges:
        return result
    where = Q()
    for metric_id, (start, end) in ranges.items():
        where |= Q(metric_id=metric_id, observed_on__gte=start, observed_on__lte=end)
    rows = (
        Measurement.objects.filter(where)
        .order_by("metric_id", "observed_on")
        .values_list("metric_id", "observed_on", "value")
    )
    for metric_id, observed_on, value in rows:
        result[metric_id].append((observed_on, value))
    return result


@dataclass(frozen=True)
class Release:
    """An initiative that claims a change in a metric, and the day it shipped."""

    initiative_id: int
    title: str
    released_on: date


def releases_claiming(*, metric_id: int, date_from: date, date_to: date) -> list[Release]:
    """The released initiatives with an expected impact on the metric, released between the
    two days (both included), oldest first: one query. The metric page marks them."""
    rows = (
        ExpectedImpact.objects.filter(
            metric_id=metric_id,
            initiative__released_on__gte=date_from,
            initiative__released_on__lte=date_to,
        )
        .order_by("initiative__released_on", "initiative_id")
        .values_list("initiative_id", "initiative__title", "initiative__released_on")
    )
    return [Release(pk, title, day) for pk, title, day in rows if day is not None]
