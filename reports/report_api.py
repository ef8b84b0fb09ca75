"""API of value reports under /api/v1/workspaces/{slug}/ (DESIGN.md §4, §6): report
definitions, their runs ("Run now" answers 202 with the run's URL), the runs with their
progress and deliveries, and the run's files. Views parse and shape; reports.services
validates, writes and queues."""

import json
from collections.abc import Mapping
from typing import Any, cast

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Team, User
from accounts.workspace_api import WorkspaceRelatedField, WorkspaceViewSet
from initiatives.serializers import member_field
from pm_value.api.schema import ErrorSerializer
from reports import services
from reports.models import (
    NAME_LENGTH,
    DeliveryStatus,
    ReportDefinition,
    ReportDelivery,
    ReportFormat,
    ReportPeriod,
    ReportRun,
    RunStatus,
    RunTrigger,
)
from strategy.filters import ARCHIVED_HELP, IdFilter
from strategy.models import Objective

# Far more than a definition may have (services.MAX_RECIPIENTS says how many, in words);
# a longer list is not worth reading.
MAX_LIST = 1000

# The files of a run: format → (model field, content type).
FILES: dict[str, tuple[str, str]] = {
    ReportFormat.HTML: ("html_file", "text/html; charset=utf-8"),
    ReportFormat.PDF: ("pdf_file", "application/pdf"),
    ReportFormat.CSV: ("csv_file", "text/csv; charset=utf-8"),
}


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def run_api_url(request: Request, run: ReportRun, name: str = "report-run-detail") -> str:
    return request.build_absolute_uri(
        reverse(name, kwargs={"workspace_slug": run.workspace.slug, "pk": run.pk})
    )


# --- serializers ---------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": ReportFormat.values},
        "description": "The files each run makes, at least one of html, pdf, csv (the HTML "
        "is always made: it is the page and the e-mail).",
    }
)
class FormatsField(serializers.ListField):
    """Unknown formats are refused by the service, in its words."""

    child = serializers.CharField()


@extend_schema_field(
    {
        "type": "string",
        "enum": RunStatus.values,
        "description": "queued → running → succeeded | failed.",
    },
    component_name="ReportRunStatusEnum",
)
class RunStatusField(serializers.ChoiceField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": DeliveryStatus.values,
        "description": "pending (not sent "
        "yet, or waiting to try again), sent, or failed after the last attempt.",
    },
    component_name="ReportDeliveryStatusEnum",
)
class DeliveryStatusField(serializers.ChoiceField):
    pass


class LastRunSerializer(serializers.Serializer[ReportRun]):
    id = serializers.IntegerField(read_only=True)
    status = RunStatusField(choices=RunStatus.choices, read_only=True)
    url = serializers.SerializerMethodField(help_text="The run in the API.")

    def get_url(self, run: ReportRun) -> str:
        return run_api_url(self.context["request"], run)


class ReportDefinitionSerializer(serializers.ModelSerializer[ReportDefinition]):
    name = serializers.CharField(
        allow_blank=True, max_length=NAME_LENGTH * 4, help_text="Unique among active reports."
    )
    period = serializers.ChoiceField(
        choices=ReportPeriod.choices,
        required=False,
        error_messages={"invalid_choice": "Choose a period: week, month or quarter."},
        help_text="What each run covers: a week (Monday to Sunday), a month or a quarter.",
    )
    team = WorkspaceRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this team's work (id of a team of this workspace); null: all teams.",
    )
    objective = WorkspaceRelatedField(
        queryset=Objective.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this objective's subtree (id of an objective of this workspace); "
        "null: the whole strategy.",
    )
    send_hour = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=23,
        help_text="Hour of the day (workspace time) scheduled runs are made at.",
    )
    formats = FormatsField(max_length=MAX_LIST)
    recipient_users = serializers.ListField(
        child=member_field(
            error_messages={"does_not_exist": "No member of this workspace has the id {pk_value}."}
        ),
        required=False,
        max_length=MAX_LIST,
        help_text="User ids of members of this workspace; they get it at their current address.",
    )
    recipient_emails = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=320),
        required=False,
        max_length=MAX_LIST,
        help_text="E-mail addresses. A report needs at least one recipient, user or address.",
    )
    last_run = serializers.SerializerMethodField(help_text="The newest run, null before the first.")

    class Meta:
        model = ReportDefinition
        fields = [
            "id",
            "name",
            "period",
            "team",
            "objective",
            "scheduled",
            "send_hour",
            "formats",
            "recipient_users",
            "recipient_emails",
            "created_at",
            "archived_at",
            "last_run",
        ]
        read_only_fields = ["id", "created_at", "archived_at"]

    @extend_schema_field(LastRunSerializer(allow_null=True))
    def get_last_run(self, definition: ReportDefinition) -> dict[str, Any] | None:
        run = getattr(definition, "last_run", None)
        if run is None:
            return None
        return cast(dict[str, Any], LastRunSerializer(run, context=self.context).data)

    def to_representation(self, instance: ReportDefinition) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        recipients = list(instance.recipients.all())  # prefetched by the view
        data["recipient_users"] = [r.user_id for r in recipients if r.user_id is not None]
        data["recipient_emails"] = [r.email for r in recipients if r.user_id is None]
        return data


