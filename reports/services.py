"""Writes of reports: share links — create one, revoke it, and turn the address a visitor
brings back into the link (or the reason it no longer opens)."""

import re
import secrets
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.signing import BadSignature, Signer
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User, Workspace
from pm_value.api.errors import DomainError
from reports.models import LABEL_LENGTH, ShareLink
from reports.selectors import Scope
from strategy.filters import MAX_ID

# The salt keeps these signatures apart from every other use of SECRET_KEY (sessions,
# password resets): a value signed elsewhere never opens a dashboard.
SHARE_LINK_SALT = "reports.share-link"
# "." is not in the alphabet of the nonce or of the signature, so a token reads
# <id>.<nonce>.<signature>. Signer checks the signature in constant time, against
# SECRET_KEY_FALLBACKS too, so rotating the key need not break the links at once.
_SEPARATOR = "."
_NONCE_BYTES = 12  # 16 characters of URL-safe base64
_VALUE = re.compile(r"([0-9]{1,19})\.([A-Za-z0-9_-]{1,64})")
# Far longer than any token this module writes; anything longer is not worth checking.
MAX_TOKEN_LENGTH = 200
_INSTANT = timedelta(microseconds=1)

Reason = Literal["invalid", "revoked", "expired"]


class ShareLinkRefused(DomainError):
    """An address that opens nothing: not a link we signed (unknown, altered, cut short),
    or the link of a revoked or expired share. `at` is when it was revoked or expired."""

    def __init__(self, detail: str, *, reason: Reason, at: datetime | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.at = at


def _signer() -> Signer:
    return Signer(salt=SHARE_LINK_SALT, sep=_SEPARATOR)


def share_link_token(*, link: ShareLink) -> str:
    """The secret part of the link's address: its id and nonce, signed."""
    return _signer().sign(f"{link.pk}{_SEPARATOR}{link.nonce}")


def day_text(moment: datetime, workspace: Workspace) -> str:
    """A moment as the day it was in the workspace: "3 March 2026"."""
    local = timezone.localtime(moment, ZoneInfo(workspace.timezone))
    return f"{local.day} {local:%B %Y}"


def share_link_create(
    *,
    workspace: Workspace,
    by: User,
    scope: Scope,
    label: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> ShareLink:
    """A new link to the dashboard of `scope` (the whole workspace when empty), working
    until `expires_at` (never, when None) or until revoked."""
    now = now or timezone.now()
    label = " ".join(label.split())
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = (
            "Give the link a label — who or what it is for — so it can be told apart "
            "from the others and revoked later."
        )
    elif len(label) > LABEL_LENGTH:
        errors["label"] = f"Keep the label within {LABEL_LENGTH} characters."
    if scope.team is not None and scope.team.workspace_id != workspace.pk:
        errors["team"] = "This team is not a team of this workspace."
    if scope.objective is not None and scope.objective.workspace_id != workspace.pk:
        errors["objective"] = "This objective is not an objective of this workspace."
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            errors["expires_at"] = "The expiry needs a time zone."
        elif expires_at <= now:
            errors["expires_at"] = (
                "The expiry has already passed: choose a later day, or none for a link "
                "that works until it is revoked."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return ShareLink.objects.create(
            workspace=workspace,
            team=scope.team,
            objective=scope.objective,
            label=label,
            nonce=secrets.token_urlsafe(_NONCE_BYTES),
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )


def share_link_revoke(*, link: ShareLink, by: User, now: datetime | None = None) -> ShareLink:
    """Stops the link for good. Revoking a revoked link changes nothing: the first
    revocation keeps its day and its author, even when two people click at once."""
    now = now or timezone.now()
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by
        )
    link.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return link


def _not_valid() -> ShareLinkRefused:
    return ShareLinkRefused(
        "This share link is not valid. Check that the whole address was copied, or ask "
        "the person who shared it for a new link.",
        reason="invalid",
    )


def share_link_resolve(*, token: str, now: datetime | None = None) -> ShareLink:
    """The link this token opens, with its workspace, team and objective loaded: one
    query, none for a token we did not sign. Raises ShareLinkRefused otherwise."""
    now = now or timezone.now()
    if len(token) > MAX_TOKEN_LENGTH:
        raise _not_valid()
    try:
        value = _signer().unsign(token)
    except BadSignature:
        raise _not_valid() from None
    match = _VALUE.fullmatch(value)
    if match is None or int(match[1]) > MAX_ID:
        raise _not_valid()
    link = (
        ShareLink.objects.select_related("workspace", "team", "objective")
        .filter(pk=int(match[1]))
        .first()
    )
    # A deleted link, or another link that took its id after a restore.
    if link is None or not constant_time_compare(link.nonce, match[2]):
        raise _not_valid()
    # share_link_create never writes a scope of another workspace; a row written some
    # other way does not get to show one either.
    for part in (link.team, link.objective):
        if part is not None and part.workspace_id != link.workspace_id:
            raise _not_valid()
    if link.revoked_at is not None:
        raise ShareLinkRefused(
            f"This share link was revoked on {day_text(link.revoked_at, link.workspace)}. "
            "Ask the person who shared it for a new link.",
            reason="revoked",
            at=link.revoked_at,
        )
    if link.expires_at is not None and link.expires_at <= now:
        raise ShareLinkRefused(
            f"This share link has expired: it worked until "
            f"{day_text(link.expires_at - _INSTANT, link.workspace)}. Ask the person who "
            "shared it for a new link.",
            reason="expired",
            at=link.expires_at,
        )
    return link


def share_link_record_use(*, link: ShareLink, now: datetime | None = None) -> None:
    """Counts a visit: one UPDATE, atomic in the database, so concurrent visits all count."""
    now = now or timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(use_count=F("use_count") + 1, last_used_at=now)
    link.use_count += 1
    link.last_used_at = now
