"""Browser pages of initiatives: the list and the board, the form, the initiative page with
its alignment, expected vs realized impact, experiments, decisions and history, and the
lifecycle buttons that explain a refusal.

Views stay thin, as in strategy.views (whose access and page helpers they share): they
resolve the membership (404 outside the workspace, 403 for a write without the role),
call one service or selector, and shape figures into text the templates print as they are.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership, User, Workspace
from accounts.permissions import has_scope
from initiatives import services
from initiatives.forms import (
    SORTS,
    AlignmentEditForm,
    AlignmentForm,
    DecisionForm,
    ExpectedImpactEditForm,
    ExpectedImpactForm,
    ExperimentForm,
    InitiativeFilterForm,
    InitiativeForm,
    StakeholderForm,
    TransitionForm,
)
from initiatives.models import (
    Alignment,
    DecisionKind,
    ExpectedImpact,
    Experiment,
    Initiative,
    Stakeholder,
    Status,
)
from initiatives.selectors import (
    ImpactFigures,
    Row,
    impacts_for,
    initiative_history,
    initiative_totals,
    list_rows,
    rice,
    series_between,
    value_density,
    with_priority,
)
from strategy.forms import add_service_errors
from strategy.models import Aggregation, Metric
from strategy.services import workspace_today
from strategy.views import confirm_page, member, number, page, percent, with_unit

NAV = "initiatives"
PER_PAGE = 50
CARDS_PER_COLUMN = 50
BOARD_STATUSES = (
    Status.PROPOSED,
    Status.DISCOVERY,
    Status.COMMITTED,
    Status.IN_DELIVERY,
    Status.RELEASED,
    Status.MEASURED,
)
CLOSED_STATUSES = (Status.DECLINED, Status.CANCELLED)

# (the status it moves to, the decision kind) → the button's words
TRANSITION_LABELS: dict[tuple[str, str], str] = {
    (Status.DISCOVERY, DecisionKind.PROGRESS): "Start discovery",
    (Status.DISCOVERY, DecisionKind.PIVOT): "Pivot back to discovery",
    (Status.COMMITTED, DecisionKind.COMMIT): "Commit",
    (Status.DECLINED, DecisionKind.DECLINE): "Decline",
    (Status.IN_DELIVERY, DecisionKind.PROGRESS): "Start delivery",
    (Status.CANCELLED, DecisionKind.CANCEL): "Cancel",
    (Status.RELEASED, DecisionKind.RELEASE): "Release",
    (Status.MEASURED, DecisionKind.PROGRESS): "Mark as measured",
    (Status.PROPOSED, DecisionKind.REOPEN): "Reopen",
}
TRANSITION_HINTS: dict[str, str] = {
    DecisionKind.DECLINE: "It goes on the Not doing list with your reason.",
    DecisionKind.CANCEL: "The work stops; your reason stays in the decision log.",
    DecisionKind.PIVOT: "Back to discovery: say what you learned.",
    DecisionKind.REOPEN: "It becomes a proposal again: say what changed.",
    DecisionKind.RELEASE: "The measurement window starts on the release date.",
}


# --- shaping figures into text -----------------------------------------------------------


def money(value: Decimal | None, currency: str) -> str:
    """Money in the workspace currency: 12,400 EUR · 1,234.50 EUR; "—" without a figure."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.2f}".removesuffix(".00")
    return f"{'0' if text == '-0' else text} {currency}"


def per_week(value: Decimal | None, currency: str) -> str:
    return "—" if value is None else f"{money(value, currency)}/wk"


def percent_text(share: Decimal | None) -> str:
    shown = percent(share)
    return "—" if shown is None else f"{shown}%"


def impact_status(figures: ImpactFigures, initiative: Initiative, metric_aggregation: str) -> str:
    """The status of an impact in words, with the date that matters."""
    if figures.status == "not_started" or figures.release_date is None:
        return "Not released yet"
    ends = figures.release_date + timedelta(days=initiative.measurement_window_days)
    if figures.status == "no_data":
        needs = (
            "a measurement on or before the release and one after it"
            if metric_aggregation == Aggregation.LAST
            else "measurements before and after the release"
        )
        return f"No data — needs {needs}"
    if figures.status == "measured":
        return f"Measured — window ended {ends.isoformat()}"
    if figures.realized_change is None:
        return f"Measuring — window ends {ends.isoformat()}; first figures tomorrow"
    return f"Measuring — window ends {ends.isoformat()}"


