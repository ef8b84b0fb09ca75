"""The value dashboard page: its headline figures and chart data on a small hand-computed
portfolio, the filters (and their refusals in words), the empty states, who may see it,
the read-only shared rendering, and a query count that does not grow with the data."""

import html
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Team, User, Workspace
from initiatives.models import Alignment, ExpectedImpact, Initiative
from reports.dashboard import period_of
from reports.models import ShareLink
from reports.selectors import Scope
from reports.views import compact_money, render_dashboard
from strategy.models import KeyResult, Metric, Objective
from strategy.services import workspace_today
from tests.accounts.factories import TeamFactory
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory, measure

URL = "/w/acme/dashboard/"


def headline(response: Any) -> str:
    """The headline sentence as a reader sees it: tags dropped, spaces collapsed."""
    found = re.search(r'data-testid="headline-text">(.*?)</p>', response.content.decode(), re.S)
    assert found, "no headline on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def chart(response: Any, name: str) -> dict[str, Any]:
    found = re.search(
        rf'<script id="chart-{name}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, f"no data for the chart {name}"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def page_testids(response: Any) -> set[str]:
    return set(re.findall(r'data-testid="([^"]+)"', response.content.decode()))


CHARTS = (
    "value-over-time",
    "expected-vs-realized",
    "portfolio",
    "alignment",
    "key-results",
    "calibration",
)


# --- a small portfolio, computed by hand ----------------------------------------------------


@pytest.fixture
def portfolio(workspace: Workspace, editor: Membership) -> dict[str, Any]:
    return hand_computed_portfolio(workspace, owner=editor.user)


def hand_computed_portfolio(workspace: Workspace, *, owner: User) -> dict[str, Any]:
    """Given, with today T in the workspace (DESIGN.md §3 by hand):

    Objectives: Company ⊃ Growth, and Retention (all active). Teams Alpha and Beta.
    Metric M (sum, 10 EUR per unit), metric N (sum, 3 EUR per unit), level L (a KR).

    A  Alpha, measured, released T−100 (window 90): M is 1 a day in the 90 days before and
       2 a day in the 90 after → change 90, realized 900 EUR; expected 100 → 1,000 EUR,
       realization 90 %. Aligned to Growth, weight 100. Owner: `owner`.
    B  Beta, released T−20 (measuring, L = 20): N is 10 a day in the 20 days before, 15
       after → change 100, realized 300 EUR; expected 200 → 600 EUR. Retention, weight 60.
    C  Alpha, measured, released T−400 (outside the last 12 months): N 10 → 12 a day over
       90 days → change 180, realized 540 EUR; expected 100 → 300 EUR, realization 180 %.
       Aligned to nothing. Owner: `owner`.
    D  Alpha, committed, 6 weeks, aligned to Growth; expects +50 M at 80 % → 400 EUR
       risk-adjusted.
    E  Beta, in delivery, tactical, 2 weeks, aligned to nothing; expects +100 N at 50 %
       → 150 EUR risk-adjusted.
    F  proposed, 3 weeks, no impact (no money estimate).
    KR on Growth: level L from 100 to 200 over T−50 … T+50, 160 yesterday → 60 % of the
    way, 50 % of the time gone: on track.
    """
    today = workspace_today(workspace)
    alpha = TeamFactory.create(workspace=workspace, name="Alpha")
    beta = TeamFactory.create(workspace=workspace, name="Beta")
    company = ObjectiveFactory.create(workspace=workspace, title="Company")
    growth = ObjectiveFactory.create(workspace=workspace, title="Growth", parent=company)
    retention = ObjectiveFactory.create(workspace=workspace, title="Retention")
    m = MetricFactory.create(workspace=workspace, key="m", name="M", value_per_unit=Decimal(10))
    n = MetricFactory.create(workspace=workspace, key="n", name="N", value_per_unit=Decimal(3))
    level = MetricFactory.create(
        workspace=workspace, key="l", name="Weekly active teams", aggregation="last", unit="teams"
    )

    released_a = today - timedelta(days=100)
    measure(m, {released_a - timedelta(days=d): "1" for d in range(90)})
    measure(m, {released_a + timedelta(days=d): "2" for d in range(1, 91)})
    a = InitiativeFactory.create(
        workspace=workspace,
        title="A onboarding",
        team=alpha,
        owner=owner,
        status="measured",
        released_on=released_a,
    )
    ExpectedImpactFactory.create(initiative=a, metric=m, expected_change=Decimal(100))
    AlignmentFactory.create(initiative=a, objective=growth, weight=100)

    released_b = today - timedelta(days=20)
    measure(n, {released_b - timedelta(days=d): "10" for d in range(20)})
    measure(n, {released_b + timedelta(days=d): "15" for d in range(1, 21)})
    b = InitiativeFactory.create(
        workspace=workspace,
        title="B churn alerts",
        team=beta,
        status="released",
        released_on=released_b,
    )
    ExpectedImpactFactory.create(initiative=b, metric=n, expected_change=Decimal(200))
    AlignmentFactory.create(initiative=b, objective=retention, weight=60)

    released_c = today - timedelta(days=400)
    measure(n, {released_c - timedelta(days=d): "10" for d in range(90)})
    measure(n, {released_c + timedelta(days=d): "12" for d in range(1, 91)})
    c = InitiativeFactory.create(
        workspace=workspace,
        title="C billing fix",
        team=alpha,
        owner=owner,
        status="measured",
        released_on=released_c,
        kind="tactical",
        tactical_rationale="Keeps invoices right.",
    )
    ExpectedImpactFactory.create(initiative=c, metric=n, expected_change=Decimal(100))

    d = InitiativeFactory.create(
        workspace=workspace,
        title="D team invites",
        team=alpha,
        status="committed",
        effort_weeks=Decimal(6),
    )
    ExpectedImpactFactory.create(initiative=d, metric=m, expected_change=Decimal(50), confidence=80)
    AlignmentFactory.create(initiative=d, objective=growth, weight=100)
    e = InitiativeFactory.create(
        workspace=workspace,
        title="E SSO for big customers",
        team=beta,
        status="in_delivery",
        effort_weeks=Decimal(2),
        kind="tactical",
        tactical_rationale="Asked for by sales.",
    )
    ExpectedImpactFactory.create(initiative=e, metric=n, expected_change=Decimal(100))
    InitiativeFactory.create(
        workspace=workspace, title="F dark mode", status="proposed", effort_weeks=Decimal(3)
    )

    KeyResultFactory.create(
        objective=growth,
        metric=level,
        title="Grow weekly active teams",
        baseline=Decimal(100),
        target=Decimal(200),
        start_on=today - timedelta(days=50),
        due_on=today + timedelta(days=50),
    )
    measure(level, {today - timedelta(days=1): "160"})
    return {
        "today": today, "alpha": alpha, "beta": beta, "company": company, "growth": growth,
        "retention": retention, "a": a, "b": b, "c": c, "d": d, "e": e,
    }  # fmt: skip


def test_compact_money_reads_like_a_headline() -> None:
    assert compact_money(Decimal("1200"), "EUR") == "€1,200"
    assert compact_money(Decimal("12400"), "EUR") == "€12.4k"
    assert compact_money(Decimal("999950"), "USD") == "$1M"
    assert compact_money(Decimal("3400000"), "EUR") == "€3.4M"
    assert compact_money(Decimal("-2500"), "GBP") == "−£2,500"
    assert compact_money(Decimal("1500000"), "CHF") == "1.5M CHF"
    assert compact_money(None, "EUR") == "—"


def window(key: str, today: date) -> tuple[date | None, date]:
    period = period_of(key, today)
    return period.start, period.end


def test_periods_decide_the_window_and_the_evaluation_date() -> None:
    today = date(2026, 5, 17)
    assert window("this_quarter", today) == (date(2026, 4, 1), today)
    last = period_of("last_quarter", today)
    assert (last.start, last.end, last.phrase) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
        "last quarter (Q1 2026)",
    )
    assert window("last_quarter", date(2026, 2, 1)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert window("this_year", today) == (date(2026, 1, 1), today)
    assert window("last_12_months", today) == (date(2025, 5, 18), today)
    assert period_of("last_12_months", date(2028, 2, 29)).start == date(2027, 3, 1)
    assert window("all_time", today) == (None, today)


@pytest.mark.django_db
class TestFigures:
    def test_the_headline_of_the_whole_workspace(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        # When a viewer opens the dashboard (last 12 months by default)
        client.force_login(viewer.user)
        response = client.get(URL)

        # Then A (900) and B (300) count, C was released too long ago; 6 of the 8 weeks of
        # committed work serve an active objective; D 400 + E 150 in the pipeline
        assert response.status_code == 200
        assert headline(response) == (
            "€1,200 realized in the last 12 months from 2 initiatives released in that time "
            "(1 measured, 1 still measuring); 75% of committed effort serves an active "
            "objective; €550 risk-adjusted in the pipeline."
        )
        page = response.content.decode()
        assert 'data-testid="figure-total-realized">€1,740<' in page  # A + B + C
        assert "25%" in page  # tactical share: E's 2 of 8 weeks

    def test_the_charts_of_the_whole_workspace(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL)
        today = portfolio["today"]

        # Value over time: Company receives A's 900 through Growth on A's release day,
        # Retention 60 % of B's 300 on B's; C is outside the period.
        over_time = chart(response, "value-over-time")
        lines = {s["name"]: s for s in over_time["series"]}
        assert set(lines) == {"Company", "Retention"}
        company = lines["Company"]
        assert company["total"] == "€900"
        assert company["x"][1:] == [
            (today - timedelta(days=100)).isoformat(),
            today.isoformat(),
        ]
        assert company["y"] == [0.0, 900.0, 900.0]
        assert company["hover"][1] == "+€900 from A onboarding"
        assert lines["Retention"]["y"] == [0.0, 180.0, 180.0]
        assert over_time["start"] == period_of("last_12_months", today).start.isoformat()  # type: ignore[union-attr]
        assert "counted on the release day" in response.content.decode()

        # Expected vs realized: only A is measured and released in the period
        bars = chart(response, "expected-vs-realized")
        assert bars["titles"] == ["A onboarding"]
        assert (bars["expected"], bars["realized"]) == ([1000.0], [900.0])
        assert bars["realized_text"] == ["€900 · 90%"]

        # Portfolio: D and E have effort and money; F is counted as not shown
        groups = {g["status"]: g for g in chart(response, "portfolio")["groups"]}
        assert set(groups) == {"committed", "in_delivery"}
        assert (groups["committed"]["x"], groups["committed"]["y"]) == ([6.0], [400.0])
        assert groups["committed"]["confidence"] == [60]
        assert "D team invites" in groups["committed"]["hover"][0]
        assert (groups["in_delivery"]["x"], groups["in_delivery"]["y"]) == ([2.0], [150.0])
        assert "1 without an effort or a money estimate is not shown" in response.content.decode()

        # Alignment: Company → Growth → D (6 weeks); E on the Not aligned branch
        tree = chart(response, "alignment")
        nodes = list(zip(tree["ids"], tree["parents"], tree["labels"], tree["values"], strict=True))
        company_id, growth_id = f"o{portfolio['company'].pk}", f"o{portfolio['growth'].pk}"
        assert nodes == [
            (company_id, "", "Company", 0.0),
            (growth_id, company_id, "Growth", 0.0),
            (f"{growth_id}/i{portfolio['d'].pk}", growth_id, "D team invites", 6.0),
            ("not-aligned", "", "Not aligned", 0.0),
            (f"not-aligned/i{portfolio['e'].pk}", "not-aligned", "E SSO for big customers", 2.0),
        ]

        # Key results: 60 % against 50 % expected, on track
        krs = chart(response, "key-results")
        assert krs["labels"] == ["Grow weekly active teams — Growth"]
        assert (krs["progress"], krs["expected"]) == ([60.0], [50.0])
        assert krs["text"] == ["60% · On track"]

        # Calibration: both measured initiatives are Alpha's, so by owner: median of 90 %
        # and 180 %
        calibration = chart(response, "calibration")
        assert calibration["by"] == "owner"
        assert calibration["median"] == [135.0]
        assert calibration["text"] == ["135% · 2 measured"]

    def test_a_team_filter_narrows_every_figure(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL, {"team": portfolio["alpha"].pk})
        assert response.status_code == 200
        assert headline(response) == (
            "€900 realized in the last 12 months from 1 initiative released in that time "
            "(1 measured); 100% of committed effort serves an active objective; €400 "
            "risk-adjusted in the pipeline."
        )
        assert "team Alpha" in response.content.decode()
        assert '<option value="last_12_months" selected>' in response.content.decode()
        assert [g["status"] for g in chart(response, "portfolio")["groups"]] == ["committed"]

        # All time brings C (540) in, measured, aligned to nothing
        response = client.get(URL, {"team": portfolio["alpha"].pk, "period": "all_time"})
        assert headline(response).startswith(
            "€1,440 realized to date from 2 initiatives released in that time (2 measured);"
        )
        lines = {s["name"]: s["total"] for s in chart(response, "value-over-time")["series"]}
        assert lines == {"Company": "€900", "No objective": "€540"}
        titles = chart(response, "expected-vs-realized")["titles"]
        assert titles == ["A onboarding", "C billing fix"]

    def test_an_objective_filter_shows_its_subtree(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL, {"objective": portfolio["retention"].pk})
        assert headline(response) == (
            "€300 realized in the last 12 months from 1 initiative released in that time "
            "(1 still measuring); no work is committed or in delivery; no money estimate in "
            "the pipeline yet."
        )
        assert chart(response, "value-over-time")["series"][0]["name"] == "Retention itself"
        assert "empty-alignment" in page_testids(response)
        assert "empty-key-results" in page_testids(response)  # Retention has none

        # Company: its child Growth gets a line of its own
        response = client.get(URL, {"objective": portfolio["company"].pk})
        series = chart(response, "value-over-time")["series"]
        assert [(s["name"], s["total"]) for s in series] == [("Growth", "€900")]

    def test_last_quarter_is_valued_as_of_its_last_day(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL, {"period": "last_quarter"})
        period = period_of("last_quarter", portfolio["today"])
        assert response.status_code == 200
        assert f"valued as of {period.end:%-d %b %Y}" in response.content.decode()
        assert period.phrase in headline(response)

    def test_htmx_gets_the_body_alone(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(
            URL,
            {"team": portfolio["beta"].pk},
            headers={"HX-Request": "true", "HX-Target": "dashboard-body"},
        )
        page = response.content.decode()
        assert page.startswith('<div id="dashboard-body"')
        assert "<html" not in page
        assert "€300 realized" in headline(response)


@pytest.mark.django_db
class TestFilters:
    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"team": "999999"}, "There is no team “999999” in this workspace"),
            ({"team": "abc"}, "There is no team “abc” in this workspace"),
            ({"objective": "99999999999999999999"}, "There is no objective “99999999999999999999”"),
            ({"period": "decade"}, "“decade” is not a period the dashboard knows"),
        ],
    )
    def test_a_bad_filter_answers_400_in_words(
        self, client: Client, viewer: Membership, query: dict[str, str], message: str
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL, query)
        assert response.status_code == 400
        assert message in html.unescape(response.content.decode())
        assert "filter-errors" in page_testids(response)
        assert not page_testids(response) & {f"chart-{name}" for name in CHARTS}

    def test_a_team_or_objective_of_another_workspace_is_unknown_here(
        self, client: Client, viewer: Membership, other_workspace: Workspace
    ) -> None:
        foreign_team = TeamFactory.create(workspace=other_workspace, name="Theirs")
        foreign_objective = ObjectiveFactory.create(workspace=other_workspace, title="Secret")
        client.force_login(viewer.user)
        for query in ({"team": foreign_team.pk}, {"objective": foreign_objective.pk}):
            response = client.get(URL, query)
            assert response.status_code == 400
            assert "in this workspace" in html.unescape(response.content.decode())
            assert "Theirs" not in response.content.decode()
            assert "Secret" not in response.content.decode()

    def test_the_filter_offers_the_workspace_teams_and_objective_tree(
        self, client: Client, viewer: Membership, portfolio: dict[str, Any]
    ) -> None:
        client.force_login(viewer.user)
        page = client.get(URL).content.decode()
        assert f'<option value="{portfolio["alpha"].pk}">Alpha</option>' in page
        assert f'<option value="{portfolio["growth"].pk}">— Growth</option>' in page
        assert '<option value="last_12_months" selected>' in page


