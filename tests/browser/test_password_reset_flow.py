"""A member who forgot the password asks for a link on the sign-in page, opens the link
from the e-mail, sets a weak password (refused in words), then a good one, and logs in with
it, in a real Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_login_flow import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-long-and-new-passphrase-42"


def test_a_member_resets_a_forgotten_password_from_the_sign_in_page(
    page: Page, live_server: LiveServer, settings: Any, mailoutbox: list[Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    user = UserFactory.create(email="pat@example.com", full_name="Pat Member")
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics")
    MembershipFactory.create(user=user, workspace=workspace, role=Role.EDITOR)

    # They follow "Forgot your password?" and give their address
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill("Pat@Example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_test_id("reset-sent")).to_contain_text(
        "a link to choose a new password is on its way"
    )

    # The e-mail holds one link to this server; they open it
    assert [m.to for m in mailoutbox] == [["pat@example.com"]]
    links = re.findall(r"^(http://\S+/accounts/password/reset/\S+/)$", mailoutbox[0].body, re.M)
    assert len(links) == 1
    assert links[0].startswith(live_server.url)
    page.goto(links[0])
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()

    # A too-short password is refused in words and changes nothing
    page.get_by_label("New password", exact=True).fill("short-pw")
    page.get_by_label("New password confirmation").fill("short-pw")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator(".field__error").first).to_contain_text("This password is too short")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    # A good one is set, and they log in with it
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your new password is set. Log in with it.")
    page.screenshot(path=str(tmp_path / "password-set.png"), full_page=True)
    log_in(page, "pat@example.com", NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/w/acme/$"))

    # The link was for once
    page.goto(links[0])
    expect(page.get_by_test_id("reset-invalid")).to_have_text("This link does not work")
