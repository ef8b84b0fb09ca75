"""A real HTTP receiver on 127.0.0.1 for the webhook tests, and helpers to drive the
deliveries the way a worker does."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Membership, Workspace
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import Attempt, webhook_delivery_send, webhook_endpoint_create
from webhooks.views import VERIFY_SNIPPET


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` ("200", "500", "hang"; the last one
    repeats) and records it. "hang" waits `hang_seconds`, then answers 200."""

    url: str = ""
    answers: list[str] = field(default_factory=lambda: ["200"])
    hang_seconds: float = 2.0
    requests: list[Received] = field(default_factory=list)

    def answer(self) -> str:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = state.answer()
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if answer == "hang":
                time.sleep(state.hang_seconds)
                answer = "200"
            try:
                self.send_response(int(answer))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if answer == "200" else b"receiver broke\x00down")
            except OSError:
                pass  # the sender stopped waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_RETRY_DELAYS = [1, 5, 30]
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


@pytest.fixture
def endpoint(workspace: Workspace, admin: Membership, receiver: Receiver) -> WebhookEndpoint:
    return webhook_endpoint_create(workspace=workspace, by=admin.user, url=receiver.url)


def verify_function() -> Any:
    """The `verify` function of the documented snippet (README, endpoint page)."""
    namespace: dict[str, Any] = {}
    exec(VERIFY_SNIPPET, namespace)  # noqa: S102 - our own documented snippet
    return namespace["verify"]


def send_due(now: Any = None) -> list[Attempt]:
    """One attempt at every pending delivery, as the worker's tasks would make them."""
    now = now or timezone.now()
    ids = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    return [webhook_delivery_send(delivery_id=pk, now=now) for pk in list(ids)]
