"""The report pages (issue 6, item 6): the definitions with an empty state that explains
them, the form with the service's errors inline, archive and delete with a confirmation,
the definition with its runs and "Run now", and the run page — progress polled by htmx
while it is made, then the report in the page with its downloads and deliveries, or the
failure and "Try again". Viewers read; editors change."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Workspace
from pm_value.celery import app as celery_app
from reports import services as report_services
from reports.models import DeliveryStatus, ReportDefinition, ReportDelivery, ReportRun, RunStatus
from reports.services import period_label, report_run_request
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory
from tests.reports.test_report_api import _make_runs, definition_of, succeeded_run
from tests.reports.test_report_runs import broken, replace_section
from tests.strategy.test_pages import assert_no_inline_script, client_for, text_of

pytestmark = pytest.mark.django_db

# Session, user, membership, the header's workspaces; the definitions with team and
# objective and their last run; their recipients; the count of archived ones.
LIST_QUERIES = 8
# Session, user, membership, the header's workspaces; the definition; its recipients;
# its runs with who asked.
DEFINITION_QUERIES = 7
# Session, user, membership, the header's workspaces; the run with its definition; its
# deliveries.
RUN_QUERIES = 6


def reports_url(workspace: Workspace, rest: str = "") -> str:
    return f"/w/{workspace.slug}/reports/{rest}"


def form_data(membership: Membership, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Monthly value review",
        "period": "month",
        "scheduled": "on",
        "send_hour": "7",
        "formats": ["html", "pdf"],
        "recipient_users": [str(membership.user.pk)],
        "recipient_emails": "cfo@example.com\n\nboard@example.com\n",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- the list ----------------------------------------------------------------------------------


def test_the_empty_list_explains_reports_and_offers_to_create_one(editor: Membership) -> None:
    response = client_for(editor).get(reports_url(editor.workspace))

    assert response.status_code == 200
    text = text_of(response)
    assert "No reports yet" in text
    assert "A value report is a regular review for stakeholders" in text
    assert "Create the first report" in text
    assert 'aria-current="page">Reports</a>' in response.content.decode()
    assert_no_inline_script(response.content.decode())


def test_the_list_shows_each_report_with_its_scope_schedule_recipients_and_last_run(
    editor: Membership,
) -> None:
    definition = definition_of(editor, recipient_users=[editor.user])
    report_run_request(definition=definition, by=editor.user)

    text = text_of(client_for(editor).get(reports_url(editor.workspace)))

    assert "Monthly value review" in text
    assert "The whole workspace" in text
    assert "On the 1st of every month, 07:00, for the period just ended" in text
    label = f"{workspace_today(editor.workspace):%B %Y}"
    assert f"{label} Queued" in text
    assert " 2 " in text  # recipients


# --- the form ------------------------------------------------------------------------------------


def test_an_editor_creates_a_report_in_the_form(editor: Membership) -> None:
    client = client_for(editor)

    response = client.post(reports_url(editor.workspace, "new/"), form_data(editor))

    definition = ReportDefinition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reports_url(editor.workspace, f"{definition.pk}/")
    assert definition.formats == ["html", "pdf"]
    assert sorted(r.email or str(r) for r in definition.recipients.all()) == sorted(
        ["cfo@example.com", "board@example.com", editor.user.email]
    )
    page = text_of(client.get(response["Location"]))
    assert "Report “Monthly value review” created" in page
    assert "Run now" in page


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"recipient_users": None, "recipient_emails": ""}, "Add at least one recipient"),
        ({"recipient_emails": "cfo@example.com\nnot an address"}, "Not a valid e-mail address"),
        ({"formats": None}, "Choose at least one format"),
        ({"name": ""}, "Give the report a name"),
    ],
    ids=["no-recipient", "bad-email", "no-format", "no-name"],
)
def test_the_form_shows_the_services_errors_inline_and_writes_nothing(
    editor: Membership, changes: dict[str, Any], words: str
) -> None:
    response = client_for(editor).post(
        reports_url(editor.workspace, "new/"), form_data(editor, **changes)
    )

    assert response.status_code == 400
    assert words in text_of(response)
    assert 'class="field__error"' in response.content.decode()
    assert ReportDefinition.objects.count() == 0


def test_an_editor_edits_a_report_and_the_form_starts_from_it(editor: Membership) -> None:
    client = client_for(editor)
    definition = definition_of(editor, recipient_emails=["cfo@example.com", "ceo@example.com"])

    form = client.get(reports_url(editor.workspace, f"{definition.pk}/edit/"))
    response = client.post(
        reports_url(editor.workspace, f"{definition.pk}/edit/"),
        form_data(editor, name="Quarterly review", period="quarter"),
    )

    assert "cfo@example.com\nceo@example.com" in form.content.decode()
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.name, definition.period) == ("Quarterly review", "quarter")


def test_deleting_asks_first_then_deletes_or_archives(editor: Membership) -> None:
    client = client_for(editor)
    unused = definition_of(editor, name="Unused")
    used = definition_of(editor, name="Used")
    report_run_request(definition=used, by=editor.user)

    ask_unused = text_of(client.get(reports_url(editor.workspace, f"{unused.pk}/delete/")))
    ask_used = text_of(client.get(reports_url(editor.workspace, f"{used.pk}/delete/")))
    client.post(reports_url(editor.workspace, f"{unused.pk}/delete/"))
    client.post(reports_url(editor.workspace, f"{used.pk}/delete/"))

    assert "Delete the report “Unused”?" in ask_unused
    assert "Archive the report “Used”?" in ask_used
    assert not ReportDefinition.objects.filter(pk=unused.pk).exists()
    used.refresh_from_db()
    assert used.archived_at is not None
    listed = text_of(client.get(reports_url(editor.workspace)))
    assert "Show archived reports (1)" in listed


# --- the definition and Run now ---------------------------------------------------------------


def test_run_now_sends_the_editor_to_the_run_page_which_polls_its_progress(
    editor: Membership,
) -> None:
    client = client_for(editor)
    definition = definition_of(editor)

    response = client.post(reports_url(editor.workspace, f"{definition.pk}/run/"), {"day": ""})

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reports_url(editor.workspace, f"runs/{run.pk}/")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'hx-get="/w/acme/reports/runs/' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="run-progress-bar" max="100" value="0"' in html
    assert "waiting for a worker" in text_of(page)
    assert_no_inline_script(html)


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_a_failing_run_now_ends_failed_with_the_reason(
    editor: Membership, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """In process, every attempt runs at once; the page shows the failure, never a 500."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    title = replace_section(monkeypatch, "objectives", broken)
    client = client_for(editor)

    response = client.post(
        reports_url(editor.workspace, f"{definition_of(editor).pk}/run/"), {"day": ""}, follow=True
    )

    assert response.status_code == 200
    run = ReportRun.objects.get()
    assert (run.status, run.attempts) == (RunStatus.FAILED, settings.REPORT_RUN_MAX_ATTEMPTS)
    assert f"The section “{title}” could not be built" in text_of(response)
    assert "Try again" in text_of(response)


