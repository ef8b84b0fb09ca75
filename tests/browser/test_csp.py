"""The Content-Security-Policy holds in a real Chromium: the pages with charts (an
initiative, a metric, the dashboard, a share link), the API documentation and the
administration work under it, and the browser reports no violation — no inline script,
no eval, no inline style."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from reports.selectors import Scope
from reports.services import (
    report_definition_create,
    report_run_generate,
    report_run_request,
    share_link_create,
    share_link_token,
)
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_dashboard import expect_drawn
from tests.browser.test_strategy_flow import log_in
from tests.reports.test_dashboard import CHARTS, hand_computed_portfolio

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Locator, Page

pytestmark = pytest.mark.browser

# Runs before any script of each page (Playwright injects it over the DevTools protocol,
# outside the page's policy) and keeps every violation the page reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
    `(${event.sourceFile}:${event.lineNumber}:${event.columnNumber}) ${event.sample}`
  );
});
"""


class Violations:
    """What the browser said about the policy, page by page: its events and its console."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(LISTEN)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "unsafe-eval" in text or "EvalError" in text:
            self.console.append(text)

    def on_this_page(self) -> list[Any]:
        events: list[Any] = self.page.evaluate("window.__cspViolations")
        return events + self.console


def hover(page: Page, chart: Locator) -> None:
    """Moves the mouse over the plot: Plotly draws its hover label (positioned with inline
    styles set through the CSSOM, which the policy allows)."""
    from playwright.sync_api import expect

    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page.mouse.move(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.5)
    expect(chart.locator(".hoverlayer > *").first).to_be_attached()


def test_the_pages_with_charts_and_the_api_docs_work_under_the_policy(
    page: Page, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    # Given the hand-computed portfolio (initiatives measured and in flight, metrics with
    # measurements, a key result), a member, and a share link to the whole workspace
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics", currency="EUR")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.ADMIN)
    portfolio = hand_computed_portfolio(workspace, owner=pm)
    initiative = portfolio["a"]
    metric = initiative.expected_impacts.get().metric
    link = share_link_create(workspace=workspace, by=pm, scope=Scope(), label="Board")
    violations = Violations(page)

    # When the member logs in and opens the initiative that was measured
    log_in(page, pm.email)
    assert violations.on_this_page() == []
    response = page.goto(f"/w/acme/initiatives/{initiative.pk}/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy

    # Then its chart of the metric around the release is drawn, and nothing was refused
    chart = page.get_by_test_id("impact-chart").first
    expect(chart).to_have_attribute("data-chart-ready", "true")
    expect(chart.locator(".plot-container svg.main-svg").first).to_be_visible()
    assert violations.on_this_page() == []
    hover(page, chart)
    assert violations.on_this_page() == []

    # And the metric page draws its trend
    page.goto(f"/w/acme/metrics/{metric.pk}/")
    expect_drawn(page.get_by_test_id("metric-chart"))
    hover(page, page.get_by_test_id("metric-chart"))
    assert violations.on_this_page() == []

    # And the dashboard draws every chart, also after a filter swapped its body in place
    page.goto("/w/acme/dashboard/")
    for name in CHARTS:
        expect_drawn(page.get_by_test_id(f"chart-{name}"))
    page.get_by_test_id("dashboard-filters").get_by_label("Team", exact=True).select_option(
        label="Alpha"
    )
    expect(page.get_by_test_id("headline-text")).to_contain_text("from 1 initiative")
    for name in CHARTS:
        expect_drawn(page.get_by_test_id(f"chart-{name}"))
    assert violations.on_this_page() == []

    # And the htmx pages (ideas, the initiative list) run without a complaint
    for address in ("/w/acme/initiatives/", "/w/acme/ideas/", "/w/acme/strategy/"):
        page.goto(address)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert violations.on_this_page() == [], address

    # And a finished value report shows in its page, charts included, and the pages of
    # reports, webhooks, tokens and the audit log run without a complaint
    definition = report_definition_create(
        workspace=workspace,
        by=pm,
        name="Monthly value review",
        formats=["pdf"],
        recipient_emails=["cfo@example.com"],
    )
    run = report_run_request(definition=definition, by=pm)
    report_run_generate(run_id=run.pk)
    page.goto(f"/w/acme/reports/runs/{run.pk}/")
    expect(page.get_by_role("heading", name="Headline value")).to_be_visible()
    expect(page.locator("article img[src^='data:image/svg+xml']").first).to_be_visible()
    assert violations.on_this_page() == []
    for address in (
        "/w/acme/reports/",
        f"/w/acme/reports/{definition.pk}/",
        "/w/acme/webhooks/",
        "/w/acme/tokens/",
        "/w/acme/audit/",
    ):
        page.goto(address)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert violations.on_this_page() == [], address

    # And the API documentation loads the schema and lists the operations
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PM Value API")
    page.locator(".swagger-ui .opblock-summary").first.click()
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    assert violations.on_this_page() == []

    # And the administration (for staff) works under the same policy
    pm.is_staff = True
    pm.is_superuser = True
    pm.save(update_fields=["is_staff", "is_superuser"])
    page.goto("/admin/accounts/workspace/")
    expect(page.locator("#result_list")).to_contain_text("Acme Analytics")
    page.goto(f"/admin/accounts/workspace/{workspace.pk}/change/")
    expect(page.locator("#content-main form")).to_be_visible()
    assert violations.on_this_page() == []

    # And a share link opens the dashboard for someone without an account
    page.context.clear_cookies()
    page.goto(f"/s/{share_link_token(link=link)}/")
    for name in CHARTS:
        expect_drawn(page.get_by_test_id(f"chart-{name}"))
    assert violations.on_this_page() == []
