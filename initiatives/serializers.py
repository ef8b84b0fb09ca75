"""Serializers of the initiatives API: they parse input and shape output; the rules are in
initiatives.services and the figures come from initiatives.selectors.

Money is in the workspace currency with 2 decimals, metric changes with the 6 decimals of
measurements, ratios (realization) with 4; all are decimal strings, null when unknown
(DESIGN.md §3)."""

from datetime import date
from decimal import ROUND_HALF_UP
from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team, User
from accounts.workspace_api import WorkspaceRelatedField
from initiatives.models import (
    EARLIEST_RELEASE,
    LONGEST_WINDOW_DAYS,
    RICE_IMPACTS,
    Alignment,
    Decision,
    DecisionKind,
    ExpectedImpact,
    Experiment,
    Idea,
    IdeaStatus,
    Initiative,
    Stakeholder,
    Status,
)
from initiatives.services import transition_refusal
from strategy.models import VALUE_PLACES, Metric, Objective

# Release dates and measurement windows span at most these, so the windows of §3
# (R − L … R + W) stay real calendar dates whatever the evaluation date.

# Wide enough for any sum of figures: DRF quantizes with max_digits as the precision.
FIGURE_DIGITS = 40
MONEY_PLACES = 2
RATIO_PLACES = 4
IMPACT_STATUSES = ["not_started", "measuring", "measured", "no_data"]


def figure(source: str, places: int, help_text: str) -> serializers.DecimalField:
    """A computed, read-only decimal (string), null when §3 says it is unknown."""
    return serializers.DecimalField(
        source=source,
        max_digits=FIGURE_DIGITS,
        decimal_places=places,
        rounding=ROUND_HALF_UP,
        read_only=True,
        allow_null=True,
        help_text=help_text,
    )


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


# Several models have a `status` with its own states: each gets its own named enum in the
# OpenAPI schema (drf-spectacular would otherwise name them by a hash).
@extend_schema_field(
    _enum(Status.values, "An initiative's status (DESIGN.md lifecycle)."),
    component_name="InitiativeStatusEnum",
)
class InitiativeStatusField(serializers.ChoiceField):
    pass


@extend_schema_field(
    _enum(
        [*Status.values, ""],
        "The status before and after a transition; empty for a decision recorded by hand.",
    ),
    component_name="DecisionStatusEnum",
)
class DecisionStatusField(serializers.ChoiceField):
    pass


@extend_schema_field(_enum(IdeaStatus.values, "An idea's status."), component_name="IdeaStatusEnum")
class IdeaStatusField(serializers.ChoiceField):
    pass


@extend_schema_field(
    _enum(
        IMPACT_STATUSES,
        "not_started (not released), measuring (inside the window), measured (window over) "
        "or no_data (a needed measurement is missing).",
    ),
    component_name="ImpactStatusEnum",
)
class ImpactStatusField(serializers.ChoiceField):
    pass


def member_field(**kwargs: Any) -> WorkspaceRelatedField:
    """A user id that only finds members of the workspace: anyone else "does not exist"."""
    return WorkspaceRelatedField(
        queryset=User.objects.all(), workspace_field="memberships__workspace", **kwargs
    )


def refuse_moved(instance: Any, data: dict[str, Any], field: str, message: str) -> dict[str, Any]:
    """The update without `field` (a foreign key) when it is unchanged; refused in words when
    it names another row (the services do not move a row to another parent)."""
    data = dict(data)
    if field in data and data.pop(field).pk != getattr(instance, f"{field}_id"):
        raise serializers.ValidationError({field: [message]})
    return data


# --- the parts of an initiative ---------------------------------------------------------------


class StakeholderSerializer(serializers.ModelSerializer[Stakeholder]):
    user = member_field(help_text="User id of a member of this workspace.")

    class Meta:
        model = Stakeholder
        fields = ["id", "user", "role", "expectation"]
        read_only_fields = ["id"]


