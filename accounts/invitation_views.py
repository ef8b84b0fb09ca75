"""Browser views of invitations: an admin invites and withdraws on the members page; the
invited person opens the link, and joins — creating their account, or logging in to the
one they have."""

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import InvitationForm, JoinForm
from accounts.invitations import (
    ROLE_WORDS,
    InvitationRefused,
    invitation_accept,
    invitation_accept_as_new_user,
    invitation_create,
    invitation_resolve,
    invitation_revoke,
)
from accounts.models import Invitation, Membership, Role, User
from accounts.views import INVITED_SESSION_KEY, members_page, workspace_admin

# The account made by joining logs in with the model backend: django-axes' backend only
# counts password checks, and none happened here.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@login_required
@require_POST
def member_invite(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return members_page(request, membership, form, status=400)
    try:
        invited = invitation_create(
            workspace=membership.workspace,
            by=cast(User, request.user),
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return members_page(request, membership, form, status=400)
    email = invited.invitation.email
    if invited.emailed:
        messages.success(request, f"{email} is invited: the link is on its way by e-mail.")
    else:
        messages.error(
            request,
            f"{email} is invited, but the mail server did not take the e-mail. Pass on the "
            "link below another way.",
        )
    # Shown once by the page this redirects to (a reload does not invite again).
    request.session[INVITED_SESSION_KEY] = {
        "invitation": invited.invitation.pk,
        "key": invited.key,
        "emailed": invited.emailed,
    }
    return redirect("accounts:members", workspace_slug=membership.workspace.slug)


@login_required
@require_POST
def invitation_withdraw(
    request: HttpRequest, workspace_slug: str, invitation_id: int
) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=membership.workspace)
    if invitation_revoke(invitation=invitation, by=cast(User, request.user)):
        messages.success(
            request, f"The invitation of {invitation.email} is withdrawn: its link stops working."
        )
    else:
        messages.error(
            request, f"The invitation of {invitation.email} was accepted or withdrawn already."
        )
    return redirect("accounts:members", workspace_slug=membership.workspace.slug)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """The link of the e-mail. Someone without an account creates one here; someone with
    one logs in and accepts; anyone else is told whose invitation it is."""
    try:
        found = invitation_resolve(key=key)
    except InvitationRefused as exc:
        return _refused(request, exc)
    user = cast(User, request.user) if request.user.is_authenticated else None
    has_account = User.objects.filter(email__iexact=found.email).exists()
    if user is not None or has_account:
        if request.method != "POST" or user is None:
            return _page(request, found, None, has_account)
        try:
            membership = invitation_accept(key=key, user=user)
        except InvitationRefused as exc:
            return _refused(request, exc)
        return _welcome(request, membership)
    form = JoinForm(request.POST or None)
    if request.method != "POST":
        return _page(request, found, form, has_account)
    if form.is_valid():
        try:
            membership = invitation_accept_as_new_user(
                key=key,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except InvitationRefused as exc:
            return _refused(request, exc)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error({"password": "password1"}.get(field, field), errors)
        else:
            login(request, membership.user, backend=MODEL_BACKEND)
            return _welcome(request, membership)
    return _page(request, found, form, has_account, status=400)


def _welcome(request: HttpRequest, membership: Membership) -> HttpResponse:
    role = membership.get_role_display().lower()
    messages.success(request, f"Welcome to {membership.workspace.name}: you are {role} here.")
    return redirect("accounts:workspace-home", workspace_slug=membership.workspace.slug)


def _page(
    request: HttpRequest,
    found: Invitation,
    form: JoinForm | None,
    has_account: bool,
    status: int = 200,
) -> HttpResponse:
    user = cast(User, request.user) if request.user.is_authenticated else None
    context = {
        "invitation": found,
        "inviter": found.invited_by.display_name if found.invited_by else "An admin",
        "role_words": ROLE_WORDS[Role(found.role)],
        "form": form,
        "has_account": has_account,
        "signed_in_as": user.email if user else "",
        "is_invitee": user is not None and user.email.lower() == found.email.lower(),
        "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
        "min_length": settings.PASSWORD_MIN_LENGTH,
    }
    return render(request, "accounts/invitation.html", context, status=status)


# A link that is not ours: 404; one used, withdrawn or expired: 410 (gone); the right link
# in the wrong hands (another account is logged in): 403; an account made meanwhile: 409.
REFUSAL_STATUS = {"invalid": 404, "other_account": 403, "has_account": 409}


def _refused(request: HttpRequest, exc: InvitationRefused) -> HttpResponse:
    status = REFUSAL_STATUS.get(exc.reason, 410)
    return render(
        request, "accounts/invitation_refused.html", {"detail": exc.detail}, status=status
    )
