"""API of webhooks under /api/v1/workspaces/{slug}/: webhooks/ (endpoints, admins only),
webhooks/{endpoint_id}/deliveries/ and their redeliver/ action. Thin: the rules are in
webhooks.services."""

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.workspace_api import WorkspaceViewSet
from webhooks import services
from webhooks.models import ALL_EVENTS, SUBSCRIBABLE_EVENTS, WebhookDelivery, WebhookEndpoint
from webhooks.selectors import deliveries_of, endpoints_of

ADMIN_ONLY = {
    "GET": "admin",
    "HEAD": "admin",
    "OPTIONS": "admin",
    "POST": "admin",
    "PUT": "admin",
    "PATCH": "admin",
    "DELETE": "admin",
}


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[ALL_EVENTS, *SUBSCRIBABLE_EVENTS]),
        allow_empty=False,
        required=False,
        help_text='The events to receive, or ["*"] for all (the default), present and future.',
    )
    active = serializers.BooleanField(
        required=False,
        help_text="False turns the endpoint off; true turns a turned-off endpoint on again.",
    )
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (X-PMValue-Signature). As sensitive as a password.",
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "secret",
            "active",
            "disabled_at",
            "disabled_reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "disabled_at", "disabled_reason", "created_at"]
        extra_kwargs = {"url": {"help_text": "https:// address that receives the POSTs."}}


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    event_id = serializers.UUIDField(
        read_only=True, help_text="The same for every attempt and resend: dedupe on it."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "response_code",
            "response_body",
            "error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    payload = serializers.JSONField(read_only=True, help_text="The JSON body that is POSTed.")

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload"]
        read_only_fields = fields


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    WorkspaceViewSet,
):
    """Outbound webhook endpoints of the workspace (admins). Each event a subscribed
    endpoint wants is POSTed as JSON, signed with its secret."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    scope_map = {**ADMIN_ONLY, "ping": "admin"}
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return endpoints_of(workspace=self.workspace)

    def perform_create(self, serializer: serializers.BaseSerializer[WebhookEndpoint]) -> None:
        data = serializer.validated_data
        serializer.instance = services.webhook_endpoint_create(
            workspace=self.workspace,
            by=cast(User, self.request.user),
            url=data["url"],
            events=data.get("events"),
            description=data.get("description", ""),
        )

    def perform_update(self, serializer: serializers.BaseSerializer[WebhookEndpoint]) -> None:
        data = serializer.validated_data
        serializer.instance = services.webhook_endpoint_update(
            endpoint=cast(WebhookEndpoint, serializer.instance),
            url=data.get("url"),
            events=data.get("events"),
            description=data.get("description"),
            active=data.get("active"),
            by=cast(User, self.request.user),
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryDetailSerializer},
        summary="Send a test event (ping) to this endpoint",
    )
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = services.webhook_ping(endpoint=self.get_object(), by=cast(User, request.user))
        return Response(
            WebhookDeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The endpoint's id."
)


@extend_schema_view(
    list=extend_schema(parameters=[ENDPOINT_ID], summary="The endpoint's deliveries, newest first"),
    retrieve=extend_schema(parameters=[ENDPOINT_ID], responses=WebhookDeliveryDetailSerializer),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """The deliveries of one endpoint: status, attempts, the receiver's answer."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    workspace_field = "endpoint__workspace"
    scope_map = {**ADMIN_ONLY, "redeliver": "admin"}
    filter_backends: list[Any] = []
    _endpoint: WebhookEndpoint | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.get_endpoint()  # an endpoint of another workspace, or none, is 404

    def get_endpoint(self) -> WebhookEndpoint:
        if self._endpoint is None:
            endpoint = WebhookEndpoint.objects.filter(
                workspace=self.workspace, pk=self.kwargs["endpoint_id"]
            ).first()
            if endpoint is None:
                raise exceptions.NotFound("No webhook endpoint with this id in this workspace.")
            self._endpoint = endpoint
        return self._endpoint

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if self.action == "list":
            return deliveries_of(endpoint=self.get_endpoint())
        return WebhookDelivery.objects.filter(endpoint=self.get_endpoint())

    def get_serializer_class(self) -> type[serializers.BaseSerializer[WebhookDelivery]]:
        if self.action == "list":
            return WebhookDeliverySerializer
        return WebhookDeliveryDetailSerializer

    @extend_schema(
        parameters=[ENDPOINT_ID],
        request=None,
        responses={202: WebhookDeliveryDetailSerializer},
        summary="Send the delivery again, with the same event id",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = services.webhook_redeliver(delivery=self.get_object())
        return Response(
            WebhookDeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
