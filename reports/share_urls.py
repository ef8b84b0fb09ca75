"""Share links: their management pages under the workspace's dashboard, and the public
address /s/<token>/ that opens the dashboard of one scope without a login."""

from django.urls import include, path

from reports import share_views

app_name = "sharing"

workspace_patterns = [
    path("dashboard/share-links/", share_views.share_links, name="share-links"),
    path("dashboard/share-links/new/", share_views.share_link_create, name="share-link-create"),
    path(
        "dashboard/share-links/<int:link_id>/revoke/",
        share_views.share_link_revoke,
        name="share-link-revoke",
    ),
]

urlpatterns = [
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
    path("s/<str:token>/", share_views.shared_dashboard, name="dashboard"),
]