class AlignmentSerializer(serializers.ModelSerializer[Alignment]):
    objective = WorkspaceRelatedField(
        queryset=Objective.objects.all(), help_text="Id of an objective of this workspace."
    )

    class Meta:
        model = Alignment
        fields = ["id", "objective", "weight", "rationale"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "weight": {
                "help_text": "The share of the initiative that serves the objective, 1–100 "
                "(default 100); the weights of one initiative add up to at most 100."
            }
        }


class ExpectedImpactSerializer(serializers.ModelSerializer[ExpectedImpact]):
    metric = WorkspaceRelatedField(
        queryset=Metric.objects.all(), help_text="Id of a metric of this workspace."
    )

    class Meta:
        model = ExpectedImpact
        fields = ["id", "metric", "expected_change", "confidence", "attribution"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "expected_change": {
                "help_text": "In metric units; positive is an improvement in the metric's "
                "better direction."
            },
            "confidence": {"help_text": "How likely the change is, 0–100 (default 50)."},
            "attribution": {
                "help_text": "The share of the metric's movement this initiative may claim, "
                "0–100 (default 100)."
            },
        }


# --- initiatives -------------------------------------------------------------------------------

READ_ONLY_STATE = {
    "status": "The status changes only through POST …/transition/ (with a rationale).",
    "released_on": "The release date is set by the transition to released.",
}


class InitiativeSerializer(serializers.ModelSerializer[Initiative]):
    team = WorkspaceRelatedField(
        queryset=Team.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of a team of this workspace.",
    )
    owner = member_field(
        allow_null=True, required=False, help_text="User id of a member of this workspace."
    )
    stakeholders = StakeholderSerializer(
        many=True,
        read_only=True,
        help_text="Change them under …/stakeholders/.",
    )
    alignments = AlignmentSerializer(
        many=True,
        read_only=True,
        help_text="The objectives it serves, heaviest first; change them under …/alignments/.",
    )
    expected_impacts = ExpectedImpactSerializer(
        many=True,
        read_only=True,
        help_text="The metric changes it promises; change them under …/expected-impacts/, "
        "read expected vs realized at …/impact/.",
    )
    status = InitiativeStatusField(
        choices=Status.choices,
        read_only=True,
        help_text="Read-only: it changes through POST …/transition/.",
    )
    impact = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text="RICE impact: 0.25, 0.5, 1, 2 or 3.",
    )
    expected_value = figure(
        "figures.totals.expected_value",
        MONEY_PLACES,
        "Σ expected_change × value_per_unit over its expected impacts, in the workspace "
        "currency; null when no impact's metric has a value per unit.",
    )
    risk_adjusted_value = figure(
        "figures.totals.risk_adjusted_value",
        MONEY_PLACES,
        "Σ expected value × confidence / 100 over its expected impacts; null likewise.",
    )
    realized_value = figure(
        "figures.totals.realized_value",
        MONEY_PLACES,
        "Σ realized value over its expected impacts (DESIGN.md §3); null before release or "
        "without data.",
    )
    realization = figure(
        "figures.totals.realization",
        RATIO_PLACES,
        "Σ realized value / Σ expected value when both are known (and the latter is not 0), "
        "else the mean of its impacts' realizations; 1 means as promised.",
    )
    value_density = figure(
        "figures.value_density",
        MONEY_PLACES,
        "risk_adjusted_value / effort_weeks: money per week of effort; null without effort "
        "or money.",
    )
    rice = figure(
        "figures.rice",
        MONEY_PLACES,
        "reach × impact × confidence / 100 / effort_weeks; null when a factor is missing or "
        "the effort is 0.",
    )

    class Meta:
        model = Initiative
        fields = [
            "id",
            "title",
            "summary",
            "problem",
            "hypothesis",
            "status",
            "team",
            "owner",
            "stakeholders",
            "kind",
            "tactical_rationale",
            "horizon",
            "effort_weeks",
            "confidence",
            "reach",
            "impact",
            "start_on",
            "target_on",
            "released_on",
            "measurement_window_days",
            "alignments",
            "expected_impacts",
            "expected_value",
            "risk_adjusted_value",
            "realized_value",
            "realization",
            "value_density",
            "rice",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "released_on", "created_at", "updated_at"]
        extra_kwargs = {
            "released_on": {"help_text": "Read-only: set by the transition to released."},
            "confidence": {"help_text": "0–100 (default 50)."},
            "effort_weeks": {"help_text": "Weeks of effort, at least 0."},
            "measurement_window_days": {
                "help_text": "Days after the release over which the impact is measured "
                f"(default 90, at least 1, at most {LONGEST_WINDOW_DAYS}).",
                "max_value": LONGEST_WINDOW_DAYS,
            },
        }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            # A change is refused rather than silently ignored (an integration that sends a
            # status would believe it changed); the current value, as a read shows it, may
            # come back with the rest of the body.
            current = self._current_state()
            errors = {
                name: [message]
                for name, message in READ_ONLY_STATE.items()
                if name in data and data[name] != current[name]
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _current_state(self) -> dict[str, str | None]:
        if self.instance is None:
            return {"status": Status.PROPOSED, "released_on": None}
        initiative = cast(Initiative, self.instance)
        released_on = initiative.released_on
        return {
            "status": initiative.status,
            "released_on": None if released_on is None else released_on.isoformat(),
        }

    def validate_impact(self, value: Any) -> Any:
        if value is not None and value not in RICE_IMPACTS:
            raise serializers.ValidationError("RICE impact is one of 0.25, 0.5, 1, 2 or 3.")
        return value


class TransitionSerializer(serializers.Serializer[Any]):
    to = serializers.CharField(
        help_text="The new status: " + ", ".join(Status.values) + ". An unknown status is a "
        "400 under `to`; a move the lifecycle or its guards refuse is a 409."
    )
    rationale = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why. At least 10 characters for a decline, cancellation, pivot or reopen.",
    )
    released_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only with `released`: the release day, today or earlier, from 1900-01-01 "
        "(default today).",
    )
    revisit_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only with a decline or cancellation: when to check the premise again "
        "(in the future).",
    )

    def validate_released_on(self, value: date | None) -> date | None:
        if value is not None and value < EARLIEST_RELEASE:
            raise serializers.ValidationError(
                f"{value.isoformat()} is not a release date of this work; "
                f"write one from {EARLIEST_RELEASE.isoformat()} on."
            )
        return value

    def validate_to(self, value: str) -> str:
        if value not in Status.values:
            # The lifecycle's own words for an unknown status, as a field error (400).
            refusal = transition_refusal(
                initiative=self.context["initiative"], to=value, today=self.context["today"]
            )
            raise serializers.ValidationError(str(refusal))
        return value


