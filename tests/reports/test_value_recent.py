"""The value figures of the last few seconds (reports.recent_figures): value/summary/,
value/objectives/ and the dashboard computed once for the readers of one scope and day;
a write of value data (measurements, impacts, metrics' value settings, release days) shows
at the next read, other changes within VALUE_FIGURES_FRESH_SECONDS."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import Initiative
from strategy.models import Measurement
from tests.conftest import token_client
from tests.reports.test_dashboard import URL, chart, hand_computed_portfolio, headline

API = "/api/v1/workspaces/acme/value/"

postgres_only = pytest.mark.postgres


@pytest.fixture
def portfolio(workspace: Workspace, editor: Membership) -> dict[str, Any]:
    return hand_computed_portfolio(workspace, owner=editor.user)


def read(client: APIClient | Client, path: str, **params: Any) -> tuple[int, Any]:
    """(queries, response) of one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(queries), response


@postgres_only
@pytest.mark.parametrize("path", ["summary/", "objectives/"])
def test_a_second_read_takes_the_answer_kept(
    portfolio: dict[str, Any], viewer: Membership, editor: Membership, path: str
) -> None:
    # Given a reader who has read the figures of yesterday (a token's first use is noted)
    today = portfolio["today"]
    reader = token_client(viewer)
    read(reader, API + path, as_of=(today - timedelta(days=1)).isoformat())
    computed, first = read(reader, API + path, as_of=today.isoformat())

    # When they, and another member, read today's again
    kept, again = read(reader, API + path, as_of=today.isoformat())
    read(token_client(editor), API + path)  # a token's first use
    by_another, theirs = read(token_client(editor), API + path)

    # Then the answer is the same, without computing it again
    assert again.json() == first.json() == theirs.json()
    assert kept < computed
    assert by_another < computed


@postgres_only
def test_value_data_written_shows_at_the_next_read(
    portfolio: dict[str, Any], viewer: Membership
) -> None:
    # Given the summary read once: A 900 + B 300 + C 540 realized
    reader = token_client(viewer)
    assert read(reader, API + "summary/")[1].json()["realized_value"] == "1740.00"

    # When a measurement of N after B's release is corrected, 15 → 25 (+10 × 3 EUR)
    b_released = portfolio["b"].released_on
    Measurement.objects.filter(metric__key="n", observed_on=b_released + timedelta(days=1)).update(
        value=25
    )

    # Then the next read computes afresh
    assert read(reader, API + "summary/")[1].json()["realized_value"] == "1770.00"


@postgres_only
def test_other_changes_show_once_the_kept_answer_is_too_old(
    portfolio: dict[str, Any], viewer: Membership
) -> None:
    # Given the summary read once: 1 committed, 1 in delivery
    reader = token_client(viewer)
    counts = read(reader, API + "summary/")[1].json()["counts_by_status"]
    assert (counts["committed"], counts["in_delivery"]) == (1, 1)

    # When D moves into delivery (no value data changes)
    Initiative.objects.filter(pk=portfolio["d"].pk).update(status="in_delivery")

    # Then the answer kept stands for VALUE_FIGURES_FRESH_SECONDS (the freshness it costs)
    counts = read(reader, API + "summary/")[1].json()["counts_by_status"]
    assert (counts["committed"], counts["in_delivery"]) == (1, 1)
    # And once it is gone, the change shows
    cache.clear()
    counts = read(reader, API + "summary/")[1].json()["counts_by_status"]
    assert (counts["committed"], counts["in_delivery"]) == (0, 2)


@postgres_only
def test_each_scope_and_day_is_kept_apart(portfolio: dict[str, Any], viewer: Membership) -> None:
    reader = token_client(viewer)
    whole = read(reader, API + "summary/")[1].json()
    team = read(reader, API + "summary/", team=portfolio["beta"].pk)[1].json()
    earlier = read(
        reader, API + "summary/", as_of=(portfolio["today"] - timedelta(days=30)).isoformat()
    )[1].json()
    assert (whole["realized_value"], team["realized_value"]) == ("1740.00", "300.00")
    # B not yet released; A 70 days into its window: 70 × 10 EUR; C 540
    assert earlier["realized_value"] == "1240.00"
    assert read(reader, API + "summary/")[1].json() == whole


@postgres_only
def test_the_dashboard_body_is_kept_per_address_and_role(
    portfolio: dict[str, Any], viewer: Membership, editor: Membership
) -> None:
    # Given a viewer who has opened the dashboard
    client = Client()
    client.force_login(viewer.user)
    computed, first = read(client, URL)
    # When they open it again, and then a team's
    kept, again = read(client, URL)
    _, alpha = read(client, URL, team=portfolio["alpha"].pk)
    # Then the same figures come without computing them again, and a team has its own
    assert kept < computed
    assert headline(again) == headline(first)
    assert chart(again, "portfolio") == chart(first, "portfolio")
    assert headline(alpha).startswith("€900 realized in the last 12 months")
    assert "share-dashboard" not in again.content.decode()
    # And an editor (who may share) gets the Share button, not the viewer's page
    client.force_login(editor.user)
    assert 'data-testid="share-dashboard"' in read(client, URL)[1].content.decode()
    # And the filters' in-place update takes the kept body alone
    partial = client.get(
        URL,
        {"team": portfolio["alpha"].pk},
        headers={"HX-Request": "true", "HX-Target": "dashboard-body"},
    )
    body = partial.content.decode()
    assert body.startswith('<div id="dashboard-body"')
    assert "<html" not in body
    assert headline(partial) == headline(alpha)


def test_nothing_is_kept_when_fresh_seconds_is_0(
    portfolio: dict[str, Any], viewer: Membership, settings: Any
) -> None:
    settings.VALUE_FIGURES_FRESH_SECONDS = 0
    reader = token_client(viewer)
    read(reader, API + "summary/")
    first, _ = read(reader, API + "summary/")
    second, _ = read(reader, API + "summary/")
    assert first == second
    Initiative.objects.filter(pk=portfolio["d"].pk).update(status="in_delivery")
    assert read(reader, API + "summary/")[1].json()["counts_by_status"]["in_delivery"] == 2
