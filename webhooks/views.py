"""Browser views of webhooks, for the workspace's admins: thin, they call the services and
selectors and render templates."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Membership, User
from accounts.views import workspace_admin
from webhooks import services
from webhooks.forms import WebhookEndpointForm
from webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookEndpoint
from webhooks.selectors import RECENT_DELIVERIES, deliveries_of, endpoints_of

VERIFY_SNIPPET = '''import hashlib, hmac, time


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """True when the delivery was signed with `secret` less than 5 minutes ago."""
    timestamp = headers["X-PMValue-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-PMValue-Signature"])'''


def _endpoint(membership: Membership, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, workspace=membership.workspace)


def _to_detail(membership: Membership, endpoint: WebhookEndpoint) -> HttpResponse:
    return redirect(
        "webhooks:detail", workspace_slug=membership.workspace.slug, endpoint_id=endpoint.pk
    )


@login_required
def endpoint_list(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "nav": "webhooks",
        "endpoints": endpoints_of(workspace=membership.workspace),
        "all_events": ALL_EVENTS,
    }
    return render(request, "webhooks/list.html", context)


def _form_page(
    request: HttpRequest,
    membership: Membership,
    form: WebhookEndpointForm,
    endpoint: WebhookEndpoint | None,
) -> HttpResponse:
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "nav": "webhooks",
        "form": form,
        "endpoint": endpoint,
    }
    return render(request, "webhooks/form.html", context, status=400 if form.errors else 200)


@login_required
def endpoint_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                workspace=membership.workspace,
                by=cast(User, request.user),
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                events=form.chosen_events(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The endpoint is registered: send it a test event.")
            return _to_detail(membership, endpoint)
    return _form_page(request, membership, form, None)


@login_required
def endpoint_edit(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = _endpoint(membership, endpoint_id)
    form = WebhookEndpointForm.for_endpoint(
        endpoint, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_update(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                events=form.chosen_events(),
                by=cast(User, request.user),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The endpoint is saved.")
            return _to_detail(membership, endpoint)
    return _form_page(request, membership, form, endpoint)


@login_required
def endpoint_detail(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = _endpoint(membership, endpoint_id)
    context: dict[str, Any] = {
        "workspace": membership.workspace,
        "membership": membership,
        "nav": "webhooks",
        "endpoint": endpoint,
        "all_events": ALL_EVENTS,
        "deliveries": deliveries_of(endpoint=endpoint)[:RECENT_DELIVERIES],
        "recent": RECENT_DELIVERIES,
        "snippet": VERIFY_SNIPPET,
    }
    return render(request, "webhooks/detail.html", context)


@login_required
@require_POST
def endpoint_ping(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = _endpoint(membership, endpoint_id)
    services.webhook_ping(endpoint=endpoint, by=cast(User, request.user))
    messages.success(request, "A test event (ping) is on its way: its delivery is listed below.")
    return _to_detail(membership, endpoint)


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = services.webhook_endpoint_enable(endpoint=_endpoint(membership, endpoint_id))
    messages.success(
        request, "The endpoint is on again. Resend the failed deliveries it should still get."
    )
    return _to_detail(membership, endpoint)


@login_required
@require_POST
def endpoint_disable(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = services.webhook_endpoint_update(
        endpoint=_endpoint(membership, endpoint_id), active=False, by=cast(User, request.user)
    )
    messages.success(request, "The endpoint is off: it receives no events until turned on.")
    return _to_detail(membership, endpoint)


@login_required
@require_POST
def endpoint_rotate_secret(
    request: HttpRequest, workspace_slug: str, endpoint_id: int
) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = services.webhook_endpoint_rotate_secret(endpoint=_endpoint(membership, endpoint_id))
    messages.success(
        request, "The endpoint has a new secret: deliveries are signed with it from now on."
    )
    return _to_detail(membership, endpoint)


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, workspace_slug: str, endpoint_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = _endpoint(membership, endpoint_id)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"The endpoint {endpoint.url} is deleted.")
    return redirect("webhooks:list", workspace_slug=membership.workspace.slug)


@login_required
@require_POST
def delivery_resend(
    request: HttpRequest, workspace_slug: str, endpoint_id: int, delivery_id: int
) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    endpoint = _endpoint(membership, endpoint_id)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, endpoint=endpoint)
    try:
        services.webhook_redeliver(delivery=delivery)
    except services.WebhookRefused as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"The {delivery.event} event is sent again, same event id.")
    return _to_detail(membership, endpoint)
