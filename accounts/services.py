"""Writes for accounts: workspaces, members, teams and API tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken, Membership, Role, Team, User, Workspace

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
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return membership, created


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


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *,
    membership: Membership,
    name: str = "",
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token and returns it with its key. The key is not stored: show it once."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        membership=membership,
        name=name,
        prefix=key[:12],
        key_hash=_hash_key(key),
        read_only=read_only,
        expires_at=expires_at,
    )
    return token, key


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The usable token with this key, its membership, user and workspace loaded, or None.
    Records when it was last used (at most once a minute)."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("membership__user", "membership__workspace")
        .filter(key_hash=_hash_key(key))
        .first()
    )
    if token is None or not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
