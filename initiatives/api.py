"""API of initiatives under /api/v1/workspaces/{slug}/ (DESIGN.md §4): initiatives with
their money figures, transitions, alignments, expected impacts, expected vs realized
impact, stakeholders, the decision log, experiments and ideas. Views parse and shape;
initiatives.services write, initiatives.selectors read and compute."""

from datetime import date
from typing import Any, cast

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, filters, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ApiToken, User
from accounts.permissions import has_scope
from accounts.workspace_api import WorkspaceViewSet
from initiatives import selectors, services
from initiatives.filters import DecisionFilter, ExperimentFilter, IdeaFilter, InitiativeFilter
from initiatives.models import (
    Alignment,
    Decision,
    ExpectedImpact,
    Experiment,
    Idea,
    Initiative,
    Stakeholder,
    Vote,
)
from initiatives.serializers import (
    AlignmentSerializer,
    DecisionSerializer,
    ExpectedImpactSerializer,
    ExperimentSerializer,
    IdeaDeclineSerializer,
    IdeaSerializer,
    ImpactReportSerializer,
    InitiativeSerializer,
    PromotedSerializer,
    StakeholderSerializer,
    TransitionSerializer,
    refuse_moved,
)
from pm_value.api.schema import ErrorSerializer
from strategy.filters import query_date
from strategy.services import workspace_today

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    OpenApiParameter.QUERY,
    description="Evaluate the realized figures on this date (YYYY-MM-DD); default: today in "
    "the workspace's time zone.",
)
INITIATIVE_ID = OpenApiParameter(
    "initiative_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Id of an initiative of this workspace.",
)


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class _WorkspaceViewSet(WorkspaceViewSet):
    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters shape lists; one object is found by its id whatever they say.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # WorkspacePermission let only members in


class _CrudViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    _WorkspaceViewSet,
):
    """CRUD scoped to the workspace; writes go through the services in perform_*."""


# --- initiatives -------------------------------------------------------------------------------

_WITH_FIGURES = [AS_OF]
# (IdFilter's own schema leaves these without words.)
_INITIATIVE_FILTERS = [
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's initiatives."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="Only those this user owns."),
    OpenApiParameter(
        "objective", OpenApiTypes.INT, description="Only those aligned to this objective."
    ),
]
_OF_AN_INITIATIVE = [
    OpenApiParameter("initiative", OpenApiTypes.INT, description="Only those of this initiative.")
]


