"""Writes of webhooks: endpoints (register, change, turn on and off, delete), events
(`webhook_emit`, in the caller's transaction) and deliveries (one attempt at a time,
claimed under a row lock, retried with backoff, failed after the last attempt; an
endpoint failing for a day is turned off and its workspace's admins are told)."""

import json
import logging
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from pm_value.api.errors import DomainError
from webhooks import transport
from webhooks.addresses import url_refusal
from webhooks.models import (
    ALL_EVENTS,
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver"
DESCRIPTION_LENGTH = WebhookEndpoint._meta.get_field("description").max_length or 200


class WebhookRefused(DomainError):
    """A webhook action refused by the state of things (409)."""


# --- endpoints --------------------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean_events(events: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [e for e in chosen if e != ALL_EVENTS and e not in SUBSCRIBABLE_EVENTS]
    if unknown:
        raise ValidationError(
            {
                "events": (
                    f"Unknown event {', '.join(map(str, unknown))}: choose among "
                    f"{', '.join(SUBSCRIBABLE_EVENTS)}, or * for all."
                )
            }
        )
    if not chosen:
        raise ValidationError({"events": "Choose at least one event, or * for all."})
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def _check(url: str, description: str) -> None:
    errors: dict[str, str] = {}
    refusal = url_refusal(url)
    if refusal is not None:
        errors["url"] = refusal
    if len(description) > DESCRIPTION_LENGTH:
        errors["description"] = f"Keep the description within {DESCRIPTION_LENGTH} characters."
    if errors:
        raise ValidationError(errors)


def webhook_endpoint_create(
    *,
    workspace: Workspace,
    by: User | None,
    url: str,
    events: Iterable[str] | None = None,
    description: str = "",
) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret; all events unless `events` says."""
    url = url.strip()
    description = " ".join(description.split())
    clean_events = _clean_events([ALL_EVENTS] if events is None else events)
    _check(url, description)
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            workspace=workspace,
            url=url,
            description=description,
            events=clean_events,
            secret=_new_secret(),
            created_by=by,
        )


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
    by: User | None = None,
) -> WebhookEndpoint:
    """Changes what is given. `active` True turns a disabled endpoint on again (its
    failure streak forgotten); False turns it off by hand."""
    new_url = endpoint.url if url is None else url.strip()
    new_description = endpoint.description if description is None else " ".join(description.split())
    new_events = endpoint.events if events is None else _clean_events(events)
    if new_url != endpoint.url or new_description != endpoint.description:
        _check(new_url, new_description)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.url = new_url
        locked.description = new_description
        locked.events = new_events
        if active is True and not locked.active:
            _enable(locked)
        elif active is False and locked.active:
            who = by.email if by is not None else "an admin"
            _disable(locked, f"Turned off by {who}.", timezone.now())
        locked.save()
    return locked


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turns a disabled endpoint on again: new events reach it; failed deliveries wait
    for a resend."""
    return webhook_endpoint_update(endpoint=endpoint, active=True)


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failing_since = None


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; deliveries from now on are signed with it."""
    with transaction.atomic():
        endpoint.secret = _new_secret()
        endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint and its deliveries; pending ones are not sent."""
    with transaction.atomic():
        endpoint.delete()


# --- events -----------------------------------------------------------------------------------


def _queue(delivery_ids: list[int]) -> None:
    from webhooks.tasks import deliver  # webhooks.tasks imports this module

    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)


def _queue_on_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: _queue(delivery_ids))


def _payload(
    workspace: Workspace, event: str, event_id: uuid.UUID, now: datetime, data: Mapping[str, Any]
) -> dict[str, Any]:
    body = {
        "id": str(event_id),
        "event": event,
        "created_at": now,
        "workspace": {"id": workspace.pk, "slug": workspace.slug},
        "data": dict(data),
    }
    # Stored exactly as it will be sent: plain JSON, dates and decimals as strings.
    loaded: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return loaded