def test_a_second_run_now_leads_to_the_run_being_made(editor: Membership) -> None:
    client = client_for(editor)
    definition = definition_of(editor)
    running = report_run_request(definition=definition, by=editor.user)

    response = client.post(reports_url(editor.workspace, f"{definition.pk}/run/"), {})

    assert response["Location"] == reports_url(editor.workspace, f"runs/{running.pk}/")
    assert "is already being made" in text_of(client.get(response["Location"]))
    assert ReportRun.objects.count() == 1


def test_run_now_of_a_future_day_is_refused_inline(editor: Membership) -> None:
    definition = definition_of(editor)
    day = workspace_today(editor.workspace) + timedelta(days=40)

    response = client_for(editor).post(
        reports_url(editor.workspace, f"{definition.pk}/run/"), {"day": day.isoformat()}
    )

    assert response.status_code == 409
    assert "This period has not begun yet" in text_of(response)
    assert ReportRun.objects.count() == 0


def test_the_definition_lists_its_runs_newest_first_with_their_status(
    editor: Membership,
) -> None:
    definition = definition_of(editor)
    today = workspace_today(editor.workspace)
    earlier = report_run_request(
        definition=definition, by=editor.user, day=today.replace(day=1) - timedelta(days=1)
    )
    ReportRun.objects.filter(pk=earlier.pk).update(status=RunStatus.FAILED)
    report_run_request(definition=definition, by=editor.user)

    text = text_of(client_for(editor).get(reports_url(editor.workspace, f"{definition.pk}/")))

    newest, older = f"{today:%B %Y}", f"{today.replace(day=1) - timedelta(days=1):%B %Y}"
    assert text.index(f"{newest} Queued") < text.index(f"{older} Failed")
    assert f"Run by {editor.user.display_name}" in text


