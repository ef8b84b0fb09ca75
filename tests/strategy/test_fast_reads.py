"""Prepared reads (strategy.selectors): on PostgreSQL the SQL of a read is written once per
shape and run again with fresh parameters; every row, figure and related object must be
the one the ORM gives on the same data. Elsewhere the ORM runs (the rest of the suite)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet, Value
from django.test.utils import CaptureQueriesContext

from accounts.models import Workspace
from pm_value import prepared_reads
from strategy import selectors
from strategy.models import KeyResult, Measurement, Metric
from strategy.selectors import (
    _annotated,
    _latest_query,
    _metric_key_results_query,
    _series_query,
    figures_of,
    key_results_with_figures,
    latest_measurements_of,
    measurement_series,
    metric_key_results,
    objective_tree,
    with_window_aggregates,
)
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory, measure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

D = Decimal
TODAY = date(2026, 2, 15)
KR_FIELDS = [f.attname for f in KeyResult._meta.concrete_fields]


def the_data(workspace: Workspace) -> Metric:
    """Key results of every aggregation in every kind of window, on two objectives; the
    metric of the first has measurements on 120 days. Returns that metric."""
    first = None
    for aggregation in ("sum", "mean", "last"):
        metric = MetricFactory.create(workspace=workspace, aggregation=aggregation)
        first = first or metric
        days = {date(2025, 12, 1) + timedelta(days=i): f"{i * 1.25 + 3:.2f}" for i in range(120)}
        measure(metric, days)
        for objective in (ObjectiveFactory.create(workspace=workspace) for _ in range(2)):
            for start, due in (
                (date(2026, 1, 1), date(2026, 3, 31)),  # running
                (date(2025, 10, 1), date(2025, 11, 30)),  # before any measurement
                (date(2026, 3, 1), date(2026, 6, 30)),  # not begun on TODAY
                (date(2025, 12, 10), date(2026, 1, 20)),  # over
            ):
                KeyResultFactory.create(
                    objective=objective,
                    metric=metric,
                    start_on=start,
                    due_on=due,
                    baseline=D("1"),
                    target=D("250.5"),
                )
    KeyResultFactory.create(
        objective=ObjectiveFactory.create(workspace=workspace),
        metric=first,
        archived_at="2026-01-05T10:00:00Z",
    )
    assert first is not None
    return first


def loaded(obj: Any) -> dict[str, Any]:
    """What an instance holds: its values, and where it came from (not its identity)."""
    state = obj.__dict__["_state"]
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    return values | {"_state": (state.db, state.adding)}


def same_key_results(ours: list[KeyResult], orm: list[KeyResult], today: date) -> None:
    assert [kr.pk for kr in ours] == [kr.pk for kr in orm]
    for a, b in zip(ours, orm, strict=True):
        assert [a.__dict__.get(f) for f in KR_FIELDS] == [b.__dict__.get(f) for f in KR_FIELDS]
        assert (a.w_end, a.w_current) == (b.w_end, b.w_current)  # type: ignore[attr-defined]
        assert figures_of(a, today=today) == figures_of(b, today=today)


def prepared_for(build: Any) -> bool:
    """Whether a read of `build` has SQL prepared (not left to the ORM)."""
    return any(
        prepared is not None and isinstance(key, tuple) and key[0] is build
        for key, prepared in prepared_reads.shapes.items()
    )


def prepared_shapes() -> int:
    return sum(1 for p in prepared_reads.shapes.values() if p is not None)


@pytest.mark.parametrize("today", [TODAY, date(2026, 1, 3), date(2027, 1, 1)])
@pytest.mark.parametrize(
    "shape",
    [
        "all",
        "page",
        "second page",
        "with metric and objective",
        "deferred",
        "one objective",
        "by due date",
        "archived left out",
    ],
)
def test_the_prepared_rows_are_the_orm_rows(
    workspace: Workspace, other_workspace: Workspace, shape: str, today: date
) -> None:
    the_data(workspace)
    the_data(other_workspace)  # never in the answers
    some_kr = KeyResult.objects.filter(workspace=workspace).first()
    assert some_kr is not None
    querysets: dict[str, QuerySet[KeyResult]] = {
        "all": KeyResult.objects.filter(workspace=workspace),
        "page": KeyResult.objects.filter(workspace=workspace)[:5],
        "second page": KeyResult.objects.filter(workspace=workspace)[5:10],
        "with metric and objective": KeyResult.objects.filter(workspace=workspace).select_related(
            "metric", "objective"
        ),
        "deferred": KeyResult.objects.filter(workspace=workspace)
        .select_related("metric")
        .defer("created_at", "metric__description"),
        "one objective": KeyResult.objects.filter(objective_id=some_kr.objective_id),
        "by due date": KeyResult.objects.filter(workspace=workspace).order_by("-due_on", "id"),
        "archived left out": KeyResult.objects.filter(
            workspace=workspace, archived_at__isnull=True
        ),
    }
    queryset = querysets[shape]

    orm = list(_annotated(queryset, today))
    before = prepared_shapes()
    ours = list(with_window_aggregates(queryset, today=today))
    again = list(with_window_aggregates(queryset, today=today))

    assert orm, "the shape selects something"
    same_key_results(ours, orm, today)
    same_key_results(again, orm, today)
    assert prepared_shapes() <= before + 1  # one shape, prepared at most once
    key = (selectors._window_rows, "default", queryset.query.get_compiler("default").as_sql()[0])
    assert prepared_reads.shapes.get(key) is not None, "the prepared path ran"
    if shape == "with metric and objective":
        for a, b in zip(ours, orm, strict=True):
            assert loaded(a.metric) == loaded(b.metric)
            assert loaded(a.objective) == loaded(b.objective)


def test_one_shape_answers_other_days_and_workspaces(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    the_data(workspace)
    the_data(other_workspace)
    for ws in (workspace, other_workspace):
        for today in (date(2025, 11, 1), TODAY, date(2026, 4, 2)):
            queryset = KeyResult.objects.filter(workspace=ws).select_related("metric")
            same_key_results(
                list(with_window_aggregates(queryset, today=today)),
                list(_annotated(queryset, today)),
                today,
            )


def test_key_results_with_figures_and_the_tree_match_the_orm(workspace: Workspace) -> None:
    the_data(workspace)
    ours = key_results_with_figures(workspace=workspace, today=TODAY)
    orm = list(
        _annotated(
            KeyResult.objects.filter(workspace=workspace)
            .select_related("metric")
            .defer(*selectors._UNREAD_COLUMNS),
            TODAY,
        )
    )
    same_key_results([kr for kr, _ in ours], orm, TODAY)
    assert [f for _, f in ours] == [figures_of(kr, today=TODAY) for kr in orm]
    assert {f.pace for _, f in ours} > {None}

    tree = objective_tree(workspace=workspace, today=TODAY)
    in_tree = {kr.pk: f for node in selectors.flatten(tree) for kr, f in node.key_results}
    assert in_tree == {kr.pk: f for kr, f in ours if kr.archived_at is None}


def test_an_empty_selection_runs_no_query(workspace: Workspace) -> None:
    the_data(workspace)
    with CaptureQueriesContext(connection) as queries:
        rows = list(with_window_aggregates(KeyResult.objects.filter(pk__in=[]), today=TODAY))
    assert rows == []
    assert len(queries) == 0


def test_a_queryset_with_its_own_parameters_in_the_select_list_runs_through_the_orm(
    workspace: Workspace,
) -> None:
    the_data(workspace)
    queryset = KeyResult.objects.filter(workspace=workspace).annotate(tag=Value("x"))
    ours = list(with_window_aggregates(queryset, today=TODAY))
    same_key_results(ours, list(_annotated(queryset, TODAY)), TODAY)
    assert {kr.tag for kr in ours} == {"x"}  # type: ignore[attr-defined]


def test_counts_and_gets_work_on_the_plain_queryset(workspace: Workspace) -> None:
    the_data(workspace)
    queryset = with_window_aggregates(KeyResult.objects.filter(workspace=workspace), today=TODAY)
    assert queryset.count() == KeyResult.objects.filter(workspace=workspace).count()
    first = KeyResult.objects.filter(workspace=workspace).first()
    assert first is not None
    got: Any = queryset.get(pk=first.pk)
    orm: Any = _annotated(KeyResult.objects.filter(pk=first.pk), TODAY).get()
    assert (got.w_end, got.w_current) == (orm.w_end, orm.w_current)


# --- the metric page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (date(2025, 12, 20), date(2026, 1, 10)),
        (None, date(2026, 1, 10)),
        (date(2026, 3, 1), None),
        (None, None),
        (date(2030, 1, 1), date(2030, 2, 1)),
    ],
)
def test_the_series_is_the_orm_series(
    workspace: Workspace, date_from: date | None, date_to: date | None
) -> None:
    metric = the_data(workspace)
    for m in (metric, MetricFactory.create(workspace=workspace)):
        ours = measurement_series(metric=m, date_from=date_from, date_to=date_to)
        orm = list(_series_query(metric_id=m.pk, date_from=date_from, date_to=date_to))
        assert ours == orm
        assert all(isinstance(v, Decimal) and isinstance(d, date) for d, v in ours)
    assert prepared_for(_series_query)


def test_the_latest_measurements_are_the_orm_ones(workspace: Workspace) -> None:
    metric = the_data(workspace)
    ours = latest_measurements_of(metric=metric, count=15)
    orm = list(_latest_query(15, metric_id=metric.pk))
    assert [loaded(m) for m in ours] == [loaded(m) for m in orm]
    assert [m.observed_on for m in ours] == sorted(
        Measurement.objects.filter(metric=metric).values_list("observed_on", flat=True),
        reverse=True,
    )[:15]
    assert latest_measurements_of(metric=metric, count=3) == ours[:3]
    assert prepared_for(_latest_query)


def test_the_metric_key_results_are_the_orm_ones_in_one_query(workspace: Workspace) -> None:
    metric = the_data(workspace)
    orm = list(
        _metric_key_results_query(workspace_id=workspace.pk, metric_id=metric.pk, today=TODAY)
    )
    metric_key_results(metric=metric, today=TODAY)  # prepares the shape

    with CaptureQueriesContext(connection) as queries:
        ours = metric_key_results(metric=metric, today=TODAY)
        titles = [kr.objective.title for kr, _ in ours]
        names = {kr.metric.name for kr, _ in ours}

    assert len(queries) == 1
    assert titles == [kr.objective.title for kr in orm]
    assert names == {metric.name}
    same_key_results([kr for kr, _ in ours], orm, TODAY)
    assert all(kr.archived_at is None for kr, _ in ours)
    assert len(ours) == 8
    assert prepared_for(_metric_key_results_query)


def test_prepared_reads_take_ints_and_dates_only() -> None:
    def build(*, flag: Any) -> QuerySet[Metric]:
        return Metric.objects.filter(pk=1) if flag else Metric.objects.none()

    with pytest.raises(TypeError, match="ints and dates"):
        prepared_reads.prepared_read(build, flag=True)


def test_the_shapes_kept_are_bounded(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    the_data(workspace)
    monkeypatch.setattr(prepared_reads, "shapes", {})
    monkeypatch.setattr(prepared_reads, "SHAPES_MAX", 3)
    queryset = KeyResult.objects.filter(workspace=workspace)
    for size in range(1, 7):
        page = queryset[:size]
        same_key_results(
            list(with_window_aggregates(page, today=TODAY)), list(_annotated(page, TODAY)), TODAY
        )
    assert len(prepared_reads.shapes) == 3
