"""Browser views of accounts: thin, they call selectors and render templates."""

from typing import Any, cast

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import EmailAuthenticationForm
from accounts.models import Membership, User
from accounts.selectors import membership_for, memberships_for_user, workspace_overview


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
        **workspace_overview(workspace=membership.workspace),
    }
    return render(request, "accounts/workspace_home.html", context)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
