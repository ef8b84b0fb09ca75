"""The webhooks API and pages: admins only, another workspace's rows not found, and a
number of queries that does not grow with the rows."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Workspace
from tests.conftest import token_client
from tests.webhooks.conftest import Receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_emit, webhook_endpoint_create

BASE = "/api/v1/workspaces/acme/webhooks/"


def test_an_admin_registers_reads_changes_and_deletes_an_endpoint(
    workspace: Workspace, admin: Membership, receiver: Receiver
) -> None:
    client = token_client(admin)
    created = client.post(
        BASE,
        {"url": receiver.url, "events": ["initiative.created", "decision.created"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["active"] is True
    assert body["events"] == ["initiative.created", "decision.created"]

    changed = client.patch(f"{BASE}{body['id']}/", {"events": ["*"]}, format="json")
    assert changed.json()["events"] == ["*"]
    off = client.patch(f"{BASE}{body['id']}/", {"active": False}, format="json")
    assert off.json()["active"] is False
    assert off.json()["disabled_reason"] == f"Turned off by {admin.user.email}."
    on = client.patch(f"{BASE}{body['id']}/", {"active": True}, format="json")
    assert (on.json()["active"], on.json()["disabled_reason"]) == (True, "")
    unknown = client.patch(f"{BASE}{body['id']}/", {"events": ["nope"]}, format="json")
    assert unknown.status_code == 400
    assert client.delete(f"{BASE}{body['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_editors_and_viewers_are_refused(
    workspace: Workspace, editor: Membership, viewer: Membership, receiver: Receiver
) -> None:
    for member in (editor, viewer):
        client = token_client(member)
        assert client.get(BASE).status_code == 403
        assert client.post(BASE, {"url": receiver.url}, format="json").status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_another_workspace_is_not_found(
    workspace: Workspace, other_workspace: Workspace, outsider: Membership, admin: Membership
) -> None:
    mine = webhook_endpoint_create(workspace=workspace, by=admin.user, url="http://localhost/x")
    theirs = webhook_endpoint_create(
        workspace=other_workspace, by=outsider.user, url="http://localhost/y"
    )
    outsider_client = token_client(outsider)
    assert outsider_client.get(BASE).status_code == 404
    admin_client = token_client(admin)
    assert admin_client.get(f"{BASE}{theirs.pk}/").status_code == 404
    assert admin_client.get(f"{BASE}{theirs.pk}/deliveries/").status_code == 404
    assert [e["id"] for e in admin_client.get(BASE).json()["results"]] == [mine.pk]


def _endpoints(workspace: Workspace, admin: Membership, count: int) -> None:
    for i in range(count):
        webhook_endpoint_create(workspace=workspace, by=admin.user, url=f"http://localhost/{i}")
    webhook_emit(workspace=workspace, event="decision.created", data={})


@pytest.mark.parametrize("page", [BASE, "/w/acme/webhooks/"])
def test_the_endpoint_list_costs_the_same_queries_for_2_or_30(
    workspace: Workspace, admin: Membership, page: str
) -> None:
    client = token_client(admin) if page.startswith("/api") else _browser(admin)
    _endpoints(workspace, admin, 2)
    client.get(page)  # the token's first use writes last_used_at: not counted
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    _endpoints(workspace, admin, 28)
    with CaptureQueriesContext(connection) as large:
        response = client.get(page)
    assert response.status_code == 200
    assert len(large) == len(small) <= 8, [q["sql"] for q in large.captured_queries]


@pytest.mark.parametrize("api", [True, False])
def test_the_delivery_list_costs_the_same_queries_for_2_or_30(
    workspace: Workspace, admin: Membership, api: bool
) -> None:
    endpoint = webhook_endpoint_create(workspace=workspace, by=admin.user, url="http://localhost/")
    page = f"{BASE}{endpoint.pk}/deliveries/" if api else f"/w/acme/webhooks/{endpoint.pk}/"
    client = token_client(admin) if api else _browser(admin)
    for _ in range(2):
        webhook_emit(workspace=workspace, event="decision.created", data={})
    client.get(page)  # the token's first use writes last_used_at: not counted
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    for _ in range(28):
        webhook_emit(workspace=workspace, event="decision.created", data={})
    with CaptureQueriesContext(connection) as large:
        response = client.get(page)
    assert response.status_code == 200
    if api:
        assert response.json()["count"] == 30
    else:
        assert response.content.decode().count('data-testid="webhook-delivery-row"') == 30
    assert len(large) == len(small) <= 8, [q["sql"] for q in large.captured_queries]


def _browser(member: Membership) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    return client


def test_the_pages_of_an_admin(workspace: Workspace, admin: Membership, receiver: Receiver) -> None:
    client = _browser(admin)
    bad = client.post("/w/acme/webhooks/new/", {"url": "ftp://x", "all_events": "on"})
    assert bad.status_code == 400
    assert "Enter a full address that starts with https://" in bad.content.decode()

    made = client.post(
        "/w/acme/webhooks/new/", {"url": receiver.url, "events": ["decision.created"]}
    )
    assert made.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["decision.created"]
    page = client.get(f"/w/acme/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret in page
    assert "hmac.compare_digest" in page
    assert "Webhooks</a>" in client.get("/w/acme/webhooks/").content.decode()

    [delivery] = webhook_emit(workspace=workspace, event="decision.created", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    resent = client.post(f"/w/acme/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    assert resent.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status in ("pending", "succeeded")

    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), "x"
    endpoint.save()
    assert client.post(f"/w/acme/webhooks/{endpoint.pk}/enable/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is True


def test_the_pages_refuse_an_editor(workspace: Workspace, editor: Membership) -> None:
    assert _browser(editor).get("/w/acme/webhooks/").status_code == 403


def test_the_schema_documents_the_webhooks_api(client: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    prefix = "/api/v1/workspaces/{workspace_slug}/webhooks/"
    assert prefix in paths
    assert prefix + "{endpoint_id}/deliveries/" in paths
    redeliver = paths[prefix + "{endpoint_id}/deliveries/{id}/redeliver/"]["post"]
    assert "202" in redeliver["responses"]
    assert "200" not in redeliver["responses"]
