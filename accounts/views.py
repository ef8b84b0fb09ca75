"""Browser views of accounts: thin, they call selectors and render templates."""

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_record, client_ip
from accounts.forms import (
    AuditFilterForm,
    EmailAuthenticationForm,
    InvitationForm,
    PasswordResetRequestForm,
    RoleForm,
    TokenCreateForm,
)
from accounts.invitations import Invited, invitation_url, invitations_open
from accounts.models import ApiToken, AuditAction, Invitation, Membership, User, Workspace
from accounts.permissions import has_scope
from accounts.selectors import (
    audit_events_for,
    members_of,
    membership_for,
    memberships_for_user,
    tokens_for,
    workspace_overview,
)
from accounts.services import (
    api_token_create,
    api_token_revoke,
    member_remove,
    member_role_change,
    password_set,
)
from accounts.signin import lockout_lift, password_reset_budget

AUDIT_PAGE_SIZE = 50
ADMINS_ONLY = "Only admins of this workspace manage its members and read its audit log."


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot log anyone out behind their back."""


def home(request: HttpRequest) -> HttpResponse:
    """Sends a member to their first workspace; someone without one sees how to get in."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    first = memberships_for_user(user=cast(User, request.user)).first()
    if first is not None:
        return redirect("accounts:workspace-home", workspace_slug=first.workspace.slug)
    return render(request, "accounts/no_workspace.html")


def workspace_member(request: HttpRequest, workspace_slug: str) -> Membership:
    """The member's membership in the workspace of the URL, or 404 for anyone else."""
    membership = membership_for(user=cast(User, request.user), slug=workspace_slug)
    if membership is None:
        raise Http404("No workspace with this address, or you are not a member of it.")
    request.workspace = membership.workspace  # type: ignore[attr-defined]
    request.membership = membership  # type: ignore[attr-defined]
    return membership


@login_required
def workspace_home(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = workspace_member(request, workspace_slug)
    context: dict[str, Any] = {
        "workspace": membership.workspace,
        "membership": membership,
        "is_admin": has_scope(membership, "admin"),
        **workspace_overview(workspace=membership.workspace),
    }
    return render(request, "accounts/workspace_home.html", context)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Checks the new password against the validators and says what is wrong in words."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:root")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "min_length": settings.PASSWORD_MIN_LENGTH}

    def form_valid(self, form: Any) -> HttpResponse:
        password_set(form=form, how="password form")
        # Keeps this session signed in (its hash changed with the password); the others end.
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, "Your password is changed.")
        return redirect(self.get_success_url())


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for the e-mail address and sends a link to set a new password, if an active
    account has that address. The page that follows is the same either way, so it tells
    nobody which addresses have accounts."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form: Any) -> HttpResponse:
        budget = password_reset_budget(ip=client_ip(self.request), email=form.cleaned_data["email"])
        if budget == "address":
            paused = render(
                self.request, "accounts/password_reset_paused.html", {"hours": 1}, status=429
            )
            paused["Retry-After"] = "3600"
            return paused
        if budget == "account":  # sends nothing more, says the same
            return redirect(self.success_url)
        self.extra_email_context = {
            "site_url": settings.SITE_URL,
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the e-mail: a form for the new password, or why the link opens nothing."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "min_length": settings.PASSWORD_MIN_LENGTH,
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }

    def form_valid(self, form: Any) -> HttpResponse:
        user = password_set(form=form, how="reset link")
        lockout_lift(user)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your new password is set. Log in with it.")
        return redirect(self.get_success_url())


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )


def workspace_admin(request: HttpRequest, workspace_slug: str) -> Membership:
    """An admin's membership in the workspace of the URL; 403 for its other members."""
    membership = workspace_member(request, workspace_slug)
    if not has_scope(membership, "admin"):
        raise PermissionDenied(ADMINS_ONLY)
    return membership


