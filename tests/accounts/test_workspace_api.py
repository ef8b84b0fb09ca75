"""The workspace API base, proven on teams/: membership, roles, tokens and scoping."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Team, Workspace
from tests.accounts.factories import TeamFactory
from tests.conftest import token_client

TEAMS = "/api/v1/workspaces/{slug}/teams/"


def session_client(membership: Membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


@pytest.mark.django_db
class TestWhoMayReadAndWrite:
    @pytest.mark.parametrize("role_fixture", ["admin", "editor", "viewer"])
    def test_every_member_lists_the_teams_of_their_workspace_only(
        self,
        request: pytest.FixtureRequest,
        role_fixture: str,
        workspace: Workspace,
        other_workspace: Workspace,
    ) -> None:
        # given a team in each workspace
        TeamFactory.create(workspace=workspace, name="Growth")
        TeamFactory.create(workspace=other_workspace, name="Secret Globex Team")
        membership = request.getfixturevalue(role_fixture)

        # when a member lists the teams
        response = session_client(membership).get(TEAMS.format(slug="acme"))

        # then they see their workspace's team and never the other one
        assert response.status_code == 200
        assert [t["name"] for t in response.json()["results"]] == ["Growth"]
        assert response.json()["count"] == 1

    @pytest.mark.parametrize("role_fixture", ["admin", "editor"])
    def test_admins_and_editors_create_teams(
        self, request: pytest.FixtureRequest, role_fixture: str, workspace: Workspace
    ) -> None:
        membership = request.getfixturevalue(role_fixture)
        response = session_client(membership).post(
            TEAMS.format(slug="acme"), {"name": "  Growth  ", "description": "Sign-ups"}
        )
        assert response.status_code == 201
        assert response.json()["name"] == "Growth"
        assert Team.objects.get(workspace=workspace).name == "Growth"

    def test_a_viewer_cannot_create_a_team(self, viewer: Membership) -> None:
        response = session_client(viewer).post(TEAMS.format(slug="acme"), {"name": "Growth"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Your role in this workspace is viewer; this needs an editor or admin."
        }
        assert not Team.objects.exists()

    def test_a_read_only_token_reads_but_cannot_write(self, admin: Membership) -> None:
        client = token_client(admin, read_only=True)
        assert client.get(TEAMS.format(slug="acme")).status_code == 200
        response = client.post(TEAMS.format(slug="acme"), {"name": "Growth"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "This API token is read-only; it cannot change anything."
        }
        assert not Team.objects.exists()

    def test_a_token_acts_with_its_role(self, editor: Membership, workspace: Workspace) -> None:
        response = token_client(editor).post(TEAMS.format(slug="acme"), {"name": "Growth"})
        assert response.status_code == 201
        assert Team.objects.filter(workspace=workspace, name="Growth").exists()

    def test_anonymous_gets_401_with_the_scheme_to_use(self, workspace: Workspace) -> None:
        response = APIClient().get(TEAMS.format(slug="acme"))
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert APIClient().post(TEAMS.format(slug="acme"), {"name": "X"}).status_code == 401
        assert not Team.objects.exists()


@pytest.mark.django_db
class TestOtherWorkspacesAreInvisible:
    def test_a_member_of_another_workspace_gets_404(
        self, outsider: Membership, workspace: Workspace
    ) -> None:
        client = session_client(outsider)
        assert client.get(TEAMS.format(slug="acme")).status_code == 404
        response = client.post(TEAMS.format(slug="acme"), {"name": "Planted"})
        assert response.status_code == 404
        assert response.json() == {"detail": "No workspace with this slug."}
        assert not Team.objects.filter(workspace=workspace).exists()

    def test_an_unknown_workspace_answers_exactly_like_a_foreign_one(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        client = session_client(admin)
        unknown = client.get(TEAMS.format(slug="does-not-exist"))
        foreign = client.get(TEAMS.format(slug="globex"))
        assert unknown.status_code == foreign.status_code == 404
        assert unknown.json() == foreign.json()

    def test_a_token_of_another_workspace_gets_404_even_if_its_user_is_a_member(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        # given the same person is admin of both workspaces, with a token made in globex
        globex_membership = Membership.objects.create(
            user=admin.user, workspace=other_workspace, role="admin"
        )
        client = token_client(globex_membership)
        # then the token cannot reach acme, though a session of the same user could
        assert client.get(TEAMS.format(slug="acme")).status_code == 404
        assert session_client(admin).get(TEAMS.format(slug="acme")).status_code == 200

    def test_a_team_of_another_workspace_is_not_found_by_id(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        foreign_team = TeamFactory.create(workspace=other_workspace)
        response = session_client(admin).get(TEAMS.format(slug="acme") + f"{foreign_team.pk}/")
        assert response.status_code == 404

    def test_a_team_of_ones_own_workspace_is_found_by_id(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        team = TeamFactory.create(workspace=workspace, name="Growth")
        response = session_client(viewer).get(TEAMS.format(slug="acme") + f"{team.pk}/")
        assert response.status_code == 200
        assert response.json()["name"] == "Growth"


@pytest.mark.django_db
class TestTeamInput:
    def test_a_duplicate_name_is_refused_in_words_whatever_its_case(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        TeamFactory.create(workspace=workspace, name="Growth")
        response = session_client(editor).post(TEAMS.format(slug="acme"), {"name": "GROWTH"})
        assert response.status_code == 400
        assert response.json() == {
            "name": ["A team named “GROWTH” already exists in this workspace."]
        }
        assert Team.objects.filter(workspace=workspace).count() == 1

    def test_the_same_name_in_another_workspace_is_fine(
        self, editor: Membership, other_workspace: Workspace
    ) -> None:
        TeamFactory.create(workspace=other_workspace, name="Growth")
        response = session_client(editor).post(TEAMS.format(slug="acme"), {"name": "Growth"})
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "name", "This field is required."),
            ({"name": "   "}, "name", "This field may not be blank."),
            ({"name": "x" * 121}, "name", "Ensure this field has no more than 120 characters."),
            ({"name": ["a list"]}, "name", "Not a valid string."),
        ],
    )
    def test_bad_names_are_refused_with_a_field_error(
        self, editor: Membership, body: dict[str, object], field: str, message: str
    ) -> None:
        response = session_client(editor).post(TEAMS.format(slug="acme"), body, format="json")
        assert response.status_code == 400
        assert response.json() == {field: [message]}
        assert not Team.objects.exists()


@pytest.mark.django_db
class TestPaginationAndQueries:
    def test_limit_and_offset_page_through_the_list(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        for i in range(5):
            TeamFactory.create(workspace=workspace, name=f"Team {i}")
        body = session_client(viewer).get(TEAMS.format(slug="acme") + "?limit=2&offset=2").json()
        assert body["count"] == 5
        assert [t["name"] for t in body["results"]] == ["Team 2", "Team 3"]
        assert body["next"].endswith("limit=2&offset=4")
        assert body["previous"].endswith("limit=2")

    def test_the_list_costs_the_same_queries_for_3_or_60_teams(
        self,
        viewer: Membership,
        workspace: Workspace,
        django_assert_max_num_queries: object,
    ) -> None:
        client = token_client(viewer)
        for i in range(60):
            TeamFactory.create(workspace=workspace, name=f"Team {i:02}")
        # token lookup, last_used_at touch, count, page
        with django_assert_max_num_queries(4):  # type: ignore[operator]
            response = client.get(TEAMS.format(slug="acme") + "?limit=500")
        assert len(response.json()["results"]) == 60