def webhook_emit(
    *, workspace: Workspace, event: str, data: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """Records the event for every active endpoint of the workspace that subscribes to it,
    in the caller's transaction, and queues the sends for when it commits: an event exists
    only if its change committed, and the caller never waits for a receiver."""
    if event not in SUBSCRIBABLE_EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    with transaction.atomic():
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(
                workspace_id=workspace.pk, active=True
            ).only("pk", "events")
            if endpoint.subscribes_to(event)
        ]
        if not endpoints:
            return []
        now = timezone.now()
        event_id = uuid.uuid4()
        payload = _payload(workspace, event, event_id, now, data)
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    event_id=event_id,
                    payload=payload,
                    next_attempt_at=now,
                    created_at=now,
                )
                for endpoint in endpoints
            ]
        )
        _queue_on_commit([d.pk for d in deliveries])
    return deliveries


def webhook_ping(*, endpoint: WebhookEndpoint, by: User | None) -> WebhookDelivery:
    """A `ping` event to this endpoint alone ("Send test event"), sent even when it is
    turned off, so an admin can check a receiver before turning it on again."""
    workspace = endpoint.workspace
    now = timezone.now()
    event_id = uuid.uuid4()
    data = {"message": "A test event from PM Value.", "by": by.pk if by is not None else None}
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=WebhookEvent.PING,
            event_id=event_id,
            payload=_payload(workspace, WebhookEvent.PING, event_id, now, data),
            next_attempt_at=now,
            created_at=now,
        )
        _queue_on_commit([delivery.pk])
    return delivery


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends the delivery again, same event id and payload, as a new round of attempts;
    a delivery waiting for its next attempt is sent now. Refused while an attempt is
    under way, and for a turned-off endpoint (but for a ping)."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if locked.lease_until is not None and locked.lease_until > now:
            raise WebhookRefused("This delivery is being sent right now: wait for its answer.")
        if not locked.endpoint.active and locked.event != WebhookEvent.PING:
            raise WebhookRefused(
                "This endpoint is turned off: turn it on again before resending its events."
            )
        if locked.status != DeliveryStatus.PENDING:
            locked.attempts = 0  # a new round: the backoff starts over
        locked.status = DeliveryStatus.PENDING
        locked.next_attempt_at = now
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        _queue_on_commit([locked.pk])
    return locked


# --- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one call of the delivery job did: `succeeded`, `failed` (the last attempt
    failed), `retry` (try again in `retry_in` seconds) or `skipped` (nothing to do:
    finished, not due yet, or being sent by another worker)."""

    outcome: Literal["succeeded", "failed", "retry", "skipped"]
    retry_in: float | None = None


def _retry_delays() -> list[float]:
    return [float(d) for d in settings.WEBHOOK_RETRY_DELAYS]


def max_attempts() -> int:
    return len(_retry_delays()) + 1


def _lease() -> timedelta:
    return timedelta(seconds=float(settings.WEBHOOK_TIMEOUT_SECONDS) + 30)


# A task's countdown and the stored due time may differ by a moment.
_EARLY = timedelta(milliseconds=500)


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "endpoint__workspace")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        if delivery.lease_until is not None and delivery.lease_until > now:
            return None  # another worker is sending it
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + _EARLY:
            return None  # not due: the copy of the task that is due will come
        endpoint = delivery.endpoint
        if not endpoint.active and delivery.event != WebhookEvent.PING:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.error = (
                f"Not sent: the endpoint was turned off. {endpoint.disabled_reason}".strip()
            )
            delivery.save(update_fields=["status", "next_attempt_at", "error"])
            return None
        delivery.attempts += 1
        delivery.lease_until = now + _lease()
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempts", "lease_until", "last_attempt_at"])
        return delivery


def _send(delivery: WebhookDelivery, now: datetime) -> transport.Answer:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(now.timestamp())
    headers = {
        "X-PMValue-Event": delivery.event,
        "X-PMValue-Delivery": str(delivery.event_id),
        "X-PMValue-Timestamp": str(timestamp),
        "X-PMValue-Signature": transport.signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
    }
    return transport.post(
        url=delivery.endpoint.url,
        body=body,
        headers=headers,
        timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS),
    )


def webhook_delivery_send(*, delivery_id: int, now: datetime | None = None) -> Attempt:
    """One attempt at a delivery: claimed under its row lock (a delivery finished, not due
    or being sent is left alone, so a task delivered twice POSTs once), POSTed signed,
    and recorded: a 2xx succeeds; anything else is retried after the next delay of
    WEBHOOK_RETRY_DELAYS, then failed with the reason in words."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return Attempt("skipped")
    answer = _send(delivery, now)
    return _record(delivery, answer, now)


