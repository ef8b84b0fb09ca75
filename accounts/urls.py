"""Browser URLs of accounts: log in and out, the start page and the workspace home."""

from django.urls import include, path

from accounts import views

app_name = "accounts"

auth_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("", views.home, name="root"),
    path("accounts/", include(auth_patterns)),
    path("w/<slug:workspace_slug>/", views.workspace_home, name="workspace-home"),
]
