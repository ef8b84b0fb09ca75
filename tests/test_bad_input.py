"""Bad input the fuzzer does not reach: NUL bytes, a 10 MB body, integers past 64 bits,
Unicode in every text field, HTML in titles, formulas in CSV cells. Each answers in words
with a 4xx, or is kept and shown as it was typed; never a 500."""

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, Team, Workspace
from initiatives.models import Idea, Initiative
from reports.rendering import render_csv
from reports.report_data import report_data
from reports.selectors import Scope
from strategy.models import KeyResult, Measurement, Objective
from tests.conftest import token_client
from tests.initiatives.factories import InitiativeFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory

API = "/api/v1/workspaces/acme"
NUL_REFUSED = "Null characters are not allowed."
# Emoji (with a skin tone and a joiner), right-to-left Arabic and Hebrew, combining marks
# (e + U+0301, not the precomposed é), and a character outside the Basic Multilingual Plane.
UNICODE = "Café 👩🏽‍💻 مرحبا שלום e\u0301\u0308 𝔘𝔫𝔦"
BIG = 2**64  # one past the largest unsigned 64-bit integer
HUGE = 10**30


@pytest.fixture
def client(admin: Membership) -> APIClient:
    return token_client(admin)


@pytest.fixture
def rows(workspace: Workspace, admin: Membership) -> dict[str, Any]:
    objective = ObjectiveFactory.create(workspace=workspace)
    metric = MetricFactory.create(workspace=workspace, key="signups")
    initiative = InitiativeFactory.create(workspace=workspace)
    return {"objective": objective, "metric": metric, "initiative": initiative}


# --- NUL bytes ---------------------------------------------------------------------------

