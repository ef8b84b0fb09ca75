"""Browser pages of ideas and of what we decided not to do.

Anyone in the workspace submits and votes ideas (the "contribute" scope, viewers too);
reviewing, promoting and declining is for editors and admins ("write"). Views stay thin:
they resolve the membership (404 outside the workspace), check the scope in
accounts.permissions (403), call one service or selector, and shape the output.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership, User, Workspace
from accounts.permissions import has_scope
from accounts.views import workspace_member
from initiatives import idea_selectors, services
from initiatives.idea_forms import (
    SHOW_LABELS,
    IdeaDeclineForm,
    IdeaFilterForm,
    IdeaForm,
    show_of,
)
from initiatives.models import Idea, IdeaSource, IdeaStatus
from strategy.forms import add_service_errors
from strategy.services import workspace_today

IDEAS_PER_PAGE = 50
NOT_DOING_PER_PAGE = 50
CANCELLED_PREVIEW = 10  # cancelled initiatives shown under "all"; ?show=cancelled lists them all

SCOPE_REFUSALS = {
    "contribute": "Your role in this workspace can read ideas but not submit or vote them.",
    "write": "Only editors and admins review, promote or decline ideas.",
}


# --- access and shaping ---------------------------------------------------------------------


def member(request: HttpRequest, workspace_slug: str, *, scope: str = "read") -> Membership:
    """The membership (404 outside the workspace), 403 when its role lacks `scope`."""
    membership = workspace_member(request, workspace_slug)
    if not has_scope(membership, scope):
        raise PermissionDenied(SCOPE_REFUSALS.get(scope, "Your role does not allow this."))
    return membership


def page(
    request: HttpRequest,
    template: str,
    membership: Membership,
    nav: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    base = {
        "workspace": membership.workspace,
        "membership": membership,
        "can_contribute": has_scope(membership, "contribute"),
        "can_edit": has_scope(membership, "write"),
        "nav": nav,
    }
    return render(request, template, base | context, status=status)


def age(moment: datetime, now: datetime) -> str:
    """How long ago, as people say it: "just now", "3 days ago"."""
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


def initiative_url(workspace: Workspace, initiative_id: int) -> str | None:
    """The initiative page, once the initiative pages exist."""
    try:
        return reverse("initiatives:detail", args=[workspace.slug, initiative_id])
    except NoReverseMatch:
        return None


def back_to(request: HttpRequest, fallback: str) -> str:
    """Where a button should return to: the page it was pressed on (its filters and
    page number), or `fallback`; never another host."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def query(params: dict[str, Any]) -> str:
    """ "?status=new&source=sales" without the empty ones; "?" when none is left."""
    kept = {name: value for name, value in params.items() if value not in ("", None)}
    return f"?{urlencode(kept)}" if kept else "?"


def page_prefix(params: dict[str, Any]) -> str:
    """The start of a page link that keeps the filters: "?status=new&" then page=2."""
    prefix = query(params)
    return prefix if prefix == "?" else f"{prefix}&"


@dataclass(frozen=True)
class IdeaRow:
    idea: Idea
    age: str
    open: bool  # takes votes, and can be promoted or declined
    initiative_url: str | None


def idea_row(idea: Idea, workspace: Workspace, now: datetime) -> IdeaRow:
    return IdeaRow(
        idea=idea,
        age=age(idea.created_at, now),
        open=idea.status in idea_selectors.OPEN_IDEA_STATUSES,
        initiative_url=(
            initiative_url(workspace, idea.promoted_to_id) if idea.promoted_to_id else None
        ),
    )


def _idea_of(workspace: Workspace, idea_id: int) -> Idea:
    return get_object_or_404(
        Idea.objects.select_related("workspace"), pk=idea_id, workspace=workspace
    )


def _idea_anchor(workspace: Workspace, idea: Idea) -> str:
    return f"{reverse('ideas:list', args=[workspace.slug])}#idea-{idea.pk}"


# --- the ideas page ---------------------------------------------------------------------------


