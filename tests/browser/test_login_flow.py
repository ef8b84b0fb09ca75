"""A member logs in, switches workspace and logs out, in a real Chromium.

Also proves the pages load nothing from another host (no CDN): every request the page
makes goes to the live server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role, User
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

pytestmark = pytest.mark.browser

LOGIN_ERROR = "The e-mail address or the password is not right. Please try again."


def member_of_two_workspaces() -> User:
    """Acme Analytics sorts first, so it is where a fresh login lands."""
    user = UserFactory.create(email="pat@example.com", full_name="Pat Member")
    acme = WorkspaceFactory.create(slug="acme", name="Acme Analytics")
    globex = WorkspaceFactory.create(slug="globex", name="Globex Corporation")
    MembershipFactory.create(user=user, workspace=acme, role=Role.EDITOR)
    MembershipFactory.create(user=user, workspace=globex, role=Role.VIEWER)
    return user


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_member_logs_in_switches_workspace_and_logs_out(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given a member of two workspaces, and a record of every request the page makes
    user = member_of_two_workspaces()
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    server = urlsplit(live_server.url)

    # When they type a wrong password
    log_in(page, user.email, "not-the-password")

    # Then they read what went wrong and stay on the login page
    expect(page.locator(".alert--error")).to_have_text(LOGIN_ERROR)
    assert urlsplit(page.url).path == "/accounts/login/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to PM Value")

    # When they log in with the right password
    log_in(page, user.email, PASSWORD)

    # Then they land on the home of their first workspace
    expect(page).to_have_url(f"{live_server.url}/w/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Analytics")
    screenshot = tmp_path / "workspace-home.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    # When they open the workspace switcher
    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()

    # Then it lists both of their workspaces, and the other one takes them to its home
    links = switcher.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text("Acme Analytics")
    expect(links.nth(1)).to_contain_text("Globex Corporation")
    switcher.get_by_role("link", name=re.compile("Globex Corporation")).click()
    expect(page).to_have_url(f"{live_server.url}/w/globex/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Corporation")

    # When they log out through the account menu
    page.locator("summary", has_text="Account").click()
    page.get_by_role("button", name="Log out").click()

    # Then they are back on the login page, and a workspace page asks them to log in again
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to PM Value")
    page.goto("/w/acme/")
    assert urlsplit(page.url).path == "/accounts/login/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to PM Value")

    # And nothing the pages loaded came from another host (no CDN)
    assert f"{live_server.url}/static/css/app.css" in requested  # the listener saw requests
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob"} and urlsplit(url).netloc != server.netloc
    ]
    assert elsewhere == []
