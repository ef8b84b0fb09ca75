"""A PM sets an objective and a key result, feeds its metric from a CSV file and watches
the progress move, in a real Chromium. Nothing loads from another host."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from strategy.models import Measurement
from strategy.services import workspace_today
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page, Request

pytestmark = pytest.mark.browser


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/acme/")


def csv_file(rows: list[str]) -> FilePayload:
    content = "\n".join(["metric,observed_on,value,source", *rows]) + "\n"
    return {"name": "active-teams.csv", "mimeType": "text/csv", "buffer": content.encode()}


def test_a_pm_sets_a_key_result_and_feeds_its_metric(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given a workspace with a vision and a metric measured twice, and a PM (editor) in it
    workspace = WorkspaceFactory.create(
        slug="acme",
        name="Acme Analytics",
        vision="Every company decides with its own numbers: self-serve analytics a team "
        "trusts within a week of signing up.",
    )
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    today = workspace_today(workspace)
    metric = MetricFactory.create(
        workspace=workspace,
        key="active-teams",
        name="Weekly active teams",
        description="Teams with at least one member active in the last 7 days.",
        unit="teams",
        category="engagement",
        aggregation="last",
        value_per_unit=None,
        source="Product analytics",
    )
    measure(metric, {today - timedelta(days=d): str(20 - d // 4) for d in range(60, 2, -3)})
    company = ObjectiveFactory.create(
        workspace=workspace,
        title="Become the analytics tool teams rely on",
        owner=pm,
        period_start=today - timedelta(days=60),
        period_end=today + timedelta(days=300),
    )
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    log_in(page, pm.email)

    # When the PM creates a product objective under the company one
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Strategy").click()
    expect(page.get_by_test_id("vision")).to_contain_text("Every company decides")
    page.get_by_role("link", name="New objective").click()
    page.get_by_role("button", name="Create objective").click()  # forgot the title
    expect(page.locator(".field--error")).to_contain_text("This field is required.")
    page.screenshot(path=tmp_path / "objective-form-error.png", full_page=True)
    page.get_by_label("Title").fill("Teams reach value in their first week")
    page.get_by_label("Parent").select_option(label=company.title)
    page.get_by_label("Owner").select_option(label="Priya Manager")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Create objective").click()
    expect(page.locator(".message--success")).to_contain_text("created")
    objective = page.get_by_test_id("objective").filter(
        has_text="Teams reach value in their first week"
    )
    expect(objective).to_have_attribute("data-depth", "1")

    # And adds a key result on the existing metric, from 0 to 100 teams
    objective.get_by_role("link", name="Add key result").click()
    page.get_by_label("Metric").select_option(label="Weekly active teams (teams)")
    page.get_by_label("Baseline").fill("0")
    page.get_by_label("Target").fill("100")
    page.get_by_label("Starts on").fill((today - timedelta(days=50)).isoformat())
    page.get_by_label("Due on").fill((today + timedelta(days=50)).isoformat())
    page.get_by_role("button", name="Add key result").click()

    # Then the strategy page shows it at 20 % (the latest value), off track, with its bar
    key_result = page.get_by_test_id("key-result").filter(has_text="Weekly active teams")
    expect(key_result.get_by_test_id("kr-percent")).to_have_text("20%")
    expect(key_result.get_by_test_id("kr-pace")).to_have_text("Off track")
    expect(key_result.get_by_test_id("kr-bar")).to_have_attribute("width", "20")
    width_before = key_result.get_by_test_id("kr-bar").bounding_box()["width"]  # type: ignore[index]
    page.mouse.wheel(0, -10_000)  # back to the top: the header is sticky
    page.screenshot(path=tmp_path / "strategy-before.png", full_page=True)

    # When they open the metric page from the key result
    key_result.get_by_role("link", name="Weekly active teams").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekly active teams")

    # Then a Plotly chart of the measurements is drawn from our own static files
    chart = page.get_by_test_id("metric-chart")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart).to_have_attribute("data-chart-ready", "true")
    assert chart.locator(".scatterlayer .trace path.js-line").count() >= 1
    expect(chart.locator(".shapelayer path")).to_have_count(1)  # the dashed target line
    table = page.get_by_test_id("measurement-table")
    expect(table.locator("tbody tr").first).to_contain_text("20 teams")

    # When they upload a CSV file with one bad row
    good_day = (today - timedelta(days=2)).isoformat()
    bad_day = (today - timedelta(days=1)).isoformat()
    form = page.get_by_test_id("csv-form")
    form.get_by_label("CSV file").set_input_files(
        csv_file([f"active-teams,{good_day},40,import", f"active-teams,{bad_day},sixty,import"])
    )
    form.get_by_role("button", name="Upload and import").click()

    # Then they read which line is wrong, and nothing changed
    errors = page.get_by_test_id("csv-errors")
    expect(errors).to_contain_text("Nothing was imported.")
    expect(errors).to_contain_text("Line 3: value “sixty” is not a number.")
    page.screenshot(path=tmp_path / "metric-csv-error.png", full_page=True)
    expect(page.get_by_test_id("measurement-table").locator("tbody tr").first).to_contain_text(
        "20 teams"
    )
    assert not Measurement.objects.filter(metric=metric, observed_on__gte=today - timedelta(2))
    page.goto("/w/acme/strategy/")
    expect(key_result.get_by_test_id("kr-percent")).to_have_text("20%")

    # When they fix the row and upload the file again
    page.goto(f"/w/acme/metrics/{metric.pk}/")
    form.get_by_label("CSV file").set_input_files(
        csv_file([f"active-teams,{good_day},40,import", f"active-teams,{bad_day},60,import"])
    )
    form.get_by_role("button", name="Upload and import").click()

    # Then it says what was written, the table shows the new value
    expect(page.locator(".message--success")).to_have_text(
        "Imported the file. Saved 2 measurements: 2 new, 0 updated."
    )
    expect(page.get_by_test_id("measurement-table").locator("tbody tr").first).to_contain_text(
        "60 teams"
    )
    expect(page.get_by_test_id("metric-chart")).to_have_attribute("data-chart-ready", "true")
    metric_shot = tmp_path / "metric-page.png"
    page.screenshot(path=metric_shot, full_page=True)

    # And the progress bar moved to 60 %, on track
    page.goto("/w/acme/strategy/")
    expect(key_result.get_by_test_id("kr-percent")).to_have_text("60%")
    expect(key_result.get_by_test_id("kr-pace")).to_have_text("On track")
    expect(key_result.get_by_test_id("kr-bar")).to_have_attribute("width", "60")
    width_after = key_result.get_by_test_id("kr-bar").bounding_box()["width"]  # type: ignore[index]
    assert width_after > width_before * 2.5
    strategy_shot = tmp_path / "strategy-page.png"
    page.screenshot(path=strategy_shot, full_page=True)

    # And both pages read well on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=tmp_path / "strategy-page-narrow.png", full_page=True)
    page.goto(f"/w/acme/metrics/{metric.pk}/")
    expect(page.get_by_test_id("metric-chart")).to_have_attribute("data-chart-ready", "true")
    page.screenshot(path=tmp_path / "metric-page-narrow.png", full_page=True)
    page.goto("/w/acme/metrics/")
    page.screenshot(path=tmp_path / "metrics-narrow.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=tmp_path / "metrics.png", full_page=True)
    for shot in (strategy_shot, metric_shot):
        assert shot.read_bytes().startswith(b"\x89PNG")

    # And nothing the pages loaded came from another host (no CDN)
    server = urlsplit(live_server.url)
    assert f"{live_server.url}/static/vendor/plotly.min.js" in requested
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob"} and urlsplit(url).netloc != server.netloc
    ]
    assert elsewhere == []
