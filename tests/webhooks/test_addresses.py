"""Receiver addresses: https only in production, no credentials, no private addresses."""

import socket
from typing import Any

import pytest

from accounts.models import Membership, Workspace
from tests.conftest import token_client
from webhooks.addresses import url_refusal
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_delivery_send, webhook_emit, webhook_endpoint_create


@pytest.fixture
def production(settings: Any) -> None:
    settings.DEBUG = False
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.usefixtures("production")
def test_http_is_refused_in_production_in_words(workspace: Workspace, admin: Membership) -> None:
    response = token_client(admin).post(
        "/api/v1/workspaces/acme/webhooks/", {"url": "http://localhost:8000/hooks"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["url"] == [
        "Only https:// addresses are accepted: deliveries carry your workspace's data and "
        "must be encrypted on the way."
    ]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1/hooks", "127.0.0.1, a private, loopback or link-local address"),
        ("https://10.1.2.3/hooks", "10.1.2.3, a private"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254, a private"),
        ("https://[::1]/hooks", "::1, a private"),
        ("https://[::ffff:192.168.0.1]/", "192.168.0.1, a private"),
        ("https://localhost/hooks", "a private, loopback"),
        ("https://user:pw@hooks.example.com/", "Remove the user name and password"),
        ("ftp://hooks.example.com/", "Enter a full address that starts with https://"),
        ("https:///nohost", "Enter a full address"),
        ("https://hooks.example.com:99999/", "not a valid address"),
    ],
)
def test_unsafe_addresses_are_refused(url: str, words: str) -> None:
    refusal = url_refusal(url)
    assert refusal is not None
    assert words in refusal, refusal


@pytest.mark.usefixtures("production")
def test_a_public_https_address_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))],
    )
    assert url_refusal("https://hooks.example.com/pm-value") is None


def test_credentials_are_refused_even_in_debug() -> None:
    assert url_refusal("http://me:secret@localhost:8000/") is not None


def test_a_host_that_turns_private_after_saving_is_not_reached(
    workspace: Workspace, admin: Membership, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the address is checked again on the connection itself."""
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: public)
    endpoint = webhook_endpoint_create(
        workspace=workspace, by=admin.user, url="https://hooks.example.com/x"
    )
    [delivery] = webhook_emit(workspace=workspace, event="decision.created", data={})
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: private)

    webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert "Not sent: hooks.example.com resolves to 10.0.0.5, a private" in delivery.error
    assert endpoint.pk
