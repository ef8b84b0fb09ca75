"""Outbound webhooks: the endpoints a workspace's admins register, and one delivery per
event and endpoint (DESIGN.md §4 `webhooks/`).

A delivery keeps its event id for every attempt and every resend, so a receiver that
dedupes on X-PMValue-Delivery sees each event once. Endpoints hang off the workspace, and
deliveries off their endpoint: the workspace export finds both by that path.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from accounts.models import Workspace

URL_LENGTH = 2000
BODY_EXCERPT_LENGTH = 2048  # characters of the receiver's answer that are kept
ALL_EVENTS = "*"


class WebhookEvent(models.TextChoices):
    INITIATIVE_CREATED = "initiative.created", "An initiative is created"
    INITIATIVE_STATUS_CHANGED = "initiative.status_changed", "An initiative changes status"
    DECISION_CREATED = "decision.created", "A decision is recorded"
    MEASUREMENT_INGESTED = "measurement.ingested", "Measurements are ingested (one per batch)"
    REPORT_RUN_SUCCEEDED = "report_run.succeeded", "A value report is made"
    REPORT_RUN_FAILED = "report_run.failed", "A value report could not be made"
    # Sent only by "Send test event", to one endpoint, whatever it subscribes to.
    PING = "ping", "Test event"


SUBSCRIBABLE_EVENTS: list[str] = [e.value for e in WebhookEvent if e != WebhookEvent.PING]


class WebhookEndpoint(models.Model):
    """A receiver URL of the workspace, the events it wants (["*"]: all, present and
    future) and the secret its deliveries are signed with. An endpoint that fails for a
    day is turned off (active False) with the reason, until an admin turns it on again."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField("URL", max_length=URL_LENGTH)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    # Kept in clear: signing needs it. Shown to the workspace's admins only.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    # The first failed attempt since the last success: an endpoint failing for
    # WEBHOOK_DISABLE_AFTER_HOURS is turned off.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active=True, disabled_at__isnull=True)
                | models.Q(active=False, disabled_at__isnull=False),
                name="webhook_endpoint_disabled_when",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return ALL_EVENTS in self.events or event in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload, and what the last attempt got back."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    event_id = models.UUIDField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # When the next attempt is due (pending deliveries only).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Held by the worker sending it until then: a second copy of the task does nothing.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_event_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("response_body"), BODY_EXCERPT_LENGTH),
                name="webhook_delivery_body_excerpt",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_recent"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint_id} ({self.status})"
