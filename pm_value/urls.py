"""Top-level URLs: the browser pages, the API v1, its schema and docs, and /healthz."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from pm_value import health

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("strategy.urls")),
    path("", include("initiatives.urls")),
    path("", include("initiatives.idea_urls")),
    path("", include("reports.urls")),
    path("", include("reports.share_urls")),
    path("", include("reports.report_urls")),
    path("", include("webhooks.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("pm_value.api.urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from ?script (no inline script: CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "accounts.views.permission_denied"  # audits the refusal (accounts/audit.py)
handler404 = "pm_value.api.errors.page_not_found"
