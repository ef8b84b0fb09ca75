"""Query parameters of the strategy API: list filters and the dates some endpoints take.

Ids in filters are plain numbers, never looked up: the list is already scoped to the
workspace, so an id of another workspace finds nothing instead of telling it exists.
"""

import re
from datetime import date
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from strategy.models import (
    Aggregation,
    Direction,
    KeyResult,
    Metric,
    MetricCategory,
    Objective,
    ObjectiveStatus,
)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ARCHIVED_HELP = "true: include archived ones too (by default they are left out)."


def query_date(request: Request, name: str) -> date | None:
    """The date in the query parameter `name`, None when absent; a 400 in words when it is
    not a calendar date written as YYYY-MM-DD."""
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(raw.strip()):
            raise ValueError(raw)
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise serializers.ValidationError(
            {name: [f"“{raw[:40]}” is not a date; write it as YYYY-MM-DD."]}
        ) from None


def query_date_range(request: Request) -> tuple[date | None, date | None]:
    """?from=&to= (both optional, both included)."""
    date_from, date_to = query_date(request, "from"), query_date(request, "to")
    if date_from and date_to and date_from > date_to:
        raise serializers.ValidationError(
            {
                "from": [
                    f"from ({date_from.isoformat()}) is after to ({date_to.isoformat()}); "
                    "the range would be empty."
                ]
            }
        )
    return date_from, date_to


# SQLite refuses integers beyond 64 bits with an OverflowError: such an id is bad input.
MAX_ID = 2**63 - 1


class _IdField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id of at most 64 bits (NumberFilter alone would accept 1.5)."""

    field_class = _IdField


class _ArchivedFilterSet(django_filters.FilterSet):
    """Leaves out rows with an archived_at unless ?archived=true."""

    archived = django_filters.BooleanFilter(method="include_archived", help_text=ARCHIVED_HELP)

    def include_archived(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset  # the exclusion happens in filter_queryset, also without the param

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset


class ObjectiveFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ObjectiveStatus.choices)
    parent = IdFilter(
        field_name="parent_id", help_text="Only the direct sub-objectives of this objective."
    )
    q = django_filters.CharFilter(
        method="search", help_text="Words in the title or the description (any case)."
    )

    class Meta:
        model = Objective
        fields = ["status", "parent"]

    def search(self, queryset: QuerySet[Objective], name: str, value: str) -> QuerySet[Objective]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class KeyResultFilter(_ArchivedFilterSet):
    objective = IdFilter(field_name="objective_id", help_text="Only this objective's.")
    metric = IdFilter(field_name="metric_id", help_text="Only those measuring this metric.")

    class Meta:
        model = KeyResult
        fields = ["objective", "metric"]


class MetricFilter(_ArchivedFilterSet):
    category = django_filters.ChoiceFilter(choices=MetricCategory.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    aggregation = django_filters.ChoiceFilter(choices=Aggregation.choices)
    key = django_filters.CharFilter(field_name="key")

    class Meta:
        model = Metric
        fields = ["category", "direction", "aggregation", "key"]
