"""The value dashboard in the browser (DESIGN.md §5): headline figures in plain words and
six Plotly charts drawn by static/js/dashboard.js from json_script data.

Every member reads it; the share links (reports.share_views) show the same page of one
scope to anyone holding one, through `render_dashboard`. The view parses the filters,
reports.dashboard reads the figures, and this module turns them into words and chart data.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import Membership, Workspace
from accounts.permissions import has_scope
from reports.dashboard import Dashboard, Period, dashboard, period_of
from reports.forms import DashboardFilterForm
from reports.models import ShareLink
from reports.selectors import Scope
from strategy.services import workspace_today
from strategy.views import member

NAV = "dashboard"
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


# --- shaping figures into words --------------------------------------------------------------


def compact_money(value: Decimal | None, currency: str) -> str:
    """Money as a headline says it: €1.2M · €950k · $12,400 · 3.4M CHF; "—" without one."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    amount = abs(value)
    for size, suffix in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e4"), "k")):
        if amount >= size:
            scaled = (amount / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{scaled:f}".removesuffix(".0") + suffix
            break
    else:
        text = f"{amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}"
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
    data = dashboard(workspace=workspace, scope=scope, period=period)
    context = {
        "filters": filters,
        "scope_text": scope_words(scope),
        "filtering": filters.is_bound and filters.filtering(),
        "period": period,
        **_headline(data, period, workspace.currency),
    }
    return _page(
        request, workspace=workspace, membership=membership, shared=shared, context=context
    )


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
        "can_share": shared is None and membership is not None and has_scope(membership, "write"),
    }
    template = "reports/dashboard.html"
    if getattr(request, "htmx", False) and request.htmx.target == "dashboard-body":  # type: ignore[attr-defined]
        template = "reports/_dashboard_body.html"
    return render(request, template, base | context, status=status)


def _headline(data: Dashboard, period: Period, currency: str) -> dict[str, Any]:
    summary = data.headline.summary
    return {
        "realized_text": compact_money(data.headline.realized_in_period, currency),
        "pipeline_text": compact_money(summary.pipeline_value, currency),
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
