"""Revoking the token of the very request is refused with 409 in words, and the schema says
so (schemathesis found the 409 undocumented)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership
from accounts.services import api_token_create


@pytest.mark.django_db
def test_revoking_the_token_of_this_request_is_a_documented_409(admin: Membership) -> None:
    token, key = api_token_create(membership=admin, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post(f"/api/v1/workspaces/acme/tokens/{token.pk}/revoke/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This is the token of this very request: revoke it with another token or "
        "in the browser, so you do not lock yourself out by mistake."
    }
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/workspaces/{workspace_slug}/tokens/{id}/revoke/"]["post"]
    assert "409" in operation["responses"]
