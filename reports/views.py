"""The value dashboard in the browser (DESIGN.md §5): headline figures in plain words and
six Plotly charts drawn by static/js/dashboard.js from json_script data.

Every member reads it; the share links (reports.share_views) show the same page of one
scope to anyone holding one, through `render_dashboard`. The view parses the filters,
reports.dashboard reads the figures, and this module turns them into words and chart data.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from accounts.models import Membership, Workspace
from accounts.permissions import has_scope
from initiatives.models import Status
from initiatives.views import percent_text
from reports.dashboard import DEFAULT_PERIOD, OPEN_WORK, Dashboard, Period, dashboard, period_of
from reports.forms import DashboardFilterForm
from reports.models import ShareLink
from reports.recent_figures import recent_figures
from reports.selectors import Scope
from strategy.services import workspace_today
from strategy.views import PACE_LABELS, member, number

NAV = "dashboard"
FILTERS = "reports/_filters.html"
BODY = "reports/_dashboard_body.html"  # the figures and charts, below the filters
MONEY_UNITS = ((Decimal("1e3"), "k"), (Decimal("1e6"), "M"), (Decimal("1e9"), "B"))
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


# --- shaping figures into words --------------------------------------------------------------


def compact_money(value: Decimal | None, currency: str) -> str:
    """Money as a headline says it: €1.2M · €950k · $12,400 · 3.4M CHF; "—" without one."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    amount = abs(value)
    if amount < 10_000:
        text = f"{amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}"
    else:  # in thousands, millions or billions, one decimal: the first unit under 1,000.0
        size, suffix = next(
            ((size, suffix) for size, suffix in MONEY_UNITS if amount / size < Decimal("999.95")),
            MONEY_UNITS[-1],
        )
        scaled = (amount / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        text = f"{scaled:,f}".removesuffix(".0") + suffix
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def scope_words(scope: Scope) -> str:
    """What the figures cover, as a sentence says it."""
    parts = []
    if scope.team is not None:
        parts.append(f"team {scope.team.name}")
    if scope.objective is not None:
        parts.append(f"objective “{scope.objective.title}”")
    return " within ".join(parts) if parts else "the whole workspace"


# --- the page ----------------------------------------------------------------------------------


def render_dashboard(
    request: HttpRequest,
    *,
    workspace: Workspace,
    scope: Scope,
    as_of: date,
    shared: ShareLink | None = None,
    membership: Membership | None = None,
    filters: DashboardFilterForm | None = None,
) -> HttpResponse:
    """The dashboard of `scope`, its period chosen by the request's `period` parameter and
    seen from `as_of` (the workspace's today).

    `shared` (a share link): no navigation, no edit or share controls, no filter that
    changes the scope (the period stays), and a banner that says it is a read-only view.
    `membership` and `filters`: the member's page passes them (nav, Share button, the
    already validated filter form); a shared page has neither.
    """
    if filters is None:
        filters = DashboardFilterForm(
            request.GET or None, workspace=workspace, scoped=shared is None
        )
    if filters.is_bound and not filters.is_valid():
        return _page(
            request,
            workspace=workspace,
            membership=membership,
            shared=shared,
            context={"filters": filters, "scope_text": scope_words(scope), "refused": True},
            status=400,
        )
    period = period_of(filters.period_key(), as_of)
    filtering = filters.is_bound and filters.filtering()
    can_share = _can_share(membership, shared)

    def markup() -> tuple[str, str]:
        """The filters and the body (figures and charts): nearly all of the page's cost,
        the same for every reader of this address and role (reports.recent_figures keeps
        them a few seconds). The filters' selects hold every team and objective, and
        Django renders each option through a template."""
        data = dashboard(workspace=workspace, scope=scope, period=period)
        context = {
            "workspace": workspace,
            "shared": shared,
            "can_share": can_share,
            "scope_text": scope_words(scope),
            "filtering": filtering,
            "period": period,
            "default_period": DEFAULT_PERIOD,
            "share_query": _share_query(scope),
            "data": data,
            "charts": _charts(data, workspace.currency),
            **_headline(data, period, workspace.currency),
        }
        return (
            str(render_to_string(FILTERS, {"filters": filters}, request)),
            str(render_to_string(BODY, context, request)),
        )

    asked = (
        as_of.isoformat(),
        period.key,
        scope.team.pk if scope.team else "",
        scope.objective.pk if scope.objective else "",
        filtering,
        can_share,
        request.path,
    )
    filters_html, body = recent_figures(
        "dashboard", workspace=workspace, asked=asked, compute=markup
    )
    context = {
        "filters": filters,
        "scope_text": scope_words(scope),
        "filters_html": mark_safe(filters_html),  # noqa: S308 - rendered from FILTERS
        "body": mark_safe(body),  # noqa: S308 - rendered from BODY
    }
    return _page(
        request, workspace=workspace, membership=membership, shared=shared, context=context
    )


def _can_share(membership: Membership | None, shared: ShareLink | None) -> bool:
    return shared is None and membership is not None and has_scope(membership, "write")


def _share_query(scope: Scope) -> str:
    """The Share button hands the scope on view to the new link's form."""
    params = {}
    if scope.team is not None:
        params["team"] = scope.team.pk
    if scope.objective is not None:
        params["objective"] = scope.objective.pk
    return f"?{urlencode(params)}" if params else ""


def _page(
    request: HttpRequest,
    *,
    workspace: Workspace,
    membership: Membership | None,
    shared: ShareLink | None,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    base = {
        "workspace": workspace,
        "membership": membership,
        "nav": NAV,
        "shared": shared,
        "can_share": _can_share(membership, shared),
    }
    partial = getattr(request, "htmx", False) and request.htmx.target == "dashboard-body"  # type: ignore[attr-defined]
    if partial and "body" in context:
        return HttpResponse(context["body"], status=status)
    template = BODY if partial else "reports/dashboard.html"
    return render(request, template, base | context, status=status)


def _headline(data: Dashboard, period: Period, currency: str) -> dict[str, Any]:
    """The headline in sentences, each figure with the words that say what it counts."""
    head = data.headline
    summary = head.summary
    n = head.realized_initiatives
    if head.realized_in_period is not None:
        parts = []
        if head.measured_in_period:
            parts.append(f"{head.measured_in_period} measured")
        if head.measuring_in_period:
            parts.append(f"{head.measuring_in_period} still measuring")
        realized = (
            f"realized {period.phrase} from {n} initiative{'s' if n != 1 else ''} released "
            f"in that time ({', '.join(parts)})"
        )
    else:
        realized = f"nothing realized yet from work released {period.phrase}"
    committed_effort = sum(
        (summary.effort_by_status[s] for s in (Status.COMMITTED, Status.IN_DELIVERY)), Decimal(0)
    )
    return {
        "realized_amount": compact_money(head.realized_in_period, currency)
        if head.realized_in_period is not None
        else "",
        "realized_words": realized,
        "alignment_percent": percent_text(summary.alignment_score),
        "tactical_percent": percent_text(summary.tactical_share),
        "committed_effort": number(committed_effort),
        "pipeline_amount": compact_money(summary.pipeline_value, currency),
        "total_realized": compact_money(summary.realized_value, currency),
        "total_realized_initiatives": summary.realized_initiatives,
        "counts": summary.counts_by_status,
        "declined": summary.declined_initiatives,
    }


# --- chart data (drawn by static/js/dashboard.js) -------------------------------------------


def _money_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))


