"""Reads of strategy and the key-result math of DESIGN.md §3.

Key-result figures are computed for a whole queryset at once: one SQL query with a
correlated aggregate per key result (sum, count and the last value in its window) on the
(metric, observed_on) index, then plain Decimal arithmetic. The number of queries does not
grow with the number of key results or measurements. On PostgreSQL the reads of pages and
lists run SQL the ORM wrote once per shape of read (pm_value.prepared_reads), so
that Python costs less than the database's own work (DESIGN.md §7: ≤ 2× raw SQL).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, partial
from typing import Any, Literal, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    DateField,
    DecimalField,
    F,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Least
from django.db.models.query import BaseIterable, ModelIterable
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE

from accounts.models import Workspace
from pm_value.prepared_reads import (
    Prepared,
    found_again,
    prepared_read,
    prepared_shape,
    row_maker,
    stand_in,
)
from strategy.models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    Aggregation,
    KeyResult,
    Measurement,
    Metric,
    Objective,
)

Pace = Literal["achieved", "on_track", "at_risk", "off_track"]
AT_RISK_SHARE = Decimal("0.7")
_VALUE = DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)


def value_as_of(*, metric: Metric, on: date) -> Decimal | None:
    """The latest measurement of the metric observed on or before `on`; None without one."""
    value: Decimal | None = (
        Measurement.objects.filter(metric=metric, observed_on__lte=on)
        .order_by("-observed_on")
        .values_list("value", flat=True)
        .first()
    )
    return value


def progress_of(*, current: Decimal | None, baseline: Decimal, target: Decimal) -> Decimal | None:
    """(current − baseline) / (target − baseline), not clamped; None without a current."""
    if current is None:
        return None
    return (current - baseline) / (target - baseline)


def expected_progress_of(*, start_on: date, due_on: date, today: date) -> Decimal:
    """The share of the key result's time that has passed, clamped to 0–1."""
    share = Decimal((today - start_on).days) / Decimal((due_on - start_on).days)
    return min(Decimal(1), max(Decimal(0), share))


def pace_of(*, progress: Decimal | None, expected: Decimal) -> Pace | None:
    if progress is None:
        return None
    if progress >= 1:
        return "achieved"
    if progress >= expected:
        return "on_track"
    if progress >= AT_RISK_SHARE * expected:
        return "at_risk"
    return "off_track"


@dataclass(frozen=True)
class KeyResultFigures:
    current: Decimal | None
    progress: Decimal | None
    expected_progress: Decimal
    pace: Pace | None
    window_start: date
    window_end: date


def with_window_aggregates(queryset: QuerySet[KeyResult], *, today: date) -> QuerySet[KeyResult]:
    """The key results of `queryset`, each with `w_current`: the aggregate its metric asks
    for over the window [start_on, min(today, due_on)] — the sum or the mean of the
    measurements in it, or for a level the value as of its end — and `w_end`, that end.

    The queryset stays a plain one to filter, order, slice and count by the key results'
    own fields (the aggregates are not annotations of it, so counts skip them). Its rows
    come from one query with a correlated subquery per key result, chosen by CASE, each an
    index range scan on (metric, observed_on); on PostgreSQL the SQL of that query is
    written once per shape of the queryset (see _window_rows)."""
    clone = queryset.all()
    clone._iterable_class = partial(_WindowAggregatesIterable, today=today)  # type: ignore[assignment]
    return clone


def _annotated(queryset: QuerySet[KeyResult], today: date) -> QuerySet[KeyResult]:
    """`queryset` with the aggregates of `with_window_aggregates` as ORM annotations."""
    plain = queryset.all()
    plain._iterable_class = ModelIterable
    window_end = Least("due_on", Value(today, output_field=DateField()))
    return plain.annotate(w_end=window_end).annotate(w_current=_window_current())


class _WindowAggregatesIterable(BaseIterable):  # type: ignore[type-arg]
    """Yields the key results of a `with_window_aggregates` queryset with their aggregates:
    through SQL prepared for the queryset's shape where it applies, else the ORM's."""

    def __init__(
        self,
        queryset: QuerySet[KeyResult],
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
        *,
        today: date,
    ) -> None:
        super().__init__(queryset, chunked_fetch, chunk_size)
        self.today = today

    def __iter__(self) -> Iterator[KeyResult]:
        queryset = cast(QuerySet[KeyResult], self.queryset)
        rows = _window_rows(queryset, self.today)
        if rows is None:
            annotated = _annotated(queryset, self.today)
            return iter(ModelIterable(annotated, self.chunked_fetch, self.chunk_size))
        return iter(rows)


