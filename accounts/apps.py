from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and workspaces"

    def ready(self) -> None:
        # Connects the receivers that audit sign-ins and lockouts.
        from accounts import signin  # noqa: F401