# (path under the workspace, body); the field named first in the body gets the NUL.
NUL_BODIES = [
    ("teams/", {"name": "Gro\x00wth"}),
    (
        "objectives/",
        {"title": "Gro\x00w", "period_start": "2026-01-01", "period_end": "2026-12-31"},
    ),
    (
        "objectives/",
        {
            "description": "\x00",
            "title": "Grow",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    ),
    ("initiatives/", {"title": "On\x00board"}),
    ("initiatives/", {"summary": "a\x00b", "title": "Onboard"}),
    ("ideas/", {"title": "Dark\x00mode"}),
    ("reports/", {"name": "Month\x00ly", "formats": ["csv"]}),
    ("webhooks/", {"description": "\x00", "url": "https://example.com/hook"}),
    ("tokens/", {"name": "ci\x00"}),
    (
        "metrics/",
        {
            "name": "Sign\x00ups",
            "key": "signups-2",
            "unit": "users",
            "category": "acquisition",
            "direction": "increase",
            "aggregation": "sum",
        },
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "body"), NUL_BODIES, ids=lambda v: str(v)[:24])
def test_a_nul_byte_in_a_json_string_is_refused_in_words(
    client: APIClient, rows: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL refuses NUL in text; the API says so before the database is asked."""
    field = next(iter(body))
    before = Team.objects.count(), Objective.objects.count(), Initiative.objects.count()

    response = client.post(f"{API}/{path}", body, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [NUL_REFUSED]
    assert (Team.objects.count(), Objective.objects.count(), Initiative.objects.count()) == before


@pytest.mark.django_db
def test_a_nul_byte_in_a_measurement_note_is_refused(
    client: APIClient, rows: dict[str, Any]
) -> None:
    metric = rows["metric"]
    response = client.post(
        f"{API}/metrics/{metric.pk}/measurements/",
        {"observed_on": "2026-01-02", "value": "3", "note": "x\x00y"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "points": ["Item 0: note contains a NUL character (\\x00); remove it."]
    }
    assert not Measurement.objects.exists()


# Query parameters of the list endpoints; the answer is a refusal in words or a plain list.
NUL_QUERIES = [
    "initiatives/?q=a%00b",
    "initiatives/?status=%00",
    "initiatives/?ordering=%00title",
    "initiatives/?team=%00",
    "ideas/?q=%00",
    "objectives/?status=%00",
    "metrics/?q=%00",
    "decisions/?kind=%00",
    "value/summary/?as_of=2026-01-01%00",
    "value/objectives/?as_of=%00",
    "initiatives/?limit=%00&offset=%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", NUL_QUERIES)
def test_a_nul_byte_in_a_query_parameter_is_never_a_500(
    client: APIClient, rows: dict[str, Any], query: str
) -> None:
    response = client.get(f"{API}/{query}")
    assert response.status_code in {200, 400}, response.content[:300]
    if response.status_code == 400:
        assert response.json()  # in words, as JSON


@pytest.mark.django_db
def test_a_nul_byte_in_the_measurements_range_is_refused(
    client: APIClient, rows: dict[str, Any]
) -> None:
    response = client.get(f"{API}/metrics/{rows['metric'].pk}/measurements/?from=%00")
    assert response.status_code == 400
    assert response.json()


@pytest.mark.django_db
def test_a_nul_byte_in_the_workspace_slug_is_not_found_in_json(client: APIClient) -> None:
    response = client.get("/api/v1/workspaces/ac%00me/initiatives/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found: no API operation at this address."}


# --- big bodies ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_10_mb_json_body_is_refused_with_413_in_words(
    client: APIClient, rows: dict[str, Any]
) -> None:
    metric = rows["metric"]
    body = json.dumps({"note": "x" * (10 * 1024 * 1024)}).encode()
    limit = settings.MAX_REQUEST_BYTES

    response = client.post(
        f"{API}/metrics/{metric.pk}/measurements/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body is {len(body):,} bytes; the limit is {limit:,} bytes."
    }
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_a_batch_of_10000_measurements_fits_under_the_limit(
    client: APIClient, rows: dict[str, Any]
) -> None:
    """The largest batch the API takes, with a note and a source on every point, is well
    under the body limit, so the 413 never refuses a legitimate batch."""
    metric = rows["metric"]
    start = date(1990, 1, 1)
    points = [
        {
            "observed_on": (start + timedelta(days=n)).isoformat(),
            "value": "123456.789",
            "source": "warehouse-nightly-export",
            "note": "Imported from the nightly export of the warehouse",
        }
        for n in range(10_000)
    ]
    body = json.dumps(points).encode()
    assert len(body) < settings.MAX_REQUEST_BYTES / 2

    response = client.post(
        f"{API}/metrics/{metric.pk}/measurements/", body, content_type="application/json"
    )

    assert response.status_code in {200, 201}, response.content[:300]
    assert response.json() == {"created": 10_000, "updated": 0}


# --- integers past 64 bits ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"objectives/{BIG}/",
        f"initiatives/{HUGE}/",
        f"initiatives/{HUGE}/impact/",
        f"initiatives/{BIG}/alignments/",
        f"metrics/{BIG}/measurements/",
        f"ideas/{HUGE}/",
        f"teams/{BIG}/",
        f"decisions/{BIG}/",
    ],
)
def test_an_id_past_64_bits_in_the_path_is_not_found(
    client: APIClient, rows: dict[str, Any], path: str
) -> None:
    response = client.get(f"{API}/{path}")
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        f"initiatives/?team={BIG}",
        f"initiatives/?objective={HUGE}",
        f"initiatives/?owner={BIG}",
        f"decisions/?initiative={BIG}",
        f"key-results/?objective={BIG}",
        f"initiatives/?limit={BIG}",
        f"initiatives/?offset={BIG}",
        f"initiatives/?offset={HUGE}&limit={HUGE}",
    ],
)
def test_an_integer_past_64_bits_in_a_query_is_never_a_500(
    client: APIClient, rows: dict[str, Any], query: str
) -> None:
    response = client.get(f"{API}/{query}")
    assert response.status_code in {200, 400}, response.content[:300]
    assert response.json()


def _body_cases() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("initiatives/", "confidence", {"title": "Onboard", "confidence": HUGE}),
        ("initiatives/", "reach", {"title": "Onboard", "reach": BIG}),
        ("initiatives/", "team", {"title": "Onboard", "team": BIG}),
        ("initiatives/", "owner", {"title": "Onboard", "owner": HUGE}),
        ("initiatives/", "measurement_window_days", {"title": "x", "measurement_window_days": BIG}),
        (
            "objectives/",
            "parent",
            {
                "title": "Grow",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "parent": BIG,
            },
        ),
        ("decisions/", "initiative", {"kind": "other", "rationale": "x", "initiative": BIG}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "field", "body"), _body_cases(), ids=lambda v: str(v)[:30])
def test_an_integer_past_64_bits_in_a_body_is_refused_by_field(
    client: APIClient, rows: dict[str, Any], path: str, field: str, body: dict[str, Any]
) -> None:
    response = client.post(f"{API}/{path}", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


@pytest.mark.django_db
def test_an_integer_past_64_bits_in_an_expected_impact_is_refused(
    client: APIClient, rows: dict[str, Any]
) -> None:
    initiative = rows["initiative"]
    response = client.post(
        f"{API}/initiatives/{initiative.pk}/expected-impacts/",
        {"metric": BIG, "expected_change": "1", "confidence": HUGE, "attribution": BIG},
        format="json",
    )
    assert response.status_code == 400
    assert {"metric", "confidence", "attribution"} <= set(response.json())


# --- Unicode round trip --------------------------------------------------------------------


def _roundtrip(client: APIClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"{API}/{path}", body, format="json")
    assert created.status_code == 201, created.json()
    read = client.get(f"{API}/{path}{created.json()['id']}/")
    assert read.status_code == 200
    data: dict[str, Any] = read.json()
    return data


@pytest.mark.django_db
def test_unicode_round_trips_in_every_text_field(
    client: APIClient, rows: dict[str, Any], admin: Membership
) -> None:
    """Given text with emoji, right-to-left scripts and combining marks in every text field
    of every resource, when it is written and read back, then it is the same text."""
    objective, metric, initiative = rows["objective"], rows["metric"], rows["initiative"]
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("teams/", {"name": UNICODE, "description": UNICODE}, ["name", "description"]),
        (
            "objectives/",
            {
                "title": UNICODE,
                "description": UNICODE,
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
            },
            ["title", "description"],
        ),
        (
            "metrics/",
            {
                "key": "unicode",
                "name": UNICODE,
                "description": UNICODE,
                "unit": "👩🏽‍💻",
                "source": UNICODE,
                "category": "acquisition",
                "direction": "increase",
                "aggregation": "sum",
            },
            ["name", "description", "unit", "source"],
        ),
        (
            "key-results/",
            {
                "objective": objective.pk,
                "metric": metric.pk,
                "title": UNICODE,
                "baseline": "0",
                "target": "10",
                "start_on": "2026-01-01",
                "due_on": "2026-06-30",
            },
            ["title"],
        ),
        (
            "initiatives/",
            {
                "title": UNICODE,
                "summary": UNICODE,
                "problem": UNICODE,
                "hypothesis": UNICODE,
                "tactical_rationale": UNICODE,
            },
            ["title", "summary", "problem", "hypothesis", "tactical_rationale"],
        ),
        (
            f"initiatives/{initiative.pk}/alignments/",
            {"objective": objective.pk, "weight": 50, "rationale": UNICODE},
            ["rationale"],
        ),
        (
            f"initiatives/{initiative.pk}/stakeholders/",
            {"user": admin.user.pk, "role": "informed", "expectation": UNICODE},
            ["expectation"],
        ),
        ("decisions/", {"kind": "other", "rationale": UNICODE}, ["rationale"]),
        (
            "experiments/",
            {
                "initiative": initiative.pk,
                "hypothesis": UNICODE,
                "method": "interview",
                "success_criteria": UNICODE,
                "learnings": UNICODE,
            },
            ["hypothesis", "success_criteria", "learnings"],
        ),
        ("ideas/", {"title": UNICODE, "description": UNICODE}, ["title", "description"]),
    ]
    for path, body, fields in cases:
        data = _roundtrip(client, path, body)
        assert {f: data[f] for f in fields} == {f: body[f] for f in fields}, path

    response = client.post(
        f"{API}/metrics/{metric.pk}/measurements/",
        {"observed_on": "2026-02-01", "value": "1", "source": UNICODE, "note": UNICODE},
        format="json",
    )
    assert response.status_code in {200, 201}
    point = Measurement.objects.get(metric=metric, observed_on=date(2026, 2, 1))
    assert (point.source, point.note) == (UNICODE, UNICODE)


# --- HTML in titles ----------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.django_db
def test_html_in_titles_shows_as_text_in_the_pages(workspace: Workspace, admin: Membership) -> None:
    """Given titles that are markup, when the pages show them, then they read as the text
    typed: escaped, never a tag the browser would run."""
    objective = ObjectiveFactory.create(workspace=workspace, title=SCRIPT, description=SCRIPT)
    metric = MetricFactory.create(workspace=workspace, key="html", name=SCRIPT)
    KeyResult.objects.create(
        workspace=workspace,
        objective=objective,
        metric=metric,
        title=SCRIPT,
        baseline=Decimal("0"),
        target=Decimal("10"),
        start_on=date(2026, 1, 1),
        due_on=date(2026, 6, 30),
    )
    initiative = InitiativeFactory.create(workspace=workspace, title=SCRIPT, summary=SCRIPT)
    Idea.objects.create(workspace=workspace, title=SCRIPT, description=SCRIPT)
    Team.objects.create(workspace=workspace, name=SCRIPT)
    browser = Client()
    browser.force_login(admin.user)
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"

    for page in [
        "/w/acme/strategy/",
        "/w/acme/metrics/",
        f"/w/acme/metrics/{metric.pk}/",
        "/w/acme/initiatives/",
        "/w/acme/initiatives/board/",
        f"/w/acme/initiatives/{initiative.pk}/",
        "/w/acme/ideas/",
    ]:
        response = browser.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert SCRIPT not in html, page
        assert "<script>alert" not in html, page
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), page
        assert escaped in html, page


# --- CSV formula injection -------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)", '=HYPERLINK("x")']


@pytest.mark.django_db
def test_formulas_in_the_report_csv_are_neutralised(
    workspace: Workspace, admin: Membership
) -> None:
    """The report CSV is the only CSV export (grep csv: reports.rendering.render_csv).
    Given initiatives, a team and an owner whose names are formulas, when the CSV of a
    report is written, then every such cell starts with a quote: a spreadsheet shows it."""
    team = Team.objects.create(workspace=workspace, name="=1+1")
    admin.user.full_name = "@owner"
    admin.user.save()
    for title in FORMULAS:
        InitiativeFactory.create(workspace=workspace, title=title, team=team, owner=admin.user)

    data = report_data(
        workspace=workspace,
        scope=Scope(),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        as_of=date(2026, 12, 31),
    )
    rows = list(csv.reader(io.StringIO(render_csv(data).removeprefix("\ufeff"))))

    header, body = rows[0], rows[1:]
    cells = {name: [row[header.index(name)] for row in body] for name in ("Title", "Team")}
    assert sorted(cells["Title"]) == sorted("'" + title for title in FORMULAS)
    assert set(cells["Team"]) == {"'=1+1"}
    owners = {row[header.index("Owner")] for row in body}
    assert all(not owner.startswith(("=", "+", "-", "@")) for owner in owners)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), row
