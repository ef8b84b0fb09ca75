"""Strategy services: the rules that span rows, refused in words with nothing written."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership, Workspace
from strategy.models import KeyResult, Metric, Objective
from strategy.services import (
    key_result_create,
    metric_create,
    metric_delete,
    objective_create,
    objective_delete,
    objective_update,
)
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory

PERIOD = {"period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31)}


@pytest.mark.django_db
class TestObjectives:
    def test_a_child_under_a_parent(self, workspace: Workspace, editor: Membership) -> None:
        parent = objective_create(workspace=workspace, title="Grow revenue", **PERIOD)
        child = objective_create(
            workspace=workspace,
            title="Win mid-market",
            parent=parent,
            owner=editor.user,
            **PERIOD,
        )
        assert list(parent.children.all()) == [child]

    def test_an_objective_cannot_move_under_its_own_descendant(self, workspace: Workspace) -> None:
        a = ObjectiveFactory.create(workspace=workspace)
        b = ObjectiveFactory.create(workspace=workspace, parent=a)
        c = ObjectiveFactory.create(workspace=workspace, parent=b)
        for new_parent in (a, c):
            with pytest.raises(ValidationError) as exc:
                objective_update(objective=Objective.objects.get(pk=a.pk), parent=new_parent)
            assert exc.value.message_dict == {
                "parent": ["An objective cannot sit under itself or one of its own sub-objectives."]
            }
        assert Objective.objects.get(pk=a.pk).parent_id is None

    def test_a_parent_of_another_workspace_is_refused(
        self, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        foreign = ObjectiveFactory.create(workspace=other_workspace)
        with pytest.raises(ValidationError) as exc:
            objective_create(workspace=workspace, title="X", parent=foreign, **PERIOD)
        assert exc.value.message_dict == {
            "parent": ["The parent objective is not in this workspace."]
        }
        assert not Objective.objects.filter(workspace=workspace).exists()

    def test_an_owner_from_outside_the_workspace_is_refused(
        self, workspace: Workspace, outsider: Membership
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            objective_create(workspace=workspace, title="X", owner=outsider.user, **PERIOD)
        assert exc.value.message_dict == {
            "owner": ["This person is not a member of this workspace."]
        }

    def test_the_period_must_not_end_before_it_starts(self, workspace: Workspace) -> None:
        with pytest.raises(ValidationError) as exc:
            objective_create(
                workspace=workspace,
                title="X",
                period_start=date(2026, 6, 1),
                period_end=date(2026, 1, 1),
            )
        assert exc.value.message_dict == {
            "period_end": ["The period must not end before it starts."]
        }
        assert not Objective.objects.exists()

    def test_an_objective_with_children_is_not_deleted(self, workspace: Workspace) -> None:
        parent = ObjectiveFactory.create(workspace=workspace)
        ObjectiveFactory.create(workspace=workspace, parent=parent)
        with pytest.raises(ValidationError, match="has sub-objectives"):
            objective_delete(objective=parent)
        assert Objective.objects.count() == 2


@pytest.mark.django_db
class TestMetricsAndKeyResults:
    def test_metric_keys_are_unique_per_workspace(self, workspace: Workspace) -> None:
        fields = {
            "key": "mrr",
            "name": "MRR",
            "unit": "EUR",
            "category": "revenue",
            "direction": "increase",
            "aggregation": "last",
        }
        metric_create(workspace=workspace, **fields)
        with pytest.raises(ValidationError) as exc:
            metric_create(workspace=workspace, **fields)
        assert exc.value.message_dict == {
            "key": ["A metric with the key “mrr” already exists in this workspace."]
        }
        assert Metric.objects.count() == 1

    def test_a_metric_measured_by_key_results_is_not_deleted(self, workspace: Workspace) -> None:
        kr = KeyResultFactory.create(objective__workspace=workspace)
        with pytest.raises(ValidationError, match="Key results measure this metric"):
            metric_delete(metric=kr.metric)

    @pytest.mark.parametrize(
        ("changes", "errors"),
        [
            ({"target": Decimal("5")}, {"target": ["The target must differ from the baseline."]}),
            (
                {"target": Decimal("1e13")},
                {"target": ["At most 13 digits before the decimal point."]},
            ),
            (
                {"due_on": date(2026, 1, 1)},
                {"due_on": ["The due date must come after the start date."]},
            ),
        ],
    )
    def test_key_result_rules(
        self, workspace: Workspace, changes: dict[str, object], errors: dict[str, list[str]]
    ) -> None:
        fields: dict[str, object] = {
            "objective": ObjectiveFactory.create(workspace=workspace),
            "metric": MetricFactory.create(workspace=workspace),
            "baseline": Decimal("5"),
            "target": Decimal("10"),
            "start_on": date(2026, 1, 1),
            "due_on": date(2026, 3, 1),
        }
        with pytest.raises(ValidationError) as exc:
            key_result_create(workspace=workspace, **{**fields, **changes})
        assert exc.value.message_dict == errors
        assert not KeyResult.objects.exists()

    def test_a_metric_of_another_workspace_is_refused(
        self, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            key_result_create(
                workspace=workspace,
                objective=ObjectiveFactory.create(workspace=workspace),
                metric=MetricFactory.create(workspace=other_workspace),
                baseline=Decimal("0"),
                target=Decimal("1"),
                start_on=date(2026, 1, 1),
                due_on=date(2026, 2, 1),
            )
        assert exc.value.message_dict == {"metric": ["The metric is not in this workspace."]}
