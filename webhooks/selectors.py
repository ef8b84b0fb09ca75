"""Reads of webhooks: a workspace's endpoints with their latest delivery figures, and an
endpoint's recent deliveries."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Workspace
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints_of(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    """The workspace's endpoints, newest first, each with its pending and failed counts."""
    return (
        WebhookEndpoint.objects.filter(workspace=workspace)
        .select_related("created_by")
        .annotate(
            pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("-created_at", "-id")
    )


def deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first (no payload: lists do not need it)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .defer("payload")
        .order_by("-created_at", "-id")
    )
