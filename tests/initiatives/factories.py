"""factory_boy factories for initiatives."""

from decimal import Decimal
from typing import Any

import factory

from initiatives.models import PRIORITY_FIELDS, Alignment, ExpectedImpact, Initiative
from initiatives.services import initiatives_reprice
from tests.accounts.factories import WorkspaceFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory


class InitiativeFactory(factory.django.DjangoModelFactory[Initiative]):
    class Meta:
        model = Initiative

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    effort_weeks = Decimal("4")
    confidence = 60

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: Any, results: Any = None) -> None:
        super()._after_postgeneration(instance, create, results)
        if create:
            _repriced(instance)


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

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: Any, results: Any = None) -> None:
        super()._after_postgeneration(instance, create, results)
        if create:
            _repriced(instance.initiative)


def _repriced(initiative: Initiative) -> None:
    """The stored priority the services keep (the factories write rows directly), also on
    the instance the test holds."""
    figures = initiatives_reprice(initiative_ids=[initiative.pk])[initiative.pk]
    for name in PRIORITY_FIELDS:
        setattr(initiative, name, getattr(figures, name))