def querystring(params: QueryDict, **changes: Any) -> str:
    """The current GET parameters with some changed (None drops one), as `?a=1&b=2`."""
    kept = {k: v for k, v in params.items() if v != "" and k not in changes}
    kept |= {k: v for k, v in changes.items() if v not in (None, "")}
    return f"?{urlencode(kept)}" if kept else ""


def not_doing_url(workspace: Workspace) -> str | None:
    """The Not doing page, once it exists (another part of the app builds it)."""
    try:
        return reverse("ideas:not-doing", args=[workspace.slug])
    except NoReverseMatch:
        return None


# --- access -----------------------------------------------------------------------------------


def _initiative_of(workspace: Workspace, initiative_id: int) -> Initiative:
    initiative = get_object_or_404(
        Initiative.objects.select_related("team", "owner"), pk=initiative_id, workspace=workspace
    )
    initiative.workspace = workspace  # the membership's: no second read
    return initiative


def _detail_url(initiative: Initiative, anchor: str = "") -> str:
    url = reverse("initiatives:detail", args=[initiative.workspace.slug, initiative.pk])
    return f"{url}#{anchor}" if anchor else url


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- the list and the board -------------------------------------------------------------------

# (sort key, header, sortable, numeric)
LIST_COLUMNS = [
    ("title", "Initiative", True, False),
    ("status", "Status", False, False),
    ("team", "Team", True, False),
    ("owner", "Owner", True, False),
    ("kind", "Kind", False, False),
    ("horizon", "Horizon", False, False),
    ("effort_weeks", "Effort", True, True),
    ("confidence", "Confidence", True, True),
    ("risk_adjusted", "Risk-adjusted value", False, True),
    ("realized", "Realized value", False, True),
    ("value_density", "Value density", True, True),
    ("rice", "RICE", True, True),
]
HIGHEST_FIRST = {"value_density", "rice"}


def _aria_sort(sort: str, key: str) -> str:
    """How the column is sorted now, for aria-sort: value density and RICE start high."""
    if sort == key:
        return "descending" if key in HIGHEST_FIRST else "ascending"
    if sort == f"-{key}":
        return "ascending" if key in HIGHEST_FIRST else "descending"
    return ""


@dataclass(frozen=True)
class ListRow:
    row: Row
    risk_adjusted: str
    realized: str
    density: str
    rice: str
    effort: str

    @property
    def initiative(self) -> Initiative:
        return self.row.initiative


def list_row(row: Row, currency: str) -> ListRow:
    effort = row.initiative.effort_weeks
    return ListRow(
        row=row,
        risk_adjusted=money(row.totals.risk_adjusted_value, currency),
        realized=money(row.totals.realized_value, currency),
        density=per_week(row.value_density, currency),
        rice=number(row.rice),
        effort="—" if effort is None else f"{number(effort)} wk",
    )


def _filters(request: HttpRequest, workspace: Workspace) -> InitiativeFilterForm:
    params = request.GET.copy()
    params.pop("page", None)
    return InitiativeFilterForm(params or None, workspace=workspace)


def _page_number(raw: str | None, last: int) -> int:
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), last)