class DeliverySerializer(serializers.ModelSerializer[ReportDelivery]):
    status = DeliveryStatusField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = ReportDelivery
        fields = ["email", "status", "attempts", "last_error", "sent_at"]
        read_only_fields = fields


class RunLinksSerializer(serializers.Serializer[ReportRun]):
    html = serializers.URLField(allow_null=True, help_text="The HTML file; null until made.")
    pdf = serializers.URLField(allow_null=True, help_text="The PDF; null unless made.")
    csv = serializers.URLField(allow_null=True, help_text="The CSV; null unless made.")


class ReportRunSerializer(serializers.ModelSerializer[ReportRun]):
    url = serializers.SerializerMethodField(help_text="This run in the API.")
    status = RunStatusField(choices=RunStatus.choices, read_only=True)
    trigger = serializers.ChoiceField(choices=RunTrigger.choices, read_only=True)
    period_label = serializers.SerializerMethodField(help_text="E.g. “Q3 2026”.")
    deliveries = DeliverySerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField(
        help_text="Absolute URLs of the run's files; null where the file does not exist."
    )

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "url",
            "definition",
            "status",
            "progress",
            "step",
            "attempts",
            "error",
            "period_start",
            "period_end",
            "period_label",
            "as_of",
            "trigger",
            "requested_by",
            "queued_at",
            "started_at",
            "finished_at",
            "deliveries",
            "links",
        ]
        read_only_fields = fields

    def get_url(self, run: ReportRun) -> str:
        return run_api_url(self.context["request"], run)

    def get_period_label(self, run: ReportRun) -> str:
        return services.period_label(run.definition.period, run.period_start)

    @extend_schema_field(RunLinksSerializer)
    def get_links(self, run: ReportRun) -> dict[str, str | None]:
        request = self.context["request"]
        return {
            fmt: run_api_url(request, run, f"report-run-{fmt}") if getattr(run, field) else None
            for fmt, (field, _) in FILES.items()
        }


class RunRequestSerializer(serializers.Serializer[Any]):
    day = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="A day of the period to report on (YYYY-MM-DD); default: today, in the "
        "workspace's time zone. A period that has not begun is refused.",
    )


# --- definitions ---------------------------------------------------------------------------


class ReportDefinitionFilter(django_filters.FilterSet):
    archived = django_filters.BooleanFilter(method="include_archived", help_text=ARCHIVED_HELP)

    class Meta:
        model = ReportDefinition
        fields: list[str] = []

    def include_archived(
        self, queryset: QuerySet[ReportDefinition], name: str, value: bool
    ) -> QuerySet[ReportDefinition]:
        return queryset  # the exclusion happens in filter_queryset, also without the param

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset


def with_last_runs(definitions: list[ReportDefinition]) -> list[ReportDefinition]:
    """Sets `last_run` on each definition (annotated with `last_run_id`): one query."""
    ids = [d.last_run_id for d in definitions if d.last_run_id]  # type: ignore[attr-defined]
    runs = {
        run.pk: run
        for run in ReportRun.objects.filter(pk__in=ids).select_related(
            "workspace", "definition", "requested_by"
        )
    }
    for definition in definitions:
        definition.last_run = runs.get(definition.last_run_id)  # type: ignore[attr-defined]
    return definitions


