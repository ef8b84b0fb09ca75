"""reports.realized, the realized totals behind value/summary/, value/objectives/ and the
dashboard: the very numbers of impacts_for and initiative_totals on random portfolios, as
of any day, after every kind of write they depend on (on PostgreSQL, where windows and
totals are kept, each such write must make them be computed again), inside a transaction
that rolls back, and in the same number of queries whatever is kept.

On SQLite the figures are computed afresh each time; the tests hold there too.
"""

from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Workspace
from initiatives.models import ExpectedImpact, Initiative, Status
from initiatives.selectors import impacts_for, initiative_totals
from reports import realized
from reports.models import ImpactWindow, MetricDataVersion, ValueDataVersion
from reports.selectors import Scope, realized_totals, value_summary
from strategy.models import Measurement, Metric
from strategy.services import measurements_ingest

BASE = date(2026, 3, 1)
postgres_only = pytest.mark.postgres


# --- the portfolio -------------------------------------------------------------------------------

values = st.decimals(min_value=D("-500"), max_value=D("90000"), places=6)
metric_specs = st.tuples(
    st.sampled_from(["sum", "mean", "last"]),
    st.sampled_from(["increase", "decrease"]),
    st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D("999"), places=4)),
    st.dictionaries(st.integers(-70, 70), values, max_size=30),
)
impact_specs = st.tuples(
    st.integers(0, 2),  # metric
    st.one_of(st.just(D(0)), st.decimals(min_value=D("-50"), max_value=D("800"), places=6)),
    st.integers(0, 100),  # confidence
    st.integers(0, 100),  # attribution
)
initiative_specs = st.tuples(
    st.one_of(st.none(), st.integers(-45, 15)),  # released, days from BASE
    st.integers(1, 60),  # measurement window
    st.lists(impact_specs, max_size=3, unique_by=lambda spec: spec[0]),
)
portfolios = st.tuples(
    st.lists(metric_specs, min_size=3, max_size=3),
    st.lists(initiative_specs, min_size=1, max_size=5),
)
days = st.integers(-20, 75)  # as_of, days from BASE


def build(workspace: Workspace, portfolio: Any) -> tuple[list[Metric], list[Initiative]]:
    metric_specs, initiative_specs = portfolio
    metrics = []
    for n, (aggregation, direction, per_unit, series) in enumerate(metric_specs):
        metric = Metric.objects.create(
            workspace=workspace,
            key=f"m{n}",
            name=f"Metric {n}",
            unit="u",
            category="other",
            direction=direction,
            aggregation=aggregation,
            value_per_unit=per_unit,
        )
        Measurement.objects.bulk_create(
            Measurement(metric=metric, observed_on=BASE + timedelta(days=d), value=v)
            for d, v in series.items()
        )
        metrics.append(metric)
    initiatives = []
    for n, (released, window, impacts) in enumerate(initiative_specs):
        initiative = Initiative.objects.create(
            workspace=workspace,
            title=f"I{n}",
            status=Status.MEASURED if released is not None else Status.COMMITTED,
            released_on=None if released is None else BASE + timedelta(days=released),
            measurement_window_days=window,
        )
        ExpectedImpact.objects.bulk_create(
            ExpectedImpact(
                initiative=initiative,
                metric=metrics[m],
                expected_change=change,
                confidence=confidence,
                attribution=attribution,
            )
            for m, change, confidence, attribution in impacts
        )
        initiatives.append(initiative)
    return metrics, initiatives


def reference(workspace: Workspace, as_of: date) -> dict[int, Any]:
    """initiative_totals of impacts_for: the figures the fast path must give."""
    released = list(
        Initiative.objects.filter(
            workspace=workspace, released_on__isnull=False, released_on__lte=as_of
        )
    )
    impacts = impacts_for(initiatives=released, today=as_of)
    return {i.pk: initiative_totals([f for _, f in impacts[i.pk]]) for i in released}


