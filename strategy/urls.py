"""Browser URLs of strategy: the objective tree, key results, metrics and measurements."""

from django.urls import include, path

from strategy import views

app_name = "strategy"

workspace_patterns = [
    path("strategy/", views.strategy_page, name="strategy"),
    path("strategy/objectives/new/", views.objective_create, name="objective-create"),
    path(
        "strategy/objectives/<int:objective_id>/edit/",
        views.objective_edit,
        name="objective-edit",
    ),
    path(
        "strategy/objectives/<int:objective_id>/key-results/new/",
        views.key_result_create,
        name="key-result-create",
    ),
    path("metrics/", views.metric_list, name="metrics"),
    path("metrics/new/", views.metric_create, name="metric-create"),
    path("metrics/<int:metric_id>/", views.metric_detail, name="metric"),
    path("metrics/<int:metric_id>/edit/", views.metric_edit, name="metric-edit"),
    path(
        "metrics/<int:metric_id>/measurements/",
        views.measurement_add,
        name="measurement-add",
    ),
    path(
        "metrics/<int:metric_id>/measurements/import/",
        views.measurement_import,
        name="measurement-import",
    ),
]

urlpatterns = [path("w/<slug:workspace_slug>/", include(workspace_patterns))]
