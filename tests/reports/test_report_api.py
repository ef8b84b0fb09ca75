"""The report API (issue 6, item 6): definitions CRUD through the services, with every bad
input answered by field in words and nothing written; "Run now" answers 202 with the run's
URL; runs with their progress, deliveries and file links; downloads; viewers and read-only
tokens read but do not write; another workspace's ids are not found."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Team, Workspace
from reports.models import (
    DeliveryStatus,
    ReportDefinition,
    ReportDelivery,
    ReportRecipient,
    ReportRun,
    RunStatus,
)
from reports.services import report_definition_create, report_run_generate, report_run_request
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.conftest import token_client
from tests.strategy.factories import ObjectiveFactory

pytestmark = pytest.mark.django_db

# The token with its membership and workspace; the count and the page of definitions; their
# recipients; their last runs. None grows with the number of definitions or runs.
DEFINITIONS_QUERIES = 5
# The token; the count, the page of runs with definition and workspace, their deliveries.
RUNS_QUERIES = 4


def base(workspace: Workspace) -> str:
    return f"/api/v1/workspaces/{workspace.slug}/"


def definition_of(membership: Membership, **kwargs: Any) -> ReportDefinition:
    kwargs.setdefault("name", "Monthly value review")
    kwargs.setdefault("formats", ["html", "pdf", "csv"])
    kwargs.setdefault("recipient_emails", ["cfo@example.com"])
    return report_definition_create(workspace=membership.workspace, by=membership.user, **kwargs)


def succeeded_run(definition: ReportDefinition, membership: Membership, **kwargs: Any) -> ReportRun:
    run = report_run_request(definition=definition, by=membership.user, **kwargs)
    assert report_run_generate(run_id=run.pk).outcome == "done"
    run.refresh_from_db()
    return run


def valid_body(membership: Membership) -> dict[str, Any]:
    return {
        "name": "Quarterly board report",
        "period": "quarter",
        "formats": ["html", "pdf"],
        "recipient_users": [membership.user.pk],
        "recipient_emails": ["board@example.com"],
        "send_hour": 8,
    }


# --- definitions ------------------------------------------------------------------------------


def test_an_editor_creates_reads_updates_and_lists_a_definition(editor: Membership) -> None:
    # Given an editor with a token, a team and an objective of the workspace
    client = token_client(editor)
    team = TeamFactory.create(workspace=editor.workspace, name="Growth")
    objective = ObjectiveFactory.create(workspace=editor.workspace)
    body = valid_body(editor) | {"team": team.pk, "objective": objective.pk}

    # When they create a definition
    response = client.post(base(editor.workspace) + "reports/", body, format="json")

    # Then it is answered whole, recipients included
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "Quarterly board report"
    assert data["period"] == "quarter"
    assert data["team"] == team.pk
    assert data["objective"] == objective.pk
    assert data["formats"] == ["html", "pdf"]
    assert data["recipient_users"] == [editor.user.pk]
    assert data["recipient_emails"] == ["board@example.com"]
    assert data["scheduled"] is True
    assert data["send_hour"] == 8
    assert data["last_run"] is None
    assert data["archived_at"] is None
    url = base(editor.workspace) + f"reports/{data['id']}/"

    # When they change its recipients and period
    response = client.patch(url, {"recipient_emails": [], "period": "month"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["recipient_emails"] == []
    assert response.json()["period"] == "month"
    assert ReportRecipient.objects.filter(definition_id=data["id"]).count() == 1

    # Then the list and the detail show it
    listed = client.get(base(editor.workspace) + "reports/").json()
    assert [d["id"] for d in listed["results"]] == [data["id"]]
    assert client.get(url).json()["period"] == "month"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"recipient_users": [], "recipient_emails": []}, "recipients", "at least one recipient"),
        ({"recipient_emails": ["not-an-address"]}, "recipient_emails", "not-an-address"),
        ({"formats": ["docx"]}, "formats", "Unknown format: docx"),
        ({"formats": []}, "formats", "at least one format"),
        ({"name": "  "}, "name", "Give the report a name"),
        ({"period": "year"}, "period", "week, month or quarter"),
        ({"send_hour": 24}, "send_hour", "23"),
    ],
    ids=["no-recipient", "bad-email", "unknown-format", "no-format", "no-name", "period", "hour"],
)
def test_a_bad_definition_is_refused_by_field_in_words_and_nothing_is_written(
    editor: Membership, change: dict[str, Any], field: str, words: str
) -> None:
    client = token_client(editor)
    body = valid_body(editor) | change

    response = client.post(base(editor.workspace) + "reports/", body, format="json")

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert ReportDefinition.objects.count() == 0
    assert ReportRecipient.objects.count() == 0


def test_ids_of_another_workspace_in_a_definition_are_refused_by_field(
    editor: Membership, outsider: Membership
) -> None:
    client = token_client(editor)
    foreign_team = TeamFactory.create(workspace=outsider.workspace)
    foreign_objective = ObjectiveFactory.create(workspace=outsider.workspace)
    for field, value in (
        ("team", foreign_team.pk),
        ("objective", foreign_objective.pk),
        ("recipient_users", [outsider.user.pk]),
    ):
        body = valid_body(editor) | {field: value}

        response = client.post(base(editor.workspace) + "reports/", body, format="json")

        assert response.status_code == 400, field
        assert field in response.json(), response.json()
    assert ReportDefinition.objects.count() == 0


def test_deleting_a_definition_without_runs_deletes_it_and_with_runs_archives_it(
    editor: Membership,
) -> None:
    client = token_client(editor)
    unused = definition_of(editor, name="Unused")
    used = definition_of(editor, name="Used")
    report_run_request(definition=used, by=editor.user)

    gone = client.delete(base(editor.workspace) + f"reports/{unused.pk}/")
    archived = client.delete(base(editor.workspace) + f"reports/{used.pk}/")

    assert gone.status_code == 204
    assert not ReportDefinition.objects.filter(pk=unused.pk).exists()
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert archived.json()["last_run"]["status"] == "queued"
    # an archived report leaves the list, but for ?archived=true, and cannot change
    assert client.get(base(editor.workspace) + "reports/").json()["count"] == 0
    assert client.get(base(editor.workspace) + "reports/?archived=true").json()["count"] == 1
    refused = client.patch(base(editor.workspace) + f"reports/{used.pk}/", {"name": "X"})
    assert refused.status_code == 409
    assert "archived" in refused.json()["detail"]


# --- runs ---------------------------------------------------------------------------------------


def test_run_now_answers_202_with_the_run_and_its_url(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor)
    today = workspace_today(editor.workspace)

    response = client.post(base(editor.workspace) + f"reports/{definition.pk}/runs/", {})

    assert response.status_code == 202, response.json()
    run = ReportRun.objects.get()
    data = response.json()
    expected_url = f"http://testserver{base(editor.workspace)}report-runs/{run.pk}/"
    assert data["url"] == expected_url
    assert response["Location"] == expected_url
    assert data["status"] == "queued"
    assert data["trigger"] == "manual"
    assert data["requested_by"] == editor.user.pk
    assert data["period_start"] == today.replace(day=1).isoformat()
    assert data["links"] == {"html": None, "pdf": None, "csv": None}
    # and the URL answers the run
    assert client.get(data["url"]).json()["id"] == run.pk


def test_run_now_for_an_earlier_day_reports_that_period(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor)
    day = workspace_today(editor.workspace).replace(day=1) - timedelta(days=1)

    response = client.post(
        base(editor.workspace) + f"reports/{definition.pk}/runs/",
        {"day": day.isoformat()},
        format="json",
    )

    assert response.status_code == 202
    assert response.json()["period_end"] == day.isoformat()
    assert response.json()["as_of"] == day.isoformat()


def test_a_run_of_a_period_in_the_future_is_refused_in_words(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor)
    day = workspace_today(editor.workspace) + timedelta(days=40)

    response = client.post(
        base(editor.workspace) + f"reports/{definition.pk}/runs/",
        {"day": day.isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert "has not begun yet" in response.json()["period"][0]
    assert ReportRun.objects.count() == 0


def test_a_second_run_while_one_is_in_flight_is_409_and_writes_nothing(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor)
    url = base(editor.workspace) + f"reports/{definition.pk}/runs/"
    assert client.post(url, {}).status_code == 202

    response = client.post(url, {})

    assert response.status_code == 409
    assert "is already being made" in response.json()["detail"]
    assert ReportRun.objects.count() == 1


def test_a_run_of_an_archived_report_is_409(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor)
    report_run_request(definition=definition, by=editor.user)
    client.delete(base(editor.workspace) + f"reports/{definition.pk}/")

    response = client.post(base(editor.workspace) + f"reports/{definition.pk}/runs/", {})

    assert response.status_code == 409
    assert "archived" in response.json()["detail"]
    assert ReportRun.objects.count() == 1


def test_a_run_requested_for_a_definition_of_another_workspace_is_404(
    editor: Membership, outsider: Membership
) -> None:
    client = token_client(editor)
    foreign = definition_of(outsider)

    response = client.post(base(editor.workspace) + f"reports/{foreign.pk}/runs/", {})

    assert response.status_code == 404
    assert ReportRun.objects.count() == 0
    assert client.get(base(editor.workspace) + f"reports/{foreign.pk}/").status_code == 404
    foreign_run = report_run_request(definition=foreign, by=outsider.user)
    assert client.get(base(editor.workspace) + f"report-runs/{foreign_run.pk}/").status_code == 404
    assert (
        client.get(base(editor.workspace) + f"report-runs/{foreign_run.pk}/pdf/").status_code == 404
    )


def test_a_succeeded_run_links_its_files_and_they_download(editor: Membership) -> None:
    client = token_client(editor)
    definition = definition_of(editor, formats=["html", "pdf"])
    run = succeeded_run(definition, editor)
    ReportDelivery.objects.filter(run=run).update(
        status=DeliveryStatus.FAILED, attempts=5, last_error="The mail server said no."
    )

    data = client.get(base(editor.workspace) + f"report-runs/{run.pk}/").json()

    assert data["status"] == "succeeded"
    assert data["progress"] == 100
    assert data["finished_at"] is not None
    assert data["deliveries"] == [
        {
            "email": "cfo@example.com",
            "status": "failed",
            "attempts": 5,
            "last_error": "The mail server said no.",
            "sent_at": None,
        }
    ]
    assert data["links"]["csv"] is None
    pdf = client.get(data["links"]["pdf"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('attachment; filename="monthly-value-review-')
    assert pdf.getvalue().startswith(b"%PDF")
    html = client.get(data["links"]["html"])
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert b"Monthly value review" in html.getvalue()
    # a format the report does not make is not found, in words
    missing = client.get(base(editor.workspace) + f"report-runs/{run.pk}/csv/")
    assert missing.status_code == 404
    assert "no CSV" in missing.json()["detail"]


def test_the_files_of_a_run_not_yet_made_are_409(editor: Membership) -> None:
    client = token_client(editor)
    run = report_run_request(definition=definition_of(editor), by=editor.user)

    response = client.get(base(editor.workspace) + f"report-runs/{run.pk}/pdf/")

    assert response.status_code == 409
    assert "queued" in response.json()["detail"]


def test_runs_are_listed_and_filtered_by_definition_and_status(editor: Membership) -> None:
    client = token_client(editor)
    first = definition_of(editor, name="First")
    second = definition_of(editor, name="Second")
    done = succeeded_run(first, editor)
    queued = report_run_request(definition=second, by=editor.user)

    everything = client.get(base(editor.workspace) + "report-runs/").json()
    of_second = client.get(base(editor.workspace) + f"report-runs/?definition={second.pk}").json()
    succeeded = client.get(base(editor.workspace) + "report-runs/?status=succeeded").json()
    nested = client.get(base(editor.workspace) + f"reports/{first.pk}/runs/").json()

    assert {r["id"] for r in everything["results"]} == {done.pk, queued.pk}
    assert [r["id"] for r in of_second["results"]] == [queued.pk]
    assert [r["id"] for r in succeeded["results"]] == [done.pk]
    assert [r["id"] for r in nested["results"]] == [done.pk]
    assert client.get(base(editor.workspace) + "report-runs/?status=lost").status_code == 400


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_and_a_read_only_token_read_but_do_not_write(
    editor: Membership, viewer: Membership
) -> None:
    definition = definition_of(editor)
    run = report_run_request(definition=definition, by=editor.user)
    clients = {"viewer": APIClient(), "read-only token": token_client(editor, read_only=True)}
    clients["viewer"].force_login(viewer.user)

    for who, client in clients.items():
        assert client.get(base(editor.workspace) + "reports/").status_code == 200, who
        assert client.get(base(editor.workspace) + f"report-runs/{run.pk}/").status_code == 200
        for method, path, body in (
            ("post", "reports/", valid_body(editor)),
            ("patch", f"reports/{definition.pk}/", {"name": "Renamed"}),
            ("delete", f"reports/{definition.pk}/", None),
            ("post", f"reports/{definition.pk}/runs/", {}),
        ):
            response = getattr(client, method)(base(editor.workspace) + path, body, format="json")
            assert response.status_code == 403, (who, method, path)
            assert response.json()["detail"]

    assert ReportDefinition.objects.get().name == "Monthly value review"
    assert ReportRun.objects.count() == 1


def test_anonymous_is_401(editor: Membership) -> None:
    assert APIClient().get(base(editor.workspace) + "reports/").status_code == 401


# --- query budgets -------------------------------------------------------------------------------


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _make_runs(definitions: list[ReportDefinition], by: Membership, count: int) -> None:
    """`count` more failed runs, each with a delivery, spread over the definitions."""
    today = workspace_today(by.workspace)
    done = ReportRun.objects.count()
    for i in range(done, done + count):
        day = today.replace(day=1) - timedelta(days=31 * (i // len(definitions)))
        run = report_run_request(definition=definitions[i % len(definitions)], by=by.user, day=day)
        ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="Broken.")
        ReportDelivery.objects.create(run=run, email=f"{i}@example.com")


def test_the_lists_read_in_the_same_number_of_queries_at_2_and_at_30_runs(
    editor: Membership,
) -> None:
    # Given definitions with recipients, and 2 runs with deliveries
    client = token_client(editor)
    other = MembershipFactory.create(workspace=editor.workspace)
    definitions = [
        definition_of(editor, name=f"Report {i}", recipient_users=[other.user]) for i in range(3)
    ]
    urls = [
        base(editor.workspace) + "reports/",
        base(editor.workspace) + "report-runs/",
        base(editor.workspace) + f"reports/{definitions[0].pk}/runs/",
    ]
    _make_runs(definitions, editor, 2)
    client.get(urls[0])  # the token's first use of the day records it: not the list's
    at_2 = [_queries(client, url) for url in urls]

    # When there are 30
    _make_runs(definitions, editor, 28)
    at_30 = [_queries(client, url) for url in urls]

    # Then each list costs the same, within its budget
    assert at_30 == at_2
    assert at_30 <= [DEFINITIONS_QUERIES, RUNS_QUERIES, RUNS_QUERIES + 1], at_30


def test_the_schema_documents_the_202_and_the_refusals() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    runs = schema["paths"]["/api/v1/workspaces/{workspace_slug}/reports/{definition_id}/runs/"]
    assert {"202", "400", "403", "404", "409"} <= set(runs["post"]["responses"])
    delete = schema["paths"]["/api/v1/workspaces/{workspace_slug}/reports/{id}/"]["delete"]
    assert {"200", "204"} <= set(delete["responses"])
    pdf = schema["paths"]["/api/v1/workspaces/{workspace_slug}/report-runs/{id}/pdf/"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert {"404", "409"} <= set(pdf["responses"])


def test_a_team_of_the_workspace_is_accepted(editor: Membership) -> None:
    team = Team.objects.create(workspace=editor.workspace, name="Core")
    client = token_client(editor)

    response = client.post(
        base(editor.workspace) + "reports/", valid_body(editor) | {"team": team.pk}, format="json"
    )

    assert response.status_code == 201