def assert_same_figures(workspace: Workspace, as_of: date) -> None:
    everything = Initiative.objects.filter(workspace=workspace)
    expected = reference(workspace, as_of)
    fast = realized.shipped_totals(everything, workspace_id=workspace.pk, as_of=as_of)
    assert {pk: s.totals for pk, s in fast.items()} == expected
    titles = dict(everything.filter(pk__in=list(fast)).values_list("pk", "title"))
    assert {pk: s.title for pk, s in fast.items()} == titles
    # … and read again: on PostgreSQL from what the first read kept.
    again = realized.shipped_totals(everything, workspace_id=workspace.pk, as_of=as_of)
    assert {pk: s.totals for pk, s in again.items()} == expected
    instances = realized_totals(everything, as_of=as_of)
    assert {pk: totals for pk, (_, totals) in instances.items()} == expected


# --- writes the figures depend on ----------------------------------------------------------------

writes = st.one_of(
    st.tuples(st.just("ingest"), st.integers(0, 2), st.integers(-70, 70), values),
    st.tuples(st.just("delete measurement"), st.integers(0, 2), st.integers(-70, 70)),
    st.tuples(st.just("direction"), st.integers(0, 2)),
    st.tuples(st.just("aggregation"), st.integers(0, 2), st.sampled_from(["sum", "mean", "last"])),
    st.tuples(st.just("value per unit"), st.integers(0, 2), st.decimals(0, 99, places=2)),
    st.tuples(st.just("attribution"), st.integers(0, 100)),
    st.tuples(st.just("expected change"), st.decimals(-9, 99, places=3)),
    st.tuples(st.just("impact metric"), st.integers(0, 2)),
    st.tuples(st.just("drop impact")),
    st.tuples(st.just("release"), st.integers(0, 4), st.integers(-45, 15)),
    st.tuples(st.just("window"), st.integers(0, 4), st.integers(1, 90)),
)


def apply(write: tuple[Any, ...], metrics: list[Metric], initiatives: list[Initiative]) -> None:
    kind, *args = write
    impact = ExpectedImpact.objects.filter(initiative__in=initiatives).order_by("pk").first()
    if kind == "ingest":
        day = BASE + timedelta(days=args[1])
        measurements_ingest(
            metric=metrics[args[0]],
            points=[{"observed_on": day.isoformat(), "value": str(args[2])}],
        )
    elif kind == "delete measurement":
        Measurement.objects.filter(
            metric=metrics[args[0]], observed_on__gte=BASE + timedelta(days=args[1])
        ).delete()
    elif kind == "direction":
        metric = metrics[args[0]]
        metric.direction = "decrease" if metric.direction == "increase" else "increase"
        metric.save()
    elif kind == "aggregation":
        Metric.objects.filter(pk=metrics[args[0]].pk).update(aggregation=args[1])
    elif kind == "value per unit":
        Metric.objects.filter(pk=metrics[args[0]].pk).update(value_per_unit=args[1])
    elif kind in ("attribution", "expected change") and impact is not None:
        field = "attribution" if kind == "attribution" else "expected_change"
        setattr(impact, field, args[0])
        impact.save()
    elif kind == "impact metric" and impact is not None:
        taken = set(
            ExpectedImpact.objects.filter(initiative_id=impact.initiative_id).values_list(
                "metric_id", flat=True
            )
        )
        if metrics[args[0]].pk not in taken:
            ExpectedImpact.objects.filter(pk=impact.pk).update(metric=metrics[args[0]])
    elif kind == "drop impact" and impact is not None:
        impact.delete()
    elif kind == "release" and args[0] < len(initiatives):
        Initiative.objects.filter(pk=initiatives[args[0]].pk).update(
            released_on=BASE + timedelta(days=args[1])
        )
    elif kind == "window" and args[0] < len(initiatives):
        initiative = Initiative.objects.get(pk=initiatives[args[0]].pk)
        initiative.measurement_window_days = args[1]
        initiative.save()