@cache
def _window_current() -> Case:
    """The CASE of `with_window_aggregates`, built once: it refers to the key result only
    through OuterRef (`today` lives in the `w_end` annotation), and annotate() resolves a
    copy of it, so every query reuses it instead of building three subqueries anew."""
    in_window = Measurement.objects.filter(
        metric=OuterRef("metric"),
        observed_on__gte=OuterRef("start_on"),
        observed_on__lte=OuterRef("w_end"),
    ).order_by()
    # A plain SQL aggregate over the window (no GROUP BY): NULL when the window is empty.
    window_sum = in_window.values(s=Func(F("value"), function="SUM", output_field=_VALUE))
    window_mean = in_window.values(a=Func(F("value"), function="AVG", output_field=_VALUE))
    last_value = (
        Measurement.objects.filter(metric=OuterRef("metric"), observed_on__lte=OuterRef("w_end"))
        .order_by("-observed_on")
        .values("value")[:1]
    )
    return Case(
        When(metric__aggregation=Aggregation.SUM, then=Subquery(window_sum)),
        When(metric__aggregation=Aggregation.MEAN, then=Subquery(window_mean)),
        default=Subquery(last_value),
        output_field=_VALUE,
    )


def figures_of(key_result: KeyResult, *, today: date) -> KeyResultFigures:
    """Figures of a key result annotated by `with_window_aggregates` (no query)."""
    window_end = min(today, key_result.due_on)
    # A window that has not begun has no figures, even for a level measured before it.
    current: Decimal | None = (
        None if window_end < key_result.start_on else key_result.w_current  # type: ignore[attr-defined]
    )
    progress = progress_of(current=current, baseline=key_result.baseline, target=key_result.target)
    expected = expected_progress_of(
        start_on=key_result.start_on, due_on=key_result.due_on, today=today
    )
    return KeyResultFigures(
        current=current,
        progress=progress,
        expected_progress=expected,
        pace=pace_of(progress=progress, expected=expected),
        window_start=key_result.start_on,
        window_end=window_end,
    )


# Key-result and metric columns that no reader of key_results_with_figures prints.
_UNREAD_COLUMNS = (
    "created_at",
    "updated_at",
    "metric__description",
    "metric__source",
    "metric__created_at",
    "metric__updated_at",
)


def key_results_with_figures(
    *, workspace: Workspace, today: date, queryset: QuerySet[KeyResult] | None = None
) -> list[tuple[KeyResult, KeyResultFigures]]:
    """Key results of the workspace with their figures, in one query."""
    base = queryset if queryset is not None else KeyResult.objects.all()
    # Only the metric comes along (pages print its name and unit); a caller that prints the
    # objective passes a queryset with select_related("objective"), since select_related
    # adds up. Columns no caller reads stay in the database.
    rows = with_window_aggregates(
        base.filter(workspace=workspace).select_related("metric").defer(*_UNREAD_COLUMNS),
        today=today,
    )
    return [(kr, figures_of(kr, today=today)) for kr in rows]


def metric_key_results(*, metric: Metric, today: date) -> list[tuple[KeyResult, KeyResultFigures]]:
    """The metric's key results that are not archived, each with its objective (the metric
    page names it) and its figures, in one query. Each row's `metric` is the one given."""
    rows: list[KeyResult] = prepared_read(
        _metric_key_results_query,
        workspace_id=metric.workspace_id,
        metric_id=metric.pk,
        today=today,
    )
    out = []
    for kr in rows:
        kr.metric = metric
        out.append((kr, figures_of(kr, today=today)))
    return out


def _metric_key_results_query(
    *, workspace_id: int, metric_id: int, today: date
) -> QuerySet[KeyResult]:
    key_results = (
        KeyResult.objects.filter(
            workspace_id=workspace_id, metric_id=metric_id, archived_at__isnull=True
        )
        .select_related("objective")
        .defer("created_at", "updated_at")
    )
    return _annotated(key_results, today)


def key_result_figures(*, key_result: KeyResult, today: date) -> KeyResultFigures:
    annotated = with_window_aggregates(
        KeyResult.objects.filter(pk=key_result.pk).select_related("metric"), today=today
    ).get()
    return figures_of(annotated, today=today)


@dataclass
class ObjectiveNode:
    objective: Objective
    key_results: list[tuple[KeyResult, KeyResultFigures]] = field(default_factory=list)
    children: list["ObjectiveNode"] = field(default_factory=list)
    depth: int = 0


def objective_tree(
    *, workspace: Workspace, today: date, include_archived: bool = False
) -> list[ObjectiveNode]:
    """The workspace's objectives as a forest, each with its key results and their figures:
    two queries, whatever the size of the tree. `include_archived`: archived objectives and
    key results too."""
    objectives = Objective.objects.filter(workspace=workspace).select_related("owner")
    key_results_of = KeyResult.objects.all()
    if not include_archived:
        objectives = objectives.exclude(status="archived")
        key_results_of = key_results_of.filter(archived_at__isnull=True)
    nodes = {o.pk: ObjectiveNode(objective=o) for o in objectives}
    key_results = key_results_with_figures(
        workspace=workspace,
        today=today,
        queryset=key_results_of.filter(objective_id__in=list(nodes)),
    )
    for kr, figures in key_results:
        nodes[kr.objective_id].key_results.append((kr, figures))
    roots: list[ObjectiveNode] = []
    for node in nodes.values():
        parent = nodes.get(node.objective.parent_id) if node.objective.parent_id else None
        (parent.children if parent else roots).append(node)
    _set_depth(roots, 0)
    return roots


