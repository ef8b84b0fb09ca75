"""An admin invites a newcomer from the members page; the newcomer opens the link in
another browser, creates an account and lands in the workspace with the role given, in a
real Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Membership, Role
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_login_flow import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-long-and-new-passphrase-42"


def test_an_admin_invites_a_newcomer_who_joins_with_the_link(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    settings: Any,
    mailoutbox: list[Any],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    admin = UserFactory.create(email="ada@example.com", full_name="Ada Admin")
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics")
    MembershipFactory.create(user=admin, workspace=workspace, role=Role.ADMIN)

    # The admin invites an address as a viewer
    log_in(page, "ada@example.com", PASSWORD)
    page.goto("/w/acme/members/")
    form = page.get_by_test_id("invite-form")
    form.get_by_label("E-mail address").fill("not an address")
    form.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".field__error").first).to_have_text(
        "Enter a whole e-mail address, like name@example.com."
    )
    form = page.get_by_test_id("invite-form")
    form.get_by_label("E-mail address").fill("Sam@Example.com")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status").first).to_contain_text("sam@example.com is invited")
    link = page.get_by_test_id("invitation-link").inner_text()
    assert link.startswith(f"{live_server.url}/invitations/")
    assert [m.to for m in mailoutbox] == [["sam@example.com"]]
    assert link in mailoutbox[0].body
    expect(page.get_by_test_id("invitation-row")).to_contain_text("sam@example.com")
    page.screenshot(path=str(tmp_path / "invited.png"), full_page=True)

    # The newcomer opens the link in a browser of their own and creates an account
    context = browser.new_context(base_url=live_server.url)
    newcomer = context.new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Join Acme Analytics")).to_be_visible()
    expect(newcomer.get_by_test_id("invitation")).to_contain_text(
        "Ada Admin invited sam@example.com to Acme Analytics on PM Value, as a viewer"
    )
    newcomer.get_by_label("Your name").fill("Sam Stakeholder")
    newcomer.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_label("Password again").fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Create my account and join").click()

    expect(newcomer).to_have_url(re.compile(r"/w/acme/$"))
    expect(newcomer.get_by_role("status")).to_contain_text(
        "Welcome to Acme Analytics: you are viewer here."
    )
    newcomer.screenshot(path=str(tmp_path / "joined.png"), full_page=True)
    membership = Membership.objects.get(user__email="sam@example.com")
    assert (membership.role, membership.user.full_name) == (Role.VIEWER, "Sam Stakeholder")
    context.close()

    # The admin sees the newcomer among the members, and no longer among the invited
    page.goto("/w/acme/members/")
    expect(page.get_by_test_id("members")).to_contain_text("sam@example.com")
    expect(page.get_by_test_id("invitation-row")).to_have_count(0)