def _record(claimed: WebhookDelivery, answer: transport.Answer, now: datetime) -> Attempt:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=claimed.pk, status=DeliveryStatus.PENDING, attempts=claimed.attempts)
            .first()
        )
        if delivery is None:
            return Attempt("skipped")  # resent or deleted meanwhile
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.response_code = answer.status_code
        delivery.response_body = answer.body
        delivery.lease_until = None
        if answer.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.error = ""
            delivery.save()
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
            return Attempt("succeeded")
        delays = _retry_delays()
        if delivery.attempts <= len(delays):
            wait = delays[delivery.attempts - 1]
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            delivery.error = (
                f"Attempt {delivery.attempts} of {len(delays) + 1}: {answer.error} "
                f"Trying again in {_duration(wait)}."
            )
            attempt = Attempt("retry", wait)
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.error = f"Gave up after {delivery.attempts} attempts: {answer.error}"
            attempt = Attempt("failed")
        delivery.save()
        if delivery.event != WebhookEvent.PING:
            _failed_attempt(endpoint, answer.error, now)
        return attempt


def _failed_attempt(endpoint: WebhookEndpoint, error: str, now: datetime) -> None:
    """Keeps the endpoint's failure streak; turns it off once the streak lasts a day."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
        return
    limit = timedelta(hours=float(settings.WEBHOOK_DISABLE_AFTER_HOURS))
    if not endpoint.active or now - endpoint.failing_since < limit:
        return
    since = endpoint.failing_since
    _disable(
        endpoint,
        f"Every delivery failed for {_duration(limit.total_seconds())} (since "
        f"{since:%Y-%m-%d %H:%M} UTC). The last attempt: {error}",
        now,
    )
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    workspace = Workspace.objects.get(pk=endpoint.workspace_id)
    transaction.on_commit(lambda: _tell_admins(endpoint, workspace))


def _tell_admins(endpoint: WebhookEndpoint, workspace: Workspace) -> None:
    emails = list(
        Membership.objects.filter(
            workspace=workspace, role=Role.ADMIN, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    url = settings.SITE_URL + reverse(
        "webhooks:detail", kwargs={"workspace_slug": workspace.slug, "endpoint_id": endpoint.pk}
    )
    subject = f"Webhook turned off in {workspace.name}: {endpoint.url}"[:200]
    body = (
        f"PM Value turned off the webhook endpoint {endpoint.url} of {workspace.name}.\n\n"
        f"{endpoint.disabled_reason}\n\n"
        "It receives no events until an admin turns it on again. Check the receiver, then "
        f"turn it on and resend the failed deliveries at {url}\n"
    )
    send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in emails],
        fail_silently=False,
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


def webhook_deliveries_queue_due(*, now: datetime | None = None) -> int:
    """Queues the pending deliveries whose attempt is overdue and that no worker holds:
    their task was lost (a worker died) or waits longer than a task should
    (WEBHOOK_MAX_COUNTDOWN_SECONDS). Safe to run twice: the send claims each one."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=float(settings.WEBHOOK_SWEEP_GRACE_SECONDS))
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=overdue)
        .exclude(lease_until__gt=now)
        .values_list("pk", flat=True)[:1000]
    )
    _queue(ids)
    return len(ids)
