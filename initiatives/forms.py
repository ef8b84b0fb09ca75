"""Browser forms of initiatives: they parse and check input; the services do the writes.

Choices (teams, owners, objectives, metrics) come from the workspace only, so an id of
another workspace posted by hand is "not one of the available choices", never a write.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet

from accounts.models import Team, User, Workspace
from initiatives.models import (
    LONGEST_WINDOW_DAYS,
    RICE_IMPACTS,
    Alignment,
    DecisionKind,
    ExpectedImpact,
    Experiment,
    ExperimentMethod,
    ExperimentResult,
    Horizon,
    Initiative,
    Kind,
    Stakeholder,
    StakeholderRole,
    Status,
)
from initiatives.selectors import PRIORITY_ORDERINGS, order_initiatives
from strategy.forms import DateInput, MemberChoiceField, MetricChoiceField, members_of
from strategy.models import VALUE_DIGITS, VALUE_PLACES, Metric, Objective, ObjectiveStatus

HYPOTHESIS_HINT = "We believe … will …; we will know when …"
RICE_LABELS = {
    Decimal("0.25"): "0.25 — minimal",
    Decimal("0.5"): "0.5 — low",
    Decimal("1"): "1 — medium",
    Decimal("2"): "2 — high",
    Decimal("3"): "3 — massive",
}
WEIGHT_HELP = (
    "The share of this initiative that serves the objective; the weights of one "
    "initiative add up to at most 100."
)


def rice_key(value: Decimal | None) -> str:
    """The select's value of a RICE impact: 0.50 from the database is "0.5"."""
    return "" if value is None else format(value.normalize(), "f")


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return obj.name


class ObjectiveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Objective) -> str:
        if obj.status == ObjectiveStatus.ACTIVE:
            return obj.title
        return f"{obj.title} ({ObjectiveStatus(obj.status).label.lower()})"


def teams_of(workspace: Workspace) -> QuerySet[Team]:
    return Team.objects.filter(workspace=workspace).order_by("name")


def objectives_of(workspace: Workspace) -> QuerySet[Objective]:
    """Objectives an initiative may serve: all but archived ones, active first."""
    return (
        Objective.objects.filter(workspace=workspace)
        .exclude(status=ObjectiveStatus.ARCHIVED)
        .only("id", "title", "status")
        .order_by("status", "title")
    )


def live_metrics_of(workspace: Workspace) -> QuerySet[Metric]:
    return Metric.objects.filter(workspace=workspace, archived_at__isnull=True).order_by("name")


# --- the initiative ----------------------------------------------------------------------------


class InitiativeForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What it is, in a sentence or two.",
    )
    problem = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Whose problem, and what it costs them or us today.",
    )
    hypothesis = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": HYPOTHESIS_HINT}),
        help_text=f"{HYPOTHESIS_HINT} — the change you bet on and the signal that proves it.",
    )
    team = TeamChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    owner = MemberChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner")
    kind = forms.ChoiceField(
        choices=Kind.choices,
        initial=Kind.STRATEGIC,
        help_text="Strategic work serves an objective; tactical work is kept running "
        "for another reason.",
    )
    tactical_rationale = forms.CharField(
        label="Why tactical",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For tactical work: why it is worth doing without an objective. A tactical "
        "initiative with a reason can be committed without an alignment.",
    )
    horizon = forms.ChoiceField(choices=Horizon.choices, initial=Horizon.NEXT)
    effort_weeks = forms.DecimalField(
        label="Effort (weeks)",
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        help_text="Person-weeks; value density is value per week of effort.",
    )
    confidence = forms.IntegerField(
        label="Confidence (%)",
        min_value=0,
        max_value=100,
        initial=50,
        help_text="How sure you are it delivers, 0–100.",
    )
    reach = forms.IntegerField(
        required=False, min_value=0, help_text="RICE: people or events it touches per period."
    )
    impact = forms.TypedChoiceField(
        label="Impact (RICE)",
        required=False,
        choices=[("", "Not scored"), *((rice_key(v), RICE_LABELS[v]) for v in RICE_IMPACTS)],
        coerce=Decimal,
        empty_value=None,
    )
    start_on = forms.DateField(label="Starts on", required=False, widget=DateInput())
    target_on = forms.DateField(label="Target date", required=False, widget=DateInput())
    measurement_window_days = forms.IntegerField(
        label="Measured for (days)",
        min_value=1,
        max_value=LONGEST_WINDOW_DAYS,
        initial=90,
        help_text="How long after the release its metrics are compared with the same "
        "number of days before it.",
    )

    def __init__(
        self, *args: Any, workspace: Workspace, instance: Initiative | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name)
                for name in (
                    "title",
                    "summary",
                    "problem",
                    "hypothesis",
                    "kind",
                    "tactical_rationale",
                    "horizon",
                    "effort_weeks",
                    "confidence",
                    "reach",
                    "start_on",
                    "target_on",
                    "measurement_window_days",
                )
            } | {
                "team": instance.team_id,
                "owner": instance.owner_id,
                "impact": rice_key(instance.impact),
            }
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_of(workspace)  # type: ignore[attr-defined]
        self.fields["owner"].queryset = members_of(workspace)  # type: ignore[attr-defined]

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the initiative a title.")
        return title

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, target = data.get("start_on"), data.get("target_on")
        if start and target and target < start:
            self.add_error("target_on", "The target date must be on or after the start date.")
        return data