@extend_schema_view(
    list=extend_schema(parameters=[*_WITH_FIGURES, *_INITIATIVE_FILTERS]),
    retrieve=extend_schema(parameters=_WITH_FIGURES),
    create=extend_schema(parameters=_WITH_FIGURES),
    update=extend_schema(parameters=_WITH_FIGURES),
    partial_update=extend_schema(parameters=_WITH_FIGURES),
    destroy=extend_schema(
        responses={
            204: None,
            409: _conflict(
                "A committed, in-delivery, released or measured initiative is part of the "
                "record: cancel it instead."
            ),
        }
    ),
)
class InitiativeViewSet(_CrudViewSet):
    """Initiatives with their money figures (DESIGN.md §3), sorted by value density unless
    ?ordering= says otherwise. The status changes only through …/transition/."""

    queryset = Initiative.objects.all()
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter
    filter_backends = [DjangoFilterBackend]  # ordering is InitiativeFilter's (in SQL)

    today: date

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # the workspace is known after this
        # Parsed before anything is written, so a bad date refuses the whole request.
        self.today = query_date(request, "as_of") or workspace_today(self.workspace)

    def get_queryset(self) -> QuerySet[Initiative]:
        queryset: QuerySet[Initiative] = super().get_queryset()
        if self.action in ("list", "retrieve"):
            queryset = _shaped(queryset)
        return queryset

    def _with_figures(self, initiatives: list[Initiative]) -> list[Initiative]:
        """The serializer reads `figures.*`: computed for the whole page in one query."""
        for row in selectors.list_rows(initiatives, today=self.today):
            row.initiative.figures = row  # type: ignore[attr-defined]
        return initiatives

    def _read(self, initiative: Initiative) -> Initiative:
        """The initiative as a read shows it, after a write."""
        fresh = _shaped(Initiative.objects.filter(pk=initiative.pk)).get()
        return self._with_figures([fresh])[0]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = self._with_figures(list(queryset) if page is None else page)
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def get_object(self) -> Initiative:
        initiative: Initiative = super().get_object()
        if self.action == "retrieve":
            self._with_figures([initiative])
        return initiative

    def perform_create(self, serializer: serializers.BaseSerializer[Initiative]) -> None:
        data = dict(serializer.validated_data)
        initiative = services.initiative_create(workspace=self.workspace, by=self.user, **data)
        serializer.instance = self._read(initiative)

    def perform_update(self, serializer: serializers.BaseSerializer[Initiative]) -> None:
        assert serializer.instance is not None  # noqa: S101 - an update has its instance
        data = dict(serializer.validated_data)
        initiative = services.initiative_update(
            initiative=serializer.instance, by=self.user, **data
        )
        serializer.instance = self._read(initiative)

    def perform_destroy(self, instance: Initiative) -> None:
        services.initiative_delete(initiative=instance, by=self.user)

    @extend_schema(
        request=TransitionSerializer,
        parameters=_WITH_FIGURES,
        responses={
            200: InitiativeSerializer,
            409: _conflict(
                "Refused by the lifecycle or a guard, with the reason in words: a move the "
                "table does not allow, a rationale under 10 characters, commit without an "
                "expected impact and an active alignment, a release date in the future, "
                "measured before the window ends. Nothing was written."
            ),
        },
        description="Moves the initiative to another status and writes the Decision. "
        "An unknown status answers 400 under `to` (in the lifecycle's words); a move the "
        "lifecycle or its guards refuse answers 409 with the reason.",
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        initiative = self.get_object()
        serializer = TransitionSerializer(
            data=request.data, context={"initiative": initiative, "today": self.today}
        )
        serializer.is_valid(raise_exception=True)
        moved = services.initiative_transition(
            initiative=initiative, by=self.user, **serializer.validated_data
        )
        return Response(self.get_serializer(self._read(moved)).data)

    @extend_schema(
        parameters=_WITH_FIGURES,
        responses={200: ImpactReportSerializer},
        description="Expected vs realized impact per expected impact (DESIGN.md §3), and "
        "the totals.",
    )
    @action(detail=True, methods=["get"])
    def impact(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        initiative = self.get_object()
        impacts = selectors.impacts_for(initiatives=[initiative], today=self.today)
        pairs = impacts[initiative.pk]
        report = {
            "as_of": self.today,
            "currency": self.workspace.currency,
            "impacts": [{"impact": impact, "figures": figures} for impact, figures in pairs],
            "totals": selectors.initiative_totals([figures for _, figures in pairs]),
        }
        return Response(ImpactReportSerializer(report).data)


def _shaped(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """With what a read nests: one query each, whatever the number of initiatives."""
    return queryset.prefetch_related("stakeholders", "alignments", "expected_impacts")


# --- what hangs under one initiative ------------------------------------------------------------


class _OfInitiativeViewSet(_CrudViewSet):
    """Rows of one initiative, under initiatives/{initiative_id}/…: an initiative of another
    workspace, or none, is 404."""

    workspace_field = "initiative__workspace"
    filter_backends: list[Any] = []
    _initiative: Initiative | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # the workspace is known after this
        self.get_initiative()  # an unknown initiative is 404 before the body is judged

    def get_initiative(self) -> Initiative:
        if self._initiative is None:
            try:
                self._initiative = Initiative.objects.get(
                    workspace=self.workspace, pk=self.kwargs["initiative_id"]
                )
            except Initiative.DoesNotExist:
                raise exceptions.NotFound("No initiative with this id in this workspace.") from None
        return self._initiative

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().filter(initiative=self.get_initiative())

    def get_object(self) -> Any:
        instance = super().get_object()
        instance.initiative = self.get_initiative()  # no query when a service reads it
        return instance


def _nested_schema() -> Any:
    """The initiative_id path parameter on every operation of a nested viewset."""
    documented = extend_schema(parameters=[INITIATIVE_ID])
    return extend_schema_view(
        list=documented,
        retrieve=documented,
        create=documented,
        update=documented,
        partial_update=documented,
        destroy=documented,
    )


@_nested_schema()
class AlignmentViewSet(_OfInitiativeViewSet):
    """The objectives an initiative serves, with weights (1–100, summing to at most 100)."""

    queryset = Alignment.objects.all()
    serializer_class = AlignmentSerializer

    def perform_create(self, serializer: serializers.BaseSerializer[Alignment]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.alignment_create(initiative=self.get_initiative(), **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Alignment]) -> None:
        alignment = cast(Alignment, serializer.instance)
        data = refuse_moved(
            alignment,
            serializer.validated_data,
            "objective",
            "An alignment keeps its objective: delete it and align to the other objective.",
        )
        serializer.instance = services.alignment_update(
            alignment=alignment,
            weight=data.get("weight", alignment.weight),
            rationale=data.get("rationale"),
        )

    def perform_destroy(self, instance: Alignment) -> None:
        services.alignment_delete(alignment=instance)


@_nested_schema()
class ExpectedImpactViewSet(_OfInitiativeViewSet):
    """The metric changes an initiative promises."""

    queryset = ExpectedImpact.objects.all()
    serializer_class = ExpectedImpactSerializer

    def perform_create(self, serializer: serializers.BaseSerializer[ExpectedImpact]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.expected_impact_create(
            initiative=self.get_initiative(), **data
        )

    def perform_update(self, serializer: serializers.BaseSerializer[ExpectedImpact]) -> None:
        impact = cast(ExpectedImpact, serializer.instance)
        data = refuse_moved(
            impact,
            serializer.validated_data,
            "metric",
            "An expected impact keeps its metric: delete it and add one on the other metric.",
        )
        serializer.instance = services.expected_impact_update(impact=impact, **data)

    def perform_destroy(self, instance: ExpectedImpact) -> None:
        services.expected_impact_delete(impact=instance)


@_nested_schema()
class StakeholderViewSet(_OfInitiativeViewSet):
    """The people with a stake in an initiative (members of the workspace), and what they
    expect."""

    queryset = Stakeholder.objects.all()
    serializer_class = StakeholderSerializer

    def perform_create(self, serializer: serializers.BaseSerializer[Stakeholder]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.stakeholder_add(initiative=self.get_initiative(), **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Stakeholder]) -> None:
        stakeholder = cast(Stakeholder, serializer.instance)
        data = refuse_moved(
            stakeholder,
            serializer.validated_data,
            "user",
            "A stakeholder stays the same person: remove them and add the other person.",
        )
        serializer.instance = services.stakeholder_update(stakeholder=stakeholder, **data)

    def perform_destroy(self, instance: Stakeholder) -> None:
        services.stakeholder_remove(stakeholder=instance)


# --- decisions and experiments -------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=_OF_AN_INITIATIVE))
class DecisionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _WorkspaceViewSet,
):
    """The decision log, newest first. Transitions write theirs; `defer` and `other`
    decisions are recorded here by hand. The log is never edited or deleted."""

    queryset = Decision.objects.all()
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    filter_backends = [DjangoFilterBackend]

    def perform_create(self, serializer: serializers.BaseSerializer[Decision]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.decision_record(
            workspace=self.workspace, by=self.user, **data
        )


@extend_schema_view(list=extend_schema(parameters=_OF_AN_INITIATIVE))
class ExperimentViewSet(_CrudViewSet):
    """Experiments that test an initiative's hypothesis, newest start first."""

    queryset = Experiment.objects.all()
    serializer_class = ExperimentSerializer
    workspace_field = "initiative__workspace"
    filterset_class = ExperimentFilter
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["started_on", "ended_on", "created_at"]
    ordering = ["-started_on", "-id"]

    def perform_create(self, serializer: serializers.BaseSerializer[Experiment]) -> None:
        data = dict(serializer.validated_data)
        initiative = data.pop("initiative")
        serializer.instance = services.experiment_create(initiative=initiative, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Experiment]) -> None:
        experiment = cast(Experiment, serializer.instance)
        data = refuse_moved(
            experiment,
            serializer.validated_data,
            "initiative",
            "An experiment stays with its initiative: delete it and add it to the other one.",
        )
        serializer.instance = services.experiment_update(experiment=experiment, **data)

    def perform_destroy(self, instance: Experiment) -> None:
        services.experiment_delete(experiment=instance)


# --- ideas -----------------------------------------------------------------------------------

IDEA_OWNER_ONLY = "Only the person who submitted this idea, or an editor or admin, can change it."


@extend_schema_view(
    update=extend_schema(
        responses={200: IdeaSerializer, 409: _conflict("A promoted or declined idea.")}
    ),
    partial_update=extend_schema(
        responses={200: IdeaSerializer, 409: _conflict("A promoted or declined idea.")}
    ),
    destroy=extend_schema(responses={204: None, 409: _conflict("A promoted or declined idea.")}),
)
class IdeaViewSet(_CrudViewSet):
    """Ideas anyone in the workspace submits and votes for (viewers too); their submitter,
    an editor or an admin changes or deletes them while they are open; editors mark them
    under review, promote them to initiatives or decline them with a reason."""

    queryset = Idea.objects.all()
    serializer_class = IdeaSerializer
    filterset_class = IdeaFilter
    filter_backends = [DjangoFilterBackend]
    # Viewers may contribute ideas and votes (accounts.permissions); update and delete
    # then check that the caller submitted the idea or may write.
    scope_map = {
        "create": "contribute",
        "update": "contribute",
        "partial_update": "contribute",
        "destroy": "contribute",
        "vote": "contribute",
        "unvote": "contribute",
    }

    def get_queryset(self) -> QuerySet[Idea]:
        voted = Vote.objects.filter(idea=OuterRef("pk"), user=self.user)
        queryset: QuerySet[Idea] = super().get_queryset()
        return queryset.annotate(vote_count=Count("votes"), voted=Exists(voted)).order_by(
            "-created_at", "-id"
        )

    def _read(self, idea: Idea) -> Idea:
        return self.get_queryset().get(pk=idea.pk)

    def _check_may_change(self, idea: Idea) -> None:
        token = self.request.auth if isinstance(self.request.auth, ApiToken) else None
        if idea.submitted_by_id != self.user.pk and not has_scope(self.membership, "write", token):
            raise exceptions.PermissionDenied(IDEA_OWNER_ONLY)

    def perform_create(self, serializer: serializers.BaseSerializer[Idea]) -> None:
        data = dict(serializer.validated_data)
        idea = services.idea_submit(workspace=self.workspace, by=self.user, **data)
        serializer.instance = self._read(idea)

    def perform_update(self, serializer: serializers.BaseSerializer[Idea]) -> None:
        idea = cast(Idea, serializer.instance)
        self._check_may_change(idea)
        data = dict(serializer.validated_data)
        serializer.instance = self._read(services.idea_update(idea=idea, **data))

    def perform_destroy(self, instance: Idea) -> None:
        self._check_may_change(instance)
        services.idea_delete(idea=instance)

    @extend_schema(
        request=None,
        responses={
            201: IdeaSerializer,
            409: _conflict("You have already voted for this idea, or it is promoted or declined."),
        },
        description="Your vote for the idea (one per person); answers the idea with its new count.",
    )
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idea = self.get_object()
        services.idea_vote(idea=idea, by=self.user)
        return Response(self.get_serializer(self._read(idea)).data, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: IdeaSerializer, 409: _conflict("You have not voted for this idea.")},
        description="Takes your vote back; answers the idea with its new count.",
    )
    @vote.mapping.delete
    def unvote(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idea = self.get_object()
        services.idea_unvote(idea=idea, by=self.user)
        return Response(self.get_serializer(self._read(idea)).data)

    @extend_schema(
        request=None,
        responses={
            200: IdeaSerializer,
            409: _conflict("The idea is already under review, promoted or declined."),
        },
        description="Marks a new idea under review: the product team is looking at it "
        "(editors and admins). It still takes votes, and is promoted or declined from there.",
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idea = self.get_object()
        services.idea_review(idea=idea, by=self.user)
        return Response(self.get_serializer(self._read(idea)).data)

    @extend_schema(
        request=None,
        responses={
            201: PromotedSerializer,
            409: _conflict("The idea is already an initiative, or it was declined."),
        },
        description="Turns the idea into a proposed initiative owned by you (editors and "
        "admins); answers its id and URL (also in the Location header).",
    )
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        initiative = services.idea_promote(idea=self.get_object(), by=self.user)
        url = request.build_absolute_uri(
            reverse(
                "initiative-detail",
                kwargs={"workspace_slug": self.workspace.slug, "pk": initiative.pk},
            )
        )
        body = PromotedSerializer({"id": initiative.pk, "url": url}).data
        return Response(body, status.HTTP_201_CREATED, headers={"Location": url})

    @extend_schema(
        request=IdeaDeclineSerializer,
        responses={
            200: IdeaSerializer,
            409: _conflict("The idea is already promoted or declined."),
        },
        description="Declines the idea with a reason (editors and admins); it joins the "
        "“not doing” list.",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idea = self.get_object()
        serializer = IdeaDeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.idea_decline(idea=idea, by=self.user, **serializer.validated_data)
        return Response(self.get_serializer(self._read(idea)).data)
