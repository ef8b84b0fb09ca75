"""The audit trail: `audit_record` writes who did what, when and from where.

Every app calls it from the service that makes the change, inside that service's
transaction, so an event exists exactly when its change does. The request being served
(kept by AuditContextMiddleware) supplies the actor and the address when the caller has
none to give: the services of strategy and initiatives are not passed the request.
"""

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from accounts.models import AuditAction, AuditEvent, User, Workspace

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. Behind TRUSTED_PROXY_COUNT proxies that each
    append to X-Forwarded-For, it is that many entries from the right (the client can
    write anything to the left of them); otherwise REMOTE_ADDR. Also django-axes'
    AXES_CLIENT_IP_CALLABLE, so lockouts and the audit trail name the same address."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditContextMiddleware:
    """Keeps the request being served, so audit_record knows who acts and from where."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_request(request):
            return self.get_response(request)


@contextmanager
def acting_request(request: HttpRequest | None) -> Iterator[None]:
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def _request_actor(request: HttpRequest | None) -> User | None:
    # DRF sets the underlying request's user when a token authenticates, so API calls
    # name their actor here too.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


def audit_record(
    *,
    action: AuditAction | str,
    workspace: Workspace | None = None,
    workspace_id: int | None = None,
    actor: User | None = None,
    actor_label: str = "",
    target: Model | None = None,
    target_type: str = "",
    target_id: int | None = None,
    target_label: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Writes one audit event. Call it inside the transaction of the change it records.

    `target` names the object (its model, id and text); without an actor or a request the
    request being served gives them."""
    request = request if request is not None else _current_request.get()
    if actor is None:
        actor = _request_actor(request)
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id if target_id is not None else target.pk
        target_label = target_label or str(target)
    if workspace is not None:
        workspace_id = workspace.pk
    return AuditEvent.objects.create(
        workspace_id=workspace_id,
        actor=actor,
        actor_label=(actor_label or (actor.email if actor is not None else ""))[:254],
        action=action,
        target_type=target_type[:50],
        target_id=target_id,
        target_label=target_label[:200],
        details=details or {},
        ip=client_ip(request) if request is not None else None,
    )


def audit_deletion(obj: Model, *, workspace_id: int, actor: User | None = None) -> AuditEvent:
    """Records that `obj` is being deleted: call it just before its delete(), inside the
    same transaction, while it still has its id."""
    return audit_record(
        action=AuditAction.DELETED, workspace_id=workspace_id, actor=actor, target=obj
    )
