"""Reads of strategy and the key-result math of DESIGN.md §3.

Key-result figures are computed for a whole queryset at once: one SQL query with a
correlated aggregate per key result (sum, count and the last value in its window) on the
(metric, observed_on) index, then plain Decimal arithmetic. The number of queries does not
grow with the number of key results or measurements.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Literal

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

from accounts.models import Workspace
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
    """Annotates each key result with `w_current`: the aggregate its metric asks for over
    the window [start_on, min(today, due_on)] — the sum or the mean of the measurements in
    it, or for a level the value as of its end. One correlated subquery per key result,
    chosen by CASE, each an index range scan on (metric, observed_on)."""
    window_end = Least("due_on", Value(today, output_field=DateField()))
    return queryset.annotate(w_end=window_end).annotate(w_current=_window_current())


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
    two queries, whatever the size of the tree."""
    objectives = Objective.objects.filter(workspace=workspace).select_related("owner")
    if not include_archived:
        objectives = objectives.exclude(status="archived")
    nodes = {o.pk: ObjectiveNode(objective=o) for o in objectives}
    key_results = key_results_with_figures(
        workspace=workspace,
        today=today,
        queryset=KeyResult.objects.filter(archived_at__isnull=True, objective_id__in=list(nodes)),
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
    series: list[tuple[date, Decimal]] = list(
        measurements_for(metric=metric, date_from=date_from, date_to=date_to).values_list(
            "observed_on", "value"
        )
    )
    return series
