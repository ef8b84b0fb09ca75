"""API authentication and bad input: each gets the right 4xx in words, nothing written."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, Team, Workspace
from accounts.services import api_token_create, api_token_revoke
from tests.conftest import token_client

MALFORMED = "Malformed Authorization header: expected “Token <key>” with one key and no spaces."

ME = "/api/v1/me/"
TEAMS = "/api/v1/workspaces/acme/teams/"


@pytest.mark.django_db
class TestTokenAuthentication:
    @pytest.mark.parametrize(
        ("header", "detail"),
        [
            (
                "Token",
                MALFORMED,
            ),
            (
                "Token a b",
                MALFORMED,
            ),
            (
                "Token pmv_not-a-real-key",
                "This API token is not valid: no token has this key.",
            ),
            ("Bearer pmv_xyz", "Authentication credentials were not provided."),
        ],
    )
    def test_a_bad_authorization_header_gets_401_in_words(
        self, admin: Membership, header: str, detail: str
    ) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json() == {"detail": detail}

    def test_a_non_ascii_header_gets_401(self, admin: Membership) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token clé-ünicode")
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json() == {
            "detail": "The Authorization header must contain only ASCII characters."
        }

    def test_a_revoked_token_stops_working(self, admin: Membership) -> None:
        token, key = api_token_create(membership=admin)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get(ME).status_code == 200
        api_token_revoke(token=token)
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json()["detail"].startswith("This API token was revoked on ")
        assert response.json()["detail"].endswith(" UTC; ask for a new one.")

    def test_an_expired_token_stops_working(self, admin: Membership) -> None:
        token, key = api_token_create(membership=admin, expires_at=timezone.now() + timedelta(1))
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json()["detail"].startswith("This API token expired on ")

    def test_a_token_of_a_deactivated_user_stops_working(self, admin: Membership) -> None:
        client = token_client(admin)
        admin.user.is_active = False
        admin.user.save()
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json() == {"detail": "The user of this API token is deactivated."}

    def test_using_a_token_records_when_it_was_last_used(self, admin: Membership) -> None:
        token, key = api_token_create(membership=admin)
        assert token.last_used_at is None
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        before = timezone.now()
        client.get(ME)
        token.refresh_from_db()
        assert token.last_used_at is not None
        assert token.last_used_at >= before

    def test_only_the_hash_of_the_key_is_stored(self, admin: Membership) -> None:
        token, key = api_token_create(membership=admin)
        stored = ApiToken.objects.values().get(pk=token.pk)
        assert key not in {str(v) for v in stored.values()}
        assert token.prefix == key[:12]


@pytest.mark.django_db
class TestMe:
    def test_a_session_sees_every_membership(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        Membership.objects.create(user=admin.user, workspace=other_workspace, role="viewer")
        client = APIClient()
        client.force_login(admin.user)
        body = client.get(ME).json()
        assert body["email"] == admin.user.email
        assert [(m["workspace"]["slug"], m["role"]) for m in body["memberships"]] == [
            ("acme", "admin"),
            ("globex", "viewer"),
        ]
        assert body["read_only_token"] is False

    def test_a_token_sees_only_its_own_workspace(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        Membership.objects.create(user=admin.user, workspace=other_workspace, role="viewer")
        body = token_client(admin, read_only=True).get(ME).json()
        assert [m["workspace"]["slug"] for m in body["memberships"]] == ["acme"]
        assert body["read_only_token"] is True

    def test_anonymous_gets_401(self) -> None:
        assert APIClient().get(ME).status_code == 401


@pytest.mark.django_db
class TestBadBodies:
    def test_a_post_without_csrf_in_a_session_is_refused(self, editor: Membership) -> None:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(editor.user)
        response = client.post(TEAMS, {"name": "Growth"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set."}
        assert not Team.objects.exists()

    def test_a_token_needs_no_csrf(self, editor: Membership) -> None:
        client = token_client(editor)
        client.handler.enforce_csrf_checks = True
        assert client.post(TEAMS, {"name": "Growth"}, format="json").status_code == 201

    def test_a_body_that_is_not_json_gets_400(self, editor: Membership) -> None:
        response = token_client(editor).post(
            TEAMS, data="name=Growth{", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["detail"].startswith("JSON parse error")
        assert not Team.objects.exists()

    def test_a_body_of_another_media_type_gets_415(self, editor: Membership) -> None:
        response = token_client(editor).post(TEAMS, data="name=Growth", content_type="text/plain")
        assert response.status_code == 415
        assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}
        assert not Team.objects.exists()

    def test_a_json_list_instead_of_an_object_gets_400(self, editor: Membership) -> None:
        response = token_client(editor).post(TEAMS, data=[1, 2], format="json")
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid data. Expected a dictionary, but got list."}

    def test_an_oversized_body_gets_413_before_it_is_read(
        self, editor: Membership, settings: object
    ) -> None:
        limit = 5 * 1024 * 1024
        body = '{"name": "' + "x" * limit + '"}'
        response = token_client(editor).post(TEAMS, data=body, content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {
            "detail": f"The request body is {len(body):,} bytes; the limit is {limit:,} bytes."
        }
        assert not Team.objects.exists()
