"""Browser URLs of initiatives: the list and board, the form, the initiative page and its
transitions (the views live in initiatives/views.py)."""

from django.urls import include, path

app_name = "initiatives"

workspace_patterns: list = []

urlpatterns = [path("w/<slug:workspace_slug>/", include(workspace_patterns))]
