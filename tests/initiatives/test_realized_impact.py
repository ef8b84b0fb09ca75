"""Realized impact, initiative totals and priority (DESIGN.md §3) against hand-computed
numbers, their properties, and the query budget of impacts_for."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Workspace
from initiatives.models import ExpectedImpact, Initiative
from initiatives.selectors import (
    ImpactFigures,
    figures_of,
    impacts_for,
    initiative_totals,
    rice,
    value_density,
)
from strategy.models import Metric
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, measure

D = Decimal
R = date(2026, 1, 10)  # released on
W = 5  # measurement window: R + W = 01-15
MEASURED_DAY = date(2026, 1, 20)  # E = min(01-20, 01-15) = 01-15, L = 5
MEASURING_DAY = date(2026, 1, 13)  # E = 01-13, L = 3
# Before the release: (01-05, 01-10] holds 10, 20, 30 — the 1000 of 01-05 is outside.
# After it: (01-10, 01-15] holds 40, 50, 72 — the 999 of 01-16 is outside.
SERIES = {
    date(2026, 1, 5): "1000",
    date(2026, 1, 6): "10",
    date(2026, 1, 8): "20",
    date(2026, 1, 10): "30",
    date(2026, 1, 11): "40",
    date(2026, 1, 13): "50",
    date(2026, 1, 15): "72",
    date(2026, 1, 16): "999",
}


def impact(
    workspace: Workspace,
    *,
    aggregation: str = "sum",
    direction: str = "increase",
    value_per_unit: str | None = "10",
    series: dict[date, str] | None = None,
    released_on: date | None = R,
    window_days: int = W,
    expected_change: str = "100",
    attribution: int = 40,
    confidence: int = 50,
) -> ExpectedImpact:
    metric = MetricFactory.create(
        workspace=workspace,
        aggregation=aggregation,
        direction=direction,
        value_per_unit=None if value_per_unit is None else D(value_per_unit),
    )
    measure(metric, SERIES if series is None else series)
    initiative = InitiativeFactory.create(
        workspace=workspace, released_on=released_on, measurement_window_days=window_days
    )
    return ExpectedImpactFactory.create(
        initiative=initiative,
        metric=metric,
        expected_change=D(expected_change),
        attribution=attribution,
        confidence=confidence,
    )


def figures(impact: ExpectedImpact, today: date) -> ImpactFigures:
    initiative = Initiative.objects.get(pk=impact.initiative_id)
    [(_, result)] = impacts_for(initiatives=[initiative], today=today)[initiative.pk]
    return result


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("aggregation", "direction", "today", "realized_change", "status", "start", "end"),
    [
        # sum: (40 + 50 + 72) − (10 + 20 + 30) = 162 − 60 = 102; × 40 % = 40.8
        ("sum", "increase", MEASURED_DAY, "40.8", "measured", date(2026, 1, 5), date(2026, 1, 15)),
        # decrease: improvement = −102; × 40 % = −40.8
        ("sum", "decrease", MEASURED_DAY, "-40.8", "measured", date(2026, 1, 5), date(2026, 1, 15)),
        # mean: 162 / 3 − 60 / 3 = 54 − 20 = 34; × 40 % = 13.6
        ("mean", "increase", MEASURED_DAY, "13.6", "measured", date(2026, 1, 5), date(2026, 1, 15)),
        (
            "mean",
            "decrease",
            MEASURED_DAY,
            "-13.6",
            "measured",
            date(2026, 1, 5),
            date(2026, 1, 15),
        ),
        # last: value_as_of(01-15) − value_as_of(01-10) = 72 − 30 = 42; × 40 % = 16.8
        ("last", "increase", MEASURED_DAY, "16.8", "measured", date(2026, 1, 5), date(2026, 1, 15)),
        (
            "last",
            "decrease",
            MEASURED_DAY,
            "-16.8",
            "measured",
            date(2026, 1, 5),
            date(2026, 1, 15),
        ),
        # measuring on 01-13, L = 3: sum (40 + 50) − (20 + 30) = 40; × 40 % = 16
        ("sum", "increase", MEASURING_DAY, "16", "measuring", date(2026, 1, 7), date(2026, 1, 13)),
        # mean 90 / 2 − 50 / 2 = 45 − 25 = 20; × 40 % = 8
        ("mean", "increase", MEASURING_DAY, "8", "measuring", date(2026, 1, 7), date(2026, 1, 13)),
        # last value_as_of(01-13) − value_as_of(01-10) = 50 − 30 = 20; × 40 % = 8
        ("last", "decrease", MEASURING_DAY, "-8", "measuring", date(2026, 1, 7), date(2026, 1, 13)),
        # R + W = 01-15 is the first measured day: L = 5, as on 01-20
        (
            "sum",
            "increase",
            date(2026, 1, 15),
            "40.8",
            "measured",
            date(2026, 1, 5),
            date(2026, 1, 15),
        ),
    ],
)
def test_realized_impact_by_aggregation_and_direction(
    workspace: Workspace,
    aggregation: str,
    direction: str,
    today: date,
    realized_change: str,
    status: str,
    start: date,
    end: date,
) -> None:
    # given an impact expecting +100 units at 10 per unit, confidence 50 %, attribution 40 %
    result = figures(impact(workspace, aggregation=aggregation, direction=direction), today)
    assert result.status == status
    assert (result.window_start, result.release_date, result.window_end) == (start, R, end)
    assert result.expected_change == D("100")
    assert result.expected_value == D("1000")  # 100 × 10
    assert result.risk_adjusted_value == D("500")  # 1000 × 50 %
    assert result.realized_change == D(realized_change)
    assert result.realized_value == D(realized_change) * 10
    assert result.realization == D(realized_change) / 100


@pytest.mark.django_db
def test_without_value_per_unit_there_is_no_money(workspace: Workspace) -> None:
    result = figures(impact(workspace, value_per_unit=None), MEASURED_DAY)
    # 102 × 40 % = 40.8 units, realization 40.8 / 100, but no money
    assert result.realized_change == D("40.8")
    assert result.realization == D("0.408")
    assert (result.expected_value, result.risk_adjusted_value, result.realized_value) == (
        None,
        None,
        None,
    )


@pytest.mark.django_db
def test_a_fractional_value_per_unit(workspace: Workspace) -> None:
    result = figures(impact(workspace, value_per_unit="2.5", confidence=30), MEASURED_DAY)
    assert result.expected_value == D("250")  # 100 × 2.5
    assert result.risk_adjusted_value == D("75")  # 250 × 30 %
    assert result.realized_value == D("102")  # 40.8 × 2.5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("aggregation", "series"),
    [
        # flows: nothing after the release
        ("sum", {date(2026, 1, 8): "5"}),
        ("mean", {date(2026, 1, 8): "5"}),
        # flows: nothing in (01-05, 01-10] — 01-05 is outside the left-open window
        ("sum", {date(2026, 1, 5): "5", date(2026, 1, 12): "7"}),
        ("mean", {date(2026, 1, 5): "5", date(2026, 1, 12): "7"}),
        # level: nothing on or before the release
        ("last", {date(2026, 1, 12): "7"}),
        # level: nothing in (01-10, 01-15] — the 01-16 one is after E
        ("last", {date(2026, 1, 1): "5", date(2026, 1, 16): "7"}),
        ("sum", {}),
    ],
)
def test_a_missing_window_is_no_data(
    workspace: Workspace, aggregation: str, series: dict[date, str]
) -> None:
    result = figures(impact(workspace, aggregation=aggregation, series=series), MEASURED_DAY)
    assert result.status == "no_data"
    assert (result.realized_change, result.realized_value, result.realization) == (None,) * 3
    assert result.expected_value == D("1000")
    assert (result.window_start, result.window_end) == (date(2026, 1, 5), date(2026, 1, 15))


@pytest.mark.django_db
def test_a_level_measured_long_before_the_release_counts(workspace: Workspace) -> None:
    # value_as_of(01-10) is the 5 of 01-01 (outside (R − L, R], which only flows use)
    series = {date(2026, 1, 1): "5", date(2026, 1, 12): "7"}
    result = figures(impact(workspace, aggregation="last", series=series), MEASURED_DAY)
    assert result.realized_change == D("0.8")  # (7 − 5) × 40 %


@pytest.mark.django_db
@pytest.mark.parametrize("released_on", [None, date(2026, 1, 21)])
def test_an_unreleased_or_future_release_has_not_started(
    workspace: Workspace, released_on: date | None
) -> None:
    result = figures(impact(workspace, released_on=released_on), MEASURED_DAY)
    assert result.status == "not_started"
    assert (result.realized_change, result.realized_value, result.realization) == (None,) * 3
    assert (result.window_start, result.window_end) == (None, None)
    assert result.release_date == released_on
    assert (result.expected_value, result.risk_adjusted_value) == (D("1000"), D("500"))


@pytest.mark.django_db
@pytest.mark.parametrize("aggregation", ["sum", "mean", "last"])
def test_released_today_has_no_realized_figures_yet(workspace: Workspace, aggregation: str) -> None:
    # L = 0: both windows are empty; the window has begun, so it is measuring, not no_data
    result = figures(impact(workspace, aggregation=aggregation), R)
    assert result.status == "measuring"
    assert (result.window_start, result.release_date, result.window_end) == (R, R, R)
    assert (result.realized_change, result.realized_value, result.realization) == (None,) * 3


@pytest.mark.django_db
def test_no_realization_when_nothing_was_expected(workspace: Workspace) -> None:
    result = figures(impact(workspace, expected_change="0"), MEASURED_DAY)
    assert result.realized_change == D("40.8")
    assert result.realization is None
    assert result.expected_value == 0


@pytest.mark.django_db
def test_impacts_for_groups_by_initiative(workspace: Workspace) -> None:
    first = impact(workspace)
    other_metric = MetricFactory.create(workspace=workspace, aggregation="last")
    measure(other_metric, {date(2026, 1, 9): "3", date(2026, 1, 14): "8"})
    second = ExpectedImpactFactory.create(
        initiative=first.initiative, metric=other_metric, expected_change=D("10"), attribution=50
    )
    empty = InitiativeFactory.create(workspace=workspace)
    result = impacts_for(initiatives=[first.initiative, empty], today=MEASURED_DAY)
    assert result[empty.pk] == []
    [(a, fa), (b, fb)] = result[first.initiative.pk]
    assert (a.pk, b.pk) == (first.pk, second.pk)
    assert fa.realized_change == D("40.8")
    assert fb.realized_change == D("2.5")  # (8 − 3) × 50 %
    assert impacts_for(initiatives=[], today=MEASURED_DAY) == {}


@pytest.mark.django_db
def test_each_initiative_has_its_own_window_in_the_one_query(workspace: Workspace) -> None:
    # given three initiatives on the same metric with different releases and windows
    first = impact(workspace)
    metric = first.metric
    rows = [first]
    for released_on, window_days in ((date(2026, 1, 13), 2), (date(2026, 1, 8), 30)):
        initiative = InitiativeFactory.create(
            workspace=workspace, released_on=released_on, measurement_window_days=window_days
        )
        rows.append(
            ExpectedImpactFactory.create(initiative=initiative, metric=metric, attribution=40)
        )
    result = impacts_for(initiatives=[row.initiative for row in rows], today=MEASURED_DAY)
    got = [
        (f.status, f.window_start, f.window_end, f.realized_change)
        for row in rows
        for _, f in result[row.initiative_id]
    ]
    assert got == [
        # R 01-10, W 5: (40 + 50 + 72) − (10 + 20 + 30) = 102; × 40 % = 40.8
        ("measured", date(2026, 1, 5), date(2026, 1, 15), D("40.8")),
        # R 01-13, W 2: E 01-15, L 2; 72 − 50 = 22; × 40 % = 8.8
        ("measured", date(2026, 1, 11), date(2026, 1, 15), D("8.8")),
        # R 01-08, W 30: E = today 01-20, L 12; (30 + 40 + 50 + 72 + 999)
        # − (1000 + 10 + 20) = 1191 − 1030 = 161; × 40 % = 64.4
        ("measuring", date(2025, 12, 27), date(2026, 1, 20), D("64.4")),
    ]


# --- totals and priority ------------------------------------------------------------------


def _figures(
    expected: str | None, realized: str | None, realization: str | None, risk: str | None = None
) -> ImpactFigures:
    return ImpactFigures(
        expected_change=D("1"),
        expected_value=None if expected is None else D(expected),
        risk_adjusted_value=None if risk is None else D(risk),
        realized_change=None,
        realized_value=None if realized is None else D(realized),
        realization=None if realization is None else D(realization),
        status="measured",
        window_start=None,
        release_date=None,
        window_end=None,
    )


def test_totals_skip_nulls_and_realization_is_a_ratio_of_sums() -> None:
    totals = initiative_totals(
        [
            _figures("1000", "408", "0.408", risk="500"),
            _figures("200", None, None, risk="60"),
            _figures(None, "100", "2"),
        ]
    )
    assert totals.expected_value == D("1200")  # 1000 + 200
    assert totals.risk_adjusted_value == D("560")  # 500 + 60
    assert totals.realized_value == D("508")  # 408 + 100
    assert totals.realization == D("508") / D("1200")


def test_realization_falls_back_to_the_mean_of_the_impacts() -> None:
    # no money at all: mean of 0.4 and 0.8 = 0.6 (the null one is skipped)
    totals = initiative_totals(
        [_figures(None, None, "0.4"), _figures(None, None, "0.8"), _figures(None, None, None)]
    )
    assert (totals.expected_value, totals.risk_adjusted_value, totals.realized_value) == (
        None,
        None,
        None,
    )
    assert totals.realization == D("0.6")
    # Σ expected value 0: also the mean, 0.5 / 1 = 0.5
    assert initiative_totals([_figures("0", "5", "0.5")]).realization == D("0.5")
    assert initiative_totals([]).realization is None


@pytest.mark.parametrize(
    ("risk", "effort", "density"),
    [
        ("560", "4", "140"),  # 560 / 4
        ("100", "0.5", "200"),  # 100 / 0.5
        (None, "4", None),
        ("560", None, None),
        ("560", "0", None),
    ],
)
def test_value_density(risk: str | None, effort: str | None, density: str | None) -> None:
    result = value_density(None if risk is None else D(risk), None if effort is None else D(effort))
    assert result == (None if density is None else D(density))


@pytest.mark.parametrize(
    ("reach", "impact", "confidence", "effort", "score"),
    [
        (1000, "2", 80, "4", "400"),  # 1000 × 2 × 80 / 100 / 4
        (300, "0.25", 50, "0.5", "75"),  # 300 × 0.25 × 50 / 100 / 0.5
        (None, "2", 80, "4", None),
        (1000, None, 80, "4", None),
        (1000, "2", 80, None, None),
        (1000, "2", 80, "0", None),
    ],
)
def test_rice(
    reach: int | None, impact: str | None, confidence: int, effort: str | None, score: str | None
) -> None:
    result = rice(
        reach,
        None if impact is None else D(impact),
        confidence,
        None if effort is None else D(effort),
    )
    assert result == (None if score is None else D(score))


# --- properties -------------------------------------------------------------------------------


def _annotated(
    *, direction: str, before: Decimal, after: Decimal, attribution: int, per_unit: Decimal
) -> tuple[ExpectedImpact, Initiative]:
    """An unsaved impact on a level, as with_release_aggregates would annotate it."""
    initiative = Initiative(released_on=R, measurement_window_days=W)
    metric = Metric(aggregation="last", direction=direction, value_per_unit=per_unit)
    row = ExpectedImpact(
        initiative=initiative,
        metric=metric,
        expected_change=D("7"),
        attribution=attribution,
        confidence=50,
    )
    row.before_value = before  # type: ignore[attr-defined]
    row.after_value = after  # type: ignore[attr-defined]
    return row, initiative


values = st.decimals(-(10**6), 10**6, places=4)
per_units = st.decimals(0, 10**4, places=4)


@given(before=values, after=values, per_unit=per_units, attribution=st.integers(0, 100))
def test_realized_value_is_linear_in_attribution(
    before: D, after: D, per_unit: D, attribution: int
) -> None:
    def realized(share: int) -> Decimal | None:
        row, initiative = _annotated(
            direction="increase", before=before, after=after, attribution=share, per_unit=per_unit
        )
        return figures_of(row, initiative=initiative, today=MEASURED_DAY).realized_value

    full = realized(100)
    assert full is not None
    assert realized(attribution) == full * attribution / 100
    assert realized(0) == 0


@given(before=values, after=values, per_unit=per_units, attribution=st.integers(0, 100))
def test_direction_decrease_flips_the_sign(
    before: D, after: D, per_unit: D, attribution: int
) -> None:
    def realized(direction: str) -> ImpactFigures:
        row, initiative = _annotated(
            direction=direction,
            before=before,
            after=after,
            attribution=attribution,
            per_unit=per_unit,
        )
        return figures_of(row, initiative=initiative, today=MEASURED_DAY)

    up, down = realized("increase"), realized("decrease")
    assert up.realized_change is not None
    assert up.realized_value is not None
    assert down.realized_change == -up.realized_change
    assert down.realized_value == -up.realized_value


@pytest.mark.django_db
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.decimals(-1000, 1000, places=2),
    window_days=st.integers(1, 20),
    days_after=st.integers(1, 30),
    aggregation=st.sampled_from(["sum", "mean"]),
)
def test_a_constant_daily_series_does_not_change(
    workspace: Workspace, value: D, window_days: int, days_after: int, aggregation: str
) -> None:
    today = R + timedelta(days=days_after)
    with transaction.atomic():
        # every day from well before R − W to well after E holds the same value
        series = {R + timedelta(days=i): str(value) for i in range(-25, 35)}
        row = impact(workspace, aggregation=aggregation, series=series, window_days=window_days)
        result = figures(row, today)
        transaction.set_rollback(True)
    assert result.status == ("measured" if days_after >= window_days else "measuring")
    assert result.realized_change == 0
    assert result.realized_value == 0


# --- query budget ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_impacts_for_costs_one_query_whatever_the_number_of_initiatives(
    workspace: Workspace, count: int, django_assert_num_queries: Any
) -> None:
    initiatives = []
    for i in range(count):
        initiative = InitiativeFactory.create(
            workspace=workspace, released_on=R, measurement_window_days=W
        )
        for aggregation in ("sum", "last") if i % 2 else ("mean", "last"):
            metric = MetricFactory.create(workspace=workspace, aggregation=aggregation)
            measure(metric, SERIES)
            ExpectedImpactFactory.create(initiative=initiative, metric=metric, attribution=40)
        initiatives.append(initiative)
    with django_assert_num_queries(1):
        result = impacts_for(initiatives=initiatives, today=MEASURED_DAY)
        # reading the metric and the initiative of a row costs nothing more
        keys = [(row.metric.key, row.initiative.pk) for rows in result.values() for row, _ in rows]
    assert len(keys) == 2 * count
    changes = {f.realized_change for rows in result.values() for _, f in rows}
    assert changes == {D("40.8"), D("13.6"), D("16.8")}
