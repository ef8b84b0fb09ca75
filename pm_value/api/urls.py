"""API v1 routes. Every workspace resource hangs under workspaces/<slug>/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts.api import MeView, TeamViewSet
from strategy.api import (
    KeyResultViewSet,
    MeasurementImportView,
    MeasurementViewSet,
    MetricViewSet,
    ObjectiveViewSet,
)

workspace_router = SimpleRouter()
workspace_router.register("teams", TeamViewSet, basename="team")
workspace_router.register("objectives", ObjectiveViewSet, basename="objective")
workspace_router.register("key-results", KeyResultViewSet, basename="key-result")
workspace_router.register("metrics", MetricViewSet, basename="metric")
workspace_router.register(
    r"metrics/(?P<metric_id>[0-9]+)/measurements", MeasurementViewSet, basename="measurement"
)

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path(
        "workspaces/<slug:workspace_slug>/measurements/import/",
        MeasurementImportView.as_view(),
        name="api-measurements-import",
    ),
    path("workspaces/<slug:workspace_slug>/", include(workspace_router.urls)),
]
