"""GET initiatives/{id}/impact/: expected vs realized impact per expected impact and in
total (DESIGN.md §3), computed by hand here for a sum, a level and a mean metric around one
release, on two evaluation dates; and its query budget."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import ExpectedImpact, Initiative
from strategy.models import Metric
from tests.conftest import token_client
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, measure

BASE = "/api/v1/workspaces/acme/initiatives/"
RELEASE = date(2026, 3, 10)


def impact_url(initiative: Initiative, as_of: str | None = None) -> str:
    url = f"{BASE}{initiative.pk}/impact/"
    return url if as_of is None else f"{url}?as_of={as_of}"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture
def released(workspace: Workspace) -> tuple[Initiative, list[ExpectedImpact]]:
    """Released on 2026-03-10 with a 30-day window, 4 weeks of effort, and three expected
    impacts:
    - sign-ups (sum, 2 € each): +100 expected, confidence 50, attribution 80;
      10 a day on 1–10 March, 15 a day on 11–20 March; 500 on 28 February and 999 on
      21 March, which the 10-day windows of 20 March leave out;
    - churn (a level in %, lower is better, no money): −0.5 points expected (written as
      +0.5, an improvement), confidence 60; 3.0 on 5 March, 2.6 on 18 March, 1.0 on 25 March;
    - NPS (mean, 5 € a point): +10 expected, confidence 100; measured only before the
      release, so there is no data to compare."""
    signups = MetricFactory.create(
        workspace=workspace,
        key="signups",
        name="Sign-ups",
        unit="sign-ups",
        aggregation="sum",
        direction="increase",
        value_per_unit=Decimal("2"),
    )
    measure(signups, {day: "10" for day in days(date(2026, 3, 1), date(2026, 3, 10))})
    measure(signups, {day: "15" for day in days(date(2026, 3, 11), date(2026, 3, 20))})
    measure(signups, {date(2026, 2, 28): "500", date(2026, 3, 21): "999"})
    churn = MetricFactory.create(
        workspace=workspace,
        key="churn",
        name="Churn",
        unit="%",
        aggregation="last",
        direction="decrease",
        value_per_unit=None,
    )
    measure(churn, {date(2026, 3, 5): "3.0", date(2026, 3, 18): "2.6", date(2026, 3, 25): "1.0"})
    nps = MetricFactory.create(
        workspace=workspace,
        key="nps",
        name="NPS",
        unit="points",
        aggregation="mean",
        value_per_unit=Decimal("5"),
    )
    measure(nps, {date(2026, 3, 1): "40", date(2026, 3, 9): "44"})
    initiative = InitiativeFactory.create(
        workspace=workspace,
        status="released",
        released_on=RELEASE,
        measurement_window_days=30,
        effort_weeks=Decimal("4"),
    )
    impacts = [
        ExpectedImpactFactory.create(
            initiative=initiative,
            metric=signups,
            expected_change=Decimal("100"),
            confidence=50,
            attribution=80,
        ),
        ExpectedImpactFactory.create(
            initiative=initiative,
            metric=churn,
            expected_change=Decimal("0.5"),
            confidence=60,
            attribution=100,
        ),
        ExpectedImpactFactory.create(
            initiative=initiative,
            metric=nps,
            expected_change=Decimal("10"),
            confidence=100,
            attribution=100,
        ),
    ]
    return initiative, impacts


def metric_of(metric: Metric) -> dict[str, Any]:
    return {"id": metric.pk, "key": metric.key, "name": metric.name, "unit": metric.unit}


@pytest.mark.django_db
class TestImpact:
    def test_ten_days_after_the_release(
        self, viewer: Membership, released: tuple[Initiative, list[ExpectedImpact]]
    ) -> None:
        initiative, (signups, churn, nps) = released

        # when read on 2026-03-20: E = min(20 March, 10 March + 30) = 20 March, L = 10 days;
        # the windows are (28 Feb, 10 Mar] and (10 Mar, 20 Mar]
        response = token_client(viewer).get(impact_url(initiative, "2026-03-20"))

        assert response.status_code == 200, response.json()
        windows = {
            "window_start": "2026-02-28",
            "release_date": "2026-03-10",
            "window_end": "2026-03-20",
        }
        assert response.json() == {
            "as_of": "2026-03-20",
            "currency": "EUR",
            "impacts": [
                {
                    # change = 10 × 15 − 10 × 10 = 50 (the 500 of 28 Feb and the 999 of
                    # 21 Mar are outside); × 80% attribution = 40 sign-ups = 80 €;
                    # expected 100 × 2 € = 200 €, × 50% = 100 €; realization 40 / 100
                    "id": signups.pk,
                    "metric": metric_of(signups.metric),
                    "expected_change": "100.000000",
                    "expected_value": "200.00",
                    "risk_adjusted_value": "100.00",
                    "realized_change": "40.000000",
                    "realized_value": "80.00",
                    "realization": "0.4000",
                    "status": "measuring",
                    **windows,
                },
                {
                    # level 2.6 on 20 Mar − 3.0 on 10 Mar = −0.4; lower is better: +0.4;
                    # no value per unit, so no money; realization 0.4 / 0.5
                    "id": churn.pk,
                    "metric": metric_of(churn.metric),
                    "expected_change": "0.500000",
                    "expected_value": None,
                    "risk_adjusted_value": None,
                    "realized_change": "0.400000",
                    "realized_value": None,
                    "realization": "0.8000",
                    "status": "measuring",
                    **windows,
                },
                {
                    # nothing measured after the release: no realized figures
                    "id": nps.pk,
                    "metric": metric_of(nps.metric),
                    "expected_change": "10.000000",
                    "expected_value": "50.00",
                    "risk_adjusted_value": "50.00",
                    "realized_change": None,
                    "realized_value": None,
                    "realization": None,
                    "status": "no_data",
                    **windows,
                },
            ],
            # totals skip nulls: 200 + 50, 100 + 50, 80; realization 80 / 250
            "expected_value": "250.00",
            "risk_adjusted_value": "150.00",
            "realized_value": "80.00",
            "realization": "0.3200",
        }

    def test_after_the_window_ends(
        self, viewer: Membership, released: tuple[Initiative, list[ExpectedImpact]]
    ) -> None:
        initiative, _ = released

        # when read on 2026-05-01: E = 10 March + 30 = 9 April, L = 30 days; the windows
        # are (8 Feb, 10 Mar] and (10 Mar, 9 Apr]
        body = token_client(viewer).get(impact_url(initiative, "2026-05-01")).json()

        # sign-ups: (150 + 999) − (500 + 100) = 549, × 80% = 439.2 = 878.40 €, 4.392 of 100;
        # churn: 1.0 on 9 Apr − 3.0 = −2.0, better by 2.0, 4 times the 0.5 expected
        assert [
            (i["realized_change"], i["realized_value"], i["realization"], i["status"])
            for i in body["impacts"]
        ] == [
            ("439.200000", "878.40", "4.3920", "measured"),
            ("2.000000", None, "4.0000", "measured"),
            (None, None, None, "no_data"),
        ]
        assert {(i["window_start"], i["window_end"]) for i in body["impacts"]} == {
            ("2026-02-08", "2026-04-09")
        }
        # 878.40 / 250
        assert (body["realized_value"], body["realization"]) == ("878.40", "3.5136")

    def test_the_initiative_read_shows_the_same_totals(
        self, viewer: Membership, released: tuple[Initiative, list[ExpectedImpact]]
    ) -> None:
        initiative, _ = released
        client = token_client(viewer)
        one = client.get(f"{BASE}{initiative.pk}/?as_of=2026-03-20").json()
        listed = client.get(f"{BASE}?as_of=2026-03-20").json()["results"]
        # value density: 150 € risk-adjusted / 4 weeks
        figures = {
            "expected_value": "250.00",
            "risk_adjusted_value": "150.00",
            "realized_value": "80.00",
            "realization": "0.3200",
            "value_density": "37.50",
        }
        assert {name: one[name] for name in figures} == figures
        assert listed == [one]

    def test_before_the_release_nothing_is_realized(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status="committed")
        impact = ExpectedImpactFactory.create(
            initiative=initiative, expected_change=Decimal("10"), confidence=30
        )
        body = token_client(viewer).get(impact_url(initiative)).json()
        assert body["impacts"] == [
            {
                "id": impact.pk,
                "metric": metric_of(impact.metric),
                "expected_change": "10.000000",
                "expected_value": "100.00",  # 10 × 10 €
                "risk_adjusted_value": "30.00",
                "realized_change": None,
                "realized_value": None,
                "realization": None,
                "status": "not_started",
                "window_start": None,
                "release_date": None,
                "window_end": None,
            }
        ]
        assert (body["realized_value"], body["realization"]) == (None, None)

    def test_without_expected_impacts_every_total_is_null(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        body = token_client(viewer).get(impact_url(initiative, "2026-03-20")).json()
        assert body == {
            "as_of": "2026-03-20",
            "currency": "EUR",
            "impacts": [],
            "expected_value": None,
            "risk_adjusted_value": None,
            "realized_value": None,
            "realization": None,
        }

    @pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday", "20260320"])
    def test_a_malformed_as_of_is_refused(
        self,
        viewer: Membership,
        released: tuple[Initiative, list[ExpectedImpact]],
        as_of: str,
    ) -> None:
        response = token_client(viewer).get(impact_url(released[0], as_of))
        assert response.status_code == 400
        assert response.json() == {"as_of": [f"“{as_of}” is not a date; write it as YYYY-MM-DD."]}

    def test_outsiders_get_404_and_anonymous_401(
        self,
        outsider: Membership,
        released: tuple[Initiative, list[ExpectedImpact]],
    ) -> None:
        assert token_client(outsider).get(impact_url(released[0])).status_code == 404
        assert APIClient().get(impact_url(released[0])).status_code == 401

    def test_the_queries_do_not_grow_with_impacts_or_measurements(
        self, viewer: Membership, workspace: Workspace, django_assert_max_num_queries: Any
    ) -> None:
        def initiative_with(n: int) -> Initiative:
            initiative = InitiativeFactory.create(
                workspace=workspace, status="released", released_on=RELEASE
            )
            for i in range(n):
                metric = MetricFactory.create(
                    workspace=workspace, aggregation=["sum", "last", "mean"][i % 3]
                )
                measure(metric, {day: str(i) for day in days(date(2026, 2, 1), date(2026, 4, 30))})
                ExpectedImpactFactory.create(initiative=initiative, metric=metric)
            return initiative

        small, large = initiative_with(1), initiative_with(12)
        counts = []
        for initiative, n in ((small, 1), (large, 12)):
            client = token_client(viewer)
            # token lookup, token touch, the initiative, its impacts with their figures
            with (
                django_assert_max_num_queries(4),
                CaptureQueriesContext(connection) as captured,
            ):
                body = client.get(impact_url(initiative, "2026-04-01")).json()
            assert len(body["impacts"]) == n
            assert all(i["status"] == "measuring" for i in body["impacts"])
            counts.append(len(captured))
        assert counts == [4, 4]
