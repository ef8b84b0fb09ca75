"""API of accounts: /api/v1/me/ and /api/v1/workspaces/{slug}/teams/."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Membership, Team, User, Workspace
from accounts.selectors import memberships_for_user
from accounts.services import team_create
from accounts.workspace_api import WorkspaceViewSet


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