def definitions_with_last_run(queryset: QuerySet[ReportDefinition]) -> QuerySet[ReportDefinition]:
    newest = ReportRun.objects.filter(definition=OuterRef("pk")).order_by("-queued_at", "-id")
    return queryset.annotate(last_run_id=Subquery(newest.values("pk")[:1])).prefetch_related(
        "recipients"
    )


class _ReportsViewSet(WorkspaceViewSet):
    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # WorkspacePermission let only members in

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters shape lists; one object is found by its id whatever they say.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


_DELETE_DESCRIPTION = (
    "A report without runs is deleted: 204, no body. A report with runs is archived "
    "instead (its runs are the record of what stakeholders were told): 200 with the "
    "archived definition, which makes no more runs and is left out of the list unless "
    "?archived=true. Deleting an archived report answers 200 again."
)


@extend_schema_view(
    update=extend_schema(
        responses={200: ReportDefinitionSerializer, 409: _conflict("The report is archived.")}
    ),
    partial_update=extend_schema(
        responses={200: ReportDefinitionSerializer, 409: _conflict("The report is archived.")}
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted: the report had no runs."),
            200: OpenApiResponse(
                ReportDefinitionSerializer, description="Archived: the report has runs."
            ),
        },
        description=_DELETE_DESCRIPTION,
    ),
)
class ReportDefinitionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    _ReportsViewSet,
):
    """Value report definitions: the scope, the period, the schedule, the recipients and
    the formats; editors and admins write. Every problem of a definition comes back at
    once, by field, in words (400)."""

    queryset = ReportDefinition.objects.all()
    serializer_class = ReportDefinitionSerializer
    filterset_class = ReportDefinitionFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[ReportDefinition]:
        queryset: QuerySet[ReportDefinition] = super().get_queryset()
        return definitions_with_last_run(queryset).order_by("name", "id")

    def _read(self, definition: ReportDefinition) -> ReportDefinition:
        return with_last_runs([self.get_queryset().get(pk=definition.pk)])[0]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = with_last_runs(list(queryset) if page is None else page)
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def get_object(self) -> ReportDefinition:
        definition: ReportDefinition = super().get_object()
        return with_last_runs([definition])[0]

    def perform_create(self, serializer: serializers.BaseSerializer[ReportDefinition]) -> None:
        definition = services.report_definition_create(
            workspace=self.workspace, by=self.user, **serializer.validated_data
        )
        serializer.instance = self._read(definition)

    def perform_update(self, serializer: serializers.BaseSerializer[ReportDefinition]) -> None:
        definition = cast(ReportDefinition, serializer.instance)
        definition = services.report_definition_update(
            definition=definition, changes=dict(serializer.validated_data)
        )
        serializer.instance = self._read(definition)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = self.get_object()
        outcome = services.report_definition_delete(definition=definition)
        if outcome == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(self._read(definition)).data)


# --- runs of one definition ----------------------------------------------------------------

DEFINITION_ID = OpenApiParameter(
    "definition_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Id of a report definition of this workspace.",
)


def _runs(queryset: QuerySet[ReportRun]) -> QuerySet[ReportRun]:
    """With what a run's answer nests: one query each, whatever the number of runs."""
    return queryset.select_related("workspace", "definition").prefetch_related("deliveries")