class MetricSummarySerializer(serializers.ModelSerializer[Metric]):
    class Meta:
        model = Metric
        fields = ["id", "key", "name", "unit"]


class ImpactFiguresSerializer(serializers.Serializer[Any]):
    """One expected impact with its figures (DESIGN.md §3), read from {"impact", "figures"}."""

    id = serializers.IntegerField(source="impact.pk", read_only=True)
    metric = MetricSummarySerializer(source="impact.metric", read_only=True)
    expected_change = serializers.DecimalField(
        source="figures.expected_change",
        max_digits=FIGURE_DIGITS,
        decimal_places=VALUE_PLACES,
        read_only=True,
        help_text="In metric units, positive is better.",
    )
    expected_value = figure(
        "figures.expected_value",
        MONEY_PLACES,
        "expected_change × value_per_unit; null without a value per unit.",
    )
    risk_adjusted_value = figure(
        "figures.risk_adjusted_value", MONEY_PLACES, "expected_value × confidence / 100."
    )
    realized_change = figure(
        "figures.realized_change",
        VALUE_PLACES,
        "The metric's improvement over the release × attribution / 100, in metric units; "
        "null unless measuring or measured with data.",
    )
    realized_value = figure(
        "figures.realized_value",
        MONEY_PLACES,
        "realized_change × value_per_unit; null without either.",
    )
    realization = figure(
        "figures.realization",
        RATIO_PLACES,
        "realized_change / expected_change; null when either is unknown or 0.",
    )
    status = ImpactStatusField(source="figures.status", choices=IMPACT_STATUSES, read_only=True)
    window_start = serializers.DateField(
        source="figures.window_start",
        read_only=True,
        allow_null=True,
        help_text="R − L: the first window is (window_start, release_date]; null before "
        "the release.",
    )
    release_date = serializers.DateField(
        source="figures.release_date",
        read_only=True,
        allow_null=True,
        help_text="R, the initiative's released_on; null before the release.",
    )
    window_end = serializers.DateField(
        source="figures.window_end",
        read_only=True,
        allow_null=True,
        help_text="E = min(as_of, R + window days): the second window is "
        "(release_date, window_end].",
    )