def _ideas_page(
    request: HttpRequest, membership: Membership, form: IdeaForm, status: int = 200
) -> HttpResponse:
    workspace = membership.workspace
    user = cast(User, request.user)
    filter_form = IdeaFilterForm(request.GET)
    filters = filter_form.filters()
    ideas = idea_selectors.ideas_for(workspace=workspace, user=user, **filters)
    paged: Page[Idea] = Paginator(ideas, IDEAS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    counts = idea_selectors.idea_counts_by_status(workspace=workspace)
    status_tabs = [
        {
            "value": value,
            "label": label,
            "count": counts[value] if value else sum(counts.values()),
            "url": query({"status": value, "source": filters.get("source")}),
            "current": filters.get("status", "") == value,
        }
        for value, label in [("", "All"), *IdeaStatus.choices]
    ]
    context = {
        "form": form,
        "filter_form": filter_form,
        "filters": filters,
        "status_tabs": status_tabs,
        "total": sum(counts.values()),
        "rows": [idea_row(i, workspace, now) for i in paged.object_list],
        "paged": paged,
        "page_prefix": page_prefix(filters),
        "source_labels": dict(IdeaSource.choices),
    }
    return page(request, "ideas/list.html", membership, "ideas", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def idea_list(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    """The ideas, most voted first, with the submit form on top (POST submits)."""
    if request.method != "POST":
        membership = member(request, workspace_slug)
        return _ideas_page(request, membership, IdeaForm())
    membership = member(request, workspace_slug, scope="contribute")
    workspace = membership.workspace
    form = IdeaForm(request.POST)
    if form.is_valid():
        try:
            idea = services.idea_submit(
                workspace=workspace, by=cast(User, request.user), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Thanks — your idea “{idea.title}” is in the list. Anyone in the workspace "
                "can vote for it now.",
            )
            return redirect(_idea_anchor(workspace, idea))
    return _ideas_page(request, membership, form)


@login_required
@require_POST
def idea_vote(request: HttpRequest, workspace_slug: str, idea_id: int) -> HttpResponse:
    """One vote per person; with htmx the vote box is answered in place, count and all."""
    membership = member(request, workspace_slug, scope="contribute")
    workspace = membership.workspace
    user = cast(User, request.user)
    idea = _idea_of(workspace, idea_id)
    try:
        services.idea_vote(idea=idea, by=user)
    except services.IdeaRefused as exc:
        message, ok = exc.detail, False
    else:
        message, ok = "Thanks for your vote.", True
    if not request.htmx:  # type: ignore[attr-defined]
        (messages.success if ok else messages.error)(request, f"“{idea.title}”: {message}")
        return redirect(back_to(request, _idea_anchor(workspace, idea)))
    counted = idea_selectors.idea_with_votes(workspace=workspace, user=user, idea_id=idea.pk)
    assert counted is not None  # noqa: S101 - found just above, and ideas are not deleted here
    context = {
        "row": idea_row(counted, workspace, timezone.now()),
        "vote_message": message,
        "vote_ok": ok,
        "next": request.POST.get("next", ""),
    }
    return page(request, "ideas/_vote.html", membership, "ideas", context)


@login_required
@require_POST
def idea_promote(request: HttpRequest, workspace_slug: str, idea_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, scope="write")
    workspace = membership.workspace
    idea = _idea_of(workspace, idea_id)
    try:
        initiative = services.idea_promote(idea=idea, by=cast(User, request.user))
    except services.IdeaRefused as exc:
        messages.error(request, f"“{idea.title}”: {exc.detail}")
        return redirect(back_to(request, _idea_anchor(workspace, idea)))
    except ValidationError as exc:
        messages.error(request, f"“{idea.title}” could not be promoted: {' '.join(exc.messages)}")
        return redirect(back_to(request, _idea_anchor(workspace, idea)))
    url = initiative_url(workspace, initiative.pk)
    messages.success(
        request,
        f"“{idea.title}” is now a proposed initiative, with you as its owner. "
        "Give it a hypothesis and the impact you expect.",
    )
    return redirect(url or _idea_anchor(workspace, idea))


@login_required
@require_POST
def idea_review(request: HttpRequest, workspace_slug: str, idea_id: int) -> HttpResponse:
    """Marks a new idea under review, and returns to the page the button was on."""
    membership = member(request, workspace_slug, scope="write")
    workspace = membership.workspace
    idea = _idea_of(workspace, idea_id)
    try:
        services.idea_review(idea=idea, by=cast(User, request.user))
    except services.IdeaRefused as exc:
        messages.error(request, f"“{idea.title}”: {exc.detail}")
    else:
        messages.success(
            request,
            f"“{idea.title}” is under review. It still takes votes; promote or decline it "
            "when the team has decided.",
        )
    return redirect(back_to(request, _idea_anchor(workspace, idea)))


@login_required
@require_http_methods(["GET", "POST"])
def idea_decline(request: HttpRequest, workspace_slug: str, idea_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, scope="write")
    workspace = membership.workspace
    idea = _idea_of(workspace, idea_id)
    today = workspace_today(workspace)
    refusal = ""
    if idea.status not in idea_selectors.OPEN_IDEA_STATUSES:
        refusal = f"This idea is already {IdeaStatus(idea.status).label.lower()}."
    if request.method == "POST" and not refusal:
        form = IdeaDeclineForm(request.POST, today=today)
        if form.is_valid():
            try:
                services.idea_decline(
                    idea=idea,
                    by=cast(User, request.user),
                    reason=form.cleaned_data["reason"],
                    revisit_on=form.cleaned_data["revisit_on"],
                )
            except services.IdeaRefused as exc:
                form.add_error(None, exc.detail)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Declined “{idea.title}”. It is on the Not doing page with your reason.",
                )
                return redirect(back_to(request, _idea_anchor(workspace, idea)))
    else:
        form = IdeaDeclineForm(today=today)
    counted = idea_selectors.idea_with_votes(
        workspace=workspace, user=cast(User, request.user), idea_id=idea.pk
    )
    context = {
        "row": idea_row(counted or idea, workspace, timezone.now()),
        "form": form,
        "refusal": refusal,
        "tomorrow": today + timedelta(days=1),
        "next": request.GET.get("next") or request.POST.get("next", ""),
    }
    return page(request, "ideas/decline.html", membership, "ideas", context)


# --- not doing --------------------------------------------------------------------------------


@login_required
def not_doing(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    """Every declined initiative and idea, with the reason, newest decision first."""
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    today = workspace_today(workspace)
    show = show_of(request.GET.get("show"))
    rows = idea_selectors.not_doing_rows(workspace=workspace, show=show)
    paged: Page[Mapping[str, Any]] = Paginator(rows, NOT_DOING_PER_PAGE).get_page(
        request.GET.get("page")
    )
    main_rows = list(paged.object_list)
    counts = idea_selectors.not_doing_counts(workspace=workspace, today=today)
    cancelled_rows: list[Mapping[str, Any]] = []
    if show == "all" and paged.number == 1 and counts.cancelled:
        cancelled_rows = list(
            idea_selectors.not_doing_rows(workspace=workspace, show="cancelled")[:CANCELLED_PREVIEW]
        )
    # The page's entries and the cancelled preview are read together: one set of queries.
    every = idea_selectors.not_doing_entries(
        workspace=workspace, rows=[*main_rows, *cancelled_rows], today=today
    )
    entries, cancelled = every[: len(main_rows)], every[len(main_rows) :]
    tab_counts = {
        "all": counts.declined,
        "initiatives": counts.declined_initiatives,
        "ideas": counts.declined_ideas,
        "cancelled": counts.cancelled,
    }
    tabs = [
        {
            "value": value,
            "label": label,
            "count": tab_counts[value],
            "url": query({"show": "" if value == "all" else value}),
            "current": show == value,
        }
        for value, label in SHOW_LABELS.items()
    ]
    context = {
        "show": show,
        "tabs": tabs,
        "counts": counts,
        "entries": entries,
        "cancelled": cancelled,
        "paged": paged,
        "page_prefix": page_prefix({"show": "" if show == "all" else show}),
        "today": today,
    }
    return page(request, "ideas/not_doing.html", membership, "not-doing", context)
