"""The stored priority of an initiative (risk-adjusted value, value density, RICE): every
write of an input brings it up to date, with the numbers DESIGN.md §3 gives, and the
lists sort and show that very number."""

from decimal import ROUND_HALF_EVEN, Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership, Workspace
from initiatives import services
from initiatives.models import PRIORITY_FIELDS, ExpectedImpact, Initiative
from initiatives.selectors import (
    impacts_for,
    initiative_history,
    initiative_totals,
    list_rows,
    order_initiatives,
    rice,
    value_density,
    with_priority,
)
from initiatives.services import (
    expected_impact_create,
    expected_impact_delete,
    expected_impact_update,
    idea_promote,
    idea_submit,
    initiative_create,
    initiative_update,
    initiatives_reprice,
)
from strategy.models import Metric
from strategy.services import metric_update, workspace_today
from tests.strategy.factories import MetricFactory

D = Decimal


def stored(initiative: Initiative) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(risk-adjusted value, value density, RICE) as the database holds them."""
    row = Initiative.objects.values_list(*PRIORITY_FIELDS).get(pk=initiative.pk)
    return row[0], row[1], row[2]


def six_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(D("0.000001"), rounding=ROUND_HALF_EVEN)


def priced(workspace: Workspace, per_unit: str | None = "10") -> Metric:
    return MetricFactory.create(
        workspace=workspace, value_per_unit=None if per_unit is None else D(per_unit)
    )


@pytest.mark.django_db
class TestEveryWriteReprices:
    def test_create_stores_rice_and_no_money_yet(self, workspace: Workspace) -> None:
        # given an initiative of 4 weeks, reach 1,000, impact 2, confidence 50 %
        initiative = initiative_create(
            workspace=workspace,
            title="Onboarding checklist",
            effort_weeks=D("4"),
            reach=1000,
            impact=D("2"),
            confidence=50,
        )
        # then RICE = 1000 × 2 × 50 / 100 / 4 = 250, and no impact means no money
        assert stored(initiative) == (None, None, D("250"))
        assert initiative.rice_score == D("250")  # also on the instance the caller holds

    def test_impacts_and_effort(self, workspace: Workspace) -> None:
        initiative = initiative_create(
            workspace=workspace, title="Checklist", effort_weeks=D("4"), confidence=50
        )
        metric = priced(workspace, "10")

        # when an impact of +100 units at 10 per unit, confidence 50 %, is added
        impact = expected_impact_create(
            initiative=initiative, metric=metric, expected_change=D("100"), confidence=50
        )
        # then 100 × 10 × 50 % = 500, over 4 weeks = 125 a week
        assert stored(initiative)[:2] == (D("500"), D("125"))

        # when it becomes +300 at 80 %: 300 × 10 × 80 % = 2,400, 600 a week
        expected_impact_update(impact=impact, expected_change=D("300"), confidence=80)
        assert stored(initiative)[:2] == (D("2400"), D("600"))

        # when a second impact is on a metric without a value per unit: it adds nothing
        unpriced = expected_impact_create(
            initiative=initiative, metric=priced(workspace, None), expected_change=D("50")
        )
        assert stored(initiative)[:2] == (D("2400"), D("600"))

        # when the effort becomes 0: no density, no RICE; the money stays
        initiative_update(initiative=initiative, effort_weeks=D("0"))
        assert stored(initiative) == (D("2400"), None, None)

        # when it becomes 3 weeks: 2,400 / 3 = 800
        initiative_update(initiative=initiative, effort_weeks=D("3"))
        assert stored(initiative)[:2] == (D("2400"), D("800"))

        # when the priced impact is deleted, only the unpriced one is left: no money
        expected_impact_delete(impact=ExpectedImpact.objects.get(pk=impact.pk))
        assert stored(initiative) == (None, None, None)
        expected_impact_delete(impact=unpriced)
        assert stored(initiative) == (None, None, None)

    def test_a_density_that_does_not_end_is_kept_to_six_places(self, workspace: Workspace) -> None:
        initiative = initiative_create(
            workspace=workspace, title="Thirds", effort_weeks=D("3"), confidence=50
        )
        expected_impact_create(
            initiative=initiative,
            metric=priced(workspace, "10"),
            expected_change=D("200"),
            confidence=50,
        )
        # 200 × 10 × 50 % = 1,000 over 3 weeks = 333.333333…
        assert stored(initiative)[:2] == (D("1000"), D("333.333333"))
        fresh = Initiative.objects.get(pk=initiative.pk)
        row = list_rows([fresh], today=workspace_today(workspace))[0]
        assert row.value_density == D("333.333333")  # what the list shows is what it sorts by

    def test_rice_inputs(self, workspace: Workspace) -> None:
        initiative = initiative_create(workspace=workspace, title="RICE", effort_weeks=D("2"))
        assert stored(initiative)[2] is None  # no reach, no impact
        initiative_update(initiative=initiative, reach=300, impact=D("0.5"), confidence=80)
        # 300 × 0.5 × 80 / 100 / 2 = 60
        assert stored(initiative)[2] == D("60")
        initiative_update(initiative=initiative, reach=None)
        assert stored(initiative)[2] is None

    def test_a_new_value_per_unit_reprices_every_initiative_on_the_metric(
        self, workspace: Workspace
    ) -> None:
        # given two initiatives on one metric (10 per unit) and one on another
        metric, other = priced(workspace, "10"), priced(workspace, "10")
        on_metric = []
        for change in ("100", "200"):
            initiative = initiative_create(
                workspace=workspace, title=f"On {change}", effort_weeks=D("5"), confidence=50
            )
            expected_impact_create(
                initiative=initiative, metric=metric, expected_change=D(change), confidence=50
            )
            on_metric.append(initiative)
        elsewhere = initiative_create(workspace=workspace, title="Elsewhere", effort_weeks=D("5"))
        expected_impact_create(
            initiative=elsewhere, metric=other, expected_change=D("100"), confidence=50
        )
        assert [stored(i)[1] for i in on_metric] == [D("100"), D("200")]

        # when the metric is worth 25 per unit: 100 × 25 × 50 % / 5 = 250, and 500
        metric_update(metric=metric, value_per_unit=D("25"))
        assert [stored(i)[:2] for i in on_metric] == [(D("1250"), D("250")), (D("2500"), D("500"))]
        assert stored(elsewhere)[1] == D("100")  # untouched

        # when it has no value per unit any more: no money on either
        metric_update(metric=metric, value_per_unit=None)
        assert [stored(i)[:2] for i in on_metric] == [(None, None), (None, None)]

    def test_a_metric_edit_that_keeps_the_price_writes_no_priority(
        self, workspace: Workspace
    ) -> None:
        metric = priced(workspace, "10")
        with CaptureQueriesContext(connection) as queries:
            metric_update(metric=metric, name="Renamed", value_per_unit=D("10.0000"))
        assert not any("initiatives_" in q["sql"] for q in queries.captured_queries)

    def test_a_promoted_idea_gets_its_figures(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = idea_submit(workspace=workspace, by=editor.user, title="Dark mode")
        initiative = idea_promote(idea=idea, by=editor.user)
        assert stored(initiative) == (None, None, None)  # no effort, no impact yet
        initiative_update(initiative=initiative, effort_weeks=D("2"))
        expected_impact_create(
            initiative=initiative,
            metric=priced(workspace, "4"),
            expected_change=D("10"),
            confidence=100,
        )
        assert stored(initiative)[:2] == (D("40"), D("20"))

    def test_a_stale_instance_saved_later_does_not_bring_old_figures_back(
        self, workspace: Workspace
    ) -> None:
        # given an instance loaded before an impact was added elsewhere (another request)
        initiative = initiative_create(workspace=workspace, title="Stale", effort_weeks=D("2"))
        held = Initiative.objects.get(pk=initiative.pk)
        expected_impact_create(
            initiative=initiative,
            metric=priced(workspace, "10"),
            expected_change=D("10"),
            confidence=100,
        )
        # when that instance is saved with a new title, its own (empty) figures with it
        initiative_update(initiative=held, title="Stale, renamed")
        # then the figures are those of the impact
        assert stored(initiative)[:2] == (D("100"), D("50"))
        assert held.value_density == D("50")


@pytest.mark.django_db
class TestListsAndHistory:
    def test_the_order_and_the_figures_are_the_stored_ones(self, workspace: Workspace) -> None:
        metric = priced(workspace, "10")
        titles = {}
        for title, effort, change in (("A", "5", "100"), ("B", "2", "100"), ("C", None, "9")):
            initiative = initiative_create(
                workspace=workspace,
                title=title,
                effort_weeks=None if effort is None else D(effort),
                confidence=50,
            )
            expected_impact_create(
                initiative=initiative, metric=metric, expected_change=D(change), confidence=50
            )
            titles[initiative.pk] = title
        ordered = list(
            order_initiatives(
                with_priority(Initiative.objects.filter(workspace=workspace)), "value_density"
            )
        )
        rows = list_rows(ordered, today=workspace_today(workspace))
        # B: 500 / 2 = 250, A: 500 / 5 = 100, C: no effort, last
        assert [(titles[r.initiative.pk], r.value_density) for r in rows] == [
            ("B", D("250")),
            ("A", D("100")),
            ("C", None),
        ]
        assert [r.value_density for r in rows] == [i.value_density for i in ordered]

    def test_the_history_shows_only_what_people_changed(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = initiative_create(
            workspace=workspace, title="History", effort_weeks=D("4"), by=editor.user
        )
        expected_impact_create(
            initiative=initiative,
            metric=priced(workspace, "10"),
            expected_change=D("10"),
            confidence=100,
        )
        initiative_update(initiative=initiative, effort_weeks=D("2"), by=editor.user)
        assert stored(initiative)[1] == D("50")  # the density moved with the effort …
        history = initiative_history(initiative)
        # … but the history holds the effort alone
        assert [change[0] for change in history[0].changes] == ["Effort weeks"]
        record_fields = {f.name for f in Initiative.history.model._meta.fields}
        assert not record_fields & set(PRIORITY_FIELDS)


@pytest.mark.django_db
class TestQueries:
    @staticmethod
    def _update_queries(workspace: Workspace, impacts: int) -> int:
        initiative = initiative_create(workspace=workspace, title="Q", effort_weeks=D("4"))
        for _ in range(impacts):
            expected_impact_create(
                initiative=initiative, metric=priced(workspace), expected_change=D("1")
            )
        with CaptureQueriesContext(connection) as queries:
            initiative_update(initiative=initiative, effort_weeks=D("5"))
        return len(queries)

    def test_initiative_update_does_not_grow_with_the_impacts(self, workspace: Workspace) -> None:
        assert self._update_queries(workspace, 1) == self._update_queries(workspace, 25)

    def test_a_reprice_of_many_is_a_few_queries_per_batch(
        self, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given seven initiatives on one metric, repriced two at a time
        metric = priced(workspace, "10")
        for n in range(7):
            initiative = initiative_create(
                workspace=workspace, title=f"I{n}", effort_weeks=D("1"), confidence=50
            )
            expected_impact_create(
                initiative=initiative, metric=metric, expected_change=D(n + 1), confidence=100
            )
        monkeypatch.setattr(services, "REPRICE_BATCH", 2)
        # when the price changes
        with CaptureQueriesContext(connection) as queries:
            metric_update(metric=metric, value_per_unit=D("3"))
        # then every density is (n + 1) × 3
        densities = list(
            Initiative.objects.order_by("value_density").values_list("value_density", flat=True)
        )
        assert densities == [D(3 * (n + 1)) for n in range(7)]
        # … for one query of the initiatives on the metric, then per batch of two one locking
        # read of the initiatives, one of their impacts and one UPDATE
        reads_and_writes = [
            q["sql"].split()[0] for q in queries.captured_queries if "initiatives_" in q["sql"]
        ]
        assert reads_and_writes == ["SELECT", *["SELECT", "SELECT", "UPDATE"] * 4]


# --- the stored figures are the formulas of §3, whatever the writes ---------------------------

efforts = st.one_of(st.none(), st.decimals(0, 100, places=1))
changes = st.decimals(-(10**4), 10**4, places=2)
prices = st.one_of(st.none(), st.decimals(0, 1000, places=2))
percent = st.integers(0, 100)
# Within 15 significant digits, which is what SQLite keeps of a decimal column.
writes = st.lists(
    st.one_of(
        st.tuples(st.just("effort"), st.integers(0, 2), efforts),
        st.tuples(st.just("rice"), st.integers(0, 2), st.integers(0, 10**6), percent),
        st.tuples(st.just("impact"), st.integers(0, 2), st.integers(0, 2), changes, percent),
        st.tuples(st.just("drop"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("price"), st.integers(0, 2), prices),
    ),
    max_size=14,
)


def _apply(write: tuple[Any, ...], initiatives: list[Initiative], metrics: list[Metric]) -> None:
    """One write through the services. The initiatives are the instances created at the
    start, stale on purpose: a form holds an instance while others write."""
    kind, *args = write
    if kind == "effort":
        initiative_update(initiative=initiatives[args[0]], effort_weeks=args[1])
    elif kind == "rice":
        initiative_update(
            initiative=initiatives[args[0]], reach=args[1], impact=D("2"), confidence=args[2]
        )
    elif kind == "impact":
        initiative, metric = initiatives[args[0]], metrics[args[1]]
        existing = ExpectedImpact.objects.filter(initiative=initiative, metric=metric).first()
        if existing is None:
            expected_impact_create(
                initiative=initiative, metric=metric, expected_change=args[2], confidence=args[3]
            )
        else:
            expected_impact_update(impact=existing, expected_change=args[2], confidence=args[3])
    elif kind == "drop":
        impact = ExpectedImpact.objects.filter(
            initiative=initiatives[args[0]], metric=metrics[args[1]]
        ).first()
        if impact is not None:
            expected_impact_delete(impact=impact)
    else:
        metric_update(metric=Metric.objects.get(pk=metrics[args[0]].pk), value_per_unit=args[1])


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=writes)
def test_after_any_writes_the_stored_figures_are_the_formulas(
    workspace: Workspace, writes: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        initiatives = [
            initiative_create(workspace=workspace, title=f"P{n}", effort_weeks=D(n + 1))
            for n in range(3)
        ]
        metrics = [priced(workspace, "10"), priced(workspace, "2.5"), priced(workspace, None)]
        for write in writes:
            _apply(write, initiatives, metrics)

        fresh = list(Initiative.objects.filter(workspace=workspace).order_by("pk"))
        figures = impacts_for(initiatives=fresh, today=workspace_today(workspace))
        for initiative in fresh:
            totals = initiative_totals([f for _, f in figures[initiative.pk]])
            effort = initiative.effort_weeks
            assert initiative.risk_adjusted_value == six_places(totals.risk_adjusted_value)
            assert initiative.value_density == six_places(
                value_density(totals.risk_adjusted_value, effort)
            )
            assert initiative.rice_score == six_places(
                rice(initiative.reach, initiative.impact, initiative.confidence, effort)
            )
        transaction.set_rollback(True)


# --- bulk paths: the loader and a reprice of everything -----------------------------------------


@pytest.mark.django_db
def test_the_loader_stores_the_figures_of_what_it_loads() -> None:
    call_command(
        "load_scale_initiatives",
        "--workspace",
        "bench",
        "--initiatives",
        "40",
        "--objectives",
        "5",
        "--metrics",
        "6",
        "--measurements",
        "600",
        stdout=StringIO(),
    )
    workspace = Workspace.objects.get(slug="bench")
    initiatives = list(Initiative.objects.filter(workspace=workspace))
    figures = impacts_for(initiatives=initiatives, today=workspace_today(workspace))
    with_density = 0
    for initiative in initiatives:
        totals = initiative_totals([f for _, f in figures[initiative.pk]])
        expected = six_places(value_density(totals.risk_adjusted_value, initiative.effort_weeks))
        assert initiative.value_density == expected
        with_density += expected is not None
    assert with_density > 20  # most loaded initiatives are priced and have an effort


@pytest.mark.django_db
def test_a_reprice_of_everything_mends_figures_written_around_the_services(
    workspace: Workspace,
) -> None:
    initiative = initiative_create(workspace=workspace, title="Mended", effort_weeks=D("2"))
    expected_impact_create(
        initiative=initiative,
        metric=priced(workspace, "10"),
        expected_change=D("10"),
        confidence=100,
    )
    Initiative.objects.filter(pk=initiative.pk).update(value_density=None, rice_score=D("1"))
    initiatives_reprice()
    assert stored(initiative) == (D("100"), D("50"), None)