# --- the run page --------------------------------------------------------------------------------


def test_the_status_partial_stops_polling_and_reloads_once_the_run_has_finished(
    editor: Membership,
) -> None:
    client = client_for(editor)
    run = report_run_request(definition=definition_of(editor), by=editor.user)
    url = reports_url(editor.workspace, f"runs/{run.pk}/status/")

    polling = client.get(url, headers={"HX-Request": "true"})
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="Broken.")
    finished = client.get(url, headers={"HX-Request": "true"})

    assert "hx-trigger" in polling.content.decode()
    assert "HX-Refresh" not in polling
    assert finished["HX-Refresh"] == "true"
    assert "hx-trigger" not in finished.content.decode()


def test_a_succeeded_run_shows_the_report_its_downloads_and_who_got_it(
    editor: Membership,
) -> None:
    definition = definition_of(editor, recipient_emails=["cfo@example.com", "ceo@example.com"])
    run = succeeded_run(definition, editor)
    ReportDelivery.objects.filter(run=run, email="cfo@example.com").update(
        status=DeliveryStatus.SENT
    )
    ReportDelivery.objects.filter(run=run, email="ceo@example.com").update(
        status=DeliveryStatus.FAILED, attempts=5, last_error="The mail server said: mailbox full."
    )

    response = client_for(editor).get(reports_url(editor.workspace, f"runs/{run.pk}/"))

    html = response.content.decode()
    text = text_of(response)
    assert response.status_code == 200
    assert 'data-testid="report"' in html
    assert "/static/css/report.css" in html
    assert "hx-trigger" not in html
    for fmt in ("html", "pdf", "csv"):
        assert f"/api/v1/workspaces/acme/report-runs/{run.pk}/{fmt}/" in html
    # the sections in the report's order, whatever order the database keeps them in
    assert text.index("Headline value") < text.index("What comes next")
    assert "cfo@example.com Sent" in text
    assert "ceo@example.com Failed The mail server said: mailbox full." in text
    assert_no_inline_script(html)


