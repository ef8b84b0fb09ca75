"""Browser pages of strategy: the objective tree, the metric dictionary and metric pages.

Views stay thin: they resolve the membership (404 for anyone outside the workspace), ask
accounts.permissions whether the member may write (403 otherwise), call one service or
selector, and shape figures into text the templates print as they are.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership, Workspace
from accounts.permissions import has_scope
from accounts.views import workspace_member
from initiatives.selectors import releases_claiming
from strategy import services
from strategy.forms import (
    DateRangeForm,
    KeyResultForm,
    MeasurementCsvForm,
    MeasurementForm,
    MetricForm,
    ObjectiveForm,
    add_service_errors,
    quarter_of,
)
from strategy.models import KeyResult, Measurement, Metric, Objective, ObjectiveStatus
from strategy.selectors import (
    KeyResultFigures,
    flatten,
    latest_measurements_of,
    measurement_series,
    metric_key_results,
    metrics_for,
    objective_tree,
)

CHART_DAYS = 730
LATEST_ROWS = 15
MAX_INDENT = 6

PACE_LABELS = {
    "achieved": "Achieved",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    None: "No data yet",
}
AGGREGATION_SHORT = {"last": "Last value", "sum": "Sum", "mean": "Mean"}


# --- shaping figures into text -----------------------------------------------------------


def number(value: Decimal | None) -> str:
    """A metric value as people write it: 12,400 · 3.5 · 0.042; "—" without one."""
    if value is None:
        return "—"
    places = 2 if abs(value) >= 1 else 4
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def with_unit(text: str, unit: str) -> str:
    if text == "—" or not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def percent(share: Decimal | None) -> int | None:
    if share is None:
        return None
    return int((share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class KeyResultRow:
    """A key result as a page shows it: every figure already in words and numbers."""

    key_result: KeyResult
    figures: KeyResultFigures
    label: str
    percent_text: str  # unclamped: "112%"
    bar_width: int  # clamped to 0–100 for the bar
    expected_percent: int
    pace: str
    pace_label: str
    current: str
    target: str
    baseline: str


def key_result_row(key_result: KeyResult, figures: KeyResultFigures) -> KeyResultRow:
    metric = key_result.metric
    progress = percent(figures.progress)
    return KeyResultRow(
        key_result=key_result,
        figures=figures,
        label=key_result.title or metric.name,
        percent_text="—" if progress is None else f"{progress}%",
        bar_width=0 if progress is None else max(0, min(100, progress)),
        expected_percent=percent(figures.expected_progress) or 0,
        pace=figures.pace or "no_data",
        pace_label=PACE_LABELS[figures.pace],
        current=with_unit(number(figures.current), metric.unit),
        target=with_unit(number(key_result.target), metric.unit),
        baseline=with_unit(number(key_result.baseline), metric.unit),
    )


@dataclass(frozen=True)
class ObjectiveRow:
    objective: Objective
    indent: int  # depth in the tree, capped so deep trees stay readable
    key_results: list[KeyResultRow]
    has_children: bool = False  # among the objectives shown; the delete service checks all

    @property
    def archived(self) -> bool:
        return self.objective.status == ObjectiveStatus.ARCHIVED


# --- access ---------------------------------------------------------------------------------


def member(request: HttpRequest, workspace_slug: str, *, write: bool = False) -> Membership:
    """The membership (404 outside the workspace); 403 when it may not write and the view
    writes — or the request is a POST, which every view here answers only to writers."""
    membership = workspace_member(request, workspace_slug)
    if (write or request.method == "POST") and not has_scope(membership, "write"):
        raise PermissionDenied("Your role in this workspace can read but not change it.")
    return membership


def shows_archived(request: HttpRequest) -> bool:
    """Lists hide archived items unless the address asks for them: ?archived=1."""
    return request.GET.get("archived") == "1"


def confirm_page(
    request: HttpRequest,
    membership: Membership,
    nav: str,
    *,
    title: str,
    question: str,
    consequences: list[str],
    button: str,
    cancel_url: str,
    crumb_url: str,
    crumb: str,
    danger: bool = False,
    errors: list[str] | None = None,
    refusal: str = "",
) -> HttpResponse:
    """The step between a button and a write: says what will happen, then POSTs here.
    With a refusal it explains why the action is not possible and offers no button."""
    context = {
        "title": title,
        "question": question,
        "consequences": consequences,
        "button": button,
        "cancel_url": cancel_url,
        "crumb_url": crumb_url,
        "crumb": crumb,
        "danger": danger,
        "errors": errors or [],
        "refusal": refusal,
    }
    return page(request, "strategy/confirm.html", membership, nav, context)


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
        "can_edit": has_scope(membership, "write"),
        "nav": nav,
    }
    return render(request, template, base | context, status=status)


# --- strategy: the objective tree -------------------------------------------------------------


@login_required
def strategy_page(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    today = services.workspace_today(workspace)
    show_archived = shows_archived(request)
    nodes = flatten(
        objective_tree(workspace=workspace, today=today, include_archived=show_archived)
    )
    rows = [
        ObjectiveRow(
            objective=node.objective,
            indent=min(node.depth, MAX_INDENT),
            key_results=[key_result_row(kr, f) for kr, f in node.key_results],
            has_children=bool(node.children),
        )
        for node in nodes
    ]
    # The summary counts live key results; archived ones are listed only on request.
    key_results = [
        kr for row in rows for kr in row.key_results if kr.key_result.archived_at is None
    ]
    pace_counts = {
        pace: sum(1 for kr in key_results if kr.pace == pace)
        for pace in ("achieved", "on_track", "at_risk", "off_track", "no_data")
    }
    context = {
        "rows": rows,
        "today": today,
        "objective_count": len(rows),
        "key_result_count": len(key_results),
        "pace_counts": pace_counts,
        "show_archived": show_archived,
    }
    return page(request, "strategy/strategy.html", membership, "strategy", context)


def _objective_of(workspace: Workspace, objective_id: int) -> Objective:
    return get_object_or_404(
        Objective.objects.select_related("workspace"), pk=objective_id, workspace=workspace
    )


def _objective_url(workspace: Workspace, objective: Objective) -> str:
    return f"{reverse('strategy:strategy', args=[workspace.slug])}#objective-{objective.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def objective_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    if request.method == "POST":
        form = ObjectiveForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                objective = services.objective_create(workspace=workspace, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Objective “{objective.title}” created.")
                return redirect(_objective_url(workspace, objective))
    else:
        start, end = quarter_of(services.workspace_today(workspace))
        initial: dict[str, Any] = {"period_start": start, "period_end": end}
        if request.GET.get("parent", "").isdigit():
            initial["parent"] = request.GET["parent"]
        form = ObjectiveForm(workspace=workspace, initial=initial)
    context = {"form": form, "objective": None}
    return page(request, "strategy/objective_form.html", membership, "strategy", context)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: HttpRequest, workspace_slug: str, objective_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    objective = _objective_of(workspace, objective_id)
    if request.method == "POST":
        form = ObjectiveForm(request.POST, workspace=workspace, instance=objective)
        if form.is_valid():
            try:
                services.objective_update(objective=objective, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Objective “{objective.title}” saved.")
                return redirect(_objective_url(workspace, objective))
    else:
        form = ObjectiveForm(workspace=workspace, instance=objective)
    context = {"form": form, "objective": objective}
    return page(request, "strategy/objective_form.html", membership, "strategy", context)


@login_required
@require_http_methods(["GET", "POST"])
def key_result_create(request: HttpRequest, workspace_slug: str, objective_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    objective = _objective_of(workspace, objective_id)
    if request.method == "POST":
        form = KeyResultForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                services.key_result_create(
                    workspace=workspace, objective=objective, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Key result added to “{objective.title}”.")
                return redirect(_objective_url(workspace, objective))
    else:
        initial: dict[str, Any] = {
            "start_on": objective.period_start,
            "due_on": objective.period_end,
        }
        if request.GET.get("metric", "").isdigit():
            initial["metric"] = request.GET["metric"]
        form = KeyResultForm(workspace=workspace, initial=initial)
    has_metrics = form.fields["metric"].queryset.exists()  # type: ignore[attr-defined]
    context = {"form": form, "objective": objective, "has_metrics": has_metrics}
    return page(request, "strategy/key_result_form.html", membership, "strategy", context)


@login_required
@require_http_methods(["GET", "POST"])
def objective_archive(request: HttpRequest, workspace_slug: str, objective_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    objective = _objective_of(workspace, objective_id)
    if request.method == "POST":
        services.objective_archive(objective=objective)
        messages.success(
            request,
            f"Objective “{objective.title}” archived. It is hidden from the strategy page; "
            "“Show archived” lists it, and its status brings it back.",
        )
        return redirect("strategy:strategy", workspace.slug)
    return confirm_page(
        request,
        membership,
        "strategy",
        title="Archive objective",
        question=f"Archive the objective “{objective.title}”?",
        consequences=[
            "It leaves the strategy page; “Show archived” still lists it, greyed.",
            "Its key results and their history are kept. Its sub-objectives stay where they are.",
            "To bring it back, edit it and change its status.",
        ],
        button="Archive objective",
        cancel_url=_objective_url(workspace, objective),
        crumb_url=reverse("strategy:strategy", args=[workspace.slug]),
        crumb="Strategy",
    )


@login_required
@require_http_methods(["GET", "POST"])
def objective_delete(request: HttpRequest, workspace_slug: str, objective_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    objective = _objective_of(workspace, objective_id)
    errors: list[str] = []
    if request.method == "POST":
        title = objective.title
        try:
            services.objective_delete(objective=objective)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"Objective “{title}” deleted.")
            return redirect("strategy:strategy", workspace.slug)
    children = objective.children.count()
    key_results = objective.key_results.count()
    refusal = ""
    if children and not errors:
        refusal = (
            f"“{objective.title}” has {children} sub-objective{'s' if children > 1 else ''}: "
            "move or delete them first, or archive it instead."
        )
    return confirm_page(
        request,
        membership,
        "strategy",
        title="Delete objective",
        question=f"Delete the objective “{objective.title}” for good?",
        consequences=[
            {0: "It has no key results.", 1: "Its key result is deleted with it."}.get(
                key_results, f"Its {key_results} key results are deleted with it."
            ),
            "The metrics and their measurements stay in the metric dictionary.",
            "This cannot be undone; archive it instead to keep its history.",
        ],
        button="Delete objective",
        cancel_url=_objective_url(workspace, objective),
        crumb_url=reverse("strategy:strategy", args=[workspace.slug]),
        crumb="Strategy",
        danger=True,
        errors=errors,
        refusal=refusal,
    )


def _key_result_of(workspace: Workspace, key_result_id: int) -> KeyResult:
    """A live key result of the workspace; archived ones are gone from the pages."""
    return get_object_or_404(
        KeyResult.objects.select_related("workspace", "objective", "metric"),
        pk=key_result_id,
        workspace=workspace,
        archived_at__isnull=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_result_edit(request: HttpRequest, workspace_slug: str, key_result_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    key_result = _key_result_of(workspace, key_result_id)
    objective = key_result.objective
    if request.method == "POST":
        form = KeyResultForm(request.POST, workspace=workspace, instance=key_result)
        if form.is_valid():
            try:
                services.key_result_update(key_result=key_result, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                label = key_result.title or key_result.metric.name
                messages.success(request, f"Key result “{label}” saved.")
                return redirect(_objective_url(workspace, objective))
    else:
        form = KeyResultForm(workspace=workspace, instance=key_result)
    context = {"form": form, "objective": objective, "key_result": key_result, "has_metrics": True}
    return page(request, "strategy/key_result_form.html", membership, "strategy", context)


@login_required
@require_POST
def key_result_restore(
    request: HttpRequest, workspace_slug: str, key_result_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    key_result = get_object_or_404(
        KeyResult.objects.select_related("objective", "metric"),
        pk=key_result_id,
        workspace=workspace,
    )
    services.key_result_restore(key_result=key_result)
    label = key_result.title or key_result.metric.name
    objective = key_result.objective
    if objective.status == ObjectiveStatus.ARCHIVED:
        messages.success(
            request,
            f"Key result “{label}” restored. Its objective “{objective.title}” is archived, "
            "so both show only with “Show archived” until the objective's status brings it "
            "back.",
        )
        return redirect(f"{reverse('strategy:strategy', args=[workspace.slug])}?archived=1")
    messages.success(
        request,
        f"Key result “{label}” restored. It is back on the strategy and metric pages.",
    )
    return redirect(_objective_url(workspace, objective))


@login_required
@require_http_methods(["GET", "POST"])
def key_result_archive(
    request: HttpRequest, workspace_slug: str, key_result_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    key_result = _key_result_of(workspace, key_result_id)
    objective = key_result.objective
    label = key_result.title or key_result.metric.name
    if request.method == "POST":
        services.key_result_archive(key_result=key_result)
        messages.success(
            request,
            f"Key result “{label}” archived. It no longer shows on the strategy and metric "
            "pages; “Show archived” on the strategy page lists it, to restore.",
        )
        return redirect(_objective_url(workspace, objective))
    return confirm_page(
        request,
        membership,
        "strategy",
        title="Archive key result",
        question=f"Archive the key result “{label}” of “{objective.title}”?",
        consequences=[
            "It leaves the strategy page and the page of its metric.",
            f"The metric “{key_result.metric.name}” and its measurements stay as they are.",
        ],
        button="Archive key result",
        cancel_url=_objective_url(workspace, objective),
        crumb_url=reverse("strategy:strategy", args=[workspace.slug]),
        crumb="Strategy",
    )


# --- metrics ----------------------------------------------------------------------------------


@login_required
def metric_list(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    show_archived = shows_archived(request)
    metrics = list(metrics_for(workspace=membership.workspace, include_archived=show_archived))
    rows = [
        {
            "metric": m,
            "latest": with_unit(number(m.latest_value), m.unit),  # type: ignore[attr-defined]
            "value_per_unit": number(m.value_per_unit) if m.value_per_unit is not None else "",
            "aggregation": AGGREGATION_SHORT.get(m.aggregation, m.aggregation),
        }
        for m in metrics
    ]
    context = {"rows": rows, "show_archived": show_archived}
    return page(request, "strategy/metric_list.html", membership, "metrics", context)


def _metric_of(workspace: Workspace, metric_id: int) -> Metric:
    return get_object_or_404(
        Metric.objects.select_related("workspace", "owner"), pk=metric_id, workspace=workspace
    )


@login_required
@require_http_methods(["GET", "POST"])
def metric_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    if request.method == "POST":
        form = MetricForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                metric = services.metric_create(workspace=workspace, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Metric “{metric.name}” created.")
                return redirect("strategy:metric", workspace.slug, metric.pk)
    else:
        form = MetricForm(workspace=workspace)
    context = {"form": form, "metric": None}
    return page(request, "strategy/metric_form.html", membership, "metrics", context)


@login_required
@require_http_methods(["GET", "POST"])
def metric_edit(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    metric = _metric_of(workspace, metric_id)
    if request.method == "POST":
        form = MetricForm(request.POST, workspace=workspace, instance=metric)
        if form.is_valid():
            try:
                services.metric_update(metric=metric, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Metric “{metric.name}” saved.")
                return redirect("strategy:metric", workspace.slug, metric.pk)
    else:
        form = MetricForm(workspace=workspace, instance=metric)
    context = {"form": form, "metric": metric}
    return page(request, "strategy/metric_form.html", membership, "metrics", context)


@login_required
@require_POST
def metric_restore(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    metric = _metric_of(membership.workspace, metric_id)
    services.metric_restore(metric=metric)
    messages.success(
        request,
        f"Metric “{metric.name}” restored. It is back in the dictionary and takes new values.",
    )
    return redirect("strategy:metric", membership.workspace.slug, metric.pk)


@login_required
@require_http_methods(["GET", "POST"])
def metric_archive(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    metric = _metric_of(workspace, metric_id)
    if request.method == "POST":
        services.metric_archive(metric=metric)
        messages.success(
            request,
            f"Metric “{metric.name}” archived. It is hidden from the dictionary and takes "
            "no new values.",
        )
        return redirect("strategy:metric", workspace.slug, metric.pk)
    key_results = metric.key_results.filter(archived_at__isnull=True).count()
    return confirm_page(
        request,
        membership,
        "metrics",
        title="Archive metric",
        question=f"Archive the metric “{metric.name}”?",
        consequences=[
            "It leaves the metric dictionary; “Show archived” still lists it.",
            "Its measurements are kept, but it takes no new values from the page, "
            "CSV files or the API.",
            f"{key_results} key result{'s' if key_results != 1 else ''} measure it; "
            "they keep their figures."
            if key_results
            else "No key result measures it.",
        ],
        button="Archive metric",
        cancel_url=reverse("strategy:metric", args=[workspace.slug, metric.pk]),
        crumb_url=reverse("strategy:metrics", args=[workspace.slug]),
        crumb="Metrics",
    )


def _chart_range(request: HttpRequest, today: date) -> tuple[date, date, DateRangeForm]:
    form = DateRangeForm(
        {"date_from": request.GET.get("from", ""), "date_to": request.GET.get("to", "")}
    )
    date_to, date_from = today, None
    if form.is_valid():
        date_to = form.cleaned_data["date_to"] or today
        date_from = form.cleaned_data["date_from"]
    return date_from or date_to - timedelta(days=CHART_DAYS), date_to, form


def latest_measurements(metric: Metric) -> list[Measurement]:
    """The rows of the page's "Latest measurements" table, newest first."""
    return latest_measurements_of(metric=metric, count=LATEST_ROWS)