@pytest.mark.django_db
class TestEmptyStates:
    def test_a_new_workspace_explains_each_chart(self, client: Client, viewer: Membership) -> None:
        client.force_login(viewer.user)
        response = client.get(URL)
        assert response.status_code == 200
        ids = page_testids(response)
        assert {f"empty-{name}" for name in CHARTS} <= ids
        assert not ids & {f"chart-{name}" for name in CHARTS}
        assert headline(response) == (
            "Nothing realized yet from work released in the last 12 months; no work is "
            "committed or in delivery; no money estimate in the pipeline yet."
        )
        page = html.unescape(response.content.decode())
        assert "No measured initiatives released in the last 12 months yet" in page
        assert "realized value appears 90 days after a release" in page


@pytest.mark.django_db
class TestAccess:
    def test_every_member_reads_it_and_only_writers_see_share(
        self, client: Client, viewer: Membership, editor: Membership
    ) -> None:
        client.force_login(viewer.user)
        response = client.get(URL)
        assert response.status_code == 200
        assert "share-dashboard" not in page_testids(response)
        assert 'aria-current="page">Dashboard</a>' in response.content.decode()
        client.force_login(editor.user)
        assert "share-dashboard" in page_testids(client.get(URL))

    def test_an_outsider_gets_404(
        self, client: Client, outsider: Membership, workspace: Workspace
    ) -> None:
        client.force_login(outsider.user)
        assert client.get(URL).status_code == 404

    def test_anonymous_is_sent_to_log_in(self, client: Client, workspace: Workspace) -> None:
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    def test_it_only_reads(self, client: Client, editor: Membership) -> None:
        client.force_login(editor.user)
        assert client.post(URL).status_code == 405