@extend_schema_view(
    list=extend_schema(parameters=[DEFINITION_ID], description="The report's runs, newest first."),
    create=extend_schema(
        parameters=[DEFINITION_ID],
        request=RunRequestSerializer,
        responses={
            202: ReportRunSerializer,
            409: _conflict(
                "A run of this period is already queued or running, or the report is "
                "archived. Nothing was written."
            ),
        },
        description="Run now: queues a run of the period holding `day` (default today) and "
        "answers 202 with the run; its URL is in `url` and in the Location header. Poll it "
        "for `status` and `progress`. A period that has not begun answers 400 under "
        "`period`.",
    ),
)
class DefinitionRunViewSet(mixins.ListModelMixin, _ReportsViewSet):
    """The runs of one report definition, under reports/{definition_id}/runs/: a definition
    of another workspace, or none, is 404."""

    queryset = ReportRun.objects.all()
    serializer_class = ReportRunSerializer
    filter_backends: list[Any] = []
    _definition: ReportDefinition | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # the workspace is known after this
        self.get_definition()  # an unknown definition is 404 before the body is judged

    def get_definition(self) -> ReportDefinition:
        if self._definition is None:
            definition = (
                ReportDefinition.objects.select_related("workspace")
                .filter(workspace=self.workspace, pk=self.kwargs["definition_id"])
                .first()
            )
            if definition is None:
                raise exceptions.NotFound("No report with this id in this workspace.")
            self._definition = definition
        return self._definition

    def get_queryset(self) -> QuerySet[ReportRun]:
        queryset: QuerySet[ReportRun] = super().get_queryset()
        return _runs(queryset.filter(definition=self.get_definition()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.report_run_request(
            definition=self.get_definition(),
            by=cast(User, request.user),
            day=serializer.validated_data.get("day"),
        )
        run = _runs(ReportRun.objects.filter(pk=run.pk)).get()
        body = self.get_serializer(run).data
        return Response(body, status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


# --- runs ------------------------------------------------------------------------------------


class ReportRunFilter(django_filters.FilterSet):
    definition = IdFilter(field_name="definition_id", help_text="Only this report's runs.")
    status = django_filters.MultipleChoiceFilter(
        choices=RunStatus.choices,
        help_text="Only runs in this status; repeat the parameter for several.",
    )

    class Meta:
        model = ReportRun
        fields: list[str] = []


class FileRenderer(BaseRenderer):
    """Lets a client ask for a run's file by its type; the file itself is a FileResponse,
    and an error is still JSON."""

    format = "file"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


def _renderer(media_type: str) -> type[FileRenderer]:
    return type("FileRenderer", (FileRenderer,), {"media_type": media_type.split(";")[0]})


def _download_schema(fmt: str) -> Any:
    field, media_type = FILES[fmt]
    return extend_schema(
        responses={
            (200, media_type.split(";")[0]): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=f"The run's {fmt.upper()}, as an attachment.",
            ),
            404: OpenApiResponse(
                ErrorSerializer,
                description=f"No such run, or the run makes no {fmt.upper()} (its report's "
                "formats leave it out).",
            ),
            409: _conflict("The run has not succeeded (yet): it has no files."),
        },
        description=f"Downloads the run's {fmt.upper()} file.",
    )


@extend_schema_view(list=extend_schema(description="The workspace's report runs, newest first."))
class ReportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReportsViewSet):
    """Report runs: status and progress while they are made, then the files and who got
    them. Runs are made by the workers; they are requested under reports/{id}/runs/."""

    queryset = ReportRun.objects.all()
    serializer_class = ReportRunSerializer
    filterset_class = ReportRunFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[ReportRun]:
        queryset: QuerySet[ReportRun] = super().get_queryset()
        return _runs(queryset).order_by("-queued_at", "-id")

    def _download(self, fmt: str) -> FileResponse:
        run = self.get_object()
        field, content_type = FILES[fmt]
        stored: FieldFile = getattr(run, field)
        if run.status != RunStatus.SUCCEEDED:
            raise services.ReportRefused(
                f"This run is {run.status}: its files exist once it has succeeded."
            )
        if not stored:
            raise exceptions.NotFound(
                f"This run has no {fmt.upper()}: its report makes "
                f"{', '.join(f.upper() for f in run.definition.formats)}."
            )
        filename = (stored.name or "").rsplit("/", 1)[-1].split("-", 1)[-1]  # without "a<attempt>-"
        response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename)
        response["Content-Type"] = content_type
        return response

    @_download_schema(ReportFormat.HTML)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, _renderer("text/html")])
    def html(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        return self._download(ReportFormat.HTML)

    @_download_schema(ReportFormat.PDF)
    @action(
        detail=True, methods=["get"], renderer_classes=[JSONRenderer, _renderer("application/pdf")]
    )
    def pdf(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        return self._download(ReportFormat.PDF)

    @_download_schema(ReportFormat.CSV)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, _renderer("text/csv")])
    def csv(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        return self._download(ReportFormat.CSV)
