"""API of strategy under /api/v1/workspaces/{slug}/: objectives, key results with their
figures, metrics, measurements and the CSV import. Serializers parse and shape,
strategy.services write, strategy.selectors read and compute."""

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, parsers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.workspace_api import WorkspaceRelatedField, WorkspaceScopedMixin, WorkspaceViewSet
from pm_value.api.schema import VALIDATION_ERROR_SCHEMA
from strategy import selectors, services
from strategy.filters import (
    KeyResultFilter,
    MetricFilter,
    ObjectiveFilter,
    query_date,
    query_date_range,
)
from strategy.models import VALUE_DIGITS, VALUE_PLACES, KeyResult, Measurement, Metric, Objective

# Wide enough for any sum of measurements and any progress ratio: DRF quantizes with
# max_digits as the precision, and a narrower one would fail on large figures.
FIGURE_DIGITS = 40
PACES = ["achieved", "on_track", "at_risk", "off_track"]


def _member_field() -> WorkspaceRelatedField:
    # Only members are found: a user id of another workspace reads like an unknown one.
    return WorkspaceRelatedField(
        queryset=User.objects.all(),
        workspace_field="memberships__workspace",
        allow_null=True,
        required=False,
        help_text="User id of a member of this workspace.",
    )


class StrategyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    WorkspaceViewSet,
):
    """CRUD scoped to the workspace; writes go through the services in perform_*."""

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters shape lists; one object is found by its id whatever they say (an archived
        # metric is still readable at its URL).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


# --- objectives -----------------------------------------------------------------------------


class ObjectiveSerializer(serializers.ModelSerializer[Objective]):
    # (Field.parent names the enclosing serializer in the stubs; the metaclass takes this
    # declared field out of the class attributes, so the two never meet.)
    parent = WorkspaceRelatedField(  # type: ignore[assignment]
        queryset=Objective.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of the parent objective, in this workspace; null for a top objective.",
    )
    owner = _member_field()

    class Meta:
        model = Objective
        fields = [
            "id",
            "title",
            "description",
            "parent",
            "owner",
            "period_start",
            "period_end",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ObjectiveViewSet(StrategyViewSet):
    """Objectives of the workspace, a tree through `parent`."""

    queryset = Objective.objects.all()
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter
    ordering_fields = ["title", "period_start", "period_end"]
    ordering = ["period_start", "title", "id"]

    def perform_create(self, serializer: serializers.BaseSerializer[Objective]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.objective_create(workspace=self.workspace, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Objective]) -> None:
        assert serializer.instance is not None  # noqa: S101 - an update has its instance
        data = dict(serializer.validated_data)
        serializer.instance = services.objective_update(objective=serializer.instance, **data)

    def perform_destroy(self, instance: Objective) -> None:
        services.objective_delete(objective=instance)


# --- key results ----------------------------------------------------------------------------

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    OpenApiParameter.QUERY,
    description="Evaluate the figures on this date (YYYY-MM-DD); default: today in the "
    "workspace's time zone.",
)


def _figure(name: str, places: int, help_text: str, *, nullable: bool) -> serializers.Field:
    return serializers.DecimalField(
        source=f"figures.{name}",
        max_digits=FIGURE_DIGITS,
        decimal_places=places,
        rounding=ROUND_HALF_UP,
        read_only=True,
        allow_null=nullable,
        help_text=help_text,
    )


class KeyResultSerializer(serializers.ModelSerializer[KeyResult]):
    objective = WorkspaceRelatedField(
        queryset=Objective.objects.all(), help_text="Id of an objective of this workspace."
    )
    metric = WorkspaceRelatedField(
        queryset=Metric.objects.all(), help_text="Id of a metric of this workspace."
    )
    current = _figure(
        "current",
        VALUE_PLACES,
        "The metric over the window: its last value, the sum or the mean of the "
        "measurements, by the metric's aggregation; null without data.",
        nullable=True,
    )
    progress = _figure(
        "progress",
        4,
        "(current − baseline) / (target − baseline), not clamped; null without data.",
        nullable=True,
    )
    expected_progress = _figure(
        "expected_progress",
        4,
        "The share of the time from start_on to due_on that has passed, 0–1.",
        nullable=False,
    )
    pace = serializers.ChoiceField(
        source="figures.pace",
        choices=PACES,
        read_only=True,
        allow_null=True,
        help_text="achieved (progress ≥ 1), on_track (≥ expected), at_risk (≥ 0.7 × "
        "expected) or off_track; null without data.",
    )
    window_start = serializers.DateField(
        source="figures.window_start", read_only=True, help_text="First day counted (start_on)."
    )
    window_end = serializers.DateField(
        source="figures.window_end",
        read_only=True,
        help_text="Last day counted: the earlier of due_on and the evaluation date.",
    )

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "objective",
            "metric",
            "title",
            "baseline",
            "target",
            "start_on",
            "due_on",
            "archived_at",
            "current",
            "progress",
            "expected_progress",
            "pace",
            "window_start",
            "window_end",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "archived_at", "created_at", "updated_at"]


