"""A first end-to-end read of value/summary/ and value/objectives/ on a tiny portfolio."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import Membership, Workspace
from initiatives.models import Initiative
from strategy.services import workspace_today
from tests.conftest import token_client
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure

API = "/api/v1/workspaces/acme/value/"


@pytest.mark.django_db
def test_summary_and_objectives_of_one_released_initiative(
    workspace: Workspace, viewer: Membership
) -> None:
    today = workspace_today(workspace)
    released = today - timedelta(days=10)
    company = ObjectiveFactory.create(workspace=workspace, title="Company", status="active")
    child = ObjectiveFactory.create(
        workspace=workspace, title="Growth", parent=company, status="active"
    )
    metric = MetricFactory.create(
        workspace=workspace, aggregation="sum", direction="increase", value_per_unit=Decimal("2")
    )
    # 10 days before the release at 5 a day, 10 days after at 8 a day: change 80 − 50 = 30,
    # realized value 30 × 2 = 60; aligned with weight 50 → 30 delivered to Growth and Company.
    measure(metric, {released - timedelta(days=n): "5" for n in range(10)})
    measure(metric, {released + timedelta(days=n): "8" for n in range(1, 11)})
    shipped: Initiative = InitiativeFactory.create(
        workspace=workspace, status="released", released_on=released, effort_weeks=Decimal("2")
    )
    ExpectedImpactFactory.create(
        initiative=shipped, metric=metric, expected_change=Decimal("40"), confidence=50
    )
    AlignmentFactory.create(initiative=shipped, objective=child, weight=50)
    committed = InitiativeFactory.create(
        workspace=workspace, status="committed", effort_weeks=Decimal("3")
    )
    ExpectedImpactFactory.create(
        initiative=committed, metric=metric, expected_change=Decimal("100"), confidence=60
    )
    AlignmentFactory.create(initiative=committed, objective=child, weight=100)

    summary = token_client(viewer).get(API + "summary/").json()
    assert summary["realized_value"] == "60.00"
    assert summary["pipeline_value"] == "120.00"  # 100 × 2 × 60%
    assert summary["alignment_score"] == "1.0000"
    assert summary["counts_by_status"]["released"] == 1

    objectives = token_client(viewer).get(API + "objectives/").json()["results"]
    delivered = {o["title"]: o["value_delivered"] for o in objectives}
    assert delivered == {"Company": "30.00", "Growth": "30.00"}

    before = token_client(viewer).get(
        API + f"summary/?as_of={(released - timedelta(days=1)).isoformat()}"
    )
    assert before.json()["realized_value"] is None
    future = token_client(viewer).get(API + "summary/?as_of=3000-01-01")
    assert future.status_code == 400
    assert "has not come yet" in future.json()["as_of"][0]
    assert token_client(viewer).get(API + "summary/?team=999").json() == {
        "team": ["No team with id 999 in this workspace."]
    }
    assert date.fromisoformat(summary["as_of"]) == today
