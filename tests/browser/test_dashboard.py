"""A stakeholder (a viewer) opens the value dashboard: the headline in words, six Plotly
charts drawn from the page's data, a team filter that swaps the figures in place, a
narrow screen that keeps every chart in view — in a real Chromium, nothing loaded from
another host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_strategy_flow import log_in
from tests.reports.test_dashboard import CHARTS, hand_computed_portfolio

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Request

pytestmark = pytest.mark.browser


def expect_drawn(chart: Locator) -> None:
    """A Plotly chart with an SVG and at least one trace of data."""
    from playwright.sync_api import expect

    expect(chart).to_have_attribute("data-chart-ready", "true")
    expect(chart.locator(".plot-container svg.main-svg").first).to_be_visible()
    assert chart.locator("g.trace, g.slice").count() >= 1


def test_a_viewer_reads_the_value_dashboard_and_filters_it_by_team(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given the hand-computed portfolio of tests/reports/test_dashboard.py, and a viewer
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics", currency="EUR")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    stakeholder = UserFactory.create(email="cfo@acme.example", full_name="Fiona Finance")
    MembershipFactory.create(user=stakeholder, workspace=workspace, role=Role.VIEWER)
    hand_computed_portfolio(workspace, owner=pm)

    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    log_in(page, stakeholder.email)

    # When the stakeholder opens the dashboard from the navigation
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/w/acme/dashboard/$"))

    # Then the headline says, in words, what was delivered, how aligned and what is coming
    headline = page.get_by_test_id("headline-text")
    expect(headline).to_have_text(
        re.compile(
            r"€1,200 realized in the last 12 months from 2 initiatives released in that time "
            r"\(1 measured, 1 still measuring\);\s+75% of committed effort serves an active "
            r"objective;\s+€550 risk-adjusted in the pipeline\."
        )
    )
    # And every chart is drawn, with data
    for name in CHARTS:
        expect_drawn(page.get_by_test_id(f"chart-{name}"))
    alignment = page.get_by_test_id("chart-alignment")
    expect(alignment).to_contain_text("Not aligned")
    expect(page.get_by_test_id("chart-calibration")).to_contain_text("100% = as expected")
    # And there is nothing to edit or share for a viewer
    expect(page.get_by_test_id("share-dashboard")).to_have_count(0)
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

    # When they choose team Alpha: the figures change in place, the address keeps it
    page.evaluate("window.notReloaded = true")
    filters = page.get_by_test_id("dashboard-filters")
    filters.get_by_label("Team", exact=True).select_option(label="Alpha")
    expect(headline).to_have_text(
        re.compile(r"€900 realized in the last 12 months from 1 initiative released")
    )
    expect(page).to_have_url(re.compile(r"/w/acme/dashboard/\?.*team=\d+"))
    assert page.evaluate("window.notReloaded") is True
    for name in CHARTS:
        expect_drawn(page.get_by_test_id(f"chart-{name}"))
    expect(page.get_by_test_id("chart-alignment")).not_to_contain_text("Not aligned")

    # And with all time, the older release of the team counts too
    filters.get_by_label("Period", exact=True).select_option(label="All time")
    expect(headline).to_have_text(re.compile(r"€1,440 realized to date from 2 initiatives"))
    expect(page.get_by_test_id("chart-value-over-time")).to_contain_text("No objective")
    page.screenshot(path=tmp_path / "dashboard-team-alpha.png", full_page=True)

    # And on a phone, every chart stays within the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    for name in CHARTS:
        chart = page.get_by_test_id(f"chart-{name}")
        expect_drawn(chart)
        box = chart.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot = tmp_path / "dashboard-phone.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    # And nothing the page loaded came from another host (no CDN)
    server = urlsplit(live_server.url)
    assert f"{live_server.url}/static/vendor/plotly.min.js" in requested
    assert f"{live_server.url}/static/js/dashboard.js" in requested
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob"} and urlsplit(url).netloc != server.netloc
    ]
    assert elsewhere == []