def _metric_page(
    request: HttpRequest,
    membership: Membership,
    metric: Metric,
    *,
    entry_form: MeasurementForm | None = None,
    csv_form: MeasurementCsvForm | None = None,
    csv_errors: list[str] | None = None,
) -> HttpResponse:
    workspace = membership.workspace
    today = services.workspace_today(workspace)
    date_from, date_to, range_form = _chart_range(request, today)
    points = measurement_series(metric=metric, date_from=date_from, date_to=date_to)
    key_results = [
        key_result_row(kr, figures)
        for kr, figures in metric_key_results(metric=metric, today=today)
    ]
    latest = [
        {"measurement": m, "value_text": with_unit(number(m.value), metric.unit)}
        for m in latest_measurements(metric)
    ]
    # The initiatives that claim this metric, marked on the trend at their release day.
    releases = releases_claiming(metric_id=metric.pk, date_from=date_from, date_to=date_to)
    chart = {
        "name": metric.name,
        "unit": metric.unit,
        "x": [day.isoformat() for day, _ in points],
        "y": [float(value) for _, value in points],
        "targets": [
            {
                "value": float(row.key_result.target),
                "label": f"Target {row.target} by {row.key_result.due_on:%-d %b %Y}",
            }
            for row in key_results
        ],
        "releases": [
            {
                "day": r.released_on.isoformat(),
                "label": f"{r.title} released {r.released_on:%-d %b %Y}",
                "url": reverse("initiatives:detail", args=[workspace.slug, r.initiative_id]),
            }
            for r in releases
        ],
    }
    context = {
        "metric": metric,
        "releases": releases,
        "chart": chart,
        "point_count": len(points),
        "date_from": date_from,
        "date_to": date_to,
        "range_form": range_form,
        "key_results": key_results,
        "latest": latest,
        "value_per_unit": number(metric.value_per_unit) if metric.value_per_unit else "",
        "entry_form": entry_form or MeasurementForm(initial={"observed_on": today}),
        "csv_form": csv_form or MeasurementCsvForm(),
        "csv_errors": csv_errors or [],
        "csv_example": f"metric,observed_on,value,source\n{metric.key},{today:%Y-%m-%d},"
        f"{number(points[-1][1] if points else Decimal(100)).replace(',', '')},manual",
    }
    return page(request, "strategy/metric_detail.html", membership, "metrics", context)


