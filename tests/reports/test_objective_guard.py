"""An objective a value report covers cannot be deleted from under the report: the
refusal names what keeps it, and nothing is deleted."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership, Workspace
from reports.models import ReportDefinition
from reports.services import report_definition_create
from strategy.models import Objective
from strategy.services import objective_delete
from tests.strategy.factories import ObjectiveFactory


@pytest.mark.django_db
def test_an_objective_a_report_covers_is_not_deleted(workspace: Workspace, editor: Membership):
    objective = ObjectiveFactory.create(workspace=workspace, title="Grow revenue")
    report_definition_create(
        workspace=workspace,
        by=editor.user,
        name="Revenue review",
        formats=["pdf"],
        objective=objective,
        recipient_emails=["cfo@example.com"],
    )

    with pytest.raises(ValidationError) as refused:
        objective_delete(objective=objective)

    assert refused.value.messages == [
        "Other records depend on this objective (report definitions): change or delete "
        "them first, or archive it."
    ]
    assert Objective.objects.filter(pk=objective.pk).exists()
    assert ReportDefinition.objects.filter(objective=objective).count() == 1


@pytest.mark.django_db
def test_an_objective_nothing_depends_on_is_deleted(workspace: Workspace):
    objective = ObjectiveFactory.create(workspace=workspace)

    objective_delete(objective=objective)

    assert not Objective.objects.filter(pk=objective.pk).exists()
