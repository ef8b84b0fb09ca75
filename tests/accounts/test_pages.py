"""Browser pages of accounts, through Django's test client."""

import pytest
from django.test import Client

from accounts.models import Membership, Workspace
from tests.accounts.factories import PASSWORD, TeamFactory


@pytest.mark.django_db
class TestLogin:
    def test_the_login_page_is_the_start_for_anonymous_visitors(self, client: Client) -> None:
        response = client.get("/", follow=True)
        assert response.redirect_chain[-1][0] == "/accounts/login/"
        assert "Log in to PM Value" in response.content.decode()

    def test_a_wrong_password_says_so_and_logs_nobody_in(
        self, client: Client, admin: Membership
    ) -> None:
        response = client.post(
            "/accounts/login/", {"username": admin.user.email, "password": "not-the-password"}
        )
        assert response.status_code == 200
        assert (
            "The e-mail address or the password is not right. Please try again."
            in response.content.decode()
        )
        assert "_auth_user_id" not in client.session

    def test_the_right_password_lands_on_the_workspace_home(
        self, client: Client, admin: Membership
    ) -> None:
        response = client.post(
            "/accounts/login/",
            {"username": admin.user.email.upper(), "password": PASSWORD},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == "/w/acme/"
        assert "<h1>Acme</h1>" in response.content.decode()

    def test_a_login_without_csrf_token_is_refused_in_words(self, admin: Membership) -> None:
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            "/accounts/login/", {"username": admin.user.email, "password": PASSWORD}
        )
        assert response.status_code == 403
        assert "This form could not be sent" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_logout_needs_a_post_and_ends_the_session(
        self, client: Client, admin: Membership
    ) -> None:
        client.force_login(admin.user)
        assert client.get("/accounts/logout/").status_code == 405
        response = client.post("/accounts/logout/", follow=True)
        assert response.redirect_chain[-1][0] == "/accounts/login/"
        assert client.get("/w/acme/").status_code == 302


@pytest.mark.django_db
class TestWorkspaceHome:
    def test_a_member_sees_the_workspace_its_teams_and_vision(
        self, client: Client, viewer: Membership, workspace: Workspace
    ) -> None:
        workspace.vision = "Decisions on data."
        workspace.save()
        TeamFactory.create(workspace=workspace, name="Growth")
        client.force_login(viewer.user)
        page = client.get("/w/acme/").content.decode()
        assert "Decisions on data." in page
        assert "Growth" in page
        assert 'data-testid="member-count">1<' in page

    def test_a_workspace_of_someone_else_is_not_found(
        self, client: Client, outsider: Membership, workspace: Workspace
    ) -> None:
        client.force_login(outsider.user)
        response = client.get("/w/acme/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()

    def test_anonymous_visitors_are_sent_to_log_in(
        self, client: Client, workspace: Workspace
    ) -> None:
        response = client.get("/w/acme/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/w/acme/"

    def test_someone_without_a_workspace_is_told_how_to_get_one(
        self, client: Client, admin: Membership
    ) -> None:
        admin.delete()
        client.force_login(admin.user)
        response = client.get("/")
        assert "You are not in a workspace yet" in response.content.decode()

    def test_the_page_costs_the_same_queries_for_2_or_40_teams_and_workspaces(
        self,
        client: Client,
        admin: Membership,
        workspace: Workspace,
        django_assert_max_num_queries: object,
    ) -> None:
        from tests.accounts.factories import MembershipFactory

        for i in range(40):
            TeamFactory.create(workspace=workspace, name=f"Team {i}")
            MembershipFactory.create(user=admin.user, workspace__slug=f"ws-{i}")
        client.force_login(admin.user)
        # session, user, membership, role counts, teams, switcher memberships
        with django_assert_max_num_queries(6):  # type: ignore[operator]
            response = client.get("/w/acme/")
        assert response.content.decode().count('class="badge badge--') >= 41
