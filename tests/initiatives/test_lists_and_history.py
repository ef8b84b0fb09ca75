"""List ordering by value density and RICE in SQL, the history of an initiative, revisit
dates on declines, decisions by hand, deletes and stakeholders."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Workspace
from initiatives.models import Decision, Initiative, Stakeholder
from initiatives.selectors import initiative_history, list_rows, order_initiatives, with_priority
from initiatives.services import (
    TransitionRefused,
    decision_record,
    initiative_create,
    initiative_delete,
    initiative_transition,
    initiative_update,
    stakeholder_add,
)
from strategy.services import workspace_today
from tests.accounts.factories import TeamFactory
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory


def _priced(workspace: Workspace, title: str, effort: str | None, change: str, conf: int) -> int:
    """An initiative whose risk-adjusted value is change × 10 (€ per unit) × conf / 100."""
    initiative = InitiativeFactory.create(
        workspace=workspace, title=title, effort_weeks=None if effort is None else Decimal(effort)
    )
    metric = MetricFactory.create(workspace=workspace, value_per_unit=Decimal("10"))
    ExpectedImpactFactory.create(
        initiative=initiative, metric=metric, expected_change=Decimal(change), confidence=conf
    )
    return initiative.pk


@pytest.mark.django_db
class TestValueDensityOrder:
    def test_highest_density_first_unknown_last(self, workspace: Workspace) -> None:
        # risk-adjusted: A 100×10×0.5 = 500 over 5 weeks = 100/week;
        # B 300×10×0.8 = 2,400 over 12 weeks = 200/week; C no effort (null); D 0 weeks (null)
        a = _priced(workspace, "A", "5", "100", 50)
        b = _priced(workspace, "B", "12", "300", 80)
        _priced(workspace, "C", None, "100", 50)
        _priced(workspace, "D", "0", "100", 50)
        e = InitiativeFactory.create(workspace=workspace, title="E no impact").pk  # null
        ordered = order_initiatives(
            with_priority(Initiative.objects.filter(workspace=workspace)), "value_density"
        )
        titles = [i.title for i in ordered]
        assert titles[:2] == ["B", "A"]
        assert set(titles[2:]) == {"C", "D", "E no impact"}
        rows = {
            r.initiative.pk: r for r in list_rows(list(ordered), today=workspace_today(workspace))
        }
        assert rows[b].value_density == Decimal("200")
        assert rows[a].value_density == Decimal("100")
        assert rows[a].totals.risk_adjusted_value == Decimal("500")
        assert rows[e].value_density is None
        ascending = order_initiatives(
            with_priority(Initiative.objects.filter(workspace=workspace)), "-value_density"
        )
        assert [i.title for i in ascending][:2] == ["A", "B"]

    def test_rice_order(self, workspace: Workspace) -> None:
        # RICE = reach × impact × confidence / 100 / effort:
        # 1000×2×50/100/4 = 250; 100×3×100/100/1 = 300
        InitiativeFactory.create(
            workspace=workspace,
            title="low",
            reach=1000,
            impact=Decimal("2"),
            confidence=50,
            effort_weeks=Decimal("4"),
        )
        InitiativeFactory.create(
            workspace=workspace,
            title="high",
            reach=100,
            impact=Decimal("3"),
            confidence=100,
            effort_weeks=Decimal("1"),
        )
        InitiativeFactory.create(workspace=workspace, title="none", reach=None)
        ordered = list(
            order_initiatives(with_priority(Initiative.objects.filter(workspace=workspace)), "rice")
        )
        assert [i.title for i in ordered] == ["high", "low", "none"]
        rows = list_rows(ordered, today=workspace_today(workspace))
        assert [r.rice for r in rows] == [Decimal("300"), Decimal("250"), None]

    def test_a_page_of_rows_costs_one_query(self, workspace: Workspace) -> None:
        for n in range(30):
            _priced(workspace, f"I{n}", "2", str(n + 1), 50)
        page = list(Initiative.objects.filter(workspace=workspace))
        with CaptureQueriesContext(connection) as queries:
            list_rows(page, today=workspace_today(workspace))
        assert len(queries) == 1


@pytest.mark.django_db
class TestHistory:
    def test_who_changed_what(
        self, workspace: Workspace, editor: Membership, admin: Membership
    ) -> None:
        team = TeamFactory.create(workspace=workspace, name="Growth")
        initiative = initiative_create(
            workspace=workspace, by=editor.user, title="Onboarding", confidence=50
        )
        initiative_update(initiative=initiative, by=admin.user, confidence=70, team=team)
        initiative_update(initiative=initiative, by=admin.user, confidence=70)  # no change
        initiative_transition(initiative=initiative, to="discovery", by=editor.user)
        with CaptureQueriesContext(connection) as queries:
            history = initiative_history(initiative)
        assert len(queries) <= 3
        assert [(h.action, h.who) for h in history] == [
            ("changed", editor.user.display_name),
            ("changed", admin.user.display_name),
            ("created", editor.user.display_name),
        ]
        assert history[0].changes == [("Status", "Proposed", "Discovery")]
        assert sorted(history[1].changes) == [("Confidence", "50", "70"), ("Team", "—", "Growth")]


@pytest.mark.django_db
class TestRevisitAndDecisions:
    def test_decline_with_a_revisit_date(self, workspace: Workspace, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        later = workspace_today(workspace) + timedelta(days=90)
        initiative_transition(
            initiative=initiative,
            to="declined",
            rationale="Not before the pricing change lands.",
            revisit_on=later,
            by=editor.user,
        )
        decision = Decision.objects.get(initiative=initiative)
        assert (decision.kind, decision.revisit_on) == ("decline", later)

    def test_a_revisit_date_in_the_past_is_refused(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        today = workspace_today(workspace)
        with pytest.raises(TransitionRefused, match="is not in the future"):
            initiative_transition(
                initiative=initiative,
                to="declined",
                rationale="Not before the pricing change lands.",
                revisit_on=today,
                by=editor.user,
            )
        with pytest.raises(TransitionRefused, match="only with a decline or a cancellation"):
            initiative_transition(
                initiative=initiative,
                to="discovery",
                revisit_on=today + timedelta(days=3),
                by=editor.user,
            )
        assert not Decision.objects.exists()
        initiative.refresh_from_db()
        assert initiative.status == "proposed"

    def test_hand_decisions_are_defer_or_other(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            decision_record(workspace=workspace, by=editor.user, kind="commit", rationale="short")
        assert set(exc.value.message_dict) == {"kind", "rationale"}
        decision = decision_record(
            workspace=workspace, by=editor.user, kind="defer", rationale="Wait for Q3 numbers."
        )
        assert Decision.objects.get().pk == decision.pk


@pytest.mark.django_db
class TestDeleteAndStakeholders:
    def test_committed_work_is_not_deleted(self, workspace: Workspace) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status="committed")
        with pytest.raises(TransitionRefused, match="cancel it instead"):
            initiative_delete(initiative=initiative)
        assert Initiative.objects.filter(pk=initiative.pk).exists()
        proposed = InitiativeFactory.create(workspace=workspace)
        initiative_delete(initiative=proposed)
        assert not Initiative.objects.filter(pk=proposed.pk).exists()

    def test_stakeholders_are_members_once(
        self, workspace: Workspace, editor: Membership, outsider: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        stakeholder_add(
            initiative=initiative, user=editor.user, role="sponsor", expectation="Churn below 3%"
        )
        with pytest.raises(ValidationError, match="already a stakeholder"):
            stakeholder_add(initiative=initiative, user=editor.user, role="informed")
        with pytest.raises(ValidationError, match="not a member"):
            stakeholder_add(initiative=initiative, user=outsider.user, role="informed")
        assert Stakeholder.objects.count() == 1


@pytest.mark.django_db
class TestBounds:
    def test_a_window_over_ten_years_is_refused(self, workspace: Workspace) -> None:
        with pytest.raises(ValidationError) as exc:
            initiative_create(workspace=workspace, title="Long", measurement_window_days=3661)
        assert exc.value.message_dict["measurement_window_days"] == [
            "Ensure this value is less than or equal to 3660."
        ]
        assert not Initiative.objects.exists()

    def test_a_release_before_1900_is_refused(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        with pytest.raises(TransitionRefused, match="before 1900; check the year"):
            initiative_transition(
                initiative=initiative,
                to="released",
                released_on=date(1899, 12, 31),
                by=editor.user,
            )
        initiative.refresh_from_db()
        assert (initiative.status, initiative.released_on) == ("in_delivery", None)
