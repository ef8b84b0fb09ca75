"""Share links in the browser: editors and admins list, create and revoke them; anyone
holding one opens the dashboard of its scope at /s/<token>/, without a login.

The public page shows the dashboard of the link's scope and nothing else: it is rendered
for an anonymous visitor whoever opens it, ignores any team or objective in its address,
and tells search engines, caches and other sites' Referer headers to keep away.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Membership, Team, User, Workspace
from accounts.permissions import has_scope
from accounts.views import workspace_member
from reports import services
from reports.models import LABEL_LENGTH, ShareLink
from reports.selectors import Scope
from reports.services import ShareLinkRefused, day_text
from reports.views import render_dashboard
from strategy.forms import DateInput, add_service_errors, parent_choices
from strategy.models import Objective
from strategy.services import workspace_today
from strategy.views import confirm_page, page

NAV = "dashboard"
DEFAULT_DAYS = 90  # the expiry a new link is offered: a quarter
MAX_DAYS = 3660  # ten years; a day further is almost surely a typo
# Query parameters that would choose another scope on the dashboard: a shared page drops
# them, so its address can only ever show the link's own scope.
SCOPE_PARAMETERS = ("team", "objective", "workspace")


# --- access -----------------------------------------------------------------------------


def manager(request: HttpRequest, workspace_slug: str) -> Membership:
    """Editors and admins manage share links (a link shows the dashboard to people outside
    the workspace, so it is a change, not a read); viewers get 403, outsiders 404."""
    membership = workspace_member(request, workspace_slug)
    if not has_scope(membership, "write"):
        raise PermissionDenied("Only editors and admins of the workspace share its dashboard.")
    return membership


# --- the form ---------------------------------------------------------------------------


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return obj.name


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=LABEL_LENGTH,
        help_text="Who or what it is for, e.g. “Board deck Q3” or “Finance team”.",
    )
    team = TeamChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="All teams",
        help_text="Only this team's initiatives.",
    )
    objective = forms.ChoiceField(
        required=False,
        help_text="Only this objective, its sub-objectives and the work aligned to them.",
    )
    expires_on = forms.DateField(
        label="Works until",
        required=False,
        widget=DateInput(),
        help_text="The link stops at the end of this day. Leave empty for a link that works "
        "until it is revoked.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.today = workspace_today(workspace)
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            workspace=workspace
        ).order_by("name")
        choices, self._objectives = parent_choices(workspace)
        self.fields["objective"].choices = [("", "All objectives"), *choices[1:]]  # type: ignore[attr-defined]

    def clean_objective(self) -> Objective | None:
        raw = self.cleaned_data.get("objective")
        return self._objectives[int(raw)] if raw else None

    def clean_expires_on(self) -> date | None:
        day: date | None = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        if day < self.today:
            raise ValidationError(
                "This day has passed: choose today or a later day, or leave it empty for a "
                "link that works until it is revoked."
            )
        if day > self.today + timedelta(days=MAX_DAYS):
            raise ValidationError(
                "Choose a day within ten years, or leave it empty for a link that works "
                "until it is revoked."
            )
        return day

    def service_arguments(self) -> dict[str, Any]:
        """What share_link_create takes: the scope, and the end of the last day in the
        workspace's time zone."""
        data = self.cleaned_data
        day: date | None = data["expires_on"]
        expires_at = None
        if day is not None:
            zone = ZoneInfo(self.workspace.timezone)
            expires_at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        return {
            "scope": Scope(team=data["team"], objective=data["objective"]),
            "label": data["label"],
            "expires_at": expires_at,
        }


# --- shaping links into text -------------------------------------------------------------


def scope_text(link: ShareLink) -> str:
    """What the link shows, as the end of a sentence: "the dashboard of …"."""
    if link.team is not None and link.objective is not None:
        return f"team {link.team.name}, within “{link.objective.title}”"
    if link.team is not None:
        return f"team {link.team.name}"
    if link.objective is not None:
        return f"“{link.objective.title}” and its sub-objectives"
    return "the whole workspace"


def _moment_text(moment: datetime, workspace: Workspace) -> str:
    local = timezone.localtime(moment, ZoneInfo(workspace.timezone))
    return f"{day_text(moment, workspace)}, {local:%H:%M}"


def _person(user: User | None) -> str:
    return user.display_name if user is not None else "a former member"


@dataclass(frozen=True)
class ShareLinkRow:
    """A link as the list shows it: every figure already in words."""

    link: ShareLink
    status: str  # active | expired | revoked
    status_text: str
    scope: str
    created: str
    expiry: str
    last_used: str
    url: str


def share_link_row(request: HttpRequest, link: ShareLink, now: datetime) -> ShareLinkRow:
    workspace = link.workspace
    if link.revoked_at is not None:
        status = "revoked"
        status_text = (
            f"Revoked on {day_text(link.revoked_at, workspace)} by {_person(link.revoked_by)}"
        )
    elif link.expires_at is not None and link.expires_at <= now:
        status, status_text = "expired", "Expired"
    else:
        status, status_text = "active", "Active"
    if link.expires_at is None:
        expiry = "Never"
    else:
        last_day = day_text(link.expires_at - timedelta(microseconds=1), workspace)
        expiry = f"Worked until {last_day}" if status == "expired" else f"Until {last_day}"
    token = services.share_link_token(link=link)
    return ShareLinkRow(
        link=link,
        status=status,
        status_text=status_text,
        scope=scope_text(link),
        created=f"{day_text(link.created_at, workspace)} by {_person(link.created_by)}",
        expiry=expiry,
        last_used=_moment_text(link.last_used_at, workspace) if link.last_used_at else "Never",
        url=request.build_absolute_uri(reverse("sharing:dashboard", args=[token])),
    )


