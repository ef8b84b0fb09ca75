"""Browser URLs of accounts: log in and out, passwords (change, and reset by e-mail), the
start page, the workspace home, API tokens, members and the audit log."""

from django.urls import include, path

from accounts import invitation_views, views

app_name = "accounts"

auth_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
]

urlpatterns = [
    path("", views.home, name="root"),
    path("accounts/", include(auth_patterns)),
    path("w/<slug:workspace_slug>/", views.workspace_home, name="workspace-home"),
    path("w/<slug:workspace_slug>/tokens/", views.tokens, name="tokens"),
    path(
        "w/<slug:workspace_slug>/tokens/<int:token_id>/revoke/",
        views.token_revoke,
        name="token-revoke",
    ),
    path("w/<slug:workspace_slug>/members/", views.members, name="members"),
    path(
        "w/<slug:workspace_slug>/members/<int:member_id>/role/",
        views.member_role,
        name="member-role",
    ),
    path(
        "w/<slug:workspace_slug>/members/<int:member_id>/remove/",
        views.member_delete,
        name="member-remove",
    ),
    path(
        "w/<slug:workspace_slug>/members/invite/",
        invitation_views.member_invite,
        name="member-invite",
    ),
    path(
        "w/<slug:workspace_slug>/members/invitations/<int:invitation_id>/withdraw/",
        invitation_views.invitation_withdraw,
        name="invitation-withdraw",
    ),
    path("w/<slug:workspace_slug>/audit/", views.audit_log, name="audit"),
    path("invitations/<str:key>/", invitation_views.invitation, name="invitation"),
]
