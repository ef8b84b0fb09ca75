"""The base of every API view under /api/v1/workspaces/{slug}/.

It resolves the workspace from the URL, checks the membership and the scope the
operation needs (accounts.permissions), and scopes every query to the workspace, so an
object of another workspace is simply not found (404). Later apps build on these classes
and never check roles themselves.
"""

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditAction, Membership, Workspace
from accounts.permissions import METHOD_SCOPES, has_scope
from accounts.selectors import membership_for


class WorkspacePermission(permissions.BasePermission):
    """Member of the workspace in the URL, with the scope the operation needs."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # DRF answers 401 (token authentication comes first)
        slug = view.kwargs.get("workspace_slug", "")
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None:
            # A token acts only in its own workspace; anywhere else nothing exists.
            membership = token.membership
            if membership.workspace.slug != slug:
                raise exceptions.NotFound("No workspace with this slug.")
        else:
            found = membership_for(user=request.user, slug=slug)
            if found is None:
                raise exceptions.NotFound("No workspace with this slug.")
            membership = found
        view.membership = membership  # type: ignore[attr-defined]
        view.workspace = membership.workspace  # type: ignore[attr-defined]
        scope = view.required_scope(request)  # type: ignore[attr-defined]
        if not has_scope(membership, scope, token):
            self.message = _refusal(membership, scope, token)
            return False
        return True


def _refusal(membership: Membership, scope: str, token: ApiToken | None) -> str:
    if token is not None and token.read_only:
        return "This API token is read-only; it cannot change anything."
    needs = {"write": "an editor or admin", "admin": "an admin", "contribute": "a member"}
    return (
        f"Your role in this workspace is {membership.role}; "
        f"this needs {needs.get(scope, 'another role')}."
    )


class WorkspaceScopedMixin:
    """Mixin for API views under a workspace. Set `workspace_field` to the lookup from the
    model to its workspace (e.g. "metric__workspace"); override `scope_map` to ask for
    another scope per action or method (e.g. {"vote": "contribute"})."""

    workspace_field = "workspace"
    scope_map: dict[str, str] = {}

    workspace: Workspace
    membership: Membership

    def get_permissions(self) -> list[permissions.BasePermission]:
        # Fixed here, not a class attribute a subclass could replace by mistake.
        return [permissions.IsAuthenticated(), WorkspacePermission()]

    def required_scope(self, request: Request) -> str:
        action = getattr(self, "action", None)
        if action and action in self.scope_map:
            return self.scope_map[action]
        return self.scope_map.get(
            request.method or "GET", METHOD_SCOPES.get(request.method or "GET", "admin")
        )

    def handle_exception(self, exc: Exception) -> Response:
        # Every 403 of a member, from the scope check or from the view itself, is audited.
        workspace = getattr(self, "workspace", None)
        if isinstance(exc, exceptions.PermissionDenied) and workspace is not None:
            request: Request = self.request  # type: ignore[attr-defined]
            token = request.auth if isinstance(request.auth, ApiToken) else None
            audit_record(
                action=AuditAction.ACCESS_DENIED,
                workspace=workspace,
                actor=self.membership.user,
                target_type="api",
                target_label=f"{request.method} {request.path}"[:200],
                details={
                    "reason": str(exc.detail),
                    "token": token.prefix if token is not None else None,
                },
                request=request._request,
            )
        return super().handle_exception(exc)  # type: ignore[misc]

    def get_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset()  # type: ignore[misc]
        return queryset.filter(**{self.workspace_field: self.workspace})

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        context["workspace"] = getattr(self, "workspace", None)
        return context


class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    """GenericViewSet scoped to the workspace in the URL; add the mixins you need."""


class WorkspaceRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary-key field that only finds objects of the request's workspace: an id of
    another workspace answers "does not exist", exactly like an unknown id."""

    def __init__(self, *, workspace_field: str = "workspace", **kwargs: Any) -> None:
        self.workspace_field = workspace_field
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Model]:
        queryset = super().get_queryset()
        assert queryset is not None  # noqa: S101 - set by the field's queryset argument
        workspace = self.context.get("workspace")
        if workspace is None:
            return queryset.none()
        return queryset.filter(**{self.workspace_field: workspace})
