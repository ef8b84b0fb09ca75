"""API v1 routes. Every workspace resource hangs under workspaces/<slug>/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts.api import MeView, TeamViewSet
from initiatives.api import (
    AlignmentViewSet,
    DecisionViewSet,
    ExpectedImpactViewSet,
    ExperimentViewSet,
    IdeaViewSet,
    InitiativeViewSet,
    StakeholderViewSet,
)
from reports.api import ObjectivesValueView, ValueSummaryView
from reports.report_api import DefinitionRunViewSet, ReportDefinitionViewSet, ReportRunViewSet
from strategy.api import (
    KeyResultViewSet,
    MeasurementImportView,
    MeasurementViewSet,
    MetricViewSet,
    ObjectiveViewSet,
)
from webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

workspace_router = SimpleRouter()
workspace_router.register("teams", TeamViewSet, basename="team")
workspace_router.register("objectives", ObjectiveViewSet, basename="objective")
workspace_router.register("key-results", KeyResultViewSet, basename="key-result")
workspace_router.register("metrics", MetricViewSet, basename="metric")
workspace_router.register(
    r"metrics/(?P<metric_id>[0-9]+)/measurements", MeasurementViewSet, basename="measurement"
)
workspace_router.register("initiatives", InitiativeViewSet, basename="initiative")
_OF_INITIATIVE = r"initiatives/(?P<initiative_id>[0-9]+)/"
workspace_router.register(
    _OF_INITIATIVE + "alignments", AlignmentViewSet, basename="initiative-alignment"
)
workspace_router.register(
    _OF_INITIATIVE + "expected-impacts",
    ExpectedImpactViewSet,
    basename="initiative-expected-impact",
)
workspace_router.register(
    _OF_INITIATIVE + "stakeholders", StakeholderViewSet, basename="initiative-stakeholder"
)
workspace_router.register("decisions", DecisionViewSet, basename="decision")
workspace_router.register("experiments", ExperimentViewSet, basename="experiment")
workspace_router.register("ideas", IdeaViewSet, basename="idea")
workspace_router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
workspace_router.register(
    r"webhooks/(?P<endpoint_id>[0-9]+)/deliveries",
    WebhookDeliveryViewSet,
    basename="webhook-delivery",
)
workspace_router.register("reports", ReportDefinitionViewSet, basename="report-definition")
workspace_router.register(
    r"reports/(?P<definition_id>[0-9]+)/runs",
    DefinitionRunViewSet,
    basename="report-definition-run",
)
workspace_router.register("report-runs", ReportRunViewSet, basename="report-run")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path(
        "workspaces/<slug:workspace_slug>/measurements/import/",
        MeasurementImportView.as_view(),
        name="api-measurements-import",
    ),
    path(
        "workspaces/<slug:workspace_slug>/value/summary/",
        ValueSummaryView.as_view(),
        name="api-value-summary",
    ),
    path(
        "workspaces/<slug:workspace_slug>/value/objectives/",
        ObjectivesValueView.as_view(),
        name="api-value-objectives",
    ),
    path("workspaces/<slug:workspace_slug>/", include(workspace_router.urls)),
]