# --- what hangs off an initiative ---------------------------------------------------------------


class StakeholderForm(forms.Form):
    user = MemberChoiceField(
        label="Person", queryset=User.objects.none(), empty_label="Choose a member…"
    )
    role = forms.ChoiceField(choices=StakeholderRole.choices, initial=StakeholderRole.INFORMED)
    expectation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What they expect from it, in their words.",
    )

    def __init__(self, *args: Any, initiative: Initiative, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = Stakeholder.objects.filter(initiative=initiative).values("user_id")
        self.fields["user"].queryset = members_of(  # type: ignore[attr-defined]
            initiative.workspace
        ).exclude(pk__in=taken)


class AlignmentForm(forms.Form):
    objective = ObjectiveChoiceField(
        queryset=Objective.objects.none(),
        empty_label="Choose an objective…",
        help_text="Only an active objective lets it be committed.",
    )
    weight = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=100,
        help_text=WEIGHT_HELP,
    )
    rationale = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="How it serves it."
    )

    def __init__(self, *args: Any, initiative: Initiative, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = Alignment.objects.filter(initiative=initiative).values("objective_id")
        self.fields["objective"].queryset = objectives_of(  # type: ignore[attr-defined]
            initiative.workspace
        ).exclude(pk__in=taken)


class AlignmentEditForm(forms.Form):
    weight = forms.IntegerField(min_value=1, max_value=100, help_text=WEIGHT_HELP)
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExpectedImpactEditForm(forms.Form):
    expected_change = forms.DecimalField(
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        help_text="In the metric's unit; positive means better in the metric's better "
        "direction (fewer tickets for a metric where down is good).",
    )
    confidence = forms.IntegerField(
        label="Confidence (%)",
        min_value=0,
        max_value=100,
        initial=50,
        help_text="Risk-adjusted value = expected value × confidence.",
    )
    attribution = forms.IntegerField(
        label="Attribution (%)",
        min_value=0,
        max_value=100,
        initial=100,
        help_text="The share of the metric's movement this initiative may claim.",
    )


class ExpectedImpactForm(ExpectedImpactEditForm):
    metric = MetricChoiceField(queryset=Metric.objects.none(), empty_label="Choose a metric…")

    field_order = ["metric", "expected_change", "confidence", "attribution"]

    def __init__(self, *args: Any, initiative: Initiative, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = ExpectedImpact.objects.filter(initiative=initiative).values("metric_id")
        self.fields["metric"].queryset = live_metrics_of(  # type: ignore[attr-defined]
            initiative.workspace
        ).exclude(pk__in=taken)


class ExperimentForm(forms.Form):
    hypothesis = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What this experiment tests, e.g. “Teams that see a template activate faster”.",
    )
    method = forms.ChoiceField(choices=ExperimentMethod.choices)
    metric = MetricChoiceField(
        queryset=Metric.objects.none(), required=False, empty_label="No metric"
    )
    success_criteria = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What result validates the hypothesis, decided before it starts.",
    )
    started_on = forms.DateField(label="Started on", required=False, widget=DateInput())
    ended_on = forms.DateField(label="Ended on", required=False, widget=DateInput())
    result = forms.ChoiceField(choices=ExperimentResult.choices, initial=ExperimentResult.PENDING)
    learnings = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        initiative: Initiative,
        instance: Experiment | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name)
                for name in (
                    "hypothesis",
                    "method",
                    "success_criteria",
                    "started_on",
                    "ended_on",
                    "result",
                    "learnings",
                )
            } | {"metric": instance.metric_id}
        super().__init__(*args, **kwargs)
        metrics = Q(archived_at__isnull=True)
        if instance is not None and instance.metric_id is not None:
            metrics |= Q(pk=instance.metric_id)
        self.fields["metric"].queryset = Metric.objects.filter(  # type: ignore[attr-defined]
            metrics, workspace=initiative.workspace
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("started_on"), data.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", "An experiment cannot end before it starts.")
        return data


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(DecisionKind.DEFER, "Defer"), (DecisionKind.OTHER, "Other")],
        initial=DecisionKind.OTHER,
    )
    rationale = forms.CharField(
        label="What was decided, and why",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="At least 10 characters.",
    )
    revisit_on = forms.DateField(
        label="Revisit on",
        required=False,
        widget=DateInput(),
        help_text="When to check the premise again; the owner is reminded.",
    )


