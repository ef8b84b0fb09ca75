"""The value API under /api/v1/workspaces/{slug}/value/: the portfolio figures and the
value each objective received (DESIGN.md §3, §4). Readable by every member; the query
parameters are parsed here, the figures come from reports.selectors."""

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, Workspace
from accounts.workspace_api import WorkspaceScopedMixin
from initiatives.models import Status
from reports import selectors
from reports.recent_figures import recent_figures
from reports.selectors import Scope
from strategy.filters import MAX_ID
from strategy.models import Objective
from strategy.services import workspace_today

MONEY_DIGITS = 40
PACES = ["achieved", "on_track", "at_risk", "off_track"]


def _money(help_text: str, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        rounding=ROUND_HALF_UP,
        allow_null=True,
        read_only=True,
        help_text=help_text,
        **kwargs,
    )


def _ratio(help_text: str, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=4,
        rounding=ROUND_HALF_UP,
        allow_null=True,
        read_only=True,
        help_text=help_text,
        **kwargs,
    )


# --- the query: as_of, team, objective ---------------------------------------------------------


class ValueQuerySerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Evaluate the value formulas on this day (YYYY-MM-DD, today or earlier); "
        "default: today in the workspace's time zone.",
    )
    team = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only the initiatives of this team (id of a team of this workspace).",
    )
    objective = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only this objective and its descendants, and the initiatives aligned "
        "to them (id of an objective of this workspace).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        workspace: Workspace = self.context["workspace"]
        today = workspace_today(workspace)
        errors: dict[str, list[str]] = {}
        as_of = attrs.get("as_of") or today
        if as_of > today:
            errors["as_of"] = [
                f"{as_of.isoformat()} has not come yet (today is {today.isoformat()} in "
                "this workspace); value is known up to today."
            ]
        team = objective = None
        if "team" in attrs:
            team = Team.objects.filter(workspace=workspace, pk=attrs["team"]).first()
            if team is None:
                errors["team"] = [f"No team with id {attrs['team']} in this workspace."]
        if "objective" in attrs:
            objective = Objective.objects.filter(workspace=workspace, pk=attrs["objective"]).first()
            if objective is None:
                errors["objective"] = [
                    f"No objective with id {attrs['objective']} in this workspace."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return {"as_of": as_of, "scope": Scope(team=team, objective=objective)}


VALUE_PARAMETERS = [ValueQuerySerializer]  # the query parameters, from its fields


class _ValueView(WorkspaceScopedMixin, APIView):
    """A read of every member (and read-only token) of the workspace."""

    def query(self, request: Request) -> dict[str, Any]:
        parsed = ValueQuerySerializer(
            data=request.query_params.dict(), context={"workspace": self.workspace}
        )
        parsed.is_valid(raise_exception=True)
        return parsed.validated_data

    def answer(self, what: str, query: dict[str, Any], compute: Callable[[], Any]) -> Response:
        """The answer as computed for this workspace, day and scope within the last few
        seconds (reports.recent_figures), or `compute()`."""
        scope: Scope = query["scope"]
        asked = (
            query["as_of"].isoformat(),
            scope.team.pk if scope.team else "",
            scope.objective.pk if scope.objective else "",
        )
        data = recent_figures(what, workspace=self.workspace, asked=asked, compute=compute)
        return Response(data)


def json_data(data: Any) -> Any:
    """A serializer's data as plain dicts and lists, to be kept (pickled) without the
    serializer that ReturnDict and ReturnList point to."""
    if isinstance(data, dict):
        return {key: json_data(value) for key, value in data.items()}
    if isinstance(data, list):
        return [json_data(value) for value in data]
    return data


# --- value/summary/ ----------------------------------------------------------------------------


class CalibrationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    median_realization = _ratio(
        "The median of realized ÷ expected over their measured initiatives; null when none "
        "has a realization."
    )
    measured = serializers.IntegerField(read_only=True, help_text="Measured initiatives.")


class CalibrationGroupsSerializer(serializers.Serializer[Any]):
    by_owner = CalibrationSerializer(many=True, source="calibration_by_owner", read_only=True)
    by_team = CalibrationSerializer(many=True, source="calibration_by_team", read_only=True)


def _by_status(help_text: str, child: serializers.Field) -> serializers.DictField:
    return serializers.DictField(child=child, read_only=True, help_text=help_text)


class ValueSummarySerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField(read_only=True)
    currency = serializers.CharField(read_only=True)
    counts_by_status = _by_status(
        f"Initiatives per status ({', '.join(Status.values)}).", serializers.IntegerField()
    )
    effort_by_status = _by_status(
        "Effort in weeks per status (a missing effort counts as 0).",
        serializers.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2),
    )
    alignment_score = _ratio(
        "Share of the effort of committed and in-delivery initiatives that serves at least "
        "one active objective, 0–1; null when that effort is 0."
    )
    tactical_share = _ratio(
        "Share of that effort that is tactical, 0–1; null when that effort is 0."
    )
    pipeline_value = _money(
        "Σ risk-adjusted expected value of committed and in-delivery work; null without money."
    )
    realized_value = _money(
        "Σ realized value of released and measured work as of as_of; null when none has one."
    )
    realized_initiatives = serializers.IntegerField(
        read_only=True, help_text="Released and measured initiatives with a realized value."
    )
    calibration = CalibrationGroupsSerializer(source="*", read_only=True)
    declined_initiatives = serializers.IntegerField(read_only=True)
    declined_ideas = serializers.IntegerField(
        read_only=True, help_text="Declined ideas (0 under a team or objective scope)."
    )


