"""Query parameters of the initiatives API: list filters, searches and orderings.

Ids in filters are plain numbers, never looked up (as in strategy.filters): the lists are
already scoped to the workspace, so an id of another workspace finds nothing.
"""

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from initiatives.models import (
    Alignment,
    Decision,
    DecisionKind,
    Experiment,
    ExperimentResult,
    Horizon,
    Idea,
    IdeaSource,
    IdeaStatus,
    Initiative,
    Kind,
    Status,
)
from initiatives.selectors import order_initiatives, with_priority
from strategy.filters import IdFilter

# value_density and rice come first: highest first, unknown last (a leading "-" reverses).
INITIATIVE_ORDERINGS = [
    "value_density",
    "rice",
    "title",
    "created_at",
    "updated_at",
    "target_on",
    "confidence",
    "effort_weeks",
]
DEFAULT_INITIATIVE_ORDERING = "value_density"


class InitiativeFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        help_text="Only initiatives in this status; repeat the parameter for several "
        "(?status=committed&status=in_delivery).",
    )
    team = IdFilter(field_name="team_id", help_text="Only this team's.")
    owner = IdFilter(field_name="owner_id", help_text="Only those this user owns.")
    objective = IdFilter(
        method="aligned_to", help_text="Only those aligned to this objective (directly)."
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    horizon = django_filters.ChoiceFilter(choices=Horizon.choices)
    q = django_filters.CharFilter(
        method="search",
        help_text="Words in the title, summary, problem or hypothesis (any case).",
    )
    ordering = django_filters.ChoiceFilter(
        method="keep",
        choices=[(o, o) for name in INITIATIVE_ORDERINGS for o in (name, f"-{name}")],
        help_text="value_density (the default: risk-adjusted money per week of effort, "
        "highest first, unknown last), rice (highest first, unknown last), or title, "
        "created_at, updated_at, target_on, confidence, effort_weeks (ascending); a leading "
        "“-” reverses. Ties by id.",
    )

    class Meta:
        model = Initiative
        fields = ["status", "team", "owner", "objective", "kind", "horizon"]

    def aligned_to(
        self, queryset: QuerySet[Initiative], name: str, value: int
    ) -> QuerySet[Initiative]:
        aligned = Alignment.objects.filter(initiative=OuterRef("pk"), objective_id=value)
        return queryset.filter(Exists(aligned))

    def search(self, queryset: QuerySet[Initiative], name: str, value: str) -> QuerySet[Initiative]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(problem__icontains=value)
            | Q(hypothesis__icontains=value)
        )

    def keep(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset  # applied last, in filter_queryset, also without the parameter

    def filter_queryset(self, queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering") or DEFAULT_INITIATIVE_ORDERING
        return order_initiatives(with_priority(queryset), ordering)


class DecisionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DecisionKind.choices)
    initiative = IdFilter(field_name="initiative_id", help_text="Only this initiative's.")

    class Meta:
        model = Decision
        fields = ["kind", "initiative"]


class ExperimentFilter(django_filters.FilterSet):
    initiative = IdFilter(field_name="initiative_id", help_text="Only this initiative's.")
    result = django_filters.ChoiceFilter(choices=ExperimentResult.choices)

    class Meta:
        model = Experiment
        fields = ["initiative", "result"]


class _TiedById(django_filters.OrderingFilter):
    """An ordering that breaks ties by id, so pages never overlap."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        ordered: QuerySet[Any] = super().filter(qs, value)
        if value in django_filters.constants.EMPTY_VALUES:
            return ordered
        return ordered.order_by(*ordered.query.order_by, "-id")


class IdeaFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=IdeaStatus.choices, help_text="Repeat the parameter for several."
    )
    source = django_filters.ChoiceFilter(choices=IdeaSource.choices)
    ordering = _TiedById(
        fields=(("created_at", "created_at"), ("vote_count", "votes"), ("title", "title")),
        help_text="created_at, votes or title, ascending; a leading “-” reverses. "
        "Default: newest first.",
    )

    class Meta:
        model = Idea
        fields = ["status", "source"]
