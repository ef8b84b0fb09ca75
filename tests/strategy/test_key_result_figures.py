"""Key-result figures (DESIGN.md §3) against hand-computed numbers, and their properties."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Workspace
from strategy.models import KeyResult
from strategy.selectors import (
    expected_progress_of,
    key_result_figures,
    objective_tree,
    pace_of,
    progress_of,
    value_as_of,
)
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory, measure

D = Decimal
START, DUE = date(2026, 1, 1), date(2026, 1, 11)  # ten days
# One measurement before the window, three in it, one after the due date.
SERIES = {
    date(2025, 12, 31): "50",
    date(2026, 1, 1): "10",
    date(2026, 1, 5): "20",
    date(2026, 1, 11): "30",
    date(2026, 1, 12): "99",
}


def key_result(
    workspace: Workspace,
    aggregation: str,
    *,
    series: dict[date, str] | None = None,
    baseline: str = "0",
    target: str = "100",
) -> KeyResult:
    metric = MetricFactory.create(workspace=workspace, aggregation=aggregation)
    measure(metric, SERIES if series is None else series)
    objective = ObjectiveFactory.create(workspace=workspace)
    return KeyResultFactory.create(
        objective=objective,
        metric=metric,
        baseline=D(baseline),
        target=D(target),
        start_on=START,
        due_on=DUE,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("aggregation", "today", "current", "progress", "expected", "pace"),
    [
        # sum: 10 + 20 in [01-01, 01-06]; 5 of 10 days passed; 0.3 < 0.7 × 0.5
        ("sum", date(2026, 1, 6), "30", "0.3", "0.5", "off_track"),
        # sum after the due date: the window stops at 01-11, the 99 of 01-12 is outside
        ("sum", date(2026, 1, 20), "60", "0.6", "1", "off_track"),
        # mean of 10, 20, 30
        ("mean", date(2026, 1, 20), "20", "0.2", "1", "off_track"),
        ("mean", date(2026, 1, 6), "15", "0.15", "0.5", "off_track"),
        # last: the value as of the window's end (01-06 → the 20 of 01-05)
        ("last", date(2026, 1, 6), "20", "0.2", "0.5", "off_track"),
        # last after the due date: as of 01-11, not the later 99
        ("last", date(2026, 1, 20), "30", "0.3", "1", "off_track"),
        # last on the first day: the 10 observed that day
        ("last", date(2026, 1, 1), "10", "0.1", "0", "on_track"),
    ],
)
def test_figures_by_aggregation(
    workspace: Workspace,
    aggregation: str,
    today: date,
    current: str,
    progress: str,
    expected: str,
    pace: str,
) -> None:
    figures = key_result_figures(key_result=key_result(workspace, aggregation), today=today)
    assert figures.current == D(current)
    assert figures.progress == D(progress)
    assert figures.expected_progress == D(expected)
    assert figures.pace == pace


@pytest.mark.django_db
@pytest.mark.parametrize("aggregation", ["sum", "mean", "last"])
def test_a_window_that_has_not_started_has_no_figures(
    workspace: Workspace, aggregation: str
) -> None:
    figures = key_result_figures(
        key_result=key_result(workspace, aggregation), today=date(2025, 12, 31)
    )
    assert (figures.current, figures.progress, figures.pace) == (None, None, None)
    assert figures.expected_progress == 0


@pytest.mark.django_db
@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_flows_without_a_measurement_in_the_window_have_no_figures(
    workspace: Workspace, aggregation: str
) -> None:
    kr = key_result(workspace, aggregation, series={date(2025, 12, 1): "5", date(2026, 2, 1): "7"})
    figures = key_result_figures(key_result=kr, today=date(2026, 1, 20))
    assert (figures.current, figures.progress, figures.pace) == (None, None, None)


@pytest.mark.django_db
def test_a_level_uses_the_last_value_before_the_window_when_none_is_in_it(
    workspace: Workspace,
) -> None:
    kr = key_result(workspace, "last", series={date(2025, 12, 31): "50"})
    figures = key_result_figures(key_result=kr, today=date(2026, 1, 3))
    assert figures.current == D("50")
    assert figures.progress == D("0.5")


@pytest.mark.django_db
def test_a_level_without_any_measurement_has_no_figures(workspace: Workspace) -> None:
    figures = key_result_figures(
        key_result=key_result(workspace, "last", series={}), today=date(2026, 1, 5)
    )
    assert figures.current is None
    assert figures.pace is None


@pytest.mark.django_db
def test_a_decreasing_target_counts_progress_towards_it(workspace: Workspace) -> None:
    # churn from 10 % to 5 %: at 8 % we are 40 % of the way
    kr = key_result(workspace, "last", series={date(2026, 1, 3): "8"}, baseline="10", target="5")
    figures = key_result_figures(key_result=kr, today=date(2026, 1, 6))
    assert figures.progress == D("0.4")
    # 5 of 10 days passed: 0.4 is below the expected 0.5 but at least 0.7 × 0.5 = 0.35
    assert figures.pace == "at_risk"


@pytest.mark.django_db
def test_progress_is_not_clamped(workspace: Workspace) -> None:
    kr = key_result(
        workspace, "last", series={date(2026, 1, 3): "250"}, baseline="100", target="200"
    )
    figures = key_result_figures(key_result=kr, today=date(2026, 1, 6))
    assert figures.progress == D("1.5")
    assert figures.pace == "achieved"


@pytest.mark.parametrize(
    ("progress", "expected", "pace"),
    [
        ("1", "1", "achieved"),
        ("1.2", "0.1", "achieved"),
        ("0.5", "0.5", "on_track"),
        ("0.35", "0.5", "at_risk"),
        ("0.349", "0.5", "off_track"),
        ("-0.2", "0", "off_track"),
        ("0", "0", "on_track"),
    ],
)
def test_pace_thresholds(progress: str, expected: str, pace: str) -> None:
    assert pace_of(progress=D(progress), expected=D(expected)) == pace


def test_pace_is_null_without_progress() -> None:
    assert pace_of(progress=None, expected=D("0.5")) is None


def test_expected_progress_is_clamped_to_the_period() -> None:
    assert expected_progress_of(start_on=START, due_on=DUE, today=date(2025, 1, 1)) == 0
    assert expected_progress_of(start_on=START, due_on=DUE, today=date(2026, 1, 3)) == D("0.2")
    assert expected_progress_of(start_on=START, due_on=DUE, today=date(2027, 1, 1)) == 1


@pytest.mark.django_db
def test_value_as_of_is_the_latest_on_or_before_the_day(workspace: Workspace) -> None:
    metric = MetricFactory.create(workspace=workspace)
    measure(metric, SERIES)
    assert value_as_of(metric=metric, on=date(2025, 12, 30)) is None
    assert value_as_of(metric=metric, on=date(2026, 1, 4)) == D("10")
    assert value_as_of(metric=metric, on=date(2026, 1, 5)) == D("20")


# --- properties -------------------------------------------------------------------------------

decimals = st.decimals(
    min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False
)


@given(baseline=decimals, target=decimals)
def test_progress_is_0_at_the_baseline_and_1_at_the_target(baseline: D, target: D) -> None:
    if baseline == target:
        return
    assert progress_of(current=baseline, baseline=baseline, target=target) == 0
    assert progress_of(current=target, baseline=baseline, target=target) == 1


@given(
    a=st.decimals(-5, 5, places=3),
    b=st.decimals(-5, 5, places=3),
    expected=st.decimals(0, 1, places=3),
)
def test_more_progress_never_means_a_worse_pace(a: D, b: D, expected: D) -> None:
    order = ["off_track", "at_risk", "on_track", "achieved"]
    low, high = sorted([a, b])
    assert order.index(pace_of(progress=low, expected=expected) or "") <= order.index(
        pace_of(progress=high, expected=expected) or ""
    )


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    aggregation=st.sampled_from(["sum", "mean", "last"]),
    values=st.lists(st.decimals(-1000, 1000, places=2), min_size=0, max_size=12),
    late_value=st.decimals(-1000, 1000, places=2),
    late_offset=st.integers(1, 30),
    today_offset=st.integers(-3, 40),
)
def test_a_measurement_after_the_window_changes_nothing(
    workspace: Workspace,
    aggregation: str,
    values: list[D],
    late_value: D,
    late_offset: int,
    today_offset: int,
) -> None:
    today = START + timedelta(days=today_offset)
    window_end = min(today, DUE)
    with transaction.atomic():
        series = {START + timedelta(days=i): str(v) for i, v in enumerate(values)}
        kr = key_result(workspace, aggregation, series=series)
        before = key_result_figures(key_result=kr, today=today)
        late_day = window_end + timedelta(days=late_offset)
        if late_day not in series:
            measure(kr.metric, {late_day: str(late_value)})
        after = key_result_figures(key_result=kr, today=today)
        transaction.set_rollback(True)
    assert after == before


@pytest.mark.django_db
def test_the_tree_costs_two_queries_whatever_its_size(
    workspace: Workspace, django_assert_num_queries: object
) -> None:
    for _ in range(3):
        root = ObjectiveFactory.create(workspace=workspace)
        for _ in range(3):
            child = ObjectiveFactory.create(workspace=workspace, parent=root)
            for _ in range(2):
                kr = KeyResultFactory.create(objective=child, workspace=workspace)
                measure(kr.metric, {date(2026, 1, 2): "40", date(2026, 1, 3): "2"})
    with django_assert_num_queries(2):  # type: ignore[operator]
        roots = objective_tree(workspace=workspace, today=date(2026, 2, 15))
    assert len(roots) == 3
    assert [len(r.children) for r in roots] == [3, 3, 3]
    leaf_figures = [f for r in roots for c in r.children for _, f in c.key_results]
    assert len(leaf_figures) == 18
    assert {f.current for f in leaf_figures} == {D("42")}
    assert {c.depth for r in roots for c in r.children} == {1}
