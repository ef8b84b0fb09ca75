"""Browser URLs of value reports: definitions, their runs, and the run page (whose name,
`value_reports:run`, the report e-mails link to)."""

from django.urls import include, path

from reports import report_views

app_name = "value_reports"

workspace_patterns = [
    path("", report_views.report_list, name="list"),
    path("new/", report_views.report_create, name="create"),
    path("<int:definition_id>/", report_views.report_detail, name="definition"),
    path("<int:definition_id>/edit/", report_views.report_edit, name="edit"),
    path("<int:definition_id>/delete/", report_views.report_delete, name="delete"),
    path("<int:definition_id>/run/", report_views.report_run_now, name="run-now"),
    path("runs/<int:pk>/", report_views.run_page, name="run"),
    path("runs/<int:pk>/status/", report_views.run_status, name="run-status"),
    path("runs/<int:pk>/retry/", report_views.run_retry, name="run-retry"),
    path(
        "runs/<int:pk>/deliveries/<int:report_delivery_id>/resend/",
        report_views.delivery_resend,
        name="delivery-resend",
    ),
]

urlpatterns = [path("w/<slug:workspace_slug>/reports/", include(workspace_patterns))]
