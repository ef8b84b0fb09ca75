"""An API address no route matches answers 404 in the API's JSON error format (it was the
HTML page for people, which an API client cannot read); other addresses keep the page."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership
from tests.conftest import token_client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces/acme/decisions/0.5/",
        "/api/v1/workspaces/acme/metrics/x/measurements/",
        "/api/v1/workspaces/ac%20me/initiatives/",
        "/api/v1/nothing-here/",
    ],
)
def test_an_api_address_without_a_route_is_not_found_in_json(admin: Membership, path: str) -> None:
    client: APIClient = token_client(admin)

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found: no API operation at this address."}


@pytest.mark.django_db
def test_a_page_address_without_a_route_is_the_page_for_people(admin: Membership) -> None:
    browser = Client()
    browser.force_login(admin.user)

    response = browser.get("/w/acme/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