class ValueSummaryView(_ValueView):
    @extend_schema(
        operation_id="value_summary",
        summary="The portfolio's value figures",
        parameters=VALUE_PARAMETERS,
        responses={200: ValueSummarySerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.query(request)

        def compute() -> dict[str, Any]:
            summary = selectors.value_summary(
                workspace=self.workspace, as_of=query["as_of"], scope=query["scope"]
            )
            return json_data(ValueSummarySerializer(summary).data)

        return self.answer("summary", query, compute)


# --- value/objectives/ -------------------------------------------------------------------------


class ObjectiveKeyResultSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    progress = _ratio("(current − baseline) / (target − baseline); null without data.")
    expected_progress = _ratio("The share of its time that has passed, 0–1.")
    pace = serializers.ChoiceField(choices=PACES, allow_null=True, read_only=True)


class ObjectiveValueSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="objective.pk", read_only=True)
    title = serializers.CharField(source="objective.title", read_only=True)
    parent = serializers.IntegerField(  # type: ignore[assignment]  # a field, not Field.parent
        source="objective.parent_id", allow_null=True, read_only=True
    )
    status = serializers.CharField(source="objective.status", read_only=True)
    value_delivered = _money(
        "Σ weight/100 × realized value over the alignments to this objective or a "
        "descendant, as of as_of; null when none has a realized value."
    )
    key_results = serializers.SerializerMethodField()
    initiatives = serializers.ListField(
        source="initiative_ids",
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Ids of the initiatives aligned to this objective itself (in the scope).",
    )

    @extend_schema_field(ObjectiveKeyResultSerializer(many=True))
    def get_key_results(self, node: selectors.ObjectiveValue) -> list[dict[str, Any]]:
        rows = [
            {
                "id": kr.pk,
                "title": kr.title,
                "progress": figures.progress,
                "expected_progress": figures.expected_progress,
                "pace": figures.pace,
            }
            for kr, figures in node.key_results
        ]
        return ObjectiveKeyResultSerializer(rows, many=True).data  # type: ignore[return-value]


class ObjectivesValueSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField(read_only=True)
    currency = serializers.CharField(read_only=True)
    results = ObjectiveValueSerializer(many=True, read_only=True)


class ObjectivesValueView(_ValueView):
    @extend_schema(
        operation_id="value_objectives",
        summary="The value each objective received, with its key results",
        parameters=VALUE_PARAMETERS,
        responses={200: ObjectivesValueSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.query(request)

        def compute() -> dict[str, Any]:
            nodes = selectors.objectives_value(
                workspace=self.workspace, as_of=query["as_of"], scope=query["scope"]
            )
            return objectives_value_data(query["as_of"], self.workspace.currency, nodes)

        return self.answer("objectives", query, compute)


# ObjectivesValueSerializer documents the answer (the schema) and says what it holds; the
# answer is written by hand with the same fields and formats: through nested serializers,
# 200 objectives with their key results and 14,000 initiative ids took 90 ms of a 230 ms
# request at the reference scale (DESIGN.md §7). tests/reports/test_value_api.py holds
# the two equal.
_MONEY = Decimal("0.01")
_RATIO = Decimal("0.0001")
_DIGITS = Context(prec=MONEY_DIGITS)  # the fields' max_digits, as DRF quantizes


def _decimal_text(value: Decimal | None, places: Decimal) -> str | None:
    """A DecimalField's representation: rounded half up to `places`, as a string."""
    if value is None:
        return None
    return f"{value.quantize(places, rounding=ROUND_HALF_UP, context=_DIGITS):f}"


def objectives_value_data(
    as_of: date, currency: str, nodes: list[selectors.ObjectiveValue]
) -> dict[str, Any]:
    """What ObjectivesValueSerializer makes of the objectives' values."""
    return {
        "as_of": as_of.isoformat(),
        "currency": currency,
        "results": [
            {
                "id": node.objective.pk,
                "title": node.objective.title,
                "parent": node.objective.parent_id,
                "status": node.objective.status,
                "value_delivered": _decimal_text(node.value_delivered, _MONEY),
                "key_results": [
                    {
                        "id": kr.pk,
                        "title": kr.title,
                        "progress": _decimal_text(figures.progress, _RATIO),
                        "expected_progress": _decimal_text(figures.expected_progress, _RATIO),
                        "pace": figures.pace,
                    }
                    for kr, figures in node.key_results
                ],
                "initiatives": node.initiative_ids,
            }
            for node in nodes
        ],
    }
