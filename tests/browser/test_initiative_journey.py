"""A PM logs an initiative, learns why it cannot be committed yet, aligns it and states its
expected impact, commits, delivers and releases it, then reads what it really delivered
against what it promised, with a Plotly chart of the metric around the release — in a
real Chromium, nothing loaded from another host."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from initiatives.models import Decision, Initiative, Status
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory, WorkspaceFactory
from tests.browser.test_strategy_flow import log_in
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

pytestmark = pytest.mark.browser

COMMIT_REFUSAL = (
    "Needs an expected impact and an alignment to an active objective before it can be "
    "committed (or mark it tactical and say why)."
)


def test_a_pm_takes_an_initiative_from_idea_to_measured_value(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given a workspace with a team, an active objective, and a metric worth 40 EUR per
    # sign-up: 10 sign-ups a day in the 90 days up to the day (100 days ago) the work will
    # have shipped, 12 a day in the 90 days after, 50 a day since (outside the window)
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics", currency="EUR")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    TeamFactory.create(workspace=workspace, name="Growth")
    today = workspace_today(workspace)
    ObjectiveFactory.create(
        workspace=workspace,
        title="Grow self-serve revenue",
        status="active",
        period_start=today - timedelta(days=200),
        period_end=today + timedelta(days=100),
    )
    metric = MetricFactory.create(
        workspace=workspace,
        key="sign-ups",
        name="Self-serve sign-ups",
        unit="sign-ups",
        category="acquisition",
        aggregation="sum",
        direction="increase",
        value_per_unit=Decimal("40"),
    )
    release = today - timedelta(days=100)
    values = {release - timedelta(days=d): "10" for d in range(0, 90)}
    values |= {release + timedelta(days=d): "12" for d in range(1, 91)}
    values |= {release + timedelta(days=d): "50" for d in range(91, 101)}
    measure(metric, values)
    # By hand (DESIGN.md §3, a sum): the window is 90 days (today ≥ release + 90), so
    # before Σ = 90 × 10 = 900, after Σ = 90 × 12 = 1,080, change = +180 sign-ups.
    # Expected +150 at 80 % confidence, 50 % attributed:
    #   realized change = 180 × 50 % = 90 sign-ups; realized value = 90 × 40 = 3,600 EUR
    #   expected value = 150 × 40 = 6,000 EUR; risk-adjusted = 6,000 × 80 % = 4,800 EUR
    #   realization = 90 / 150 = 60 %; value density = 4,800 / 6 weeks = 800 EUR/wk
    window_end = release + timedelta(days=90)

    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    log_in(page, pm.email)

    # When the PM opens the initiatives, there are none yet
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Initiatives").click()
    expect(page.get_by_test_id("empty-initiatives")).to_contain_text("log the first bet")
    page.get_by_role("link", name="Log the first initiative").click()

    # And submits the form without a title: the field says so
    form = page.get_by_test_id("initiative-form")
    expect(form).to_contain_text("We believe … will …; we will know when …")
    form.get_by_role("button", name="Create initiative").click()
    expect(page.locator(".field--error")).to_contain_text("This field is required.")
    page.screenshot(path=tmp_path / "initiative-form-error.png", full_page=True)
    assert not Initiative.objects.exists()

    # Then logs it properly
    form.get_by_label("Title").fill("Guided onboarding")
    form.get_by_label("Hypothesis").fill(
        "We believe a guided checklist will lift self-serve sign-ups; we will know when "
        "sign-ups grow by 150 in a quarter."
    )
    form.get_by_label("Team").select_option(label="Growth")
    expect(form.get_by_label("Owner")).to_have_value(str(pm.pk))
    form.get_by_label("Effort (weeks)").fill("6")
    form.get_by_label("Confidence (%)").fill("70")
    expect(form.get_by_label("Measured for (days)")).to_have_value("90")
    form.get_by_role("button", name="Create initiative").click()
    expect(page.locator(".message--success")).to_contain_text("logged as proposed")
    expect(page.get_by_role("heading", level=1)).to_have_text("Guided onboarding")
    expect(page.get_by_test_id("status").first).to_have_text("Proposed")

    # When they try to commit it, the button says why not
    commit = page.get_by_test_id("transition-committed")
    expect(commit.get_by_role("button", name="Commit")).to_be_disabled()
    expect(commit.get_by_test_id("refusal")).to_have_text(COMMIT_REFUSAL)
    page.screenshot(path=tmp_path / "initiative-refused.png", full_page=True)

    # So they align it to the active objective
    alignment = page.get_by_test_id("alignment-add")
    alignment.locator("summary").click()
    alignment.get_by_label("Objective").select_option(label="Grow self-serve revenue")
    alignment.get_by_label("Weight").fill("100")
    alignment.get_by_role("button", name="Add alignment").click()
    expect(page.get_by_test_id("alignment-row")).to_contain_text("Grow self-serve revenue")
    expect(page.get_by_test_id("transition-committed").get_by_test_id("refusal")).to_have_text(
        COMMIT_REFUSAL.replace(" and an alignment to an active objective", "")
    )

    # And state its expected impact on the metric
    impact = page.get_by_test_id("impact-add")
    impact.locator("summary").click()
    impact.get_by_label("Metric").select_option(label="Self-serve sign-ups (sign-ups)")
    impact.get_by_label("Expected change").fill("150")
    impact.get_by_label("Confidence (%)").fill("80")
    impact.get_by_label("Attribution (%)").fill("50")
    impact.get_by_role("button", name="Add expected impact").click()
    expect(page.get_by_test_id("impact-row").get_by_test_id("impact-status")).to_have_text(
        "Not released yet"
    )
    expect(page.get_by_test_id("total-risk-adjusted")).to_have_text("4,800 EUR")

    # Then commit is a button, and they commit, deliver and release it 100 days ago
    page.get_by_test_id("transition-committed").get_by_role("button", name="Commit").click()
    expect(page.locator(".message--success")).to_have_text("“Guided onboarding” is now committed.")
    page.get_by_role("button", name="Start delivery").click()
    expect(page.get_by_test_id("status").first).to_have_text("In delivery")
    released = page.get_by_test_id("transition-released")
    released.locator("summary").click()
    released.get_by_label("Released on").fill(release.isoformat())
    released.get_by_role("button", name="Release", exact=True).click()
    expect(page.locator(".message--success")).to_contain_text(
        f"released on {release.isoformat()}. Its impact is measured until {window_end.isoformat()}."
    )
    expect(page.get_by_test_id("status").first).to_have_text("Released")

    # And they read realized against expected, with the numbers computed by hand
    row = page.get_by_test_id("impact-row")
    expect(row.get_by_test_id("expected-change")).to_have_text("150 sign-ups")
    expect(row.get_by_test_id("expected-value")).to_have_text("6,000 EUR")
    expect(row.get_by_test_id("risk-adjusted")).to_have_text("4,800 EUR")
    expect(row.get_by_test_id("realized-change")).to_have_text("90 sign-ups")
    expect(row.get_by_test_id("realized-value")).to_have_text("3,600 EUR")
    expect(row.get_by_test_id("realization")).to_have_text("60%")
    expect(row.get_by_test_id("impact-status")).to_have_text(
        f"Measured — window ended {window_end.isoformat()}"
    )
    expect(page.get_by_test_id("total-realized")).to_have_text("3,600 EUR")
    expect(page.get_by_test_id("total-realization")).to_have_text("60%")
    expect(page.get_by_test_id("value-density")).to_have_text("800 EUR/wk")

    # And a Plotly chart of the metric around the release, drawn from our static files:
    # the line of measurements, two shaded windows and the release date
    chart = page.get_by_test_id("impact-chart")
    expect(chart).to_have_attribute("data-chart-ready", "true")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    assert chart.locator(".scatterlayer .trace path.js-line").count() == 1
    expect(chart.locator(".shapelayer path")).to_have_count(3)
    expect(chart).to_contain_text(f"release {release.isoformat()}")
    chart.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "initiative-chart.png")
    page.mouse.wheel(0, -10_000)  # back to the top: the header is sticky
    shot = tmp_path / "initiative-released.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    # And the decision log tells the story, newest first
    decisions = page.get_by_test_id("decision-row")
    expect(decisions).to_have_count(3)
    expect(decisions.first).to_contain_text("In delivery → Released")
    expect(decisions.first).to_contain_text("Priya Manager")

    # When the window has passed, they mark it measured: the figures stay
    page.get_by_role("button", name="Mark as measured").click()
    expect(page.get_by_test_id("status").first).to_have_text("Measured")
    expect(page.get_by_test_id("lifecycle-final")).to_be_visible()
    expect(page.get_by_test_id("total-realized")).to_have_text("3,600 EUR")
    initiative = Initiative.objects.get()
    assert (initiative.status, initiative.released_on) == (Status.MEASURED, release)
    assert list(
        Decision.objects.filter(initiative=initiative)
        .order_by("decided_at", "id")
        .values_list("kind", flat=True)
    ) == ["commit", "progress", "release", "progress"]

    # And the list and the board show its figures
    page.get_by_role("link", name="Initiatives", exact=True).first.click()
    list_row = page.get_by_test_id("initiative-row")
    expect(list_row).to_contain_text("Guided onboarding")
    expect(list_row.get_by_test_id("realized")).to_have_text("3,600 EUR")
    expect(list_row.get_by_test_id("density")).to_have_text("800 EUR/wk")
    page.screenshot(path=tmp_path / "initiative-list.png", full_page=True)

    # And its filters swap the table in place (htmx), keeping the address shareable
    page.evaluate("window.notReloaded = true")
    search = page.get_by_role("search").get_by_label("Search")
    search.fill("pricing")
    expect(page.get_by_test_id("empty-filtered")).to_contain_text(
        "No initiative matches these filters"
    )
    expect(page).to_have_url(re.compile(r"/w/acme/initiatives/\?.*q=pricing"))
    search.fill("checklist")  # a word of its hypothesis
    expect(page.get_by_test_id("initiative-row")).to_have_count(1)
    page.get_by_role("search").get_by_label("Status").select_option("declined")
    expect(page.get_by_test_id("empty-filtered")).to_be_visible()
    page.get_by_role("search").get_by_label("Status").select_option("measured")
    expect(page.get_by_test_id("initiative-row")).to_contain_text("Guided onboarding")
    assert page.evaluate("window.notReloaded") is True
    page.get_by_test_id("board-link").click()
    card = page.get_by_test_id("column-measured").get_by_test_id("card")
    expect(card).to_contain_text("Guided onboarding")
    expect(card.get_by_test_id("realized")).to_have_text("3,600 EUR")
    page.screenshot(path=tmp_path / "initiative-board.png", full_page=True)

    # And nothing the pages loaded came from another host (no CDN)
    server = urlsplit(live_server.url)
    assert f"{live_server.url}/static/vendor/plotly.min.js" in requested
    assert f"{live_server.url}/static/js/initiative_charts.js" in requested
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob"} and urlsplit(url).netloc != server.netloc
    ]
    assert elsewhere == []