# --- the properties ------------------------------------------------------------------------------


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    portfolio=portfolios,
    as_of=st.lists(days, min_size=1, max_size=3),
    changes=st.lists(writes, max_size=3),
)
def test_the_fast_totals_are_those_of_impacts_for_as_of_any_day_and_after_any_write(
    workspace: Workspace, portfolio: Any, as_of: list[int], changes: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        # given a random portfolio, read as of some days (so that, on PostgreSQL, windows
        # and totals are kept)
        metrics, initiatives = build(workspace, portfolio)
        evaluation_days = [BASE + timedelta(days=d) for d in as_of]
        for day in evaluation_days:
            assert_same_figures(workspace, day)
        # when anything the figures depend on is written, one change after another
        for change in changes:
            apply(change, metrics, initiatives)
            # then every read gives the figures of the data as it is now
            for day in evaluation_days:
                assert_same_figures(workspace, day)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_kept_figure_behind(workspace: Workspace) -> None:
    # given a measured initiative read once
    metrics, initiatives = build(
        workspace,
        (
            [("sum", "increase", D(2), {d: D(d + 100) for d in range(-40, 40)})] * 3,
            [(0, 30, [(0, D(50), 80, 100)])],
        ),
    )
    as_of = BASE + timedelta(days=60)
    assert_same_figures(workspace, as_of)
    before = reference(workspace, as_of)
    # when a write inside a transaction is read, then rolled back
    with transaction.atomic():
        apply(("ingest", 0, 10, D("100000")), metrics, initiatives)
        assert_same_figures(workspace, as_of)
        assert reference(workspace, as_of) != before
        transaction.set_rollback(True)
    # then the figures are those of the data without it
    assert reference(workspace, as_of) == before
    assert_same_figures(workspace, as_of)


@pytest.mark.django_db
def test_the_reads_take_as_many_queries_whatever_is_kept(workspace: Workspace) -> None:
    # given a portfolio, not read yet
    build(
        workspace,
        (
            [
                ("sum", "increase", D(2), {d: D(d) for d in range(-40, 40)}),
                ("mean", "decrease", D(1), {d: D(d * 3) for d in range(-40, 40)}),
                ("last", "increase", None, {d: D(d * 7) for d in range(-40, 40, 3)}),
            ],
            [(-30, 20, [(0, D(50), 80, 100), (1, D(5), 50, 50)]), (-5, 60, [(2, D(9), 50, 90)])],
        ),
    )
    Initiative.objects.filter(workspace=workspace).update(status=Status.MEASURED)
    as_of = BASE + timedelta(days=10)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            value_summary(workspace=workspace, as_of=as_of, scope=Scope())
        return len(captured)

    # when it is read with nothing kept, then with everything kept
    cold, warm = queries(), queries()
    # then both take the same number of queries (on PostgreSQL the realized totals are one)
    assert cold == warm
    with CaptureQueriesContext(connection) as captured:
        realized.shipped_totals(
            Initiative.objects.filter(workspace=workspace), workspace_id=workspace.pk, as_of=as_of
        )
    assert len(captured) == (1 if connection.vendor == "postgresql" else 2)


# --- on PostgreSQL: what is kept, and what a write drops -----------------------------------------


def _portfolio_on_two_metrics(workspace: Workspace) -> tuple[list[Metric], list[Initiative]]:
    return build(
        workspace,
        (
            [
                ("sum", "increase", D(2), {d: D(d + 50) for d in range(-60, 60)}),
                ("mean", "increase", D(3), {d: D(d + 9) for d in range(-60, 60)}),
                ("last", "increase", D(1), {}),
            ],
            [
                (-40, 30, [(0, D(50), 80, 100), (1, D(5), 50, 100)]),
                (-20, 30, [(0, D(20), 80, 100)]),
                (-10, 60, [(1, D(2), 80, 100)]),
            ],
        ),
    )


@postgres_only
@pytest.mark.django_db
def test_windows_are_kept_and_only_those_of_the_metric_written_are_summed_again(
    workspace: Workspace,
) -> None:
    # given a portfolio read as of a day: every impact's windows are kept
    metrics, initiatives = _portfolio_on_two_metrics(workspace)
    as_of = BASE + timedelta(days=15)
    assert_same_figures(workspace, as_of)
    impacts = ExpectedImpact.objects.filter(initiative__in=initiatives)
    kept = {w.impact_id: w.version for w in ImpactWindow.objects.filter(impact_id__in=impacts)}
    assert set(kept) == set(impacts.values_list("pk", flat=True))
    # when a measurement of the first metric is written and the figures read again
    measurements_ingest(metric=metrics[0], points=[{"observed_on": "2026-02-20", "value": "7"}])
    assert_same_figures(workspace, as_of)
    # then the windows on that metric were summed again at its new version, the others kept
    now = {w.impact_id: w.version for w in ImpactWindow.objects.filter(impact_id__in=impacts)}
    on_first = set(impacts.filter(metric=metrics[0]).values_list("pk", flat=True))
    version = MetricDataVersion.objects.get(metric_id=metrics[0].pk).version
    assert {pk for pk in now if now[pk] != kept[pk]} == on_first
    assert all(now[pk] == version for pk in on_first)


@postgres_only
@pytest.mark.django_db
def test_an_earlier_day_does_not_replace_the_windows_of_a_later_one(
    workspace: Workspace,
) -> None:
    # given windows kept as of a day while the third initiative's is still open
    _, initiatives = _portfolio_on_two_metrics(workspace)
    later, earlier = BASE + timedelta(days=20), BASE + timedelta(days=5)
    assert_same_figures(workspace, later)
    open_impact = ExpectedImpact.objects.get(initiative=initiatives[2])
    assert ImpactWindow.objects.get(impact_id=open_impact.pk).span == 30
    # when the figures are read as of an earlier day
    assert_same_figures(workspace, earlier)
    # then its window is still the later day's, and both days read right
    assert ImpactWindow.objects.get(impact_id=open_impact.pk).span == 30
    assert_same_figures(workspace, later)


@postgres_only
@pytest.mark.django_db
def test_the_value_version_moves_on_what_the_figures_depend_on_only(
    workspace: Workspace,
) -> None:
    metrics, initiatives = _portfolio_on_two_metrics(workspace)

    def version() -> int:
        return ValueDataVersion.objects.get(workspace_id=workspace.pk).version

    moves = {
        "metric renamed": lambda: Metric.objects.filter(pk=metrics[0].pk).update(name="New"),
        "initiative retitled": lambda: Initiative.objects.filter(pk=initiatives[0].pk).update(
            title="New"
        ),
        "status changed": lambda: Initiative.objects.filter(pk=initiatives[0].pk).update(
            status=Status.RELEASED
        ),
        "direction changed": lambda: Metric.objects.filter(pk=metrics[0].pk).update(
            direction="decrease"
        ),
        "release moved": lambda: Initiative.objects.filter(pk=initiatives[0].pk).update(
            released_on=BASE
        ),
        "window changed": lambda: Initiative.objects.filter(pk=initiatives[0].pk).update(
            measurement_window_days=45
        ),
        "impact changed": lambda: ExpectedImpact.objects.filter(initiative=initiatives[0]).update(
            confidence=10
        ),
        "measurement deleted": lambda: Measurement.objects.filter(metric=metrics[1]).delete(),
    }
    moved = {}
    for name, write in moves.items():
        start = version()
        write()
        moved[name] = version() != start
    assert moved == {
        "metric renamed": False,
        "initiative retitled": False,
        "status changed": False,
        "direction changed": True,
        "release moved": True,
        "window changed": True,
        "impact changed": True,
        "measurement deleted": True,
    }
