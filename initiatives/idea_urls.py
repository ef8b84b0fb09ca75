"""Browser URLs of ideas and the Not doing page (the views live in initiatives/idea_views.py)."""

from django.urls import include, path

app_name = "ideas"

workspace_patterns: list = []

urlpatterns = [path("w/<slug:workspace_slug>/", include(workspace_patterns))]
