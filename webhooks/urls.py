"""Browser URLs of webhooks (admins): /w/<slug>/webhooks/…"""

from django.urls import path

from webhooks import views

app_name = "webhooks"

_ENDPOINT = "w/<slug:workspace_slug>/webhooks/<int:endpoint_id>/"

urlpatterns = [
    path("w/<slug:workspace_slug>/webhooks/", views.endpoint_list, name="list"),
    path("w/<slug:workspace_slug>/webhooks/new/", views.endpoint_create, name="create"),
    path(_ENDPOINT, views.endpoint_detail, name="detail"),
    path(_ENDPOINT + "edit/", views.endpoint_edit, name="edit"),
    path(_ENDPOINT + "ping/", views.endpoint_ping, name="ping"),
    path(_ENDPOINT + "enable/", views.endpoint_enable, name="enable"),
    path(_ENDPOINT + "disable/", views.endpoint_disable, name="disable"),
    path(_ENDPOINT + "secret/", views.endpoint_rotate_secret, name="rotate-secret"),
    path(_ENDPOINT + "delete/", views.endpoint_delete, name="delete"),
    path(
        _ENDPOINT + "deliveries/<int:delivery_id>/resend/",
        views.delivery_resend,
        name="resend",
    ),
]
