"""Value report pages: the definitions of a workspace, their form, one definition with its
runs and "Run now", and the run page — live progress while it is made (htmx polls a small
partial), then the report itself with its downloads and who got it.

Everyone in the workspace reads them; editors and admins change them (strategy.views.member
turns the role into that, in one place). Every write goes through reports.services.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Membership, User, Workspace
from reports import rendering, services
from reports.models import (
    IN_FLIGHT,
    DeliveryStatus,
    ReportDefinition,
    ReportDelivery,
    ReportRun,
    RunStatus,
    RunTrigger,
)
from reports.report_api import FILES, definitions_with_last_run, with_last_runs
from reports.report_forms import ReportDefinitionForm, RunNowForm
from reports.services import ReportRefused, day_text, period_bounds, period_label
from strategy.services import workspace_today
from strategy.views import confirm_page, member, page, shows_archived

NAV = "reports"
# Run statuses shown with the badge colours the app already has for similar states.
STATUS_BADGES = {
    RunStatus.QUEUED: "proposed",
    RunStatus.RUNNING: "in_delivery",
    RunStatus.SUCCEEDED: "measured",
    RunStatus.FAILED: "declined",
}


# --- shaping into words --------------------------------------------------------------------


def scope_text(definition: ReportDefinition) -> str:
    """Who the report is about: "Team Growth, within “Grow revenue”"."""
    if definition.team is not None and definition.objective is not None:
        return f"Team {definition.team.name}, within “{definition.objective.title}”"
    if definition.team is not None:
        return f"Team {definition.team.name}"
    if definition.objective is not None:
        return f"“{definition.objective.title}” and its sub-objectives"
    return "The whole workspace"


def schedule_text(definition: ReportDefinition) -> str:
    if definition.archived_at is not None:
        return "Archived: makes no more runs"
    if not definition.scheduled:
        return "Only when run by hand"
    when = {"week": "Every Monday", "month": "On the 1st of every month"}.get(
        definition.period, "On the first day of every quarter"
    )
    return f"{when}, {definition.send_hour:02d}:00, for the period just ended"


def moment_text(moment: datetime | None, workspace: Workspace) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment, ZoneInfo(workspace.timezone))
    return f"{day_text(moment, workspace)}, {local:%H:%M}"


def _person(run: ReportRun) -> str:
    user: User | None = run.requested_by
    return user.display_name if user is not None else "a former member"


@dataclass(frozen=True)
class RunRow:
    """A run as the pages show it: every figure already in words."""

    run: ReportRun
    label: str
    badge: str
    status_text: str
    who: str
    when: str

    @property
    def in_flight(self) -> bool:
        return self.run.status in IN_FLIGHT


def run_row(run: ReportRun, definition: ReportDefinition, workspace: Workspace) -> RunRow:
    who = "By schedule" if run.trigger == RunTrigger.SCHEDULE else f"Run by {_person(run)}"
    return RunRow(
        run=run,
        label=period_label(definition.period, run.period_start),
        badge=STATUS_BADGES[RunStatus(run.status)],
        status_text=RunStatus(run.status).label,
        who=who,
        when=moment_text(run.finished_at or run.queued_at, workspace),
    )


@dataclass(frozen=True)
class DefinitionRow:
    definition: ReportDefinition
    scope: str
    schedule: str
    recipients: int
    last_run: RunRow | None


# --- definitions -------------------------------------------------------------------------------


def _definition_of(workspace: Workspace, definition_id: int) -> ReportDefinition:
    definition = get_object_or_404(
        ReportDefinition.objects.select_related("team", "objective"),
        pk=definition_id,
        workspace=workspace,
    )
    definition.workspace = workspace  # the same row: no query when a service reads it
    return definition


def _definition_url(definition: ReportDefinition, workspace: Workspace) -> str:
    return reverse("value_reports:definition", args=[workspace.slug, definition.pk])


@login_required
@require_safe
def report_list(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    queryset = ReportDefinition.objects.filter(workspace=workspace).select_related(
        "team", "objective"
    )
    show_archived = shows_archived(request)
    if not show_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    definitions = with_last_runs(list(definitions_with_last_run(queryset).order_by("name", "id")))
    rows = []
    for definition in definitions:
        last = getattr(definition, "last_run", None)
        rows.append(
            DefinitionRow(
                definition=definition,
                scope=scope_text(definition),
                schedule=schedule_text(definition),
                recipients=len(definition.recipients.all()),
                last_run=run_row(last, definition, workspace) if last is not None else None,
            )
        )
    context = {
        "rows": rows,
        "show_archived": show_archived,
        "archived_count": ReportDefinition.objects.filter(
            workspace=workspace, archived_at__isnull=False
        ).count(),
    }
    return page(request, "reports/reports/list.html", membership, NAV, context)


def _definition_form_page(
    request: HttpRequest,
    membership: Membership,
    form: ReportDefinitionForm,
    definition: ReportDefinition | None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "definition": definition}
    return page(request, "reports/reports/form.html", membership, NAV, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    if request.method != "POST":
        form = ReportDefinitionForm(workspace=workspace, initial={"recipient_users": []})
        return _definition_form_page(request, membership, form, None)
    form = ReportDefinitionForm(request.POST, workspace=workspace)
    if form.is_valid():
        try:
            definition = services.report_definition_create(
                workspace=workspace, by=membership.user, **form.service_arguments()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                f"Report “{definition.name}” created. Run it now to see the first report.",
            )
            return redirect(_definition_url(definition, workspace))
    return _definition_form_page(request, membership, form, None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, workspace_slug: str, definition_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    definition = _definition_of(workspace, definition_id)
    if request.method != "POST":
        form = ReportDefinitionForm(
            workspace=workspace, initial=ReportDefinitionForm.initial_of(definition)
        )
        return _definition_form_page(request, membership, form, definition)
    form = ReportDefinitionForm(request.POST, workspace=workspace)
    if form.is_valid():
        try:
            services.report_definition_update(
                definition=definition, changes=form.service_arguments()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except ReportRefused as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, f"Report “{definition.name}” saved.")
            return redirect(_definition_url(definition, workspace))
    return _definition_form_page(request, membership, form, definition, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def report_delete(request: HttpRequest, workspace_slug: str, definition_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    definition = _definition_of(workspace, definition_id)
    list_url = reverse("value_reports:list", args=[workspace.slug])
    if request.method == "POST":
        outcome = services.report_definition_delete(definition=definition)
        if outcome == "deleted":
            messages.success(request, f"Report “{definition.name}” deleted.")
        else:
            messages.success(
                request,
                f"Report “{definition.name}” archived: it makes no more runs, and its "
                "earlier reports stay readable.",
            )
        return redirect(list_url)
    has_runs = definition.runs.exists()
    if has_runs:
        title, button = "Archive report", "Archive report"
        consequences = [
            "It has made reports already: they are the record of what stakeholders were "
            "told, so the report is archived rather than deleted.",
            "It makes no more runs, by schedule or by hand, and leaves the list (“Show "
            "archived” brings it back into view). Its reports stay readable.",
        ]
    else:
        title, button = "Delete report", "Delete report"
        consequences = [
            "It has made no report yet, so nothing is lost but the definition.",
            "Its recipients get nothing more from it.",
        ]
    return confirm_page(
        request,
        membership,
        NAV,
        title=title,
        question=f"{title.split()[0]} the report “{definition.name}”?",
        consequences=consequences,
        button=button,
        cancel_url=_definition_url(definition, workspace),
        crumb_url=list_url,
        crumb="Reports",
        danger=True,
        refusal=(
            f"“{definition.name}” is already archived."
            if definition.archived_at is not None
            else ""
        ),
    )


def _definition_page(
    request: HttpRequest,
    membership: Membership,
    definition: ReportDefinition,
    run_form: RunNowForm,
    status: int = 200,
) -> HttpResponse:
    workspace = membership.workspace
    runs = (
        ReportRun.objects.filter(definition=definition)
        .select_related("requested_by")
        .order_by("-queued_at", "-id")
    )
    recipients = list(definition.recipients.select_related("user"))
    context = {
        "definition": definition,
        "scope": scope_text(definition),
        "schedule": schedule_text(definition),
        "recipients": [r.user.email if r.user is not None else r.email for r in recipients],
        "runs": [run_row(run, definition, workspace) for run in runs],
        "run_form": run_form,
    }
    return page(request, "reports/reports/definition.html", membership, NAV, context, status)


@login_required
@require_safe
def report_detail(request: HttpRequest, workspace_slug: str, definition_id: int) -> HttpResponse:
    membership = member(request, workspace_slug)
    definition = _definition_of(membership.workspace, definition_id)
    return _definition_page(request, membership, definition, RunNowForm())


def _run_url(run: ReportRun, workspace: Workspace) -> str:
    return reverse("value_reports:run", kwargs={"workspace_slug": workspace.slug, "pk": run.pk})


def _request_run(
    request: HttpRequest, membership: Membership, definition: ReportDefinition, day: Any
) -> tuple[ReportRun | None, str]:
    """Queues a run; or the run of that period already being made, with why; or the
    refusal in words."""
    try:
        return services.report_run_request(definition=definition, by=membership.user, day=day), ""
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    except ReportRefused as exc:
        if definition.archived_at is None:
            start, _ = period_bounds(
                definition.period, day or workspace_today(definition.workspace)
            )
            running = (
                ReportRun.objects.filter(
                    definition=definition, period_start=start, status__in=IN_FLIGHT
                )
                .order_by("-queued_at")
                .first()
            )
            if running is not None:
                return running, exc.detail
        return None, exc.detail


@login_required
@require_POST
def report_run_now(request: HttpRequest, workspace_slug: str, definition_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    definition = _definition_of(workspace, definition_id)
    form = RunNowForm(request.POST)
    if not form.is_valid():
        return _definition_page(request, membership, definition, form, status=400)
    run, refusal = _request_run(request, membership, definition, form.day_or_none())
    if run is None:
        form.add_error("day", refusal)
        return _definition_page(request, membership, definition, form, status=409)
    if refusal:
        messages.info(request, f"{refusal} This is the run being made.")
    return redirect(_run_url(run, workspace))


# --- runs --------------------------------------------------------------------------------------


def _run_of(workspace: Workspace, run_id: int) -> ReportRun:
    return get_object_or_404(
        ReportRun.objects.select_related(
            "definition", "definition__team", "definition__objective", "requested_by"
        ),
        pk=run_id,
        workspace=workspace,
    )


def _download_links(run: ReportRun, workspace: Workspace) -> list[tuple[str, str]]:
    """(label, URL) of each file the run has: the API's download endpoints, which take the
    browser's session."""
    links = []
    for fmt, (field, _) in FILES.items():
        if getattr(run, field):
            url = reverse(
                f"report-run-{fmt}", kwargs={"workspace_slug": workspace.slug, "pk": run.pk}
            )
            links.append((fmt.upper(), url))
    return links


