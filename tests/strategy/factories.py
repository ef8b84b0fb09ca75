"""factory_boy factories for strategy."""

from datetime import date
from decimal import Decimal

import factory

from accounts.models import Workspace
from strategy.models import KeyResult, Measurement, Metric, Objective
from tests.accounts.factories import WorkspaceFactory


class ObjectiveFactory(factory.django.DjangoModelFactory[Objective]):
    class Meta:
        model = Objective

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    period_start = date(2026, 1, 1)
    period_end = date(2026, 12, 31)
    status = "active"


class MetricFactory(factory.django.DjangoModelFactory[Metric]):
    class Meta:
        model = Metric

    workspace = factory.SubFactory(WorkspaceFactory)
    key = factory.Sequence(lambda n: f"metric-{n}")
    name = factory.Sequence(lambda n: f"Metric {n}")
    unit = "users"
    category = "acquisition"
    direction = "increase"
    aggregation = "sum"
    value_per_unit = Decimal("10")


class MeasurementFactory(factory.django.DjangoModelFactory[Measurement]):
    class Meta:
        model = Measurement

    metric = factory.SubFactory(MetricFactory)
    observed_on = date(2026, 1, 1)
    value = Decimal("1")


class KeyResultFactory(factory.django.DjangoModelFactory[KeyResult]):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(ObjectiveFactory)
    workspace = factory.SelfAttribute("objective.workspace")
    metric = factory.SubFactory(MetricFactory, workspace=factory.SelfAttribute("..workspace"))
    baseline = Decimal("0")
    target = Decimal("100")
    start_on = date(2026, 1, 1)
    due_on = date(2026, 3, 31)


def measure(metric: Metric, values: dict[date, str]) -> None:
    """Writes measurements of a metric from {day: "decimal string"}."""
    Measurement.objects.bulk_create(
        Measurement(metric=metric, observed_on=day, value=Decimal(v)) for day, v in values.items()
    )


__all__ = ["Workspace"]
