"""Sign-in protection with django-axes, and the audit of every sign-in.

After AXES_FAILURE_LIMIT failed sign-ins for one account (from any address), or from one
address (for any accounts), signing in is refused for AXES_COOLOFF_TIME, even with the
right password; the page says so in words. The API's tokens never pass through here.
"""

import hashlib
import math
from typing import Any, Literal

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.audit import audit_record
from accounts.models import AuditAction, User


class LoginAttemptsBackend(AxesStandaloneBackend):
    """Refuses every password check of a locked-out account or address (first in
    AUTHENTICATION_BACKENDS). Axes needs the request to know the address: the login
    forms of the site and of the Django admin pass it. A call without one (Django's
    test client `login()`, a shell) is not a sign-in from anywhere and is not counted."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in is for, as axes counts it: the e-mail address, lower-case,
    so A@x.com and a@x.com share one count (AXES_USERNAME_CALLABLE)."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()


def lockout_minutes(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The answer to a sign-in while locked out (AXES_LOCKOUT_CALLABLE): 429, in words."""
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": lockout_minutes(request)},
        status=429,
    )


# --- the audit of sign-ins --------------------------------------------------------------------


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, request=request)


@receiver(user_logged_out)
def _audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, request=request)


@receiver(user_login_failed)
def _audit_login_failure(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    email = str(credentials.get("username") or "").strip().lower()
    # The account attacked, when it exists: its admins see the failures.
    actor = User.objects.filter(email=email).first() if email else None
    audit_record(action=AuditAction.LOGIN_FAILED, actor=actor, actor_label=email, request=request)


@receiver(user_locked_out)
def _audit_lockout(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    email = (username or "").strip().lower()
    actor = User.objects.filter(email=email).first() if email else None
    audit_record(
        action=AuditAction.LOCKED_OUT,
        actor=actor,
        actor_label=email,
        details={"minutes": lockout_minutes(request)},
        request=request,
    )


# --- password reset requests --------------------------------------------------------------------

_HOUR = 3600


def _count(key: str) -> int:
    """Counts one more event under `key` in a window of an hour from the first (atomic in
    the cache, so concurrent requests all count)."""
    cache.add(key, 0, timeout=_HOUR)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=_HOUR)
        return 1


def lockout_lift(user: User) -> None:
    """Forgets the failed sign-ins of this account: its owner just proved, by the link of a
    password reset e-mail, who they are, and can sign in with the new password at once."""
    from axes.utils import reset  # reads django-axes' settings: needs Django set up

    reset(username=user.email.lower())


def password_reset_budget(*, ip: str | None, email: str) -> Literal["ok", "address", "account"]:
    """Whether a request for a password reset e-mail may go out: at most
    PASSWORD_RESET_PER_HOUR per address (beyond it, the page says so) and per account
    (beyond it, nothing more is sent but the page is the same, so it tells nobody whether
    the account exists). Stops a stranger from filling someone's inbox."""
    limit: int = settings.PASSWORD_RESET_PER_HOUR
    if ip is not None and _count(f"password-reset:ip:{ip}") > limit:
        return "address"
    # Hashed: any address makes a short, plain key, whatever the cache back end accepts.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    if _count(f"password-reset:email:{account}") > limit:
        return "account"
    return "ok"
