"""With a real worker on Redis, the request that causes an event does not wait for the
receiver: the send is queued on commit and made by the worker."""

import time
from typing import Any

import pytest

from accounts.models import Membership, Workspace
from pm_value.celery import app as celery_app
from tests.conftest import token_client
from tests.webhooks.conftest import Receiver, verify_function
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_request_returns_before_the_receiver_answers(
    workspace: Workspace,
    editor: Membership,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    settings: Any,
) -> None:
    from celery.contrib.testing.worker import start_worker

    assert celery_app.conf.task_always_eager is False
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    receiver.answers = ["hang"]  # answers after 2 seconds
    client = token_client(editor)
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        started = time.monotonic()
        response = client.post(
            "/api/v1/workspaces/acme/initiatives/", {"title": "Usage alerts"}, format="json"
        )
        took = time.monotonic() - started
        assert response.status_code == 201
        assert took < 1.5, f"the request took {took:.2f} s: it waited for the receiver"

        [request] = receiver.wait_for(1)
        assert verify_function()(endpoint.secret, request.headers, request.body)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists():
                break
            time.sleep(0.1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