@pytest.mark.django_db
def test_a_shared_rendering_is_read_only_and_keeps_its_scope(
    rf: RequestFactory, workspace: Workspace, portfolio: dict[str, Any]
) -> None:
    # Given a share link of team Beta, opened with a period (allowed) and another team
    # (which a shared page has no filter for)
    link = ShareLink(workspace=workspace, team=portfolio["beta"], label="Board", nonce="x" * 16)
    request = rf.get("/s/token/", {"period": "all_time", "team": portfolio["alpha"].pk})
    request.user = AnonymousUser()

    response = render_dashboard(
        request,
        workspace=workspace,
        scope=Scope(team=portfolio["beta"]),
        as_of=portfolio["today"],
        shared=link,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Shared view of team Beta — read-only" in page
    assert 'name="period"' in page
    assert 'name="team"' not in page
    assert 'name="objective"' not in page
    assert 'aria-label="Workspace"' not in page  # no navigation
    assert "share-dashboard" not in page
    assert "/w/acme/" not in page  # no link into the workspace
    assert headline(response).startswith("€300 realized to date")


# --- the query budget ---------------------------------------------------------------------------


def build_portfolio(workspace: Workspace, teams: list[Team], owner: User, size: int) -> None:
    """`size` initiatives across every status, each aligned and with an expected impact on
    one of two metrics that have measurements around the releases."""
    today = workspace_today(workspace)
    objectives = [
        ObjectiveFactory.create(workspace=workspace, title=f"Objective {n}") for n in range(3)
    ]
    child = ObjectiveFactory.create(workspace=workspace, title="Child", parent=objectives[0])
    metrics = [
        Metric.objects.create(
            workspace=workspace, key=f"q{n}", name=f"Q{n}", unit="x", category="revenue",
            direction="increase", aggregation="sum", value_per_unit=Decimal(5),
        )
        for n in range(2)
    ]  # fmt: skip
    for metric in metrics:
        measure(metric, {today - timedelta(days=d): str(d % 7 + 1) for d in range(200)})
    KeyResultFactory.create(
        objective=objectives[1], metric=metrics[0], start_on=today - timedelta(days=30),
        due_on=today + timedelta(days=30),
    )  # fmt: skip
    statuses = ["measured", "released", "committed", "in_delivery", "proposed", "declined"]
    initiatives = Initiative.objects.bulk_create(
        Initiative(
            workspace=workspace,
            title=f"Bulk {n}",
            team=teams[n % len(teams)],
            owner=owner,
            status=statuses[n % len(statuses)],
            released_on=today - timedelta(days=95 if n % 6 == 0 else 30)
            if n % 6 in (0, 1)
            else None,
            effort_weeks=Decimal(n % 9 + 1),
            confidence=40 + n % 50,
            risk_adjusted_value=Decimal(100 + n),
        )
        for n in range(size)
    )
    Alignment.objects.bulk_create(
        Alignment(initiative=i, objective=(objectives + [child])[n % 4], weight=50 + n % 50)
        for n, i in enumerate(initiatives)
        if n % 5
    )
    ExpectedImpact.objects.bulk_create(
        ExpectedImpact(
            initiative=i, metric=metrics[n % 2], expected_change=Decimal(10 + n % 20),
            confidence=50, attribution=100,
        )
        for n, i in enumerate(initiatives)
    )  # fmt: skip


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_at_10_and_at_1000_initiatives(
    client: Client,
    viewer: Membership,
    workspace: Workspace,
    other_workspace: Workspace,
    settings: Any,
) -> None:
    # The queries of computing the page, not of a kept one (test_value_recent.py)
    settings.VALUE_FIGURES_FRESH_SECONDS = 0
    teams = [TeamFactory.create(workspace=workspace, name=f"T{n}") for n in range(3)]
    counts = {}
    for size in (10, 1000):
        Initiative.objects.filter(workspace=workspace).delete()
        KeyResult.objects.filter(workspace=workspace).delete()
        Objective.objects.filter(workspace=workspace, parent__isnull=False).delete()
        Objective.objects.filter(workspace=workspace).delete()
        Metric.objects.filter(workspace=workspace).delete()
        build_portfolio(workspace, teams, viewer.user, size)
        client.force_login(viewer.user)
        client.get(URL)  # warm: shapes of reads written once (prepared reads)
        queries: list[dict[str, str | int]] = [{}, {"team": teams[0].pk, "period": "all_time"}]
        for query in queries:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(URL, query)
            assert response.status_code == 200
            assert {f"chart-{name}" for name in CHARTS} <= page_testids(response)
            counts[(size, bool(query))] = len(captured)
    assert counts[(10, False)] == counts[(1000, False)], counts
    assert counts[(10, True)] == counts[(1000, True)], counts
    print("queries per dashboard request:", counts)
    assert max(counts.values()) <= 25, counts
