"""API routes of accounts under /api/v1/workspaces/{slug}/ that pm_value.api.urls does
not hold: the workspace's API tokens."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts.api import ApiTokenViewSet

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [path("workspaces/<slug:workspace_slug>/", include(router.urls))]
