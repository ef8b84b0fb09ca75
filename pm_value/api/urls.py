"""API v1 routes. Every workspace resource hangs under workspaces/<slug>/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts.api import MeView, TeamViewSet

workspace_router = SimpleRouter()
workspace_router.register("teams", TeamViewSet, basename="team")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("workspaces/<slug:workspace_slug>/", include(workspace_router.urls)),
]