@login_required
def initiative_list(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    filters = _filters(request, workspace)
    filtered = filters.apply(Initiative.objects.filter(workspace=workspace))
    total = filtered.count()
    last_page = max(1, -(-total // PER_PAGE))
    current = _page_number(request.GET.get("page"), last_page)
    start = (current - 1) * PER_PAGE
    initiatives = list(
        filters.order(with_priority(filtered.select_related("team", "owner")))[
            start : start + PER_PAGE
        ]
    )
    today = workspace_today(workspace)
    rows = [list_row(row, workspace.currency) for row in list_rows(initiatives, today=today)]
    sort = filters.sort_key()
    headers = [
        {
            "label": label,
            "numeric": numeric,
            # A second click on the current column reverses it.
            "url": querystring(request.GET, sort=f"-{key}" if sort == key else key, page=None)
            if sortable
            else "",
            "aria_sort": _aria_sort(sort, key),
        }
        for key, label, sortable, numeric in LIST_COLUMNS
    ]
    context = {
        "filters": filters,
        "filtering": bool(filters.values().keys() - {"sort"}),
        "rows": rows,
        "total": total,
        "total_text": f"{total:,}",
        "first": start + 1 if total else 0,
        "last": start + len(rows),
        "page": current,
        "last_page": last_page,
        "previous_url": querystring(request.GET, page=current - 1) if current > 1 else "",
        "next_url": querystring(request.GET, page=current + 1) if current < last_page else "",
        "headers": headers,
        "sort_label": SORTS[sort],
        "board_url": reverse("initiatives:board", args=[workspace.slug])
        + querystring(request.GET, page=None, sort=None, status=None),
        "clear_url": reverse("initiatives:list", args=[workspace.slug]),
    }
    template = "initiatives/list.html"
    if request.htmx and request.htmx.target == "initiative-results":  # type: ignore[attr-defined]
        template = "initiatives/_list_results.html"
    return page(request, template, membership, NAV, context)


@dataclass
class Column:
    status: str
    label: str
    count: int
    cards: list[ListRow] = field(default_factory=list)
    more_url: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def board_cards(filtered: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """The cards of every column in one query: the first CARDS_PER_COLUMN of each status by
    value density (unknown last), numbered per status by a window function."""
    ranked = with_priority(
        filtered.filter(status__in=BOARD_STATUSES).select_related("team", "owner")
    ).annotate(
        column_rank=Window(
            RowNumber(),
            partition_by=[F("status")],
            order_by=[F("value_density_rank").desc(nulls_last=True), F("id").asc()],
        )
    )
    return ranked.filter(column_rank__lte=CARDS_PER_COLUMN).order_by("status", "column_rank")


@login_required
def initiative_board(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    filters = _filters(request, workspace)
    del filters.fields["status"]  # the columns are the statuses
    filtered = filters.apply(Initiative.objects.filter(workspace=workspace))
    counts = dict(
        filtered.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    cards = list(board_cards(filtered))
    today = workspace_today(workspace)
    list_url = reverse("initiatives:list", args=[workspace.slug])
    columns: dict[str, Column] = {
        status: Column(
            status=status,
            label=Status(status).label,
            count=counts.get(status, 0),
            more_url=list_url + querystring(request.GET, status=status, sort=None),
        )
        for status in BOARD_STATUSES
    }
    for row in list_rows(cards, today=today):
        columns[row.initiative.status].cards.append(list_row(row, workspace.currency))
    closed = [(Status(s).label.lower(), counts.get(s, 0)) for s in CLOSED_STATUSES]
    context = {
        "filters": filters,
        "filtering": bool(filters.values().keys() - {"sort"}),
        "columns": list(columns.values()),
        "total": sum(counts.values()),
        "closed": closed,
        "closed_total": sum(n for _, n in closed),
        "not_doing_url": not_doing_url(workspace),
        "declined_url": list_url + querystring(request.GET, status=Status.DECLINED, sort=None),
        "cancelled_url": list_url + querystring(request.GET, status=Status.CANCELLED, sort=None),
        "list_url": list_url + querystring(request.GET),
        "clear_url": reverse("initiatives:board", args=[workspace.slug]),
    }
    return page(request, "initiatives/board.html", membership, NAV, context)


# --- create, edit, delete ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def initiative_create(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    status = 200
    if request.method == "POST":
        form = InitiativeForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                initiative = services.initiative_create(
                    workspace=workspace, by=_user(request), **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Initiative “{initiative.title}” logged as proposed. Next: align it to an "
                    "objective and say which metric it will move.",
                )
                return redirect("initiatives:detail", workspace.slug, initiative.pk)
        status = 400
    else:
        form = InitiativeForm(workspace=workspace, initial={"owner": request.user.pk})
    context = {"form": form, "initiative": None}
    return page(request, "initiatives/form.html", membership, NAV, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_edit(request: HttpRequest, workspace_slug: str, initiative_id: int) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    status = 200
    if request.method == "POST":
        form = InitiativeForm(request.POST, workspace=membership.workspace, instance=initiative)
        if form.is_valid():
            try:
                services.initiative_update(
                    initiative=initiative, by=_user(request), **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Initiative “{initiative.title}” saved.")
                return redirect(_detail_url(initiative))
        status = 400
        initiative.refresh_from_db()  # the title in the page head is the saved one
    else:
        form = InitiativeForm(workspace=membership.workspace, instance=initiative)
    context = {"form": form, "initiative": initiative}
    return page(request, "initiatives/form.html", membership, NAV, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_delete(
    request: HttpRequest, workspace_slug: str, initiative_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    workspace = membership.workspace
    initiative = _initiative_of(workspace, initiative_id)
    errors: list[str] = []
    if request.method == "POST":
        title = initiative.title
        try:
            services.initiative_delete(initiative=initiative, by=_user(request))
        except services.TransitionRefused as exc:
            errors = [exc.detail]
        else:
            messages.success(request, f"Initiative “{title}” deleted.")
            return redirect("initiatives:list", workspace.slug)
    refusal = ""
    if initiative.status not in services.DELETABLE and not errors:
        refusal = (
            f"“{initiative.title}” is {Status(initiative.status).label.lower()}: committed or "
            "shipped work is part of the record and cannot be deleted. "
            + (
                "Cancel it instead."
                if Status.CANCELLED in services.TRANSITIONS.get(initiative.status, {})
                else "Its value counts in every report."
            )
        )
    response = confirm_page(
        request,
        membership,
        NAV,
        title="Delete initiative",
        question=f"Delete the initiative “{initiative.title}” for good?",
        consequences=[
            "Its alignments, expected impacts, stakeholders, experiments and decisions are "
            "deleted with it.",
            "The metrics and their measurements stay as they are.",
            "This cannot be undone. To keep the record, decline it instead: it then shows "
            "on the Not doing list with your reason.",
        ],
        button="Delete initiative",
        cancel_url=_detail_url(initiative),
        crumb_url=reverse("initiatives:list", args=[workspace.slug]),
        crumb="Initiatives",
        danger=True,
        errors=errors,
        refusal=refusal,
    )
    if errors:
        response.status_code = 409
    return response


# --- the initiative page ----------------------------------------------------------------------


@dataclass
class TransitionOption:
    to: str
    kind: str
    label: str
    refusal: str | None
    needs_rationale: bool
    revisitable: bool
    is_release: bool
    hint: str = ""
    form: TransitionForm | None = None
    error: str = ""

    @property
    def opens_form(self) -> bool:
        return self.needs_rationale or self.is_release


def transition_options(
    initiative: Initiative, today: date, posted: TransitionForm | None, error: str
) -> list[TransitionOption]:
    """A button per status the initiative may move to, with the reason when a guard says
    no now. Those that need words (a decline, a cancel, a pivot, a reopen) are asked with
    a stand-in rationale, so the button is refused only for another reason."""
    options = []
    posted_to = posted.data.get("to") if posted is not None else None
    for to, kind in services.TRANSITIONS.get(initiative.status, {}).items():
        needs_rationale = kind in services.NEEDS_RATIONALE
        refusal = services.transition_refusal(
            initiative=initiative,
            to=to,
            rationale="x" * services.MIN_RATIONALE if needs_rationale else "",
            today=today,
        )
        option = TransitionOption(
            to=to,
            kind=kind,
            label=TRANSITION_LABELS[(to, kind)],
            refusal=refusal,
            needs_rationale=needs_rationale,
            revisitable=kind in services.REVISITABLE,
            is_release=to == Status.RELEASED,
            hint=TRANSITION_HINTS.get(kind, ""),
        )
        if posted is not None and posted_to == to:
            option.form, option.error = posted, error
        else:
            option.form = TransitionForm(initial={"to": to, "released_on": today})
        # Several of these forms share a page: ids per target keep labels apart.
        option.form.auto_id = f"{to}_%s"
        options.append(option)
    return options


@dataclass(frozen=True)
class ImpactRow:
    impact: ExpectedImpact
    figures: ImpactFigures
    expected_change: str
    expected_value: str
    risk_adjusted_value: str
    realized_change: str
    realized_value: str
    realization: str
    status: str
    chart: dict[str, Any] | None
    chart_id: str


def _chart_range(initiative: Initiative, figures: ImpactFigures, today: date) -> tuple[date, date]:
    """Released: W days either side of the release. Not yet: the last W days."""
    window = timedelta(days=initiative.measurement_window_days)
    if figures.release_date is None or figures.status == "not_started":
        return today - window, today
    return figures.release_date - window, figures.release_date + window


def _impact_chart(
    metric: Metric,
    points: list[tuple[date, Decimal]],
    shown: tuple[date, date],
    figures: ImpactFigures,
) -> dict[str, Any]:
    """What static/js/initiative_charts.js draws: the series, the release date as a line
    and the two windows §3 compares as shaded bands (none before the release)."""
    chart: dict[str, Any] = {
        "name": metric.name,
        "unit": metric.unit,
        "x": [day.isoformat() for day, _ in points],
        "y": [float(value) for _, value in points],
        "range": [shown[0].isoformat(), shown[1].isoformat()],
        "release": None,
        "before": None,
        "after": None,
    }
    release, start, end = figures.release_date, figures.window_start, figures.window_end
    if figures.status == "not_started" or release is None:
        return chart
    chart["release"] = release.isoformat()
    if start is not None and start < release:
        chart["before"] = [start.isoformat(), release.isoformat()]
    if end is not None and end > release:
        chart["after"] = [release.isoformat(), end.isoformat()]
    return chart


def impact_rows(
    initiative: Initiative, impacts: list[tuple[ExpectedImpact, ImpactFigures]], today: date
) -> list[ImpactRow]:
    currency = initiative.workspace.currency
    ranges: dict[int, tuple[date, date]] = {}
    for impact, figures in impacts:
        ranges[impact.metric_id] = _chart_range(initiative, figures, today)
    series = series_between(ranges=ranges)
    rows = []
    for impact, figures in impacts:
        metric = impact.metric
        points = series[metric.pk]
        chart = _impact_chart(metric, points, ranges[metric.pk], figures) if points else None
        rows.append(
            ImpactRow(
                impact=impact,
                figures=figures,
                expected_change=with_unit(number(figures.expected_change), metric.unit),
                expected_value=money(figures.expected_value, currency),
                risk_adjusted_value=money(figures.risk_adjusted_value, currency),
                realized_change=with_unit(number(figures.realized_change), metric.unit),
                realized_value=money(figures.realized_value, currency),
                realization=percent_text(figures.realization),
                status=impact_status(figures, initiative, metric.aggregation),
                chart=chart,
                chart_id=f"impact-chart-{impact.pk}",
            )
        )
    return rows


def _initiative_page(
    request: HttpRequest,
    membership: Membership,
    initiative: Initiative,
    *,
    forms: dict[str, BaseForm] | None = None,
    transition_form: TransitionForm | None = None,
    transition_error: str = "",
    status: int = 200,
) -> HttpResponse:
    workspace = membership.workspace
    currency = workspace.currency
    today = workspace_today(workspace)
    impacts = impacts_for(initiatives=[initiative], today=today)[initiative.pk]
    totals = initiative_totals([figures for _, figures in impacts])
    alignments = list(initiative.alignments.select_related("objective"))
    weight_used = sum(a.weight for a in alignments)
    forms = forms or {}
    context: dict[str, Any] = {
        "initiative": initiative,
        "today": today,
        "impacts": impact_rows(initiative, impacts, today),
        "totals": {
            "expected_value": money(totals.expected_value, currency),
            "risk_adjusted_value": money(totals.risk_adjusted_value, currency),
            "realized_value": money(totals.realized_value, currency),
            "realization": percent_text(totals.realization),
        },
        "value_density": per_week(
            value_density(totals.risk_adjusted_value, initiative.effort_weeks), currency
        ),
        "rice": number(
            rice(
                initiative.reach, initiative.impact, initiative.confidence, initiative.effort_weeks
            )
        ),
        "effort": "—"
        if initiative.effort_weeks is None
        else f"{number(initiative.effort_weeks)} weeks",
        "rice_impact": "—" if initiative.impact is None else number(initiative.impact),
        "alignments": alignments,
        "weight_used": weight_used,
        "weight_left": 100 - weight_used,
        "stakeholders": list(initiative.stakeholders.select_related("user")),
        "experiments": list(initiative.experiments.select_related("metric")),
        "decisions": list(initiative.decisions.select_related("decided_by")),
        "history": initiative_history(initiative),
        "deletable": initiative.status in services.DELETABLE,
        # A move the page offers no button for (the status changed meanwhile, a bad
        # value): its error shows above the buttons.
        "transition_error": _stray_transition_error(initiative, transition_form, transition_error),
        "not_doing_url": not_doing_url(workspace),
        "window_ends": initiative.released_on + timedelta(days=initiative.measurement_window_days)
        if initiative.released_on
        else None,
    }
    if has_scope(membership, "write"):
        context["transitions"] = transition_options(
            initiative, today, transition_form, transition_error
        )
        context["stakeholder_form"] = forms.get("stakeholder") or StakeholderForm(
            initiative=initiative, auto_id="stakeholder_%s"
        )
        context["alignment_form"] = forms.get("alignment") or AlignmentForm(
            initiative=initiative,
            initial={"weight": max(1, 100 - weight_used)},
            auto_id="alignment_%s",
        )
        context["impact_form"] = forms.get("impact") or ExpectedImpactForm(
            initiative=initiative, auto_id="impact_%s"
        )
        context["decision_form"] = forms.get("decision") or DecisionForm(auto_id="decision_%s")
        context["open_form"] = next(iter(forms), "")
    return page(request, "initiatives/detail.html", membership, NAV, context, status=status)


def _stray_transition_error(
    initiative: Initiative, form: TransitionForm | None, error: str
) -> list[str]:
    if form is None or form.data.get("to") in services.TRANSITIONS.get(initiative.status, {}):
        return []
    return [error] if error else [str(e) for errors in form.errors.values() for e in errors]


@login_required
def initiative_detail(
    request: HttpRequest, workspace_slug: str, initiative_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug)
    return _initiative_page(
        request, membership, _initiative_of(membership.workspace, initiative_id)
    )


@login_required
@require_POST
def initiative_transition(
    request: HttpRequest, workspace_slug: str, initiative_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _initiative_page(request, membership, initiative, transition_form=form, status=400)
    data = form.cleaned_data
    try:
        moved = services.initiative_transition(
            initiative=initiative,
            to=data["to"],
            rationale=data["rationale"],
            by=_user(request),
            released_on=data["released_on"],
            revisit_on=data["revisit_on"],
        )
    except services.TransitionRefused as exc:
        return _initiative_page(
            request,
            membership,
            initiative,
            transition_form=form,
            transition_error=exc.detail,
            status=409,
        )
    label = Status(moved.status).label.lower()
    text = f"“{moved.title}” is now {label}."
    if moved.status == Status.RELEASED and moved.released_on is not None:
        ends = moved.released_on + timedelta(days=moved.measurement_window_days)
        text = (
            f"“{moved.title}” released on {moved.released_on.isoformat()}. Its impact is "
            f"measured until {ends.isoformat()}."
        )
    elif moved.status == Status.DECLINED:
        text = f"“{moved.title}” is declined; it shows on the Not doing list with your reason."
    messages.success(request, text)
    return redirect(_detail_url(moved))


# --- stakeholders, alignments, expected impacts, decisions -------------------------------------


def _sub_form_post(
    request: HttpRequest,
    workspace_slug: str,
    initiative_id: int,
    *,
    name: str,
    form_class: Any,
    write: Any,
    done: str,
    anchor: str,
    with_initiative: bool = True,
) -> HttpResponse:
    """The POST of a form on the initiative page: the write, or the page again with the
    form's errors (400) and nothing written."""
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    kwargs = {"initiative": initiative} if with_initiative else {}
    form = form_class(request.POST, auto_id=f"{name}_%s", **kwargs)
    if form.is_valid():
        try:
            write(initiative, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(_detail_url(initiative, anchor))
    return _initiative_page(request, membership, initiative, forms={name: form}, status=400)


@login_required
@require_POST
def stakeholder_add(request: HttpRequest, workspace_slug: str, initiative_id: int) -> HttpResponse:
    def write(initiative: Initiative, data: dict[str, Any]) -> None:
        services.stakeholder_add(initiative=initiative, **data)

    return _sub_form_post(
        request,
        workspace_slug,
        initiative_id,
        name="stakeholder",
        form_class=StakeholderForm,
        write=write,
        done="Stakeholder added.",
        anchor="stakeholders",
    )


@login_required
@require_POST
def alignment_add(request: HttpRequest, workspace_slug: str, initiative_id: int) -> HttpResponse:
    def write(initiative: Initiative, data: dict[str, Any]) -> None:
        services.alignment_create(initiative=initiative, **data)

    return _sub_form_post(
        request,
        workspace_slug,
        initiative_id,
        name="alignment",
        form_class=AlignmentForm,
        write=write,
        done="Alignment added.",
        anchor="alignment",
    )


@login_required
@require_POST
def impact_add(request: HttpRequest, workspace_slug: str, initiative_id: int) -> HttpResponse:
    def write(initiative: Initiative, data: dict[str, Any]) -> None:
        services.expected_impact_create(initiative=initiative, **data)

    return _sub_form_post(
        request,
        workspace_slug,
        initiative_id,
        name="impact",
        form_class=ExpectedImpactForm,
        write=write,
        done="Expected impact added.",
        anchor="impact",
    )


@login_required
@require_POST
def decision_add(request: HttpRequest, workspace_slug: str, initiative_id: int) -> HttpResponse:
    def write(initiative: Initiative, data: dict[str, Any]) -> None:
        services.decision_record(
            workspace=initiative.workspace, initiative=initiative, by=_user(request), **data
        )

    return _sub_form_post(
        request,
        workspace_slug,
        initiative_id,
        name="decision",
        form_class=DecisionForm,
        write=write,
        done="Decision recorded.",
        anchor="decisions",
        with_initiative=False,
    )


def _small_form_page(
    request: HttpRequest,
    membership: Membership,
    initiative: Initiative,
    *,
    title: str,
    lede: str,
    form: BaseForm,
    button: str,
    anchor: str,
    status: int = 200,
) -> HttpResponse:
    context = {
        "initiative": initiative,
        "title": title,
        "lede": lede,
        "form": form,
        "button": button,
        "cancel_url": _detail_url(initiative, anchor),
    }
    return page(request, "initiatives/small_form.html", membership, NAV, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def alignment_edit(
    request: HttpRequest, workspace_slug: str, initiative_id: int, alignment_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    alignment = get_object_or_404(
        Alignment.objects.select_related("objective"), pk=alignment_id, initiative=initiative
    )
    alignment.initiative = initiative
    status = 200
    if request.method == "POST":
        form = AlignmentEditForm(request.POST)
        if form.is_valid():
            try:
                services.alignment_update(alignment=alignment, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Alignment to “{alignment.objective.title}” saved.")
                return redirect(_detail_url(initiative, "alignment"))
        status = 400
    else:
        form = AlignmentEditForm(
            initial={"weight": alignment.weight, "rationale": alignment.rationale}
        )
    return _small_form_page(
        request,
        membership,
        initiative,
        title="Edit alignment",
        lede=f"How much of “{initiative.title}” serves “{alignment.objective.title}”.",
        form=form,
        button="Save alignment",
        anchor="alignment",
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def impact_edit(
    request: HttpRequest, workspace_slug: str, initiative_id: int, impact_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    impact = get_object_or_404(
        ExpectedImpact.objects.select_related("metric"), pk=impact_id, initiative=initiative
    )
    status = 200
    if request.method == "POST":
        form = ExpectedImpactEditForm(request.POST)
        if form.is_valid():
            try:
                services.expected_impact_update(impact=impact, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Expected impact on “{impact.metric.name}” saved.")
                return redirect(_detail_url(initiative, "impact"))
        status = 400
    else:
        form = ExpectedImpactEditForm(
            initial={
                "expected_change": impact.expected_change,
                "confidence": impact.confidence,
                "attribution": impact.attribution,
            }
        )
    form.fields["expected_change"].label = f"Expected change ({impact.metric.unit})"
    return _small_form_page(
        request,
        membership,
        initiative,
        title="Edit expected impact",
        lede=f"What “{initiative.title}” should do to “{impact.metric.name}”.",
        form=form,
        button="Save expected impact",
        anchor="impact",
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def alignment_remove(
    request: HttpRequest, workspace_slug: str, initiative_id: int, alignment_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    alignment = get_object_or_404(
        Alignment.objects.select_related("objective"), pk=alignment_id, initiative=initiative
    )
    if request.method == "POST":
        services.alignment_delete(alignment=alignment)
        messages.success(request, f"Alignment to “{alignment.objective.title}” removed.")
        return redirect(_detail_url(initiative, "alignment"))
    return _remove_page(
        request,
        membership,
        initiative,
        title="Remove alignment",
        question=f"Stop counting “{initiative.title}” towards “{alignment.objective.title}”?",
        consequences=[
            "Its realized value no longer counts in the value delivered to this objective.",
            "A proposed initiative needs an alignment to an active objective to be "
            "committed (unless it is tactical).",
        ],
        button="Remove alignment",
        anchor="alignment",
    )


@login_required
@require_http_methods(["GET", "POST"])
def impact_remove(
    request: HttpRequest, workspace_slug: str, initiative_id: int, impact_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    impact = get_object_or_404(
        ExpectedImpact.objects.select_related("metric"), pk=impact_id, initiative=initiative
    )
    if request.method == "POST":
        services.expected_impact_delete(impact=impact)
        messages.success(request, f"Expected impact on “{impact.metric.name}” removed.")
        return redirect(_detail_url(initiative, "impact"))
    return _remove_page(
        request,
        membership,
        initiative,
        title="Remove expected impact",
        question=f"Remove the expected impact of “{initiative.title}” on “{impact.metric.name}”?",
        consequences=[
            "Its expected and realized value leave the initiative's totals and every report.",
            f"The metric “{impact.metric.name}” and its measurements stay as they are.",
        ],
        button="Remove expected impact",
        anchor="impact",
    )


@login_required
@require_http_methods(["GET", "POST"])
def stakeholder_remove(
    request: HttpRequest, workspace_slug: str, initiative_id: int, stakeholder_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    stakeholder = get_object_or_404(
        Stakeholder.objects.select_related("user"), pk=stakeholder_id, initiative=initiative
    )
    name = stakeholder.user.display_name
    if request.method == "POST":
        services.stakeholder_remove(stakeholder=stakeholder)
        messages.success(request, f"{name} is no longer a stakeholder.")
        return redirect(_detail_url(initiative, "stakeholders"))
    return _remove_page(
        request,
        membership,
        initiative,
        title="Remove stakeholder",
        question=f"Remove {name} ({stakeholder.get_role_display().lower()}) from "
        f"“{initiative.title}”?",
        consequences=["Their expectation is removed with them. They keep their access."],
        button="Remove stakeholder",
        anchor="stakeholders",
    )


def _remove_page(
    request: HttpRequest,
    membership: Membership,
    initiative: Initiative,
    *,
    title: str,
    question: str,
    consequences: list[str],
    button: str,
    anchor: str,
) -> HttpResponse:
    return confirm_page(
        request,
        membership,
        NAV,
        title=title,
        question=question,
        consequences=consequences,
        button=button,
        cancel_url=_detail_url(initiative, anchor),
        crumb_url=_detail_url(initiative),
        crumb=initiative.title,
        danger=True,
    )


# --- experiments --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def experiment_create(
    request: HttpRequest, workspace_slug: str, initiative_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    status = 200
    if request.method == "POST":
        form = ExperimentForm(request.POST, initiative=initiative)
        if form.is_valid():
            try:
                services.experiment_create(initiative=initiative, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Experiment added.")
                return redirect(_detail_url(initiative, "experiments"))
        status = 400
    else:
        form = ExperimentForm(initiative=initiative)
    return _experiment_page(request, membership, initiative, form, None, status)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(
    request: HttpRequest, workspace_slug: str, initiative_id: int, experiment_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    experiment = get_object_or_404(Experiment, pk=experiment_id, initiative=initiative)
    experiment.initiative = initiative
    status = 200
    if request.method == "POST":
        form = ExperimentForm(request.POST, initiative=initiative, instance=experiment)
        if form.is_valid():
            try:
                services.experiment_update(experiment=experiment, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Experiment saved.")
                return redirect(_detail_url(initiative, "experiments"))
        status = 400
    else:
        form = ExperimentForm(initiative=initiative, instance=experiment)
    return _experiment_page(request, membership, initiative, form, experiment, status)


def _experiment_page(
    request: HttpRequest,
    membership: Membership,
    initiative: Initiative,
    form: ExperimentForm,
    experiment: Experiment | None,
    status: int,
) -> HttpResponse:
    context = {"initiative": initiative, "form": form, "experiment": experiment}
    return page(
        request, "initiatives/experiment_form.html", membership, NAV, context, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete(
    request: HttpRequest, workspace_slug: str, initiative_id: int, experiment_id: int
) -> HttpResponse:
    membership = member(request, workspace_slug, write=True)
    initiative = _initiative_of(membership.workspace, initiative_id)
    experiment = get_object_or_404(Experiment, pk=experiment_id, initiative=initiative)
    if request.method == "POST":
        services.experiment_delete(experiment=experiment)
        messages.success(request, "Experiment deleted.")
        return redirect(_detail_url(initiative, "experiments"))
    return _remove_page(
        request,
        membership,
        initiative,
        title="Delete experiment",
        question=f"Delete the experiment “{experiment.hypothesis[:80]}”?",
        consequences=["Its result and learnings are deleted with it. This cannot be undone."],
        button="Delete experiment",
        anchor="experiments",
    )
