"""Invitations: an admin invites an e-mail address with a role; the link in the e-mail
lets that person join, creating their account if they have none.

The key is 256 random bits shown once (in the e-mail, and to the admin who invites, to
pass on another way); only its SHA-256 hash is stored, like API tokens. Every decision
that reads an invitation's state takes its row lock first, so two clicks on one link make
one membership, and a revocation and an acceptance at once end in exactly one of them.
"""

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Invitation, Membership, Role, User, Workspace
from accounts.services import secret_hash

logger = logging.getLogger(__name__)

ROLE_WORDS = {
    Role.ADMIN: "an admin (members, tokens, settings and everything else)",
    Role.EDITOR: "an editor (create and change initiatives, strategy and reports)",
    Role.VIEWER: "a viewer (read everything, submit and vote ideas)",
}
MAX_KEY_LENGTH = 100  # keys are 43 characters; anything longer is not worth a lookup

Reason = Literal["invalid", "accepted", "revoked", "expired", "other_account", "has_account"]


class InvitationRefused(Exception):
    """A link that lets nobody join (any more), with the reason in words."""

    def __init__(self, detail: str, *, reason: Reason) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def invitation_url(key: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation", kwargs={"key": key})


def invitations_open(*, workspace: Workspace) -> QuerySet[Invitation]:
    """The workspace's invitations not accepted or revoked (expired ones too, so an admin
    sees them and invites again), newest first, with who invited: one query."""
    return (
        Invitation.objects.filter(
            workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    key: str  # in the link; never stored
    emailed: bool  # False: the mail server refused, pass the link on another way


def invitation_create(
    *, workspace: Workspace, by: User, email: str, role: str, now: datetime | None = None
) -> Invited:
    """Invites `email` to the workspace with `role` and e-mails the link. Inviting an
    address again replaces its open invitation (the earlier link stops working). Refused
    in words, by field, with nothing written: a malformed address, an unknown role, an
    address that is a member already."""
    now = now or timezone.now()
    email = " ".join(email.split()).lower()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a whole e-mail address, like name@example.com."
    if len(email) > 254:
        errors["email"] = "An e-mail address has at most 254 characters."
    if role not in Role.values:
        errors["role"] = f"Choose a role: {', '.join(Role.values)}."
    if (
        not errors
        and Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists()
    ):
        errors["email"] = f"{email} is a member of this workspace already."
    if errors:
        raise ValidationError(errors)
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        earlier = list(
            Invitation.objects.select_for_update().filter(
                workspace=workspace,
                email__iexact=email,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
            )
        )
        for old in earlier:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
        try:
            invitation = Invitation.objects.create(
                workspace=workspace,
                email=email,
                role=role,
                key_hash=secret_hash(key),
                invited_by=by,
                created_at=now,
                expires_at=now + timedelta(days=settings.INVITATION_DAYS),
            )
        except IntegrityError:  # another admin invited the same address this instant
            raise ValidationError(
                {"email": f"{email} was invited a moment ago by someone else."}
            ) from None
        audit_record(
            action=AuditAction.MEMBER_INVITED,
            workspace=workspace,
            actor=by,
            target=invitation,
            target_label=email,
            details={"role": role, "replaces": len(earlier)},
        )
    return Invited(invitation, key, emailed=_send(invitation, key))


def _send(invitation: Invitation, key: str) -> bool:
    inviter = invitation.invited_by
    context = {
        "inviter": inviter.display_name if inviter else "An admin",
        "workspace": invitation.workspace.name,
        "role_words": ROLE_WORDS[Role(invitation.role)],
        "url": invitation_url(key),
        "days": settings.INVITATION_DAYS,
        "email": invitation.email,
    }
    subject = f"{context['inviter']} invited you to {invitation.workspace.name} on PM Value"
    body = render_to_string("accounts/email/invitation.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[invitation.email]).send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Invitation %s: the mail server refused the e-mail", invitation.pk)
        return False
    return True


def invitation_resolve(*, key: str, now: datetime | None = None) -> Invitation:
    """The open invitation of this key, with its workspace; InvitationRefused otherwise."""
    now = now or timezone.now()
    invitation = None
    if 0 < len(key) <= MAX_KEY_LENGTH:
        invitation = (
            Invitation.objects.select_related("workspace", "invited_by")
            .filter(key_hash=secret_hash(key))
            .first()
        )
    if invitation is None:
        raise InvitationRefused(
            "This invitation link is not valid. Check that the whole address was copied, "
            "or ask the person who invited you for a new invitation.",
            reason="invalid",
        )
    return _check_open(invitation, now)


def _check_open(invitation: Invitation, now: datetime) -> Invitation:
    state = invitation.state(now)
    if state == "open":
        return invitation
    workspace = invitation.workspace.name
    detail = {
        "accepted": f"This invitation to {workspace} has been accepted already. Log in to "
        "open the workspace.",
        "revoked": f"This invitation to {workspace} was withdrawn. Ask an admin of the "
        "workspace to invite you again.",
        "expired": f"This invitation to {workspace} has expired (invitations work for "
        f"{settings.INVITATION_DAYS} days). Ask an admin of the workspace to invite you again.",
    }[state]
    raise InvitationRefused(detail, reason=state)  # type: ignore[arg-type]


def invitation_accept(*, key: str, user: User, now: datetime | None = None) -> Membership:
    """`user` joins the workspace with the invitation's role. Only the account with the
    invited address may accept; a member already keeps their role. Under the invitation's
    row lock: one link, one membership."""
    now = now or timezone.now()
    with transaction.atomic():
        found = invitation_resolve(key=key, now=now)
        invitation = Invitation.objects.select_for_update().get(pk=found.pk)
        invitation.workspace = found.workspace
        _check_open(invitation, now)
        if user.email.lower() != invitation.email.lower():
            raise InvitationRefused(
                f"This invitation is for {invitation.email}, and you are logged in as "
                f"{user.email}. Log out, then open the link again.",
                reason="other_account",
            )
        membership, created = Membership.objects.get_or_create(
            user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
        )
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if created:
            audit_record(
                action=AuditAction.MEMBER_ADDED,
                workspace=invitation.workspace,
                actor=user,
                target=user,
                details={"role": invitation.role, "invitation": invitation.pk},
            )
    return membership


def invitation_accept_as_new_user(
    *, key: str, full_name: str, password: str, now: datetime | None = None
) -> Membership:
    """Creates the account of the invited address with this name and password (checked
    against the password rules) and joins; one transaction, so a refusal writes nothing."""
    now = now or timezone.now()
    invitation = invitation_resolve(key=key, now=now)
    full_name = " ".join(full_name.split())
    errors: dict[str, list[str]] = {}
    if len(full_name) > 150:
        errors["full_name"] = ["Keep the name within 150 characters."]
    user = User(email=invitation.email, full_name=full_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    exists = InvitationRefused(
        f"An account with {invitation.email} exists already: log in with it to accept the "
        "invitation.",
        reason="has_account",
    )
    with transaction.atomic():
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise exists
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # made this instant by a second click
            raise exists from None
        return invitation_accept(key=key, user=user, now=now)


def invitation_revoke(*, invitation: Invitation, by: User, now: datetime | None = None) -> bool:
    """Withdraws an open invitation: its link stops working. False when it was accepted or
    withdrawn meanwhile (nothing changes)."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if changed:
            audit_record(
                action=AuditAction.INVITATION_REVOKED,
                workspace_id=invitation.workspace_id,
                actor=by,
                target=invitation,
                target_label=invitation.email,
            )
    return bool(changed)
