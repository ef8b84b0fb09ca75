"""Deliveries against a real HTTP receiver: signature, payload, retries with backoff,
timeouts in words, giving up, turning off an endpoint failing for a day, a task delivered
twice, and resending."""

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership, Workspace
from tests.conftest import token_client
from tests.webhooks.conftest import Receiver, send_due, verify_function
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_emit
from webhooks.tasks import deliver


def _emit(workspace: Workspace, django_capture_on_commit_callbacks: Any) -> WebhookDelivery:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        webhook_emit(workspace=workspace, event="decision.created", data={"decision": {"id": 1}})
    assert len(queued) == 1  # the send waits for the commit
    return WebhookDelivery.objects.get()


def test_an_initiative_created_through_the_api_is_delivered_signed(
    workspace: Workspace,
    editor: Membership,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an endpoint of the workspace, when an editor creates an initiative by the API
    client = token_client(editor)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/api/v1/workspaces/{workspace.slug}/initiatives/",
            {"title": "Self-serve onboarding"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert len(queued) == 1
    assert receiver.requests == []  # nothing sent before the commit
    delivery = WebhookDelivery.objects.get()
    deliver.apply(args=[delivery.pk])

    # then the receiver got one POST, signed with the endpoint's secret
    [request] = receiver.requests
    verify = verify_function()
    assert verify(endpoint.secret, request.headers, request.body)
    assert not verify("whsec_another", request.headers, request.body)
    assert not verify(endpoint.secret, request.headers, request.body + b" ")
    assert request.headers["X-PMValue-Event"] == "initiative.created"
    assert request.headers["X-PMValue-Delivery"] == str(delivery.event_id)
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["event"] == "initiative.created"
    assert body["id"] == str(delivery.event_id)
    assert body["workspace"] == {"id": workspace.pk, "slug": "acme"}
    assert body["data"]["initiative"]["id"] == response.json()["id"]
    assert body["data"]["initiative"]["title"] == "Self-serve onboarding"
    assert body["data"]["initiative"]["status"] == "proposed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_code, delivery.response_body) == (1, 200, "ok")


def test_a_delivery_older_than_5_minutes_fails_the_documented_check(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _emit(workspace, django_capture_on_commit_callbacks)
    send_due()
    [request] = receiver.requests
    verify = verify_function()
    assert verify(endpoint.secret, request.headers, request.body)

    sent = time.time()
    monkeypatch.setattr(time, "time", lambda: sent + 301)  # a replay, 5 minutes later

    assert not verify(endpoint.secret, request.headers, request.body)


def test_a_500_is_retried_with_backoff_then_succeeds(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.answers = ["500", "500", "200"]
    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    start = timezone.now()

    [first] = send_due(start)
    delivery.refresh_from_db()
    assert (first.outcome, first.retry_in) == ("retry", 1)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.response_code == 500
    assert delivery.response_body == "receiver brokedown"  # NUL dropped
    assert "The receiver answered 500 Internal Server Error." in delivery.error
    assert "Trying again in 1 seconds" in delivery.error
    assert delivery.next_attempt_at == start + timedelta(seconds=1)
    # not due yet: a task arriving early does nothing
    assert send_due(start + timedelta(milliseconds=100))[0].outcome == "skipped"

    second = send_due(start + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert second[0].retry_in == 5  # the delays grow
    assert delivery.next_attempt_at == start + timedelta(seconds=6)

    third = send_due(start + timedelta(seconds=6))
    delivery.refresh_from_db()
    assert third[0].outcome == "succeeded"
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3
    assert delivery.error == ""
    assert len(receiver.requests) == 3
    assert {r.headers["X-PMValue-Delivery"] for r in receiver.requests} == {str(delivery.event_id)}


def test_a_receiver_that_hangs_is_recorded_in_words(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.answers = ["hang"]
    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    started = time.monotonic()

    send_due()

    assert time.monotonic() - started < 1.5
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.response_code is None
    assert "The receiver did not answer within 0.5 seconds." in delivery.error


def test_after_the_last_retry_the_delivery_fails(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.answers = ["500"]
    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    now = timezone.now()
    for wait in (0, 1, 5, 30):  # 1 attempt + 3 retries
        now += timedelta(seconds=wait)
        send_due(now)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 4
    assert delivery.next_attempt_at is None
    assert delivery.error == (
        "Gave up after 4 attempts: The receiver answered 500 Internal Server Error."
    )
    assert send_due(now + timedelta(hours=1)) == []
    assert len(receiver.requests) == 4


def test_a_refused_connection_is_recorded_in_words(
    workspace: Workspace, admin: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    from webhooks.services import webhook_endpoint_create

    webhook_endpoint_create(workspace=workspace, by=admin.user, url="http://127.0.0.1:9/hooks")
    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    send_due()
    delivery.refresh_from_db()
    assert "Could not connect to 127.0.0.1: the connection was refused." in delivery.error


def test_an_endpoint_failing_for_a_day_is_turned_off_and_its_admins_told(
    workspace: Workspace,
    admin: Membership,
    editor: Membership,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an endpoint whose every attempt has failed since 25 hours ago
    receiver.answers = ["500"]
    endpoint.failing_since = timezone.now() - timedelta(hours=25)
    endpoint.save()
    delivery = _emit(workspace, django_capture_on_commit_callbacks)

    # when one more attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        send_due()

    # then the endpoint is off with the reason, and the admin (only) has an e-mail
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason.startswith("Every delivery failed for 24 hours (since ")
    assert "The receiver answered 500 Internal Server Error." in endpoint.disabled_reason
    [message] = mail.outbox
    assert message.to == [admin.user.email]
    assert receiver.url in message.subject
    assert endpoint.disabled_reason in message.body
    assert f"/w/acme/webhooks/{endpoint.pk}/" in message.body
    # and its pending delivery is not sent again, nor are new events recorded for it
    send_due(timezone.now() + timedelta(minutes=1))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "the endpoint was turned off" in delivery.error
    assert len(receiver.requests) == 1
    assert webhook_emit(workspace=workspace, event="decision.created", data={}) == []


def test_a_failure_younger_than_a_day_keeps_the_endpoint_on(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.answers = ["500", "200"]
    endpoint.failing_since = timezone.now() - timedelta(hours=23)
    endpoint.save()
    _emit(workspace, django_capture_on_commit_callbacks)
    send_due()
    endpoint.refresh_from_db()
    assert endpoint.active is True
    send_due(timezone.now() + timedelta(seconds=2))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # a success ends the streak
    assert mail.outbox == []


def test_a_task_delivered_twice_posts_once(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    delivery = _emit(workspace, django_capture_on_commit_callbacks)

    first = deliver.apply(args=[delivery.pk]).get()
    second = deliver.apply(args=[delivery.pk]).get()

    assert (first, second) == ("succeeded", "skipped")
    assert len(receiver.requests) == 1


def test_a_task_arriving_while_another_sends_does_nothing(
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from webhooks.services import _claim

    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    assert _claim(delivery.pk, timezone.now()) is not None  # a worker holds it

    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert receiver.requests == []


def test_redeliver_answers_202_and_posts_the_same_event_again(
    workspace: Workspace,
    admin: Membership,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    delivery = _emit(workspace, django_capture_on_commit_callbacks)
    send_due()
    client = token_client(admin)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/api/v1/workspaces/acme/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/"
        )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert len(queued) == 1
    deliver.apply(args=[delivery.pk])

    first, again = receiver.requests
    assert again.headers["X-PMValue-Delivery"] == first.headers["X-PMValue-Delivery"]
    assert again.body == first.body
    assert verify_function()(endpoint.secret, again.headers, again.body)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_ping_reaches_the_endpoint(
    workspace: Workspace,
    admin: Membership,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = token_client(admin)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/api/v1/workspaces/acme/webhooks/{endpoint.pk}/ping/")
    assert response.status_code == 202
    send_due()
    assert receiver.requests[0].headers["X-PMValue-Event"] == "ping"


@pytest.mark.parametrize("events", [["initiative.created"], ["*"]])
def test_only_subscribed_active_endpoints_get_an_event(
    workspace: Workspace, admin: Membership, receiver: Receiver, events: list[str]
) -> None:
    from webhooks.services import webhook_endpoint_create

    webhook_endpoint_create(workspace=workspace, by=admin.user, url=receiver.url, events=events)
    off = webhook_endpoint_create(workspace=workspace, by=admin.user, url=receiver.url)
    off.active, off.disabled_at = False, timezone.now()
    off.save()

    made = webhook_emit(workspace=workspace, event="decision.created", data={})

    assert len(made) == (1 if events == ["*"] else 0)


def test_the_readme_documents_the_same_snippet() -> None:
    from pathlib import Path

    from webhooks.views import VERIFY_SNIPPET

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert VERIFY_SNIPPET in readme
    assert "as sensitive as a password" in readme