def _set_depth(nodes: Sequence[ObjectiveNode], depth: int) -> None:
    for node in nodes:
        node.depth = depth
        _set_depth(node.children, depth + 1)


def flatten(nodes: Iterable[ObjectiveNode]) -> list[ObjectiveNode]:
    """Depth-first order, for templates that render a tree as an indented list."""
    out: list[ObjectiveNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def objective_ancestor_ids(*, objective_id: int | None) -> list[int]:
    """Ids from the objective up to its root (it included), one query per level: trees are
    a few levels deep and this runs only when a parent changes."""
    ids: list[int] = []
    current = objective_id
    while current is not None and current not in ids:
        ids.append(current)
        current = Objective.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return ids


def metrics_for(*, workspace: Workspace, include_archived: bool = False) -> QuerySet[Metric]:
    metrics = Metric.objects.filter(workspace=workspace).select_related("owner")
    if not include_archived:
        metrics = metrics.filter(archived_at__isnull=True)
    # The latest measurement of each metric, from the (metric, observed_on) index: no
    # count over millions of rows.
    latest = Measurement.objects.filter(metric=OuterRef("pk")).order_by("-observed_on")
    return metrics.annotate(
        latest_on=Subquery(latest.values("observed_on")[:1]),
        latest_value=Subquery(latest.values("value")[:1], output_field=_VALUE),
    )


def measurements_for(
    *, metric: Metric, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Measurement]:
    measurements = Measurement.objects.filter(metric=metric)
    if date_from is not None:
        measurements = measurements.filter(observed_on__gte=date_from)
    if date_to is not None:
        measurements = measurements.filter(observed_on__lte=date_to)
    return measurements.order_by("observed_on")


def measurement_series(
    *, metric: Metric, date_from: date | None = None, date_to: date | None = None
) -> list[tuple[date, Decimal]]:
    """(observed_on, value) of the metric in the range, oldest first: plain tuples from the
    (metric, observed_on) index, no model instances — what a chart plots."""
    series: list[tuple[date, Decimal]] = prepared_read(
        _series_query, metric_id=metric.pk, date_from=date_from, date_to=date_to
    )
    return series


def _series_query(
    *, metric_id: int, date_from: date | None, date_to: date | None
) -> QuerySet[Measurement, tuple[date, Decimal]]:
    measurements = Measurement.objects.filter(metric_id=metric_id)
    if date_from is not None:
        measurements = measurements.filter(observed_on__gte=date_from)
    if date_to is not None:
        measurements = measurements.filter(observed_on__lte=date_to)
    return measurements.order_by("observed_on").values_list("observed_on", "value")


def latest_measurements_of(*, metric: Metric, count: int) -> list[Measurement]:
    """The metric's `count` latest measurements, newest first."""
    rows: list[Measurement] = prepared_read(_latest_query, count, metric_id=metric.pk)
    return rows


def _latest_query(count: int, *, metric_id: int) -> QuerySet[Measurement]:
    return Measurement.objects.filter(metric_id=metric_id).order_by("-observed_on")[:count]


# --- key results through prepared SQL (pm_value.prepared_reads) ------------------------------


def _window_rows(queryset: QuerySet[KeyResult], today: date) -> list[KeyResult] | None:
    """The rows of a `with_window_aggregates` queryset through prepared SQL; None where that
    does not apply (then the ORM runs).

    Any queryset of key results qualifies, whatever its filters, order and slice: its plain
    SQL — cheap to write, no aggregates — names the shape, and the SQL with the aggregates,
    written once for that shape, takes the plain query's parameters after those of its
    select list (`today`, the aggregation names)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    try:
        plain_sql, plain_params = queryset.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return []
    key = (_window_rows, queryset.db, plain_sql)
    prepared = prepared_shape(key, partial(_prepare_window, queryset, plain_params))
    if prepared is None:
        return None
    rows: list[KeyResult] = prepared.run(queryset.db, {"today": today}, plain_params)
    return rows


def _prepare_window(queryset: QuerySet[KeyResult], plain_params: Sequence[Any]) -> Prepared | None:
    today = stand_in(0, date(2000, 1, 1))
    annotated = _annotated(queryset, today)  # type: ignore[arg-type]
    compiler = annotated.query.get_compiler(annotated.db)
    sql, params = compiler.as_sql()
    select_params = [p for _, (_, column_params), _ in compiler.select for p in column_params]
    split = len(select_params)
    # The select list first, then the plain query's own parameters, and nothing else.
    if list(params[:split]) != select_params or list(params[split:]) != list(plain_params):
        return None
    recipe = found_again(select_params, {"today": today})
    make_rows = row_maker(annotated, compiler)
    if recipe is None or make_rows is None:
        return None
    return Prepared(sql, recipe, make_rows)