def _attach(key_result: KeyResult, figures: selectors.KeyResultFigures) -> KeyResult:
    """The serializer reads `figures.*`: computed, not stored."""
    key_result.figures = figures  # type: ignore[attr-defined]
    return key_result


@extend_schema_view(
    list=extend_schema(parameters=[AS_OF]),
    retrieve=extend_schema(parameters=[AS_OF]),
    create=extend_schema(parameters=[AS_OF]),
    update=extend_schema(parameters=[AS_OF]),
    partial_update=extend_schema(parameters=[AS_OF]),
)
class KeyResultViewSet(StrategyViewSet):
    """Key results with their figures (DESIGN.md §3), evaluated today or on ?as_of=."""

    # The serializer prints metric ids only, and the figures join the metric themselves.
    queryset = KeyResult.objects.all()
    serializer_class = KeyResultSerializer
    filterset_class = KeyResultFilter
    ordering_fields = ["start_on", "due_on", "created_at"]
    ordering = ["objective_id", "due_on", "id"]

    today: date

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # the workspace is known after this
        # Parsed before anything is written, so a bad date refuses the whole request.
        self.today = query_date(request, "as_of") or services.workspace_today(self.workspace)

    def get_queryset(self) -> QuerySet[KeyResult]:
        # Counts stay plain; the page's rows come with their window aggregates in one query.
        return selectors.with_window_aggregates(super().get_queryset(), today=self.today)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        for key_result in rows:
            _attach(key_result, selectors.figures_of(key_result, today=self.today))
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def get_object(self) -> KeyResult:
        key_result: KeyResult = super().get_object()
        return _attach(key_result, selectors.figures_of(key_result, today=self.today))

    def _with_figures(self, key_result: KeyResult) -> KeyResult:
        figures = selectors.key_result_figures(key_result=key_result, today=self.today)
        return _attach(key_result, figures)

    def perform_create(self, serializer: serializers.BaseSerializer[KeyResult]) -> None:
        data = dict(serializer.validated_data)
        key_result = services.key_result_create(workspace=self.workspace, **data)
        serializer.instance = self._with_figures(key_result)

    def perform_update(self, serializer: serializers.BaseSerializer[KeyResult]) -> None:
        assert serializer.instance is not None  # noqa: S101 - an update has its instance
        data = dict(serializer.validated_data)
        key_result = services.key_result_update(key_result=serializer.instance, **data)
        serializer.instance = self._with_figures(key_result)

    def perform_destroy(self, instance: KeyResult) -> None:
        services.key_result_delete(key_result=instance)


# --- metrics --------------------------------------------------------------------------------


class MetricSerializer(serializers.ModelSerializer[Metric]):
    owner = _member_field()
    latest_on = serializers.DateField(
        read_only=True, allow_null=True, help_text="Day of the latest measurement; null: none."
    )
    latest_value = serializers.DecimalField(
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        read_only=True,
        allow_null=True,
        help_text="Value of the latest measurement; null: none.",
    )

    class Meta:
        model = Metric
        fields = [
            "id",
            "key",
            "name",
            "description",
            "unit",
            "category",
            "direction",
            "aggregation",
            "value_per_unit",
            "owner",
            "source",
            "archived_at",
            "latest_on",
            "latest_value",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "archived_at", "created_at", "updated_at"]


class MetricViewSet(StrategyViewSet):
    """Business metrics of the workspace, with their latest measurement."""

    queryset = Metric.objects.all()
    serializer_class = MetricSerializer
    filterset_class = MetricFilter
    ordering_fields = ["name", "key", "created_at"]
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[Metric]:
        # Archived ones too: the list leaves them out unless ?archived=true (MetricFilter).
        return selectors.metrics_for(workspace=self.workspace, include_archived=True)

    def perform_create(self, serializer: serializers.BaseSerializer[Metric]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.metric_create(workspace=self.workspace, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Metric]) -> None:
        assert serializer.instance is not None  # noqa: S101 - an update has its instance
        data = dict(serializer.validated_data)
        serializer.instance = services.metric_update(metric=serializer.instance, **data)

    def perform_destroy(self, instance: Metric) -> None:
        services.metric_delete(metric=instance)


# --- measurements ---------------------------------------------------------------------------


class MeasurementSerializer(serializers.ModelSerializer[Measurement]):
    class Meta:
        model = Measurement
        fields = ["id", "observed_on", "value", "source", "note", "created_at", "updated_at"]
        read_only_fields = fields


