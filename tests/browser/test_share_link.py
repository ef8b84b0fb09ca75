"""An editor shares the value dashboard of one team: the link, opened in a browser with no
login, shows that team's figures and every chart, and nothing to edit or navigate to;
once revoked, the same address says so in words — in a real Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_dashboard import expect_drawn
from tests.browser.test_strategy_flow import log_in
from tests.reports.test_dashboard import CHARTS, hand_computed_portfolio

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


def test_an_editor_shares_a_team_dashboard_that_opens_without_a_login_until_revoked(
    page: Page, browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given the hand-computed portfolio of tests/reports/test_dashboard.py and its editor
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics", currency="EUR")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    hand_computed_portfolio(workspace, owner=pm)
    log_in(page, pm.email)

    # When the editor filters the dashboard to team Alpha and shares that view
    page.goto("/w/acme/dashboard/")
    page.get_by_test_id("dashboard-filters").get_by_label("Team", exact=True).select_option(
        label="Alpha"
    )
    expect(page.get_by_test_id("dashboard-scope")).to_contain_text("team Alpha")
    page.get_by_test_id("share-dashboard").click()
    form = page.get_by_test_id("share-link-form")
    team = form.get_by_label(re.compile(r"^Team"))  # "Team optional"
    expect(team.locator("option:checked")).to_have_text("Alpha")
    form.get_by_label("Label").fill("Board deck Q3")
    form.get_by_role("button", name="Create share link").click()

    # Then the list says what the link shows and gives its address
    expect(page.get_by_role("status")).to_contain_text(
        "Share link “Board deck Q3” created. Anyone who has its address sees the dashboard "
        "of team Alpha, read-only"
    )
    address = page.get_by_test_id("share-link-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/s/[^/]+/", address)

    # When someone without an account opens the address in a browser of their own
    visitor = browser.new_context(viewport={"width": 1280, "height": 800})
    visitor.set_default_timeout(10_000)
    try:
        shared = visitor.new_page()
        response = shared.goto(address)
        assert response is not None
        assert response.status == 200

        # Then they see team Alpha's dashboard, read-only, with every chart drawn with data
        expect(shared.get_by_test_id("shared-banner")).to_have_text(
            "Shared view of team Alpha — read-only"
        )
        expect(shared.get_by_test_id("headline-text")).to_contain_text(
            "€900 realized in the last 12 months from 1 initiative released"
        )
        for name in CHARTS:
            expect_drawn(shared.get_by_test_id(f"chart-{name}"))

        # And nothing to edit, share or navigate to: no navigation, no account menu, no
        # link into the workspace, no form but the period, no scope filter
        expect(shared.get_by_role("navigation", name="Workspace")).to_have_count(0)
        expect(shared.get_by_test_id("workspace-switcher")).to_have_count(0)
        expect(shared.get_by_test_id("share-dashboard")).to_have_count(0)
        expect(shared.locator("a[href*='/w/']")).to_have_count(0)
        expect(shared.locator("a[href*='/accounts/'], a[href*='/admin/']")).to_have_count(0)
        expect(shared.locator("form[method='post'], input[type='submit']")).to_have_count(0)
        filters = shared.get_by_test_id("dashboard-filters")
        expect(filters.get_by_label("Period", exact=True)).to_be_visible()
        expect(shared.locator("select[name='team'], select[name='objective']")).to_have_count(0)
        # Buttons but the charts' own (zoom, download as PNG): the filters' Show alone
        buttons = shared.locator(
            "button:not(.modebar-btn), input[type='button'], input[type='submit']"
        )
        expect(buttons).to_have_count(1)
        expect(buttons).to_have_text("Show")
        links = shared.locator("main a").evaluate_all("(links) => links.map((a) => a.href)")
        assert all(href.startswith(address) or href == "" for href in links), links
        shared.screenshot(path=tmp_path / "shared-dashboard.png", full_page=True)

        # When the editor revokes the link
        page.get_by_role("link", name="Revoke").click()
        page.get_by_role("button", name="Revoke link").click()
        expect(page.get_by_role("status")).to_contain_text("Share link “Board deck Q3” revoked.")

        # Then the same address, reloaded, refuses in words and shows no figures
        response = shared.reload()
        assert response is not None
        assert response.status == 410
        refused = shared.get_by_test_id("share-refused")
        expect(refused.get_by_role("heading")).to_have_text(
            "This link no longer opens the dashboard"
        )
        expect(refused).to_contain_text(
            re.compile(
                r"This share link was revoked on \d{1,2} \w+ \d{4}\. Ask the person who shared "
                r"it for a new link\."
            )
        )
        expect(shared.locator("[data-dashboard-chart]")).to_have_count(0)
        expect(shared.get_by_test_id("headline")).to_have_count(0)
        expect(shared.locator("a[href*='/w/']")).to_have_count(0)
        shot = tmp_path / "shared-dashboard-revoked.png"
        shared.screenshot(path=shot, full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG")
    finally:
        visitor.close()
