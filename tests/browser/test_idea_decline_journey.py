"""A stakeholder brings an idea and votes for it, a PM declines it with a reason and a
revisit date, and the stakeholder finds it on the Not doing page, in a real Chromium.
The vote updates in place (htmx), and nothing loads from another host."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from initiatives.models import Idea, IdeaStatus, Vote
from strategy.services import workspace_today
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

pytestmark = pytest.mark.browser


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/acme/")


def test_a_stakeholders_idea_is_declined_with_a_reason_they_can_read(
    page: Page, browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given a workspace with a stakeholder (viewer) and a PM (editor)
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics")
    stakeholder = UserFactory.create(email="sam@acme.example", full_name="Sam Stakeholder")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=stakeholder, workspace=workspace, role=Role.VIEWER)
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    revisit = workspace_today(workspace) + timedelta(days=60)
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)

    # When the stakeholder opens the ideas page, they are invited to bring the first one
    log_in(page, stakeholder.email)
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Ideas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ideas")
    expect(page.get_by_test_id("empty-ideas")).to_contain_text("No ideas yet")

    # And they submit without a title, then with one
    form = page.get_by_test_id("idea-form")
    form.get_by_role("button", name="Submit idea").click()
    expect(page.locator(".field--error")).to_contain_text("This field is required.")
    assert not Idea.objects.exists()
    form = page.get_by_test_id("idea-form")
    form.get_by_label("Title").fill("Export reports to Excel")
    form.get_by_label("Description").fill("Finance pastes every report into a spreadsheet.")
    form.get_by_label("Source").select_option(label="Customer")
    form.get_by_role("button", name="Submit idea").click()

    # Then it is in the list, with no votes yet
    expect(page.locator(".message--success")).to_contain_text(
        "Thanks — your idea “Export reports to Excel” is in the list."
    )
    idea_card = page.get_by_test_id("idea").filter(has_text="Export reports to Excel")
    expect(idea_card).to_contain_text("Submitted by Sam Stakeholder")
    expect(idea_card).to_contain_text("Customer")
    expect(idea_card.get_by_test_id("vote-count")).to_have_text("0")
    # A viewer decides nothing: no Promote or Decline
    expect(idea_card.get_by_role("button", name="Promote")).to_have_count(0)
    expect(idea_card.get_by_role("link", name="Decline")).to_have_count(0)

    # When they vote for it
    url_before = page.url
    idea_card.get_by_role("button", name="Vote for Export reports to Excel").click()

    # Then the count turns to 1 in place: the page did not reload (its message is still there)
    expect(idea_card.get_by_test_id("vote-count")).to_have_text("1")
    expect(idea_card.get_by_test_id("vote-message")).to_have_text("Thanks for your vote.")
    expect(
        idea_card.get_by_role("button", name="You voted for Export reports to Excel")
    ).to_be_visible()
    expect(page.locator(".message--success")).to_contain_text("is in the list")
    assert page.url == url_before

    # And a second vote is refused in words, not counted
    idea_card.get_by_role("button", name="You voted for Export reports to Excel").click()
    expect(idea_card.get_by_test_id("vote-message")).to_have_text(
        "You have already voted for this idea."
    )
    expect(idea_card.get_by_test_id("vote-count")).to_have_text("1")
    assert Vote.objects.filter(idea__title="Export reports to Excel").count() == 1
    page.mouse.wheel(0, -10_000)  # back to the top: the header is sticky
    page.screenshot(path=tmp_path / "ideas-voted.png", full_page=True)

    # When the PM logs in (another browser context) and opens the ideas
    pm_context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    pm_context.set_default_timeout(10_000)
    pm_page = pm_context.new_page()
    pm_page.on("request", record)
    log_in(pm_page, pm.email)
    pm_page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Ideas").click()
    pm_card = pm_page.get_by_test_id("idea").filter(has_text="Export reports to Excel")
    expect(pm_card.get_by_test_id("vote-count")).to_have_text("1")

    # And declines it, first with too short a reason
    pm_card.get_by_role("link", name="Decline").click()
    expect(pm_page.get_by_role("heading", level=1)).to_have_text("Decline an idea")
    expect(pm_page.get_by_test_id("idea-summary")).to_contain_text("Export reports to Excel")
    pm_page.get_by_label("Reason").fill("Not now.")
    pm_page.get_by_role("button", name="Decline idea").click()
    expect(pm_page.locator(".field--error")).to_contain_text(
        "Say why the idea is declined: at least 10 characters (this has 8)."
    )
    assert Idea.objects.get().status == IdeaStatus.NEW
    pm_page.screenshot(path=tmp_path / "decline-form-error.png", full_page=True)
    pm_page.get_by_label("Reason").fill(
        "The scheduled CSV export covers it: Excel opens CSV files, and finance agreed."
    )
    pm_page.get_by_label("Revisit on").fill(revisit.isoformat())
    pm_page.get_by_role("button", name="Decline idea").click()

    # Then they are back on the ideas, where the idea reads as declined, with the reason
    expect(pm_page.locator(".message--success")).to_have_text(
        "Declined “Export reports to Excel”. It is on the Not doing page with your reason."
    )
    expect(pm_card.get_by_test_id("idea-status")).to_have_text("Declined")
    expect(pm_card.get_by_test_id("idea-outcome")).to_contain_text("Declined by Priya Manager")
    pm_context.close()

    # When the stakeholder opens the Not doing page
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Not doing").click()

    # Then they find their idea with the reason, the PM's name and the revisit date
    expect(page.get_by_role("heading", level=1)).to_have_text("What we decided not to do, and why")
    entry = page.get_by_test_id("not-doing-entry").filter(has_text="Export reports to Excel")
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-kind", "idea")
    expect(entry.get_by_test_id("entry-reason")).to_have_text(
        "The scheduled CSV export covers it: Excel opens CSV files, and finance agreed."
    )
    expect(entry.get_by_test_id("entry-decided-by")).to_have_text("Priya Manager")
    expect(entry.get_by_test_id("entry-revisit")).to_have_text(f"Revisit on {revisit:%-d %b %Y}")
    expect(entry).to_contain_text("1 vote")
    expect(entry.get_by_test_id("revisit-due")).to_have_count(0)
    shot = tmp_path / "not-doing.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    # And nothing the pages loaded came from another host (no CDN)
    server = urlsplit(live_server.url)
    assert any(urlsplit(url).path.startswith("/static/") and "htmx" in url for url in requested)
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob"} and urlsplit(url).netloc != server.netloc
    ]
    assert elsewhere == []