# Committed for real: in process (the embedded default), the e-mail goes out as the
# request's transaction commits, before the page says what happened.
@pytest.mark.django_db(transaction=True)
def test_an_editor_sends_a_failed_delivery_again_and_the_address_gets_one_email(
    editor: Membership,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[Any],
) -> None:
    definition = definition_of(editor, recipient_emails=["cfo@example.com", "ceo@example.com"])
    with monkeypatch.context() as setup:  # made here, queued nowhere
        setup.setattr(report_services, "_enqueue", lambda *args, **kwargs: None)
        run = succeeded_run(definition, editor)
    # The embedded default: the deliver task runs in process once the request commits.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    ReportDelivery.objects.filter(run=run, email="cfo@example.com").update(
        status=DeliveryStatus.SENT, attempts=1
    )
    ReportDelivery.objects.filter(run=run, email="ceo@example.com").update(
        status=DeliveryStatus.FAILED, attempts=3, last_error="The mail server said: mailbox full."
    )
    failed = ReportDelivery.objects.get(run=run, email="ceo@example.com")
    client = client_for(editor)
    resend = reports_url(editor.workspace, f"runs/{run.pk}/deliveries/{failed.pk}/resend/")

    page_html = client.get(reports_url(editor.workspace, f"runs/{run.pk}/")).content.decode()
    response = client.post(resend, follow=True)
    again = client.post(resend, follow=True)

    # One button, on the failed row only.
    assert page_html.count('data-testid="send-again"') == 1
    assert resend in page_html
    assert "The report was sent again to ceo@example.com." in text_of(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (DeliveryStatus.SENT, 1, "")
    assert [m.to for m in mailoutbox] == [["ceo@example.com"]]
    assert mailoutbox[0].subject == f"{definition.name}: {period_label('month', run.period_start)}"
    # A second click sends nothing more, and says why.
    assert "The report was sent to ceo@example.com already." in text_of(again)
    assert len(mailoutbox) == 1
    assert 'data-testid="send-again"' not in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_send_again_says_so_when_the_mail_server_refuses_again(
    editor: Membership, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    definition = definition_of(editor, recipient_emails=["ceo@example.com"])
    with monkeypatch.context() as setup:  # made here, queued nowhere
        setup.setattr(report_services, "_enqueue", lambda *args, **kwargs: None)
        run = succeeded_run(definition, editor)
    failed = ReportDelivery.objects.get(run=run)
    ReportDelivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED, attempts=3)
    # The embedded default: in process, every attempt at once (no pause between them).
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "tests.reports.mail_backends.DownBackend"

    response = client_for(editor).post(
        reports_url(editor.workspace, f"runs/{run.pk}/deliveries/{failed.pk}/resend/"),
        follow=True,
    )

    text = text_of(response)
    assert "The report could not be sent again to ceo@example.com." in text
    assert "The mail server did not take the message" in text
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED
    assert 'data-testid="send-again"' in response.content.decode()


def test_send_again_is_refused_for_a_delivery_still_being_tried_or_of_another_run(
    editor: Membership, mailoutbox: list[Any]
) -> None:
    definition = definition_of(editor, recipient_emails=["ceo@example.com"])
    run = succeeded_run(definition, editor)
    other = succeeded_run(definition_of(editor, name="Other"), editor)
    pending = ReportDelivery.objects.get(run=run)
    ReportDelivery.objects.filter(pk=pending.pk).update(attempts=2, last_error="Busy.")
    client = client_for(editor)

    response = client.post(
        reports_url(editor.workspace, f"runs/{run.pk}/deliveries/{pending.pk}/resend/"),
        follow=True,
    )
    foreign = client.post(
        reports_url(editor.workspace, f"runs/{other.pk}/deliveries/{pending.pk}/resend/")
    )

    assert "The report to ceo@example.com is still being sent" in text_of(response)
    assert foreign.status_code == 404
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (DeliveryStatus.PENDING, 2)
    assert mailoutbox == []


def test_a_failed_run_says_why_and_an_editor_tries_again(editor: Membership) -> None:
    client = client_for(editor)
    run = report_run_request(definition=definition_of(editor), by=editor.user)
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error="The section “Headline” could not be built: no data."
    )

    page = text_of(client.get(reports_url(editor.workspace, f"runs/{run.pk}/")))
    response = client.post(reports_url(editor.workspace, f"runs/{run.pk}/retry/"))

    assert "The section “Headline” could not be built: no data." in page
    assert "Try again" in page
    again = ReportRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reports_url(editor.workspace, f"runs/{again.pk}/")
    assert again.period_start == run.period_start
    assert ReportRun.objects.get(pk=run.pk).status == RunStatus.FAILED


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_reports_and_runs_but_changes_nothing(
    editor: Membership, viewer: Membership
) -> None:
    client = client_for(viewer)
    definition = definition_of(editor)
    run = report_run_request(definition=definition, by=editor.user)
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="Broken.")
    failed = ReportDelivery.objects.create(
        run=run, email="ceo@example.com", status=DeliveryStatus.FAILED, attempts=3
    )

    listed = client.get(reports_url(editor.workspace))
    detail = client.get(reports_url(editor.workspace, f"{definition.pk}/"))
    run_page = client.get(reports_url(editor.workspace, f"runs/{run.pk}/"))

    assert [listed.status_code, detail.status_code, run_page.status_code] == [200, 200, 200]
    assert "New report" not in text_of(listed)
    assert "Run now" not in text_of(detail)
    assert "Edit" not in text_of(detail)
    assert "Try again" not in text_of(run_page)
    for method, rest in (
        ("get", "new/"),
        ("post", "new/"),
        ("get", f"{definition.pk}/edit/"),
        ("post", f"{definition.pk}/delete/"),
        ("post", f"{definition.pk}/run/"),
        ("post", f"runs/{run.pk}/retry/"),
        ("post", f"runs/{run.pk}/deliveries/{failed.pk}/resend/"),
    ):
        response = getattr(client, method)(reports_url(editor.workspace, rest))
        assert response.status_code == 403, (method, rest)
    assert ReportRun.objects.count() == 1
    assert ReportDefinition.objects.get().archived_at is None
    assert ReportDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.FAILED