@login_required
def metric_detail(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug)
    return _metric_page(request, membership, _metric_of(membership.workspace, metric_id))


def _ingested(result: services.IngestResult) -> str:
    total = result["created"] + result["updated"]
    noun = "measurement" if total == 1 else "measurements"
    return f"Saved {total} {noun}: {result['created']} new, {result['updated']} updated."


@login_required
@require_POST
def measurement_add(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    metric = _metric_of(membership.workspace, metric_id)
    form = MeasurementForm(request.POST)
    if form.is_valid():
        try:
            result = services.measurements_ingest(metric=metric, points=[form.cleaned_data])
        except ValidationError as exc:
            # One point: "Item 0: observed_on … is in the future" reads better without "Item 0".
            for message in exc.messages:
                form.add_error(None, message.removeprefix("Item 0: "))
        else:
            messages.success(request, _ingested(result))
            return redirect("strategy:metric", membership.workspace.slug, metric.pk)
    return _metric_page(request, membership, metric, entry_form=form)


@login_required
@require_POST
def measurement_import(request: HttpRequest, workspace_slug: str, metric_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    metric = _metric_of(membership.workspace, metric_id)
    form = MeasurementCsvForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        try:
            result = services.measurements_import_csv(
                workspace=membership.workspace, content=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"Imported the file. {_ingested(result)}")
            return redirect("strategy:metric", membership.workspace.slug, metric.pk)
    return _metric_page(request, membership, metric, csv_form=form, csv_errors=errors)