# --- the lifecycle -----------------------------------------------------------------------------


class TransitionForm(forms.Form):
    """A move to another status; which moves are allowed is the service's to say."""

    to = forms.ChoiceField(choices=Status.choices)
    rationale = forms.CharField(
        label="Why", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    released_on = forms.DateField(label="Released on", required=False, widget=DateInput())
    revisit_on = forms.DateField(
        label="Revisit on",
        required=False,
        widget=DateInput(),
        help_text="Optional: when to check again whether the reason still holds.",
    )


# --- list filters -------------------------------------------------------------------------------

SORTS = {
    "value_density": "Value density, highest first",
    "-value_density": "Value density, lowest first",
    "rice": "RICE, highest first",
    "-rice": "RICE, lowest first",
    "title": "Title, A–Z",
    "-title": "Title, Z–A",
    "team": "Team, A–Z",
    "-team": "Team, Z–A",
    "owner": "Owner, A–Z",
    "-owner": "Owner, Z–A",
    "effort_weeks": "Effort, smallest first",
    "-effort_weeks": "Effort, largest first",
    "confidence": "Confidence, lowest first",
    "-confidence": "Confidence, highest first",
    "target_on": "Target date, soonest first",
    "-target_on": "Target date, latest first",
    "-updated_at": "Recently changed first",
    "updated_at": "Least recently changed first",
}
DEFAULT_SORT = "value_density"
# sort key → the field order_initiatives takes
SORT_FIELDS = {"team": "team__name", "owner": "owner__full_name"}


class InitiativeFilterForm(forms.Form):
    """The list's and the board's GET filters. A bad value is a field error and that
    filter is left out; the page still answers."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    team = TeamChoiceField(queryset=Team.objects.none(), required=False, empty_label="Any team")
    objective = ObjectiveChoiceField(
        queryset=Objective.objects.none(), required=False, empty_label="Any objective"
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    owner = MemberChoiceField(queryset=User.objects.none(), required=False, empty_label="Anyone")
    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(SORTS.items()))

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_of(workspace)  # type: ignore[attr-defined]
        self.fields["objective"].queryset = Objective.objects.filter(  # type: ignore[attr-defined]
            workspace=workspace
        ).order_by("title")
        self.fields["owner"].queryset = members_of(workspace)  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        """The valid filters; the invalid ones are dropped (their errors show on the form)."""
        self.is_valid()
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "")
        }

    def apply(self, queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
        values = self.values()
        if values.get("status"):
            queryset = queryset.filter(status=values["status"])
        if values.get("team"):
            queryset = queryset.filter(team=values["team"])
        if values.get("objective"):
            # One alignment per (initiative, objective): the join adds no duplicates.
            queryset = queryset.filter(alignments__objective=values["objective"])
        if values.get("kind"):
            queryset = queryset.filter(kind=values["kind"])
        if values.get("owner"):
            queryset = queryset.filter(owner=values["owner"])
        words = values.get("q", "").strip()
        if words:
            queryset = queryset.filter(
                Q(title__icontains=words)
                | Q(summary__icontains=words)
                | Q(problem__icontains=words)
                | Q(hypothesis__icontains=words)
            )
        return queryset

    def order(self, queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
        """Value density unless the address asks otherwise (order_initiatives); a column
        sorts with its empty values last either way, ties by id so pages never overlap."""
        sort = self.sort_key()
        key = sort.removeprefix("-")
        if key in PRIORITY_ORDERINGS:
            return order_initiatives(queryset, sort)
        column = F(SORT_FIELDS.get(key, key))
        by = column.desc(nulls_last=True) if sort.startswith("-") else column.asc(nulls_last=True)
        return queryset.order_by(by, "id")

    def sort_key(self) -> str:
        sort: str = self.values().get("sort") or DEFAULT_SORT
        return sort
