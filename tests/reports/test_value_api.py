"""GET value/summary/ and value/objectives/ (DESIGN.md §4) as an integration reads them: the
hand-computed portfolio of test_value_selectors.py in JSON, as of several days and in
scopes; bad query parameters answered 400 in words; who may read; and query budgets that
hold at 10 and at 1,000 initiatives."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from reports.api import (
    ObjectiveKeyResultSerializer,
    ObjectivesValueSerializer,
    ObjectiveValueSerializer,
    _decimal_text,
    objectives_value_data,
)
from reports.selectors import Scope, objectives_value
from strategy.services import workspace_today
from tests.conftest import token_client
from tests.reports.test_value_selectors import (
    AFTER_WINDOW,
    BEFORE_ALL,
    BEFORE_RELEASE,
    IN_WINDOW,
    Portfolio,
    add_initiatives,
    build_elsewhere,
    build_portfolio,
    scale_base,
)

API = "/api/v1/workspaces/acme/value/"


@pytest.fixture
def portfolio(workspace: Workspace, other_workspace: Workspace) -> Portfolio:
    build_elsewhere(other_workspace)
    return build_portfolio(workspace)


@pytest.fixture
def client(viewer: Membership) -> APIClient:
    return token_client(viewer)


def get(client: APIClient, path: str, **params: str | int) -> Any:
    response = client.get(API + path, params)
    assert response.status_code == 200, response.content
    return response.json()


def statuses(**given: Any) -> dict[str, Any]:
    zero = "0.00" if any(isinstance(v, str) for v in given.values()) else 0
    names = ["proposed", "discovery", "committed", "in_delivery"]
    names += ["released", "measured", "declined", "cancelled"]
    return {name: given.get(name, zero) for name in names}


# --- value/summary/ -----------------------------------------------------------------------------


def test_summary_in_json(portfolio: Portfolio, client: APIClient) -> None:
    p = portfolio
    # money in 2 decimals, ratios in 4 (the arithmetic is in test_value_selectors.py)
    assert get(client, "summary/", as_of=IN_WINDOW.isoformat()) == {
        "as_of": "2026-06-30",
        "currency": "EUR",
        "counts_by_status": statuses(
            proposed=1, committed=2, in_delivery=1, released=1, measured=3, declined=1
        ),
        "effort_by_status": statuses(
            committed="7.00", in_delivery="3.00", released="5.00", measured="9.00", declined="8.00"
        ),
        "alignment_score": "0.5000",
        "tactical_share": "0.2000",
        "pipeline_value": "455.00",
        "realized_value": "1050.00",
        "realized_initiatives": 4,
        "calibration": {
            "by_owner": [
                {
                    "id": p.ada.pk,
                    "name": "Ada Lovelace",
                    "median_realization": "0.7000",
                    "measured": 2,
                },  # fmt: skip
                {
                    "id": p.bob.pk,
                    "name": "Bob Builder",
                    "median_realization": "0.5000",
                    "measured": 1,
                },  # fmt: skip
            ],
            "by_team": [
                {
                    "id": p.growth.pk,
                    "name": "Growth",
                    "median_realization": "0.5500",
                    "measured": 2,
                },  # fmt: skip
                {
                    "id": p.platform.pk,
                    "name": "Platform",
                    "median_realization": "0.8000",
                    "measured": 1,
                },  # fmt: skip
            ],
        },
        "declined_initiatives": 1,
        "declined_ideas": 2,
    }


@pytest.mark.parametrize(
    ("day", "realized", "count"),
    [
        (BEFORE_ALL, None, 0),
        (BEFORE_RELEASE, "1010.00", 3),  # I4 is released the next day: nothing from it
        (IN_WINDOW, "1050.00", 4),  # + 40 over its first 29 days
        (AFTER_WINDOW, "1210.00", 4),  # + 200 over its whole window
    ],
)
def test_summary_as_of_a_day(
    portfolio: Portfolio, client: APIClient, day: Any, realized: str | None, count: int
) -> None:
    summary = get(client, "summary/", as_of=day.isoformat())
    assert (summary["as_of"], summary["realized_value"], summary["realized_initiatives"]) == (
        day.isoformat(),
        realized,
        count,
    )
    # the work in progress is today's, whatever the day
    assert (summary["pipeline_value"], summary["alignment_score"]) == ("455.00", "0.5000")
    assert bool(summary["calibration"]["by_team"]) is (count > 0)


def test_summary_as_of_defaults_to_today_in_the_workspace(
    portfolio: Portfolio, client: APIClient
) -> None:
    summary = get(client, "summary/")
    assert summary["as_of"] == workspace_today(portfolio.workspace).isoformat()
    assert summary["realized_value"] == "1210.00"  # every window is over by now
    # today itself is a day one may ask for
    assert get(client, "summary/", as_of=summary["as_of"])["realized_value"] == "1210.00"


def test_summary_of_a_team_and_of_an_objective(portfolio: Portfolio, client: APIClient) -> None:
    p = portfolio
    day = IN_WINDOW.isoformat()
    growth = get(client, "summary/", as_of=day, team=p.growth.pk)
    assert growth["counts_by_status"] == statuses(proposed=1, committed=2, measured=2)
    assert (growth["alignment_score"], growth["tactical_share"]) == ("0.7143", "0.2857")  # 5/7, 2/7
    assert (growth["pipeline_value"], growth["realized_value"]) == ("205.00", "610.00")
    assert growth["calibration"]["by_team"] == [
        {"id": p.growth.pk, "name": "Growth", "median_realization": "0.5500", "measured": 2}
    ]
    assert (growth["declined_initiatives"], growth["declined_ideas"]) == (0, 0)

    platform = get(client, "summary/", as_of=day, team=p.platform.pk)
    assert (platform["alignment_score"], platform["tactical_share"]) == ("0.0000", "0.0000")
    assert (platform["pipeline_value"], platform["realized_value"]) == ("250.00", "440.00")
    assert (platform["declined_initiatives"], platform["declined_ideas"]) == (1, 0)

    subtree = get(client, "summary/", as_of=day, objective=p.objectives["P"].pk)
    assert subtree["counts_by_status"] == statuses(committed=1, released=1, measured=2, declined=1)
    assert (subtree["pipeline_value"], subtree["realized_value"]) == ("200.00", "1040.00")
    assert subtree["calibration"]["by_owner"] == [
        {"id": p.ada.pk, "name": "Ada Lovelace", "median_realization": "0.7000", "measured": 2}
    ]
    assert (subtree["declined_initiatives"], subtree["declined_ideas"]) == (1, 0)

    both = get(client, "summary/", as_of=day, team=p.growth.pk, objective=p.objectives["P"].pk)
    assert (both["pipeline_value"], both["realized_value"]) == ("200.00", "600.00")


# --- value/objectives/ --------------------------------------------------------------------------


def test_objectives_in_json(portfolio: Portfolio, client: APIClient) -> None:
    p = portfolio
    o, kr = p.objectives, p.key_results

    def node(key: str, parent: str | None, status: str, value: str | None, *ids: str) -> Any:
        return {
            "id": o[key].pk,
            "title": o[key].title,
            "parent": None if parent is None else o[parent].pk,
            "status": status,
            "value_delivered": value,
            "key_results": [],
            "initiatives": p.ids(*ids),
        }

    def key_result(key: str, progress: str, expected: str, pace: str) -> Any:
        return {
            "id": kr[key].pk,
            "title": key,
            "progress": progress,
            "expected_progress": expected,
            "pace": pace,
        }

    company = node("C", None, "active", "923.00", "I9")
    company["key_results"] = [key_result("KR3", "0.5000", "0.2397", "on_track")]  # 29/121
    retention = node("P2", "C", "active", "7.00", "I2")
    retention["key_results"] = [key_result("KR2", "0.7000", "0.4945", "on_track")]  # 180/364
    onboarding = node("S", "P", "active", "460.00", "I1", "I3", "I5")
    onboarding["key_results"] = [key_result("KR1", "0.5000", "1.0000", "off_track")]
    assert get(client, "objectives/", as_of=IN_WINDOW.isoformat()) == {
        "as_of": "2026-06-30",
        "currency": "EUR",
        "results": [
            company,
            node("D", "C", "archived", "240.00", "I3", "I6"),
            retention,
            node("P", "C", "active", "676.00", "I1", "I4", "I8"),
            onboarding,
            node("X", None, "draft", None),
        ],
    }


@pytest.mark.parametrize("day", [BEFORE_ALL, BEFORE_RELEASE, IN_WINDOW, AFTER_WINDOW])
def test_objectives_are_written_as_their_documenting_serializer_writes_them(
    portfolio: Portfolio, day: date
) -> None:
    # Given the figures of every objective, of the workspace and of a team and a subtree
    workspace = portfolio.workspace
    for scope in (
        Scope(),
        Scope(team=portfolio.growth),
        Scope(objective=portfolio.objectives["P"]),
    ):
        nodes = objectives_value(workspace=workspace, as_of=day, scope=scope)
        body = {"as_of": day, "currency": workspace.currency, "results": nodes}

        # When the API writes them by hand
        written = objectives_value_data(day, workspace.currency, nodes)

        # Then the answer is what ObjectivesValueSerializer (the schema) would give
        assert written == json.loads(json.dumps(ObjectivesValueSerializer(body).data)), scope


def test_decimals_are_rounded_half_up_as_drf_rounds_them() -> None:
    for value in ("1.005", "-1.005", "2.5E-3", "123456789012345678901234567890.125", "7"):
        field = ObjectiveKeyResultSerializer().fields["progress"]
        assert _decimal_text(Decimal(value), Decimal("0.0001")) == field.to_representation(
            Decimal(value)
        )
        money = ObjectiveValueSerializer().fields["value_delivered"]
        assert _decimal_text(Decimal(value), Decimal("0.01")) == money.to_representation(
            Decimal(value)
        )


@pytest.mark.parametrize(
    ("day", "company", "self_serve"),
    [
        (BEFORE_ALL, None, None),
        (BEFORE_RELEASE, "887.00", "640.00"),
        (IN_WINDOW, "923.00", "676.00"),
        (AFTER_WINDOW, "1067.00", "820.00"),
    ],
)
def test_objectives_as_of_a_day(
    portfolio: Portfolio,
    client: APIClient,
    day: Any,
    company: str | None,
    self_serve: str | None,
) -> None:
    results = get(client, "objectives/", as_of=day.isoformat())["results"]
    values = {r["id"]: r["value_delivered"] for r in results}
    assert values[portfolio.objectives["C"].pk] == company
    assert values[portfolio.objectives["P"].pk] == self_serve


def test_objectives_of_a_team_and_of_a_subtree(portfolio: Portfolio, client: APIClient) -> None:
    p = portfolio
    day = IN_WINDOW.isoformat()
    growth = get(client, "objectives/", as_of=day, team=p.growth.pk)["results"]
    assert [(r["id"], r["value_delivered"], r["initiatives"]) for r in growth] == [
        (p.objectives["C"].pk, "487.00", p.ids("I9")),
        (p.objectives["D"].pk, None, []),
        (p.objectives["P2"].pk, "7.00", p.ids("I2")),
        (p.objectives["P"].pk, "480.00", p.ids("I1")),
        (p.objectives["S"].pk, "300.00", p.ids("I1", "I5")),
        (p.objectives["X"].pk, None, []),
    ]
    subtree = get(client, "objectives/", as_of=day, objective=p.objectives["P"].pk)["results"]
    assert [(r["id"], r["parent"], r["value_delivered"]) for r in subtree] == [
        (p.objectives["P"].pk, p.objectives["C"].pk, "676.00"),
        (p.objectives["S"].pk, p.objectives["P"].pk, "460.00"),
    ]
    leaf = get(client, "objectives/", as_of=day, objective=p.objectives["S"].pk, team=p.growth.pk)
    assert [(r["value_delivered"], r["initiatives"]) for r in leaf["results"]] == [
        ("300.00", p.ids("I1", "I5"))
    ]


# --- bad input ----------------------------------------------------------------------------------

WRONG_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
FUTURE = (
    "3000-01-01 has not come yet (today is {today} in this workspace); value is known up to today."
)


@pytest.fixture
def foreign(other_workspace: Workspace) -> dict[str, int]:
    team, objective = build_elsewhere(other_workspace)
    return {"team": team.pk, "objective": objective.pk}


@pytest.mark.parametrize("path", ["summary/", "objectives/"])
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("team=424242", "team", "No team with id 424242 in this workspace."),
        ("team={team}", "team", "No team with id {team} in this workspace."),
        ("objective=424242", "objective", "No objective with id 424242 in this workspace."),
        (
            "objective={objective}",
            "objective",
            "No objective with id {objective} in this workspace.",
        ),  # fmt: skip
        ("team=abc", "team", "A valid integer is required."),
        ("team=", "team", "A valid integer is required."),
        ("team=0", "team", "Ensure this value is greater than or equal to 1."),
        (
            "team=99999999999999999999",
            "team",
            "Ensure this value is less than or equal to 9223372036854775807.",
        ),  # fmt: skip
        ("objective=-5", "objective", "Ensure this value is greater than or equal to 1."),
        ("as_of=yesterday", "as_of", WRONG_DATE),
        ("as_of=2026-13-45", "as_of", WRONG_DATE),
        ("as_of=2026-02-30", "as_of", WRONG_DATE),
        ("as_of=20260101", "as_of", WRONG_DATE),
        ("as_of=", "as_of", WRONG_DATE),  # an empty day is no day, not today
        ("as_of=3000-01-01", "as_of", FUTURE),
    ],
)
def test_bad_input_is_a_400_in_words(
    workspace: Workspace,
    client: APIClient,
    foreign: dict[str, int],
    path: str,
    query: str,
    field: str,
    message: str,
) -> None:
    today = workspace_today(workspace).isoformat()
    response = client.get(API + path + "?" + query.format(**foreign))
    assert response.status_code == 400
    assert response.json() == {field: [message.format(today=today, **foreign)]}


def test_a_day_after_today_is_refused_and_every_error_is_told_at_once(
    workspace: Workspace, client: APIClient
) -> None:
    tomorrow = workspace_today(workspace) + timedelta(days=1)
    response = client.get(API + "summary/", {"as_of": tomorrow.isoformat(), "team": "424242"})
    assert response.status_code == 400
    assert set(response.json()) == {"as_of", "team"}
    assert "has not come yet" in response.json()["as_of"][0]


@pytest.mark.parametrize(
    ("zone", "today"),
    [
        ("Pacific/Kiritimati", "2026-07-02"),
        ("UTC", "2026-07-01"),
        ("Pacific/Pago_Pago", "2026-06-30"),
    ],
)
def test_today_is_the_workspace_s_day(
    workspace: Workspace, client: APIClient, monkeypatch: pytest.MonkeyPatch, zone: str, today: str
) -> None:
    # given 2026-07-01 at 10:30 UTC: already 07-02 at UTC+14, still 06-30 at UTC−11
    workspace.timezone = zone
    workspace.save(update_fields=["timezone"])
    now = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    assert get(client, "summary/")["as_of"] == today
    assert get(client, "objectives/", as_of=today)["as_of"] == today
    tomorrow = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
    response = client.get(API + "summary/", {"as_of": tomorrow})
    assert response.json() == {
        "as_of": [
            f"{tomorrow} has not come yet (today is {today} in this workspace); "
            "value is known up to today."
        ]
    }


def test_a_day_long_ago_has_nothing_to_show(portfolio: Portfolio, client: APIClient) -> None:
    summary = get(client, "summary/", as_of="0001-01-01")
    assert (summary["realized_value"], summary["pipeline_value"]) == (None, "455.00")
    results = get(client, "objectives/", as_of="0001-01-01")["results"]
    assert {r["value_delivered"] for r in results} == {None}
    # no key result's window has begun
    assert {kr["progress"] for r in results for kr in r["key_results"]} == {None}


# --- who may read -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["summary/", "objectives/"])
def test_members_and_read_only_tokens_read(
    workspace: Workspace, viewer: Membership, editor: Membership, admin: Membership, path: str
) -> None:
    for reader in (
        token_client(viewer),
        token_client(editor, read_only=True),
        token_client(admin, read_only=True),
    ):
        assert reader.get(API + path).status_code == 200
    session = APIClient()
    session.force_login(viewer.user)
    assert session.get(API + path).status_code == 200


@pytest.mark.parametrize("path", ["summary/", "objectives/"])
def test_outsiders_find_nothing_and_strangers_must_log_in(
    workspace: Workspace, outsider: Membership, path: str
) -> None:
    # an admin of another workspace: no such workspace, by token or by session
    assert token_client(outsider).get(API + path).status_code == 404
    session = APIClient()
    session.force_login(outsider.user)
    assert session.get(API + path).status_code == 404
    # and nobody at all
    response = APIClient().get(API + path)
    assert response.status_code == 401
    assert "detail" in response.json()


# --- query budgets ------------------------------------------------------------------------------

# One query authenticates the token; a team and an objective are one query each to look up,
# and the objective's subtree one more.
API_BUDGET = 9


@pytest.mark.parametrize("path", ["summary/", "objectives/"])
@pytest.mark.parametrize("scoped", [False, True])
def test_query_budgets_hold_at_10_and_1000_initiatives(
    workspace: Workspace,
    viewer: Membership,
    path: str,
    scoped: bool,
    django_assert_max_num_queries: Any,
    settings: Any,
) -> None:
    # The queries of computing the answer, not of one kept (test_value_recent.py)
    settings.VALUE_FIGURES_FRESH_SECONDS = 0
    # given ten initiatives, and a reader that has read once (a token's first use is noted)
    scale_base(workspace)
    add_initiatives(workspace, 10)
    params: dict[str, str | int] = {"as_of": IN_WINDOW.isoformat()}
    if scoped:
        params["team"] = workspace.teams.order_by("pk").first().pk  # type: ignore[union-attr]
        params["objective"] = workspace.objectives.get(title="Root").pk
    reader = token_client(viewer)

    def read() -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as queries:
            response = reader.get(API + path, params)
        assert response.status_code == 200
        return len(queries), response.json()

    read()
    small, _ = read()
    # when there are a thousand
    add_initiatives(workspace, 990, start=10)
    # then the read takes as many queries, within the budget
    with django_assert_max_num_queries(API_BUDGET):
        big, body = read()
    assert big == small
    if path == "summary/" and not scoped:
        assert sum(body["counts_by_status"].values()) == 1000
