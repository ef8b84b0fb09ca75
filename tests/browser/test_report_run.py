"""An editor creates a value report in the form, clicks "Run now", watches it being made
and reads the finished report in the page, then downloads its PDF — in a real Chromium.

The run is made by a Celery worker: with a broker (CI: Redis) a real worker, started in
this test once the page shows the run waiting for one; on the embedded default (no
broker) tasks run in process, so the run is finished by the time the page opens.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from pm_value.celery import app as celery_app
from reports.models import ReportRun, RunStatus
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.browser.test_strategy_flow import log_in
from tests.reports.test_dashboard import hand_computed_portfolio

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_an_editor_runs_a_report_now_watches_it_and_downloads_the_pdf(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # Given an editor of a workspace with a portfolio, and a colleague to send it to
    workspace = WorkspaceFactory.create(slug="acme", name="Acme Analytics", currency="EUR")
    pm = UserFactory.create(email="pm@acme.example", full_name="Priya Manager")
    MembershipFactory.create(user=pm, workspace=workspace, role=Role.EDITOR)
    cfo = UserFactory.create(email="cfo@acme.example", full_name="Fiona Finance")
    MembershipFactory.create(user=cfo, workspace=workspace, role=Role.VIEWER)
    hand_computed_portfolio(workspace, owner=pm)
    eager = bool(celery_app.conf.task_always_eager)
    if not eager:
        celery_app.control.purge()  # nothing left over from an earlier run
    log_in(page, pm.email)

    # When they open Reports from the navigation: the empty state explains it
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Reports").click()
    expect(page.get_by_test_id("empty-reports")).to_contain_text("A value report is")
    page.get_by_test_id("new-report").click()

    # And fill in the form: a monthly report to Fiona and the board, as HTML and PDF
    page.get_by_label("Name").fill("Monthly value review")
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_label("Members").select_option(label="Fiona Finance <cfo@acme.example>")
    page.get_by_label("Other e-mail addresses").fill("board@example.com")
    page.get_by_label("PDF").check()
    page.get_by_role("button", name="Create report").click()
    expect(page.get_by_test_id("report-name")).to_have_text("Monthly value review")
    expect(page.get_by_test_id("recipients")).to_contain_text("cfo@acme.example")

    with ExitStack() as stack:
        # And click Run now
        page.get_by_role("button", name="Run now").click()
        expect(page).to_have_url(re.compile(r"/w/acme/reports/runs/[0-9]+/$"))
        run = ReportRun.objects.get()

        if not eager:
            # Then the page shows the run waiting, with its progress bar, and polls it
            progress = page.get_by_test_id("run-progress")
            expect(progress).to_have_attribute("data-status", "queued")
            expect(page.get_by_test_id("progress-bar")).to_be_visible()
            expect(page.get_by_test_id("progress-text")).to_contain_text("0%")
            page.screenshot(path=tmp_path / "report-queued.png", full_page=True)
            # When a worker takes it up
            from celery.contrib.testing.worker import start_worker

            stack.enter_context(
                start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10)
            )

        # Then the page swaps in the finished report, with its headline
        headline = page.get_by_test_id("report-headline-text")
        expect(headline).to_be_visible(timeout=60_000)
        expect(headline).to_contain_text("risk-adjusted in the pipeline")
        expect(page.get_by_test_id("run-title")).to_have_text(re.compile(r"\w+ \d{4}"))
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED
        assert run.progress == 100
        page.screenshot(path=tmp_path / "report-run.png", full_page=True)

        # And the deliveries are listed
        expect(page.get_by_test_id("deliveries")).to_contain_text("board@example.com")

        # When they download the PDF
        with page.expect_download() as download:
            page.get_by_test_id("download-pdf").click()
        pdf = Path(download.value.path()).read_bytes()

    # Then it is a PDF, named after the report
    assert pdf.startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("monthly-value-review-")
    assert download.value.suggested_filename.endswith(".pdf")
    assert not page.get_by_test_id("download-csv").count()  # not among the formats
