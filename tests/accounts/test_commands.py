"""The command line of accounts: create_workspace, add_member, create_api_token."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, Membership, User, Workspace
from accounts.services import api_token_authenticate


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestCreateWorkspace:
    def test_creates_a_workspace_with_its_currency(self) -> None:
        out = run("create_workspace", "--slug", "acme", "--name", "Acme", "--currency", "usd")
        assert out.strip() == "Created workspace “Acme” (acme, USD)."
        workspace = Workspace.objects.get(slug="acme")
        assert (workspace.name, workspace.currency, workspace.timezone) == ("Acme", "USD", "UTC")

    def test_the_currency_defaults_to_euro(self) -> None:
        run("create_workspace", "--slug", "acme", "--name", "Acme")
        assert Workspace.objects.get(slug="acme").currency == "EUR"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--slug", "acme", "--name", "A", "--currency", "EURO"], "three-letter ISO 4217"),
            (["--slug", "not a slug", "--name", "A"], "slug: Enter a valid “slug”"),
            (["--slug", "acme", "--name", "A", "--timezone", "Mars/Base"], "not a known time zone"),
        ],
    )
    def test_bad_values_are_refused_and_nothing_is_written(
        self, args: list[str], message: str
    ) -> None:
        with pytest.raises(CommandError, match=message):
            run("create_workspace", *args)
        assert not Workspace.objects.exists()

    def test_a_taken_slug_is_refused(self) -> None:
        run("create_workspace", "--slug", "acme", "--name", "Acme")
        with pytest.raises(CommandError, match="Workspace with this Slug already exists"):
            run("create_workspace", "--slug", "acme", "--name", "Other")
        assert Workspace.objects.get().name == "Acme"


@pytest.mark.django_db
class TestAddMember:
    def test_creates_the_user_who_can_then_log_in(self, workspace: Workspace) -> None:
        out = run(
            "add_member",
            "--workspace",
            "acme",
            "--email",
            "Ann@Example.com",
            "--role",
            "admin",
            "--password",
            "a-long-enough-passphrase",
        )
        assert out.strip() == "Added ann@example.com as admin of acme."
        user = User.objects.get(email="ann@example.com")
        assert user.check_password("a-long-enough-passphrase")
        assert Membership.objects.get(user=user, workspace=workspace).role == "admin"

    def test_an_existing_member_gets_the_new_role(self, editor: Membership) -> None:
        out = run(
            "add_member", "--workspace", "acme", "--email", editor.user.email, "--role", "viewer"
        )
        assert out.strip() == f"Updated {editor.user.email} as viewer of acme."
        editor.refresh_from_db()
        assert editor.role == "viewer"
        assert Membership.objects.filter(user=editor.user).count() == 1

    def test_an_unknown_workspace_is_refused(self, workspace: Workspace) -> None:
        with pytest.raises(
            CommandError, match="No workspace with the slug “nope”. Known workspaces: acme"
        ):
            run("add_member", "--workspace", "nope", "--email", "a@example.com", "--role", "admin")
        assert not User.objects.exists()

    def test_an_unknown_role_is_refused(self, workspace: Workspace) -> None:
        with pytest.raises(
            CommandError, match="“boss” is not a role; use one of: admin, editor, viewer."
        ):
            run("add_member", "--workspace", "acme", "--email", "a@example.com", "--role", "boss")
        assert not User.objects.exists()

    def test_a_weak_password_is_refused_and_no_user_is_created(self, workspace: Workspace) -> None:
        with pytest.raises(CommandError, match="This password is too short"):
            run(
                "add_member",
                "--workspace",
                "acme",
                "--email",
                "a@example.com",
                "--role",
                "admin",
                "--password",
                "short",
            )
        assert not User.objects.exists()
        assert not Membership.objects.exists()


@pytest.mark.django_db
class TestCreateApiToken:
    def test_prints_only_a_key_that_authenticates(self, admin: Membership) -> None:
        out = run("create_api_token", "--workspace", "acme", "--email", admin.user.email)
        key = out.strip()
        assert "\n" not in key
        assert key.startswith("pmv_")
        token = api_token_authenticate(key=key)
        assert token is not None
        assert token.membership == admin
        assert token.read_only is False
        # only a hash is stored, never the key
        assert not ApiToken.objects.filter(key_hash=key).exists()
        assert key not in token.key_hash

    def test_read_only(self, viewer: Membership) -> None:
        key = run(
            "create_api_token", "--workspace", "acme", "--email", viewer.user.email, "--read-only"
        ).strip()
        token = api_token_authenticate(key=key)
        assert token is not None
        assert token.read_only is True

    def test_someone_who_is_not_a_member_gets_no_token(
        self, outsider: Membership, workspace: Workspace
    ) -> None:
        with pytest.raises(CommandError, match="is not a member of acme"):
            run("create_api_token", "--workspace", "acme", "--email", outsider.user.email)
        assert not ApiToken.objects.exists()

    def test_an_unknown_workspace_is_refused(self, admin: Membership) -> None:
        with pytest.raises(CommandError, match="No workspace with the slug “nope”"):
            run("create_api_token", "--workspace", "nope", "--email", admin.user.email)


@pytest.mark.django_db
def test_commands_exit_non_zero_with_the_message_on_stderr(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import ManagementUtility

    argv = [
        "manage.py",
        "add_member",
        "--workspace",
        "nope",
        "--email",
        "a@example.com",
        "--role",
        "admin",
    ]
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(argv).execute()
    assert exit_info.value.code == 1
    assert "CommandError: No workspace with the slug “nope”" in capsys.readouterr().err