@login_required
def tokens(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    """A member's API tokens (an admin sees everyone's), and a new one. The key of a new
    token is on this answer only: it is never stored."""
    membership = workspace_member(request, workspace_slug)
    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = api_token_create(
                membership=membership,
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["read_only"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = TokenCreateForm()
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "form": form,
        "new_key": new_key,
        "is_admin": has_scope(membership, "admin"),
        **tokens_for(membership=membership),
    }
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, workspace_slug: str, token_id: int) -> HttpResponse:
    """A member revokes their own token; an admin any token of the workspace."""
    membership = workspace_member(request, workspace_slug)
    token = get_object_or_404(
        ApiToken.objects.select_related("membership__user"),
        pk=token_id,
        membership__workspace=membership.workspace,
    )
    if token.membership_id != membership.pk and not has_scope(membership, "admin"):
        raise PermissionDenied("You can revoke your own API tokens; an admin revokes the others.")
    api_token_revoke(token=token)
    messages.success(request, f"The token {token.prefix}… is revoked: it stops working now.")
    return redirect("accounts:tokens", workspace_slug=membership.workspace.slug)


INVITED_SESSION_KEY = "accounts.invited"


@login_required
@require_GET
def members(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    invited = _just_invited(request, membership.workspace)
    return members_page(request, membership, InvitationForm(), invited=invited)


def _just_invited(request: HttpRequest, workspace: Workspace) -> Invited | None:
    """The invitation made by the request before this one, with its key: taken from the
    session, so the link shows this once."""
    kept = request.session.pop(INVITED_SESSION_KEY, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("invitation"), int):
        return None
    invitation = (
        Invitation.objects.filter(pk=kept["invitation"], workspace=workspace)
        .select_related("workspace")
        .first()
    )
    if invitation is None:
        return None
    return Invited(invitation, str(kept.get("key", "")), emailed=bool(kept.get("emailed")))


def members_page(
    request: HttpRequest,
    membership: Membership,
    form: InvitationForm,
    invited: Invited | None = None,
    status: int = 200,
) -> HttpResponse:
    """The members, the open invitations and the form to invite; after an invitation, its
    link, shown this once (only its hash is kept)."""
    workspace = membership.workspace
    now = timezone.now()
    context = {
        "workspace": workspace,
        "membership": membership,
        "members": members_of(workspace=workspace),
        "roles": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        "form": form,
        "invited": invited,
        "invited_url": invitation_url(invited.key) if invited else "",
        "invitations": [(i, i.state(now)) for i in invitations_open(workspace=workspace)],
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render(request, "accounts/members.html", context, status=status)


def _member_of(membership: Membership, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=member_id, workspace=membership.workspace
    )


@login_required
@require_POST
def member_role(request: HttpRequest, workspace_slug: str, member_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    member = _member_of(membership, member_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a role: admin, editor or viewer.")
        member_role_change(membership=member, role=form.cleaned_data["role"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.user.email} is now {member.get_role_display()}.")
    return redirect("accounts:members", workspace_slug=membership.workspace.slug)


@login_required
@require_POST
def member_delete(request: HttpRequest, workspace_slug: str, member_id: int) -> HttpResponse:
    membership = workspace_admin(request, workspace_slug)
    member = _member_of(membership, member_id)
    try:
        member_remove(membership=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.user.email} is no longer a member of this workspace.")
    if member.user_id == request.user.pk and not Membership.objects.filter(pk=member.pk).exists():
        return redirect("accounts:root")
    return redirect("accounts:members", workspace_slug=membership.workspace.slug)


@login_required
@require_GET  # read-only: nothing in the app changes or deletes an event
def audit_log(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    """Who did what and when, for admins; filters by action, person and UTC days."""
    membership = workspace_admin(request, workspace_slug)
    workspace = membership.workspace
    people = [(m.user_id, m.user.email) for m in members_of(workspace=workspace)]
    form = AuditFilterForm(request.GET or None, members=people)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "action": form.cleaned_data["action"] or None,
            "actor_id": form.cleaned_data["actor"],
            "date_from": form.cleaned_data["date_from"],
            "date_to": form.cleaned_data["date_to"],
        }
    paginator = Paginator(audit_events_for(workspace=workspace, **filters), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "workspace": workspace,
        "membership": membership,
        "form": form,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "accounts/audit.html", context)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The browser's 403 (handler403): every refusal of a signed-in person is audited, with
    the workspace when the page is of one, and the page says why in words."""
    reason = str(exception) if exception is not None and str(exception) else ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        membership = getattr(request, "membership", None)
        audit_record(
            action=AuditAction.ACCESS_DENIED,
            workspace_id=membership.workspace_id if membership is not None else None,
            actor=user,
            target_type="page",
            target_label=f"{request.method} {request.path}"[:200],
            details={"reason": reason},
            request=request,
        )
    return render(request, "accounts/permission_denied.html", {"reason": reason}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