def _status_context(run: ReportRun, workspace: Workspace) -> dict[str, Any]:
    definition = run.definition
    return {
        "run": run,
        "row": run_row(run, definition, workspace),
        "status_url": reverse("value_reports:run-status", args=[workspace.slug, run.pk]),
        "started": moment_text(run.started_at, workspace),
    }


@login_required
@require_safe
def run_page(request: HttpRequest, workspace_slug: str, pk: int) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    run = _run_of(workspace, pk)
    run.workspace = workspace
    definition = run.definition
    label = period_label(definition.period, run.period_start)
    report_html = ""
    if run.status == RunStatus.SUCCEEDED and run.data is not None:
        report_html = mark_safe(  # noqa: S308 — Django templates, escaped as they render
            rendering.render_html(
                data=run.data,
                title=f"{definition.name}: {label}",
                standalone=False,
            )
        )
    context = {
        **_status_context(run, workspace),
        "definition": definition,
        "label": label,
        "report_html": report_html,
        "downloads": _download_links(run, workspace),
        "deliveries": list(run.deliveries.all()),
        "finished": moment_text(run.finished_at, workspace),
        "queued": moment_text(run.queued_at, workspace),
    }
    return page(request, "reports/reports/run.html", membership, NAV, context)


@login_required
@require_safe
def run_status(request: HttpRequest, workspace_slug: str, pk: int) -> HttpResponse:
    """The progress partial the run page polls. Once the run has finished, htmx reloads
    the page, which then shows the report (or the failure)."""
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    run = _run_of(workspace, pk)
    response = page(
        request,
        "reports/reports/_run_status.html",
        membership,
        NAV,
        _status_context(run, workspace),
    )
    if run.status not in IN_FLIGHT and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def run_retry(request: HttpRequest, workspace_slug: str, pk: int) -> HttpResponse:
    """Try again: a new run of the same period (the failed one stays, as it was)."""
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    failed = _run_of(workspace, pk)
    definition = failed.definition
    definition.workspace = workspace
    run, refusal = _request_run(request, membership, definition, failed.period_start)
    if run is None:
        messages.error(request, refusal)
        return redirect(_run_url(failed, workspace))
    if refusal:
        messages.info(request, f"{refusal} This is the run being made.")
    return redirect(_run_url(run, workspace))


@login_required
@require_POST
def delivery_resend(
    request: HttpRequest, workspace_slug: str, pk: int, report_delivery_id: int
) -> HttpResponse:
    """Send again: the e-mail to one address whose delivery failed all its attempts."""
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    run = _run_of(workspace, pk)
    try:
        delivery = services.report_delivery_resend(run=run, delivery_id=report_delivery_id)
    except ReportDelivery.DoesNotExist:
        raise Http404("No such delivery of this report.") from None
    except ReportRefused as exc:
        messages.error(request, exc.detail)
    else:
        delivery.refresh_from_db(fields=["status", "last_error"])
        # In process (the embedded default) the attempts are over already.
        if delivery.status == DeliveryStatus.SENT:
            messages.success(request, f"The report was sent again to {delivery.email}.")
        elif delivery.status == DeliveryStatus.FAILED:
            messages.error(
                request,
                f"The report could not be sent again to {delivery.email}. {delivery.last_error}",
            )
        else:
            messages.success(
                request,
                f"The report is being sent again to {delivery.email}. Reload the page to "
                "see whether the mail server took it.",
            )
    return redirect(_run_url(run, workspace))
