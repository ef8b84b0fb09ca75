"""Sign-in protection: argon2, password rules in words, and the lockout after repeated
failures per account and per address (django-axes), which never touches API tokens."""

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Membership, User, Workspace
from accounts.services import member_add
from tests.accounts.factories import PASSWORD
from tests.conftest import token_client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

LOGIN = "/accounts/login/"
LOCKED = "Too many failed sign-ins for this account or from this address."


def sign_in(email: str, password: str, ip: str, client: Client | None = None) -> "Response":
    client = client or Client()
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(response: "Response") -> bool:
    return response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
class TestLockout:
    def test_the_default_limit_is_five_failures_and_fifteen_minutes(self) -> None:
        assert settings.AXES_FAILURE_LIMIT == 5
        assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
        assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]

    def test_one_account_is_locked_after_failures_from_different_addresses(
        self, admin: Membership
    ) -> None:
        # Given five wrong passwords for one account, each from another address
        email = admin.user.email
        for n in range(settings.AXES_FAILURE_LIMIT):
            response = sign_in(email, "wrong-password-123", f"10.0.0.{n + 1}")

        # When the right password comes from yet another address
        client = Client()
        response = sign_in(email.upper(), PASSWORD, "10.0.9.9", client)

        # Then it is refused, with the wait in words, on the site's own page
        page = response.content.decode()
        assert response.status_code == 429
        assert LOCKED in page
        assert "try again in 15 minutes." in page
        assert "· PM Value</title>" in page  # base.html
        assert "_auth_user_id" not in client.session

    def test_fewer_failures_than_the_limit_do_not_lock(self, admin: Membership) -> None:
        for n in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(admin.user.email, "wrong-password-123", f"10.0.0.{n + 1}")

        assert signed_in(sign_in(admin.user.email, PASSWORD, "10.0.0.1"))

    def test_one_address_is_locked_after_failures_for_different_accounts(
        self, admin: Membership, workspace: Workspace
    ) -> None:
        # Given one address that tried five accounts (some of which do not exist)
        for n in range(settings.AXES_FAILURE_LIMIT):
            sign_in(f"someone{n}@example.com", "wrong-password-123", "192.0.2.7")

        # When it signs in to a real account with the right password
        locked = sign_in(admin.user.email, PASSWORD, "192.0.2.7")

        # Then it is refused; the same account from another address is not
        assert locked.status_code == 429
        assert LOCKED in locked.content.decode()
        assert signed_in(sign_in(admin.user.email, PASSWORD, "192.0.2.8"))

    def test_the_cooloff_ends_the_lockout(self, admin: Membership) -> None:
        email = admin.user.email
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(email, "wrong-password-123", "10.1.0.1")
        assert sign_in(email, PASSWORD, "10.2.0.1").status_code == 429

        # When the cool-off has passed since the last failure
        AccessAttempt.objects.update(
            attempt_time=AccessAttempt.objects.latest("attempt_time").attempt_time
            - settings.AXES_COOLOFF_TIME
            - timedelta(seconds=1)
        )

        # Then the right password signs in again
        assert signed_in(sign_in(email, PASSWORD, "10.2.0.1"))

    def test_api_tokens_keep_working_while_the_account_is_locked(self, admin: Membership) -> None:
        api = token_client(admin)
        for n in range(settings.AXES_FAILURE_LIMIT):
            sign_in(admin.user.email, "wrong-password-123", f"10.3.0.{n + 1}")
        assert sign_in(admin.user.email, PASSWORD, "10.3.1.1").status_code == 429

        assert api.get("/api/v1/me/").status_code == 200

    def test_the_limit_and_the_cooloff_come_from_the_environment(self, tmp_path: Path) -> None:
        from tests.test_settings import clean_env, settings_as_json

        env = clean_env(LOGIN_FAILURE_LIMIT="7", LOGIN_COOLOFF_MINUTES="30", VAR_DIR=str(tmp_path))
        values = settings_as_json(env, ["AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME"])

        assert values == {"AXES_FAILURE_LIMIT": 7, "AXES_COOLOFF_TIME": "0:30:00"}

    def test_the_address_behind_a_trusted_proxy_is_the_clients(self, admin: Membership) -> None:
        from django.test import RequestFactory, override_settings

        from accounts.audit import client_ip

        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.2"
        )
        assert client_ip(request) == "10.9.9.9"  # no proxy trusted: spoofable header ignored
        with override_settings(TRUSTED_PROXY_COUNT=1):
            assert client_ip(request) == "198.51.100.2"


@pytest.mark.django_db
class TestPasswords:
    def test_new_passwords_are_hashed_with_argon2(self, workspace: Workspace) -> None:
        membership, _ = member_add(
            workspace=workspace, email="new@example.com", role="viewer", password=PASSWORD
        )
        assert membership.user.password.startswith("argon2$")

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short1", "This password is too short. It must contain at least 12 characters."),
            ("password1234", "This password is too common."),
        ],
    )
    def test_a_weak_password_is_refused_in_words_by_add_member(
        self, workspace: Workspace, password: str, message: str
    ) -> None:
        with pytest.raises(CommandError, match=message):
            call_command(
                "add_member",
                workspace="acme",
                email="weak@example.com",
                role="viewer",
                password=password,
            )
        assert not User.objects.filter(email="weak@example.com").exists()

    def test_a_weak_new_password_is_refused_in_words_on_the_password_page(
        self, client: Client, viewer: Membership
    ) -> None:
        client.force_login(viewer.user)
        old_hash = viewer.user.password

        response = client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "password1234",
                "new_password2": "password1234",
            },
        )

        assert response.status_code == 200
        assert "This password is too common." in response.content.decode()
        viewer.user.refresh_from_db()
        assert viewer.user.password == old_hash

    def test_a_strong_new_password_is_taken(self, client: Client, viewer: Membership) -> None:
        client.force_login(viewer.user)
        new = "a-much-longer-passphrase-42"
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        )
        assert response.status_code == 302
        viewer.user.refresh_from_db()
        assert viewer.user.check_password(new)
        assert viewer.user.password.startswith("argon2$")

    def test_the_minimum_length_comes_from_the_environment(self, tmp_path: Path) -> None:
        from tests.test_settings import clean_env, settings_as_json

        env = clean_env(PASSWORD_MIN_LENGTH="16", VAR_DIR=str(tmp_path))
        validators = settings_as_json(env, ["AUTH_PASSWORD_VALIDATORS"])["AUTH_PASSWORD_VALIDATORS"]

        assert {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 16},
        } in validators  # type: ignore[operator]
        assert {
            "NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"
        } in validators  # type: ignore[operator]
