"""Browser URLs of reports: the value dashboard of a workspace (the views live in
reports/views.py; share links have their own, reports/share_urls.py)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("w/<slug:workspace_slug>/dashboard/", views.dashboard_page, name="dashboard"),
]