def _percent_number(share: Decimal | None) -> float | None:
    return None if share is None else float((share * 100).quantize(Decimal("0.1")))


def _charts(data: Dashboard, currency: str) -> dict[str, Any]:
    period = data.period
    over_time = []
    for series in data.value_over_time:
        first = period.start or (series.steps[0].day if series.steps else period.end)
        x, y, hover = [first.isoformat()], [0.0], ["Start of the period"]
        running = Decimal(0)
        for step in series.steps:
            running += step.value
            x.append(step.day.isoformat())
            y.append(float(running.quantize(Decimal("0.01"))))
            titles = ", ".join(step.titles[:3]) + (
                f" and {len(step.titles) - 3} more" if len(step.titles) > 3 else ""
            )
            hover.append(f"+{compact_money(step.value, currency)} from {titles}")
        x.append(period.end.isoformat())
        y.append(float(running.quantize(Decimal("0.01"))))
        hover.append(f"Total {compact_money(series.total, currency)}")
        over_time.append(
            {
                "name": series.name,
                "x": x,
                "y": y,
                "hover": hover,
                "total": compact_money(series.total, currency),
            }
        )
    bars = data.expected_vs_realized
    return {
        "value_over_time": {
            "currency": currency,
            "start": period.start.isoformat() if period.start else None,
            "end": period.end.isoformat(),
            "series": over_time,
        },
        "expected_vs_realized": {
            "currency": currency,
            "titles": [b.title for b in bars],
            "expected": [_money_number(b.expected_value) for b in bars],
            "realized": [_money_number(b.realized_value) for b in bars],
            "expected_text": [compact_money(b.expected_value, currency) for b in bars],
            "realized_text": [
                f"{compact_money(b.realized_value, currency)} · {percent_text(b.realization)}"
                for b in bars
            ],
        },
        "portfolio": {
            "currency": currency,
            "groups": [
                {
                    "status": status,
                    "label": Status(status).label,
                    "x": [float(p.effort_weeks) for p in points],
                    "y": [_money_number(p.risk_adjusted_value) for p in points],
                    "confidence": [p.confidence for p in points],
                    "hover": [
                        f"<b>{escape(p.title)}</b><br>{Status(status).label} · "
                        f"{number(p.effort_weeks)} weeks · "
                        f"{compact_money(p.risk_adjusted_value, currency)} risk-adjusted · "
                        f"{p.confidence}% confidence"
                        for p in points
                    ],
                }
                for status in OPEN_WORK
                if (points := [p for p in data.portfolio if p.status == status])
            ],
        },
        "alignment": {
            "ids": [n.id for n in data.alignment],
            "labels": [n.label for n in data.alignment],
            "parents": [n.parent for n in data.alignment],
            "values": [float(n.effort) for n in data.alignment],
            "kinds": [n.kind for n in data.alignment],
        },
        "key_results": {
            "labels": [f"{kr.title} — {kr.objective}" for kr in data.key_results],
            "progress": [_percent_number(kr.figures.progress) or 0 for kr in data.key_results],
            "expected": [_percent_number(kr.figures.expected_progress) for kr in data.key_results],
            "paces": [kr.figures.pace or "no_data" for kr in data.key_results],
            "text": [
                f"{percent_text(kr.figures.progress)} · {PACE_LABELS[kr.figures.pace]}"
                if kr.figures.progress is not None
                else PACE_LABELS[None]
                for kr in data.key_results
            ],
        },
        "calibration": {
            "by": data.calibration_by,
            "names": [c.name or "Unnamed" for c in data.calibration],
            "median": [_percent_number(c.median_realization) or 0 for c in data.calibration],
            "text": [
                f"{percent_text(c.median_realization)} · {c.measured} measured"
                if c.median_realization is not None
                else f"no realization yet · {c.measured} measured"
                for c in data.calibration
            ],
        },
    }


@login_required
@require_safe
def dashboard_page(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    membership = member(request, workspace_slug)
    workspace = membership.workspace
    filters = DashboardFilterForm(request.GET or None, workspace=workspace)
    scope = filters.scope() if filters.is_bound and filters.is_valid() else Scope()
    return render_dashboard(
        request,
        workspace=workspace,
        scope=scope,
        as_of=workspace_today(workspace),
        membership=membership,
        filters=filters,
    )