class MeasurementPointSerializer(serializers.Serializer[Any]):
    """One measurement: the day and its value; source and note are optional."""

    # Documentation only, never run: the service checks every point itself, far faster
    # than a serializer per point.

    observed_on = serializers.DateField(help_text="The day measured, at most tomorrow.")
    value = serializers.DecimalField(
        max_digits=VALUE_DIGITS - 1,  # the service keeps one integer digit in reserve
        decimal_places=VALUE_PLACES,
        help_text="A finite number (string or JSON number), at most 13 digits before the "
        "decimal point; rounded to 6 decimal places.",
    )
    source = serializers.CharField(  # type: ignore[assignment]  # a field, like `parent`
        max_length=Measurement._meta.get_field("source").max_length,
        required=False,
        allow_blank=True,
    )
    note = serializers.CharField(
        max_length=Measurement._meta.get_field("note").max_length,
        required=False,
        allow_blank=True,
    )


class IngestResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField(help_text="Days that had no measurement before.")
    updated = serializers.IntegerField(help_text="Days whose measurement was replaced.")


METRIC_ID = OpenApiParameter("metric_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            METRIC_ID,
            OpenApiParameter(
                "from", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="First day."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="Last day."
            ),
        ],
    ),
    create=extend_schema(
        parameters=[METRIC_ID],
        description="One measurement as an object, or a list of up to 10,000, at most one "
        "per day. All or nothing: one bad point refuses the call. A day already measured is "
        "replaced, so sending the same batch again is harmless.",
        request=PolymorphicProxySerializer(
            component_name="MeasurementPoints",
            serializers=[MeasurementPointSerializer, MeasurementPointSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: OpenApiResponse(
                IngestResultSerializer,
                description="Written, all or nothing. 200 also when days were created: "
                "re-sending a batch is normal and replaces the same days.",
            ),
            400: OpenApiResponse(
                VALIDATION_ERROR_SCHEMA,
                description="Nothing was written. `points` lists every bad point by its "
                "index (“Item 3: …”) or says the metric is archived; `detail` when the body is "
                "not an object or a list.",
            ),
        },
    ),
)
class MeasurementViewSet(mixins.ListModelMixin, WorkspaceViewSet):
    """Measurements of one metric: read them by day, or write one or up to 10,000 points
    (a day sent again replaces its value)."""

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    filter_backends: list[Any] = []  # ?from=&to= are parsed in words by query_date_range

    def get_metric(self) -> Metric:
        try:
            return Metric.objects.select_related("workspace").get(
                workspace=self.workspace, pk=self.kwargs["metric_id"]
            )
        except Metric.DoesNotExist:
            raise exceptions.NotFound("No metric with this id in this workspace.") from None

    def get_queryset(self) -> QuerySet[Measurement]:
        metric = self.get_metric()
        date_from, date_to = query_date_range(self.request)
        return selectors.measurements_for(metric=metric, date_from=date_from, date_to=date_to)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        metric = self.get_metric()
        body = request.data
        if isinstance(body, dict):
            points = [body]
        elif isinstance(body, list):
            points = body
        else:
            raise serializers.ValidationError(
                {
                    "detail": "Send one measurement as an object with observed_on and value, "
                    "or a list of such objects."
                }
            )
        result = services.measurements_ingest(metric=metric, points=points)
        return Response(IngestResultSerializer(result).data)


class CsvParser(parsers.BaseParser):
    """A text/csv body, handed over as bytes: the service decodes and checks it."""

    media_type = "text/csv"

    # DRF takes any parsed value as request.data; the stubs only know mappings.
    def parse(  # type: ignore[override]
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return stream.read() if stream is not None else b""


class MeasurementImportView(WorkspaceScopedMixin, APIView):
    """Imports measurements of several metrics from a CSV file with the columns
    metric,observed_on,value,source (metric by its key). A file with any bad line writes
    nothing, and the answer lists every bad line."""

    parser_classes = [parsers.MultiPartParser, CsvParser]

    @extend_schema(
        operation_id="measurements_import",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "text/csv": {"type": "string", "format": "binary"},
        },
        responses={
            200: OpenApiResponse(
                IngestResultSerializer, description="All rows written (days replaced)."
            ),
            400: OpenApiResponse(
                VALIDATION_ERROR_SCHEMA,
                description="Nothing was written; `file` lists every bad line "
                "(“Line 4: …”), a wrong header or an encoding other than UTF-8.",
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        result = services.measurements_import_csv(
            workspace=self.workspace, content=_csv_content(request.data)
        )
        return Response(IngestResultSerializer(result).data)


def _csv_content(data: Any) -> bytes:
    if isinstance(data, bytes) and data:
        return data
    upload = data.get("file") if hasattr(data, "get") else None
    if upload is None or not hasattr(upload, "read"):
        raise serializers.ValidationError(
            {
                "file": [
                    "No CSV file: send it as the multipart field “file”, or as the request "
                    "body with Content-Type: text/csv."
                ]
            }
        )
    content: bytes = upload.read()
    return content