class ImpactReportSerializer(serializers.Serializer[Any]):
    """Expected vs realized impact of one initiative, per expected impact and in total."""

    as_of = serializers.DateField(read_only=True, help_text="The evaluation date.")
    currency = serializers.CharField(
        read_only=True, help_text="ISO 4217 code of the money figures."
    )
    impacts = ImpactFiguresSerializer(many=True, read_only=True)
    expected_value = figure(
        "totals.expected_value", MONEY_PLACES, "Σ over the impacts, nulls skipped."
    )
    risk_adjusted_value = figure(
        "totals.risk_adjusted_value", MONEY_PLACES, "Σ over the impacts, nulls skipped."
    )
    realized_value = figure(
        "totals.realized_value", MONEY_PLACES, "Σ over the impacts, nulls skipped."
    )
    realization = figure(
        "totals.realization",
        RATIO_PLACES,
        "Σ realized value / Σ expected value, or the mean of the impacts' realizations.",
    )


# --- decisions and experiments -------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    initiative = WorkspaceRelatedField(
        queryset=Initiative.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of an initiative of this workspace, or null for a general decision.",
    )
    kind = serializers.ChoiceField(
        choices=DecisionKind.choices,
        default=DecisionKind.OTHER,
        help_text="By hand only `defer` or `other` (the default); the other kinds are "
        "written by transitions.",
    )
    rationale = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="What was decided and why: at least 10 characters.",
    )
    from_status = DecisionStatusField(choices=Status.choices, read_only=True)
    to_status = DecisionStatusField(choices=Status.choices, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "initiative",
            "kind",
            "from_status",
            "to_status",
            "rationale",
            "decided_by",
            "decided_at",
            "revisit_on",
        ]
        read_only_fields = ["id", "from_status", "to_status", "decided_by", "decided_at"]
        extra_kwargs = {
            "revisit_on": {"help_text": "When to check the premise again (in the future)."},
        }


class ExperimentSerializer(serializers.ModelSerializer[Experiment]):
    initiative = WorkspaceRelatedField(
        queryset=Initiative.objects.all(), help_text="Id of an initiative of this workspace."
    )
    metric = WorkspaceRelatedField(
        queryset=Metric.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of a metric of this workspace, or null.",
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "initiative",
            "hypothesis",
            "method",
            "metric",
            "success_criteria",
            "started_on",
            "ended_on",
            "result",
            "learnings",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


# --- ideas ---------------------------------------------------------------------------------


class IdeaSerializer(serializers.ModelSerializer[Idea]):
    votes = serializers.IntegerField(
        source="vote_count", read_only=True, help_text="How many people voted for it."
    )
    voted = serializers.BooleanField(
        read_only=True, help_text="Whether you (the caller) voted for it."
    )
    status = IdeaStatusField(choices=IdeaStatus.choices, read_only=True)

    class Meta:
        model = Idea
        fields = [
            "id",
            "title",
            "description",
            "source",
            "status",
            "submitted_by",
            "votes",
            "voted",
            "decline_reason",
            "declined_by",
            "declined_at",
            "revisit_on",
            "promoted_to",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "submitted_by",
            "decline_reason",
            "declined_by",
            "declined_at",
            "revisit_on",
            "promoted_to",
            "created_at",
        ]
        extra_kwargs = {
            "promoted_to": {"help_text": "Id of the initiative it became, once promoted."},
        }


class IdeaDeclineSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why it is declined: at least 10 characters."
    )
    revisit_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When to check the premise again (in the future).",
    )


class PromotedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Id of the new (proposed) initiative.")
    url = serializers.URLField(help_text="Its API URL.")