# --- management pages --------------------------------------------------------------------


@login_required
@never_cache  # the page holds the links' addresses
@require_safe
def share_links(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = manager(request, workspace_slug)
    workspace = membership.workspace
    now = timezone.now()
    links = (
        ShareLink.objects.filter(workspace=workspace)
        .select_related("team", "objective", "created_by", "revoked_by")
        .order_by("-created_at", "-id")
    )
    rows = []
    for link in links:
        link.workspace = workspace  # the same row: no query per link
        rows.append(share_link_row(request, link, now))
    # Live links first, newest first within each group.
    rows.sort(key=lambda row: row.status != "active")
    context = {
        "rows": rows,
        "active_count": sum(1 for row in rows if row.status == "active"),
        "new_link": request.GET.get("new", ""),
    }
    return page(request, "reports/share_links.html", membership, NAV, context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def share_link_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = manager(request, workspace_slug)
    workspace = membership.workspace
    if request.method == "POST":
        form = ShareLinkForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                link = services.share_link_create(
                    workspace=workspace,
                    by=membership.user,
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                add_service_errors(form, _on_form_fields(exc))
            else:
                until = "until you revoke it"
                if link.expires_at is not None:
                    last_day = day_text(link.expires_at - timedelta(microseconds=1), workspace)
                    until = f"until the end of {last_day}, unless you revoke it sooner"
                messages.success(
                    request,
                    f"Share link “{link.label}” created. Anyone who has its address sees the "
                    f"dashboard of {scope_text(link)}, read-only, {until}.",
                )
                return redirect(
                    f"{reverse('sharing:share-links', args=[workspace.slug])}?new={link.pk}"
                    f"#link-{link.pk}"
                )
    else:
        form = ShareLinkForm(
            workspace=workspace, initial=_initial(request, workspace_today(workspace))
        )
    return page(request, "reports/share_form.html", membership, NAV, {"form": form})


def _initial(request: HttpRequest, today: date) -> dict[str, Any]:
    """The dashboard's Share button passes its team and objective filters along."""
    initial: dict[str, Any] = {"expires_on": today + timedelta(days=DEFAULT_DAYS)}
    for name in ("team", "objective"):
        raw = request.GET.get(name, "")
        if raw.isascii() and raw.isdigit() and len(raw) < 19:
            initial[name] = raw
    return initial


def _on_form_fields(error: ValidationError) -> ValidationError:
    """The service names the expiry `expires_at`; the form asks for `expires_on`."""
    if hasattr(error, "error_dict") and "expires_at" in error.error_dict:
        renamed = dict(error.error_dict)
        renamed["expires_on"] = renamed.pop("expires_at")
        return ValidationError(renamed)
    return error


@login_required
@require_http_methods(["GET", "POST"])
def share_link_revoke(request: HttpRequest, workspace_slug: str, link_id: int) -> HttpResponse:
    membership = manager(request, workspace_slug)
    workspace = membership.workspace
    link = get_object_or_404(
        ShareLink.objects.select_related("team", "objective", "revoked_by"),
        pk=link_id,
        workspace=workspace,
    )
    link.workspace = workspace
    list_url = reverse("sharing:share-links", args=[workspace.slug])
    if request.method == "POST":
        if link.revoked_at is not None:
            messages.info(
                request,
                f"Share link “{link.label}” was already revoked on "
                f"{day_text(link.revoked_at, workspace)}.",
            )
        else:
            services.share_link_revoke(link=link, by=membership.user)
            messages.success(
                request,
                f"Share link “{link.label}” revoked. Its address now says the link was revoked "
                "and shows no figures.",
            )
        return redirect(f"{list_url}#link-{link.pk}")
    refusal = ""
    if link.revoked_at is not None:
        refusal = (
            f"“{link.label}” was already revoked on {day_text(link.revoked_at, workspace)} by "
            f"{_person(link.revoked_by)}."
        )
    return confirm_page(
        request,
        membership,
        NAV,
        title="Revoke share link",
        question=f"Revoke the share link “{link.label}”?",
        consequences=[
            f"It shows the dashboard of {scope_text(link)}; from now on its "
            "address shows that the link was revoked, and no figures.",
            "Whoever has it loses access at once; a page they already have open stops "
            "working when reloaded.",
            "This cannot be undone: create a new link to share the dashboard again.",
        ],
        button="Revoke link",
        cancel_url=list_url,
        crumb_url=list_url,
        crumb="Share links",
        danger=True,
        refusal=refusal,
    )


# --- the public page ---------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    """Not indexed, not cached, and the address (the secret) never sent as a Referer."""
    add_never_cache_headers(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _without_scope_parameters(request: HttpRequest) -> None:
    kept = request.GET.copy()
    for name in SCOPE_PARAMETERS:
        kept.pop(name, None)
    request.GET = kept  # type: ignore[assignment]


@require_safe
def shared_dashboard(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.share_link_resolve(token=token)
    except ShareLinkRefused as refusal:
        status = 404 if refusal.reason == "invalid" else 410
        request.user = AnonymousUser()
        response = render(
            request, "reports/share_refused.html", {"refusal": refusal}, status=status
        )
        return _private(response)
    if not getattr(request, "htmx", False):
        # A visit is a page load; the period filter's partial updates are part of it.
        services.share_link_record_use(link=link)
    # The page is the same for everyone who opens it: no member's menus or workspaces,
    # and no scope but the link's, whatever the address adds.
    request.user = AnonymousUser()
    _without_scope_parameters(request)
    response = render_dashboard(
        request,
        workspace=link.workspace,
        scope=Scope(team=link.team, objective=link.objective),
        as_of=workspace_today(link.workspace),
        shared=link,
    )
    return _private(response)
