"""Browser URLs of initiatives: the list and board, the form, the initiative page and its
transitions (the views live in initiatives/views.py)."""

from django.urls import include, path

from initiatives import views

app_name = "initiatives"

one = "initiatives/<int:initiative_id>/"

workspace_patterns = [
    path("initiatives/", views.initiative_list, name="list"),
    path("initiatives/board/", views.initiative_board, name="board"),
    path("initiatives/new/", views.initiative_create, name="create"),
    path(one, views.initiative_detail, name="detail"),
    path(f"{one}edit/", views.initiative_edit, name="edit"),
    path(f"{one}delete/", views.initiative_delete, name="delete"),
    path(f"{one}transition/", views.initiative_transition, name="transition"),
    path(f"{one}stakeholders/", views.stakeholder_add, name="stakeholder-add"),
    path(
        f"{one}stakeholders/<int:stakeholder_id>/remove/",
        views.stakeholder_remove,
        name="stakeholder-remove",
    ),
    path(f"{one}alignments/", views.alignment_add, name="alignment-add"),
    path(
        f"{one}alignments/<int:alignment_id>/edit/",
        views.alignment_edit,
        name="alignment-edit",
    ),
    path(
        f"{one}alignments/<int:alignment_id>/remove/",
        views.alignment_remove,
        name="alignment-remove",
    ),
    path(f"{one}impacts/", views.impact_add, name="impact-add"),
    path(f"{one}impacts/<int:impact_id>/edit/", views.impact_edit, name="impact-edit"),
    path(f"{one}impacts/<int:impact_id>/remove/", views.impact_remove, name="impact-remove"),
    path(f"{one}experiments/new/", views.experiment_create, name="experiment-create"),
    path(
        f"{one}experiments/<int:experiment_id>/edit/",
        views.experiment_edit,
        name="experiment-edit",
    ),
    path(
        f"{one}experiments/<int:experiment_id>/delete/",
        views.experiment_delete,
        name="experiment-delete",
    ),
    path(f"{one}decisions/", views.decision_add, name="decision-add"),
]

urlpatterns = [path("w/<slug:workspace_slug>/", include(workspace_patterns))]
