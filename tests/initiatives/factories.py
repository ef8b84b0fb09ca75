"""factory_boy factories for initiatives."""

from decimal import Decimal

import factory

from initiatives.models import Alignment, ExpectedImpact, Initiative
from tests.accounts.factories import WorkspaceFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory


class InitiativeFactory(factory.django.DjangoModelFactory[Initiative]):
    class Meta:
        model = Initiative

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    effort_weeks = Decimal("4")
    confidence = 60


class AlignmentFactory(factory.django.DjangoModelFactory[Alignment]):
    class Meta:
        model = Alignment

    initiative = factory.SubFactory(InitiativeFactory)
    objective = factory.SubFactory(
        ObjectiveFactory, workspace=factory.SelfAttribute("..initiative.workspace")
    )
    weight = 100


class ExpectedImpactFactory(factory.django.DjangoModelFactory[ExpectedImpact]):
    class Meta:
        model = ExpectedImpact

    initiative = factory.SubFactory(InitiativeFactory)
    metric = factory.SubFactory(
        MetricFactory, workspace=factory.SelfAttribute("..initiative.workspace")
    )
    expected_change = Decimal("100")
    confidence = 50
    attribution = 100
