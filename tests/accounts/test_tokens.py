"""API tokens: an optional expiry chosen at creation, revocation in the browser and the
API, last_used_at written at most once a minute, refusals in words."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership
from accounts.services import api_token_authenticate, api_token_create
from tests.conftest import token_client

ME = "/api/v1/me/"
TOKENS_PAGE = "/w/acme/tokens/"
TOKENS_API = "/api/v1/workspaces/acme/tokens/"


def api_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
class TestTokensPage:
    def test_a_member_creates_a_token_with_an_expiry_and_sees_its_key_once(
        self, client: Client, viewer: Membership
    ) -> None:
        client.force_login(viewer.user)

        response = client.post(
            TOKENS_PAGE, {"name": "BI export", "read_only": "on", "expires_in_days": "30"}
        )

        page = response.content.decode()
        token = ApiToken.objects.get(membership=viewer)
        assert response.status_code == 200
        assert 'data-testid="new-key"' in page
        key = page.split("<code>pmv_")[1].split("</code>")[0]
        assert token.read_only
        assert token.name == "BI export"
        assert token.expires_at is not None
        expected = timezone.now() + timedelta(days=30)
        assert abs(token.expires_at - expected) < timedelta(minutes=1)
        assert api_with("pmv_" + key).get(ME).status_code == 200
        assert "pmv_" + key not in client.get(TOKENS_PAGE).content.decode()

    def test_without_an_expiry_the_token_works_until_revoked(
        self, client: Client, editor: Membership
    ) -> None:
        client.force_login(editor.user)
        client.post(TOKENS_PAGE, {"name": "CI", "expires_in_days": ""})
        assert ApiToken.objects.get(membership=editor).expires_at is None

    def test_a_member_revokes_their_own_token_and_it_answers_401_in_words(
        self, client: Client, editor: Membership
    ) -> None:
        token, key = api_token_create(membership=editor, name="old")
        client.force_login(editor.user)

        response = client.post(f"/w/acme/tokens/{token.pk}/revoke/", follow=True)

        assert f"The token {token.prefix}… is revoked: it stops working now." in (
            response.content.decode()
        )
        refused = api_with(key).get(ME)
        assert refused.status_code == 401
        assert refused.json()["detail"].startswith("This API token was revoked on ")

    def test_a_member_cannot_revoke_someone_elses_token(
        self, client: Client, admin: Membership, viewer: Membership
    ) -> None:
        token, key = api_token_create(membership=admin)
        client.force_login(viewer.user)

        response = client.post(f"/w/acme/tokens/{token.pk}/revoke/")

        assert response.status_code == 403
        assert "You can revoke your own API tokens; an admin revokes the others." in (
            response.content.decode()
        )
        assert api_with(key).get(ME).status_code == 200

    def test_an_admin_sees_and_revokes_every_members_token(
        self, client: Client, admin: Membership, editor: Membership
    ) -> None:
        token, key = api_token_create(membership=editor, name="editor's")
        client.force_login(admin.user)

        page = client.get(TOKENS_PAGE).content.decode()
        assert 'data-testid="other-tokens"' in page
        assert token.prefix in page
        client.post(f"/w/acme/tokens/{token.pk}/revoke/")

        assert api_with(key).get(ME).status_code == 401

    def test_a_viewer_does_not_see_other_members_tokens(
        self, client: Client, admin: Membership, viewer: Membership
    ) -> None:
        token, _ = api_token_create(membership=admin)
        client.force_login(viewer.user)
        page = client.get(TOKENS_PAGE).content.decode()
        assert token.prefix not in page
        assert 'data-testid="other-tokens"' not in page

    def test_a_token_of_another_workspace_is_not_found(
        self, client: Client, admin: Membership, outsider: Membership
    ) -> None:
        token, key = api_token_create(membership=outsider)
        client.force_login(admin.user)
        assert client.post(f"/w/acme/tokens/{token.pk}/revoke/").status_code == 404
        assert api_with(key).get(ME).status_code == 200


@pytest.mark.django_db
class TestLastUsed:
    def test_last_used_is_written_at_most_once_a_minute(
        self, admin: Membership, django_assert_num_queries: object
    ) -> None:
        token, key = api_token_create(membership=admin)
        api_token_authenticate(key=key)
        token.refresh_from_db()
        first = token.last_used_at
        assert first is not None

        # Within the minute: one SELECT, no UPDATE
        with django_assert_num_queries(1):  # type: ignore[operator]
            api_token_authenticate(key=key)
        token.refresh_from_db()
        assert token.last_used_at == first

        # Later: written again
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
        api_token_authenticate(key=key)
        token.refresh_from_db()
        assert token.last_used_at is not None
        assert token.last_used_at > first - timedelta(minutes=1)


@pytest.mark.django_db
class TestTokensApi:
    def test_an_admin_creates_a_token_with_an_expiry_and_revokes_it(
        self, admin: Membership
    ) -> None:
        client = APIClient()
        client.force_login(admin.user)
        expires = (timezone.now() + timedelta(days=7)).replace(microsecond=0)

        created = client.post(
            TOKENS_API, {"name": "Zapier", "expires_at": expires.isoformat()}, format="json"
        )

        assert created.status_code == 201, created.content
        body = created.json()
        assert body["key"].startswith("pmv_")
        assert body["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
        assert api_with(body["key"]).get(ME).status_code == 200
        listed = client.get(TOKENS_API).json()
        assert [t["name"] for t in listed["results"]] == ["Zapier"]
        assert "key" not in listed["results"][0]

        revoked = client.post(f"{TOKENS_API}{body['id']}/revoke/")

        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert api_with(body["key"]).get(ME).status_code == 401

    def test_an_expiry_in_the_past_is_refused_in_words(self, admin: Membership) -> None:
        client = APIClient()
        client.force_login(admin.user)
        past = (timezone.now() - timedelta(days=1)).isoformat()

        response = client.post(TOKENS_API, {"expires_at": past}, format="json")

        assert response.status_code == 400
        assert response.json() == {"expires_at": ["The expiry must be in the future."]}
        assert not ApiToken.objects.exists()

    def test_editors_and_viewers_get_403(self, editor: Membership, viewer: Membership) -> None:
        response = token_client(editor).post(TOKENS_API, {}, format="json")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Your role in this workspace is editor; this needs an admin."
        }
        assert ApiToken.objects.count() == 1  # only the editor's own client token

    def test_a_token_cannot_make_a_token_that_outlives_it(self, admin: Membership) -> None:
        soon = timezone.now() + timedelta(days=1)
        _, key = api_token_create(membership=admin, expires_at=soon)

        response = api_with(key).post(TOKENS_API, {"name": "forever"}, format="json")

        assert response.status_code == 400
        assert response.json()["expires_at"][0].startswith(
            "A token made with a token cannot outlive it"
        )
        assert ApiToken.objects.count() == 1

    def test_a_token_does_not_revoke_itself(self, admin: Membership) -> None:
        token, key = api_token_create(membership=admin)

        response = api_with(key).post(f"{TOKENS_API}{token.pk}/revoke/")

        assert response.status_code == 409
        assert response.json()["detail"].startswith("This is the token of this very request")
        assert api_with(key).get(ME).status_code == 200


@pytest.mark.django_db
def test_the_command_makes_a_token_with_an_expiry(admin: Membership, capsys: object) -> None:
    call_command("create_api_token", workspace="acme", email=admin.user.email, expires_in_days=10)
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert abs(token.expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)