def test_an_outsider_finds_nothing(editor: Membership, outsider: Membership) -> None:
    definition = definition_of(editor)
    run = report_run_request(definition=definition, by=editor.user)
    client = client_for(outsider)

    for rest in ("", f"{definition.pk}/", f"runs/{run.pk}/", f"runs/{run.pk}/status/"):
        assert client.get(reports_url(editor.workspace, rest)).status_code == 404
    other = Client()
    other.force_login(outsider.user)
    assert other.get(f"/w/{outsider.workspace.slug}/reports/runs/{run.pk}/").status_code == 404


# --- query budgets -------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_read_in_the_same_number_of_queries_at_2_and_at_30_runs(
    editor: Membership,
) -> None:
    # Given reports with recipients, and 2 runs with deliveries
    client = client_for(editor)
    other = MembershipFactory.create(workspace=editor.workspace)
    definitions = [
        definition_of(editor, name=f"Report {i}", recipient_users=[other.user]) for i in range(3)
    ]
    _make_runs(definitions, editor, 2)
    run = ReportRun.objects.order_by("id").first()
    assert run is not None
    urls = [
        reports_url(editor.workspace),
        reports_url(editor.workspace, f"{definitions[0].pk}/"),
        reports_url(editor.workspace, f"runs/{run.pk}/"),
    ]
    client.get(urls[0])
    at_2 = [_queries(client, url) for url in urls]

    # When there are 30 (and the run has 29 more deliveries)
    _make_runs(definitions, editor, 28)
    ReportDelivery.objects.bulk_create(
        [ReportDelivery(run=run, email=f"more-{i}@example.com") for i in range(29)]
    )
    at_30 = [_queries(client, url) for url in urls]

    # Then each page costs the same, within its budget
    assert at_30 == at_2
    assert at_30 <= [LIST_QUERIES, DEFINITION_QUERIES, RUN_QUERIES], at_30


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_reports_are_made_once_with_succeeded_runs(admin: Membership) -> None:
    from reports.demo import seed_reports

    made = seed_reports(workspace=admin.workspace, admin=admin.user)
    again = seed_reports(workspace=admin.workspace, admin=admin.user)

    assert made == 5
    assert again is None
    assert ReportRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 5
    text = text_of(client_for(admin).get(reports_url(admin.workspace)))
    assert "Monthly value review" in text
    assert "Quarterly board report" in text
    assert "Succeeded" in text
