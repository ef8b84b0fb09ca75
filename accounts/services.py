"""Writes for accounts: workspaces, members, teams and API tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditAction, Membership, Role, Team, User, Workspace

TOKEN_PREFIX = "pmv_"  # noqa: S105 - a label in front of every key, not a secret
# last_used_at is written at most this often per token, not on every request.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def workspace_create(
    *, slug: str, name: str, currency: str = "EUR", timezone_name: str = "UTC", vision: str = ""
) -> Workspace:
    workspace = Workspace(
        slug=slug.strip(),
        name=name.strip(),
        currency=currency.strip().upper(),
        timezone=timezone_name,
        vision=vision,
    )
    workspace.full_clean()
    workspace.save()
    return workspace


def user_get_or_create(
    *, email: str, password: str | None = None, full_name: str = ""
) -> tuple[User, bool]:
    """The user with this e-mail (case-insensitive), created when missing.

    A password given for a new user is checked against the password validators; a user
    created without one cannot log in until a password is set."""
    email = User.objects.normalize_email(email.strip()).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if password:
            _set_password(existing, password)
        return existing, False
    user = User(email=email, full_name=full_name)
    user.full_clean(exclude=["password"])
    if password:
        _set_password(user, password, save=False)
    else:
        user.set_unusable_password()
    user.save()
    return user, True


def _set_password(user: User, password: str, *, save: bool = True) -> None:
    from django.contrib.auth.password_validation import validate_password

    validate_password(password, user)
    user.set_password(password)
    if save:
        user.save(update_fields=["password"])


def member_add(
    *, workspace: Workspace, email: str, role: str, password: str | None = None
) -> tuple[Membership, bool]:
    """Adds the user (created if needed) to the workspace with this role, or changes the
    role of an existing member. Returns the membership and whether it is new."""
    if role not in Role.values:
        raise ValidationError(
            {"role": f"“{role}” is not a role; use one of {', '.join(Role.values)}."}
        )
    with transaction.atomic():
        user, _ = user_get_or_create(email=email, password=password)
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, workspace=workspace, defaults={"role": role}
        )
        if created:
            audit_record(
                action=AuditAction.MEMBER_ADDED,
                workspace=workspace,
                target=user,
                details={"role": role},
            )
        elif membership.role != role:
            _change_role(membership, role)
    return membership, created


class MembershipRefused(ValidationError):
    """A change of members that would leave the workspace without an admin."""


def _check_admin_remains(membership: Membership) -> None:
    others = (
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
    )
    if membership.role == Role.ADMIN and not others.exists():
        raise MembershipRefused(
            f"{membership.user.email} is the only admin of this workspace; "
            "make someone else admin first."
        )


def _change_role(membership: Membership, role: str) -> None:
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action=AuditAction.ROLE_CHANGED,
        workspace_id=membership.workspace_id,
        target=membership.user,
        details={"from": previous, "to": role},
    )


def member_role_change(*, membership: Membership, role: str) -> Membership:
    """Gives the member another role; the last admin keeps theirs."""
    if role not in Role.values:
        raise ValidationError(
            {"role": f"“{role}” is not a role; use one of {', '.join(Role.values)}."}
        )
    with transaction.atomic():
        if membership.role == role:
            return membership
        if role != Role.ADMIN:
            _check_admin_remains(membership)
        _change_role(membership, role)
    return membership


def member_remove(*, membership: Membership) -> None:
    """Takes the member out of the workspace; their API tokens of it go with the membership.
    The last admin stays."""
    with transaction.atomic():
        _check_admin_remains(membership)
        audit_record(
            action=AuditAction.MEMBER_REMOVED,
            workspace_id=membership.workspace_id,
            target=membership.user,
            details={"role": membership.role},
        )
        membership.delete()


def team_create(*, workspace: Workspace, name: str, description: str = "") -> Team:
    team = Team(workspace=workspace, name=name.strip(), description=description.strip())
    team.full_clean(exclude=["workspace"], validate_constraints=False)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"A team named “{team.name}” already exists in this workspace."}
        ) from exc
    return team


def secret_hash(key: str) -> str:
    """What is stored of a random secret (an API token's or an invitation's key): its
    SHA-256. The keys are 256 random bits, so a fast hash is safe."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *,
    membership: Membership,
    name: str = "",
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token and returns it with its key. The key is not stored: show it once.
    Without `expires_at` the token works until it is revoked."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            membership=membership,
            name=name.strip(),
            prefix=key[:12],
            key_hash=secret_hash(key),
            read_only=read_only,
            expires_at=expires_at,
        )
        audit_record(
            action=AuditAction.TOKEN_CREATED,
            workspace_id=membership.workspace_id,
            target=token,
            target_label=_token_label(token),
            details={
                "member": membership.user.email,
                "read_only": read_only,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return token, key


def _token_label(token: ApiToken) -> str:
    return f"{token.prefix}… {token.name}".strip()


class TokenUnusable(Exception):
    """A known key that can no longer be used, with the reason in words."""


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The token with this key, its membership, user and workspace loaded, or None for an
    unknown key; raises TokenUnusable for a revoked or expired one. Records when it was
    last used, at most once a minute: a conditional UPDATE that writes nothing otherwise."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("membership__user", "membership__workspace")
        .filter(key_hash=secret_hash(key))
        .first()
    )
    if token is None:
        return None
    if token.revoked_at is not None:
        raise TokenUnusable(
            f"This API token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC; "
            "ask for a new one."
        )
    if not token.is_usable(now):
        raise TokenUnusable(
            f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one."
        )
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL),
            pk=token.pk,
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stops the token from working, for good. Revoking it again changes nothing."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db(fields=["revoked_at"])
        if updated:
            audit_record(
                action=AuditAction.TOKEN_REVOKED,
                workspace_id=token.membership.workspace_id,
                target=token,
                target_label=_token_label(token),
                details={"member": token.membership.user.email},
            )
    return token


# --- passwords ---------------------------------------------------------------------------------


def password_set(*, form: "SetPasswordForm[User]", how: str) -> User:
    """Saves the new password of a valid SetPasswordForm (or PasswordChangeForm) and records
    it in the audit trail, in one transaction. `how`: "reset link" or "password form"."""
    with transaction.atomic():
        user: User = form.save()
        audit_record(
            action=AuditAction.PASSWORD_CHANGED,
            actor=user,
            target=user,
            target_label=user.email,
            details={"how": how},
        )
    return user
