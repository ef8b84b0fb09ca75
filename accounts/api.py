"""API of accounts: /api/v1/me/, and teams/ and tokens/ under /api/v1/workspaces/{slug}/."""

from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Membership, Team, User, Workspace
from accounts.selectors import memberships_for_user
from accounts.services import api_token_create, api_token_revoke, team_create
from accounts.workspace_api import WorkspaceViewSet
from pm_value.api.errors import DomainError
from pm_value.api.schema import ErrorSerializer


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    class Meta:
        model = Workspace
        fields = ["id", "slug", "name", "currency", "timezone"]


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    workspace = WorkspaceSerializer()

    class Meta:
        model = Membership
        fields = ["workspace", "role"]


class MeSerializer(serializers.ModelSerializer[User]):
    memberships = serializers.SerializerMethodField()
    read_only_token = serializers.SerializerMethodField(
        help_text="True when the request came with a read-only API token."
    )

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "memberships", "read_only_token"]

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> list[dict[str, Any]]:
        token = self.context.get("token")
        # A token acts in one workspace only, so it sees only that membership.
        memberships = [token.membership] if token else memberships_for_user(user=user)
        return MembershipSerializer(memberships, many=True).data  # type: ignore[return-value]

    def get_read_only_token(self, user: User) -> bool:
        token = self.context.get("token")
        return bool(token and token.read_only)


class MeView(APIView):
    """The authenticated user and the workspaces they belong to, with their role."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        user = cast(User, request.user)  # IsAuthenticated has run
        return Response(MeSerializer(user, context={"token": token}).data)


class TeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A team needs a name.")
        return value


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Product teams of the workspace. Editors and admins create them."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = team_create(workspace=self.workspace, **serializer.validated_data)
        return Response(self.get_serializer(team).data, status=status.HTTP_201_CREATED)


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    member = serializers.EmailField(source="membership.user.email", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "member",
            "read_only",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown in this answer only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """The workspace's API tokens (admins). A new token acts as its creator, optionally
    read-only and with an expiry; its key is in the creation's answer only. A token made
    with a token cannot outlive it."""

    queryset = ApiToken.objects.select_related("membership__user")
    serializer_class = ApiTokenSerializer
    workspace_field = "membership__workspace"
    scope_map = {"GET": "admin", "POST": "admin", "revoke": "admin"}
    ordering_fields = ["created_at", "last_used_at", "expires_at"]
    ordering = ["-created_at", "-id"]

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expires_at = data.get("expires_at")
        creator = request.auth if isinstance(request.auth, ApiToken) else None
        limit = creator.expires_at if creator is not None else None
        if limit is not None and (expires_at is None or expires_at > limit):
            raise serializers.ValidationError(
                {
                    "expires_at": [
                        "A token made with a token cannot outlive it: choose an expiry "
                        f"before {limit:%Y-%m-%d %H:%M} UTC."
                    ]
                }
            )
        token, key = api_token_create(
            membership=self.membership,
            name=data.get("name", ""),
            read_only=data.get("read_only", False),
            expires_at=expires_at,
        )
        body = NewApiTokenSerializer(token).data
        body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: ApiTokenSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="The token of this very request is not revoked."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = self.get_object()
        if token == request.auth:
            raise DomainError(
                "This is the token of this very request: revoke it with another token or "
                "in the browser, so you do not lock yourself out by mistake."
            )
        token = api_token_revoke(token=token)
        return Response(self.get_serializer(token).data)
