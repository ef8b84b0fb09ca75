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
        "strategy/objectives/<int:objective_id>/archive/",
        views.objective_archive,
        name="objective-archive",
    ),
    path(
        "strategy/objectives/<int:objective_id>/delete/",
        views.objective_delete,
        name="objective-delete",
    ),
    path(
        "strategy/key-results/<int:key_result_id>/edit/",
        views.key_result_edit,
        name="key-result-edit",
    ),
    path(
        "strategy/key-results/<int:key_result_id>/archive/",
        views.key_result_archive,
        name="key-result-archive",
    ),
    path(
        "strategy/key-results/<int:key_result_id>/restore/",
        views.key_result_restore,
        name="key-result-restore",
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
    path("metrics/<int:metric_id>/archive/", views.metric_archive, name="metric-archive"),
    path("metrics/<int:metric_id>/restore/", views.metric_restore, name="metric-restore"),
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
