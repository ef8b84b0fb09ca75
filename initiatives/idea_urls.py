"""Browser URLs of ideas and the Not doing page (the views live in initiatives/idea_views.py)."""

from django.urls import URLPattern, include, path

from initiatives import idea_views

app_name = "ideas"

workspace_patterns: list[URLPattern] = [
    path("ideas/", idea_views.idea_list, name="list"),
    path("ideas/<int:idea_id>/vote/", idea_views.idea_vote, name="vote"),
    path("ideas/<int:idea_id>/review/", idea_views.idea_review, name="review"),
    path("ideas/<int:idea_id>/promote/", idea_views.idea_promote, name="promote"),
    path("ideas/<int:idea_id>/decline/", idea_views.idea_decline, name="decline"),
    path("not-doing/", idea_views.not_doing, name="not-doing"),
]

urlpatterns = [path("w/<slug:workspace_slug>/", include(workspace_patterns))]
