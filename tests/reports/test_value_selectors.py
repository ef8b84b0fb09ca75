"""value_summary and objectives_value (DESIGN.md §3 "Objective value" and "Portfolio") on a
small portfolio computed by hand, whole and scoped, as of four days; their properties; and
their query budgets at 10 and at 1,000 initiatives.

The portfolio (built by `build_portfolio`, also read by test_value_api.py):

Objectives (titles sort the depth-first order of objectives_value)::

    Company: grow revenue            C   active
    ├── Legacy: desktop app          D   archived
    ├── Product: retention           P2  active
    └── Product: self-serve          P   active
        └── Sub: faster onboarding   S   active
    Draft: enterprise tier           X   draft (nothing aligned)

Teams Growth and Platform; owners Ada and Bob. Metrics::

    signups      sum,  increase, 10 € per unit
    ttv          mean, decrease,  5 € per unit  (time to value in hours: less is better)
    mrr          last, increase,  1 € per unit
    nps          mean, increase,  no value per unit
    activations  sum,  increase,  2 € per unit

Initiatives (effort in weeks; impacts as expected change / confidence / attribution)::

    I1 Onboarding checklist  measured     Growth   Ada  3   S 50, P 30  signups 100/50/60
       released 03-01, window 30
    I2 Faster first value    measured     Growth   Bob  2   P2 70       ttv 4/80/50
       released 04-01, window 30
    I3 Pricing page          measured     Platform Ada  4   S 40, D 60  mrr 500/50/100,
       released 03-01, window 30                                       nps 10/50/100
    I4 Usage billing         released     Platform Bob  5   P 90        activations 100/70/100
       released 06-01, window 90
    I5 Guided setup          committed    Growth   Ada  5   S 80        signups 50/40/100
    I6 Desktop sync          in_delivery  Platform Bob  3   D 100       mrr 500/50, nps 5/50
    I7 Fix slow exports      committed    Growth   Bob  2   (tactical)  ttv 1/100
    I8 Offline mode          declined     Platform Ada  8   P 50        -
    I9 Referral program      proposed     Growth   Ada  -   C 100       -

Realized impact (§3: R release, E = min(as_of, R + W), L = E − R, windows (a, b])::

    I1 signups, L = 30: Σ(01-30, 03-01] = 40 + 50 + 10 = 100 (the 999 of 01-15 is out),
       Σ(03-01, 03-31] = 80 + 100 + 20 = 200 (the 999 of 04-10 is out); change 100,
       × 60 % = 60 → 600 €; expected 100 × 10 = 1000 € → realization 0.6
    I2 ttv, L = 30: mean(03-02, 04-01] = (10 + 14) / 2 = 12 (the 100 of 03-02 is out),
       mean(04-01, 05-01] = (9 + 8 + 7) / 3 = 8 (the 100 of 05-02 is out); change −4,
       decrease → +4, × 50 % = 2 → 10 €; expected 4 × 5 = 20 € → realization 0.5
    I3 mrr, L = 30: value as of 03-01 = 5200, as of 03-31 = 5600; change 400 → 400 €;
       nps: mean(01-30, 03-01] = 30, mean(03-01, 03-31] = 36 → +6, no money;
       realization = Σ realized € / Σ expected € = 400 / 500 = 0.8
    I4 activations: before 06-01 not started; as of 06-30 L = 29: Σ(05-03, 06-01] = 30,
       Σ(06-01, 06-30] = 50 → 20 → 40 €; as of 09-30 E = 08-30, L = 90:
       Σ(03-03, 06-01] = 20 + 30 = 50, Σ(06-01, 08-30] = 50 + 100 = 150 → 100 → 200 €

Portfolio (today's statuses, whatever the day)::

    committed + in delivery effort: I5 5 + I7 2 + I6 3 = 10; aligned to an active
    objective: I5 (I6 only to the archived D, I7 to none) → alignment_score 5/10 = 0.5;
    tactical: I7 → 2/10 = 0.2
    pipeline: I5 50 × 10 × 40 % = 200, I6 500 × 1 × 50 % = 250 (nps has no money),
    I7 1 × 5 × 100 % = 5 → 455
    realized: 600 + 10 + 400 = 1010, + I4's 40 as of 06-30 = 1050, + 200 as of 09-30 = 1210
    calibration over measured work: Ada (I1 0.6, I3 0.8) median 0.7; Bob (I2) 0.5;
    Growth (I1 0.6, I2 0.5) median 0.55; Platform (I3) 0.8

Value delivered as of 06-30 (weight × realized value of each alignment)::

    S  own I1 50 % × 600 + I3 40 % × 400 = 300 + 160 = 460
    P  own I1 30 % × 600 + I4 90 % × 40 = 180 + 36 = 216; with S: 676
    P2 own I2 70 % × 10 = 7
    D  own I3 60 % × 400 = 240 (archived, still counted)
    C  own nothing released (I9 proposed) → 676 + 7 + 240 = 923
    X  null
    as of 05-31 P own 180 → P 640, C 887; as of 09-30 P own 180 + 180 → P 820, C 1067

Key results::

    KR1 on S:  signups (sum) 0 → 400, 03-02 … 03-31: Σ[03-02, 03-31] = 200 → 0.5;
               time passed 1 → off_track (0.5 < 0.7 × 1); as of 02-01 not begun: null
    KR2 on P2: mrr (last) 5000 → 6000, 01-01 … 12-31: as of 02-01 5000 → 0, 31/364,
               off_track; afterwards 5700 (04-15) → 0.7: 150/364 and 180/364 on_track,
               272/364 = 0.747 at_risk (0.7 ≥ 0.7 × 0.747)
    KR3 on C:  activations (sum) 0 → 100, 06-01 … 09-30: as of 06-30 Σ = 50 → 0.5,
               29/121 on_track; as of 09-30 150 → 1.5 achieved; before 06-01 null
    an archived key result on C is not listed
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Team, User, Workspace
from initiatives.models import Alignment, ExpectedImpact, Idea, Initiative
from initiatives.selectors import impacts_for
from reports.selectors import (
    Calibration,
    ObjectiveValue,
    Scope,
    ValueSummary,
    objectives_value,
    value_summary,
)
from strategy.models import KeyResult, Metric, Objective
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory, measure

D = Decimal
BEFORE_ALL = date(2026, 2, 1)  # nothing released yet
BEFORE_RELEASE = date(2026, 5, 31)  # the day before I4's release
IN_WINDOW = date(2026, 6, 30)  # I4 released 29 days ago, its window runs to 08-30
AFTER_WINDOW = date(2026, 9, 30)  # every window is over
AS_OF_DAYS = [BEFORE_ALL, BEFORE_RELEASE, IN_WINDOW, AFTER_WINDOW]


@dataclass
class Portfolio:
    workspace: Workspace
    growth: Team
    platform: Team
    ada: User
    bob: User
    objectives: dict[str, Objective] = field(default_factory=dict)  # C, P, S, P2, D, X
    initiatives: dict[str, Initiative] = field(default_factory=dict)  # I1 … I9
    key_results: dict[str, KeyResult] = field(default_factory=dict)  # KR1 … KR3

    def ids(self, *names: str) -> list[int]:
        return sorted(self.initiatives[n].pk for n in names)


def build_portfolio(workspace: Workspace) -> Portfolio:
    """The portfolio of the module docstring, in `workspace`."""
    ada = MembershipFactory.create(
        workspace=workspace, user=UserFactory.create(full_name="Ada Lovelace")
    ).user
    bob = MembershipFactory.create(
        workspace=workspace, user=UserFactory.create(full_name="Bob Builder")
    ).user
    p = Portfolio(
        workspace=workspace,
        growth=TeamFactory.create(workspace=workspace, name="Growth"),
        platform=TeamFactory.create(workspace=workspace, name="Platform"),
        ada=ada,
        bob=bob,
    )

    def objective(key: str, title: str, status: str, parent: str | None = None) -> None:
        p.objectives[key] = ObjectiveFactory.create(
            workspace=workspace,
            title=title,
            status=status,
            parent=p.objectives[parent] if parent else None,
        )

    objective("C", "Company: grow revenue", "active")
    objective("P", "Product: self-serve", "active", "C")
    objective("S", "Sub: faster onboarding", "active", "P")
    objective("P2", "Product: retention", "active", "C")
    objective("D", "Legacy: desktop app", "archived", "C")
    objective("X", "Draft: enterprise tier", "draft")

    def metric(key: str, aggregation: str, direction: str, per_unit: str | None) -> Metric:
        return MetricFactory.create(
            workspace=workspace,
            key=key,
            aggregation=aggregation,
            direction=direction,
            value_per_unit=None if per_unit is None else D(per_unit),
        )

    signups = metric("signups", "sum", "increase", "10")
    ttv = metric("ttv", "mean", "decrease", "5")
    mrr = metric("mrr", "last", "increase", "1")
    nps = metric("nps", "mean", "increase", None)
    activations = metric("activations", "sum", "increase", "2")
    d = date
    measure(
        signups,
        {
            d(2026, 1, 15): "999",
            d(2026, 2, 10): "40",
            d(2026, 2, 20): "50",
            d(2026, 3, 1): "10",
            d(2026, 3, 5): "80",
            d(2026, 3, 20): "100",
            d(2026, 3, 31): "20",
            d(2026, 4, 10): "999",
        },
    )
    measure(
        ttv,
        {
            d(2026, 3, 2): "100",
            d(2026, 3, 10): "10",
            d(2026, 3, 20): "14",
            d(2026, 4, 10): "9",
            d(2026, 4, 20): "8",
            d(2026, 4, 30): "7",
            d(2026, 5, 2): "100",
        },
    )
    measure(
        mrr,
        {
            d(2026, 2, 1): "5000",
            d(2026, 3, 1): "5200",
            d(2026, 3, 15): "5400",
            d(2026, 3, 31): "5600",
            d(2026, 4, 15): "5700",
        },
    )
    measure(nps, {d(2026, 2, 15): "30", d(2026, 3, 15): "36"})
    measure(
        activations,
        {d(2026, 4, 1): "20", d(2026, 5, 20): "30", d(2026, 6, 10): "50", d(2026, 7, 15): "100"},
    )

    def initiative(
        key: str,
        title: str,
        status: str,
        team: Team,
        owner: User,
        effort: str | None,
        released_on: date | None = None,
        window: int = 90,
        **fields: Any,
    ) -> None:
        p.initiatives[key] = InitiativeFactory.create(
            workspace=workspace,
            title=title,
            status=status,
            team=team,
            owner=owner,
            effort_weeks=None if effort is None else D(effort),
            released_on=released_on,
            measurement_window_days=window,
            **fields,
        )

    growth, platform = p.growth, p.platform
    initiative("I1", "Onboarding checklist", "measured", growth, ada, "3", d(2026, 3, 1), 30)
    initiative("I2", "Faster first value", "measured", growth, bob, "2", d(2026, 4, 1), 30)
    initiative("I3", "Pricing page", "measured", platform, ada, "4", d(2026, 3, 1), 30)
    initiative("I4", "Usage billing", "released", platform, bob, "5", d(2026, 6, 1), 90)
    initiative("I5", "Guided setup", "committed", growth, ada, "5")
    initiative("I6", "Desktop sync", "in_delivery", platform, bob, "3")
    initiative(
        "I7",
        "Fix slow exports",
        "committed",
        growth,
        bob,
        "2",
        kind="tactical",
        tactical_rationale="Two enterprise customers churn over slow exports.",
    )
    initiative("I8", "Offline mode", "declined", platform, ada, "8")
    initiative("I9", "Referral program", "proposed", growth, ada, None)

    for key, objective_key, weight in [
        ("I1", "S", 50),
        ("I1", "P", 30),
        ("I2", "P2", 70),
        ("I3", "S", 40),
        ("I3", "D", 60),
        ("I4", "P", 90),
        ("I5", "S", 80),
        ("I6", "D", 100),
        ("I8", "P", 50),
        ("I9", "C", 100),
    ]:
        AlignmentFactory.create(
            initiative=p.initiatives[key], objective=p.objectives[objective_key], weight=weight
        )

    for key, on, change, confidence, attribution in [
        ("I1", signups, "100", 50, 60),
        ("I2", ttv, "4", 80, 50),
        ("I3", mrr, "500", 50, 100),
        ("I3", nps, "10", 50, 100),
        ("I4", activations, "100", 70, 100),
        ("I5", signups, "50", 40, 100),
        ("I6", mrr, "500", 50, 100),
        ("I6", nps, "5", 50, 100),
        ("I7", ttv, "1", 100, 100),
    ]:
        ExpectedImpactFactory.create(
            initiative=p.initiatives[key],
            metric=on,
            expected_change=D(change),
            confidence=confidence,
            attribution=attribution,
        )

    def key_result(
        key: str, objective_key: str, on: Metric, baseline: int, target: int, *days: date
    ) -> None:
        p.key_results[key] = KeyResultFactory.create(
            objective=p.objectives[objective_key],
            metric=on,
            title=key,
            baseline=D(baseline),
            target=D(target),
            start_on=days[0],
            due_on=days[1],
        )

    key_result("KR1", "S", signups, 0, 400, d(2026, 3, 2), d(2026, 3, 31))
    key_result("KR2", "P2", mrr, 5000, 6000, d(2026, 1, 1), d(2026, 12, 31))
    key_result("KR3", "C", activations, 0, 100, d(2026, 6, 1), d(2026, 9, 30))
    KeyResultFactory.create(
        objective=p.objectives["C"], metric=signups, title="archived", archived_at=timezone.now()
    )

    for status in ("declined", "declined", "new"):
        Idea.objects.create(workspace=workspace, title=f"An idea ({status})", status=status)
    return p


def build_elsewhere(other: Workspace) -> tuple[Team, Objective]:
    """Value in another workspace that no figure of the first may count: a measured
    initiative worth 1,000,000 €, a committed one, a declined one and a declined idea."""
    team = TeamFactory.create(workspace=other, name="Growth")
    objective = ObjectiveFactory.create(workspace=other, title="Company: grow revenue")
    metric = MetricFactory.create(workspace=other, aggregation="sum", value_per_unit=D("1000"))
    measure(metric, {date(2026, 2, 20): "0", date(2026, 3, 10): "1000"})
    for status, released_on in [
        ("measured", date(2026, 3, 1)),
        ("committed", None),
        ("declined", None),
    ]:
        initiative = InitiativeFactory.create(
            workspace=other, status=status, team=team, released_on=released_on
        )
        ExpectedImpactFactory.create(initiative=initiative, metric=metric)
        AlignmentFactory.create(initiative=initiative, objective=objective, weight=100)
    Idea.objects.create(workspace=other, title="Elsewhere", status="declined")
    return team, objective


@pytest.fixture
def portfolio(workspace: Workspace, other_workspace: Workspace) -> Portfolio:
    build_elsewhere(other_workspace)
    return build_portfolio(workspace)


# --- value_summary ------------------------------------------------------------------------------

STATUSES = [
    "proposed",
    "discovery",
    "committed",
    "in_delivery",
    "released",
    "measured",
    "declined",
    "cancelled",
]


def counts(**given: int) -> dict[str, int]:
    """Initiatives per status, 0 where not given."""
    return {s: given.get(s, 0) for s in STATUSES}


def efforts(**given: str) -> dict[str, Decimal]:
    """Weeks per status, 0 where not given."""
    return {s: D(given.get(s, "0")) for s in STATUSES}


def calibration(rows: list[tuple[Any, str, str | None, int]]) -> list[Calibration]:
    return [
        Calibration(id=pk, name=name, median_realization=None if m is None else D(m), measured=n)
        for pk, name, m, n in rows
    ]


def test_the_portfolio_figures_as_of_each_day(portfolio: Portfolio) -> None:
    ada, bob, growth, platform = portfolio.ada, portfolio.bob, portfolio.growth, portfolio.platform
    full_calibration = (
        calibration([(ada.pk, "Ada Lovelace", "0.7", 2), (bob.pk, "Bob Builder", "0.5", 1)]),
        calibration([(growth.pk, "Growth", "0.55", 2), (platform.pk, "Platform", "0.8", 1)]),
    )
    # day: realized value, shipped initiatives with one, calibration by owner and team
    expected = {
        BEFORE_ALL: (None, 0, ([], [])),
        BEFORE_RELEASE: (D(1010), 3, full_calibration),
        IN_WINDOW: (D(1050), 4, full_calibration),
        AFTER_WINDOW: (D(1210), 4, full_calibration),
    }
    for day, (realized, realized_count, (by_owner, by_team)) in expected.items():
        summary = value_summary(workspace=portfolio.workspace, as_of=day)
        assert summary == ValueSummary(
            as_of=day,
            currency="EUR",
            counts_by_status=counts(
                proposed=1, committed=2, in_delivery=1, released=1, measured=3, declined=1
            ),
            effort_by_status=efforts(
                committed="7", in_delivery="3", released="5", measured="9", declined="8"
            ),
            alignment_score=D("0.5"),
            tactical_share=D("0.2"),
            pipeline_value=D(455),
            realized_value=realized,
            realized_initiatives=realized_count,
            calibration_by_owner=by_owner,
            calibration_by_team=by_team,
            declined_initiatives=1,
            declined_ideas=2,
        ), day


def test_the_release_counts_from_its_day_on(portfolio: Portfolio) -> None:
    # given I4, released 06-01 with a window of 90 days
    usage_billing = Initiative.objects.get(pk=portfolio.initiatives["I4"].pk)

    def impact_of(day: date) -> tuple[str, Decimal | None]:
        [(_, figures)] = impacts_for(initiatives=[usage_billing], today=day)[usage_billing.pk]
        return figures.status, figures.realized_value

    # then the day before it has not started, within the window it is measuring (40 € over
    # 29 days), and after the window it is measured (200 €)
    assert impact_of(BEFORE_RELEASE) == ("not_started", None)
    assert impact_of(IN_WINDOW) == ("measuring", D(40))
    assert impact_of(AFTER_WINDOW) == ("measured", D(200))


def test_the_figures_of_one_team(portfolio: Portfolio) -> None:
    p = portfolio
    growth = value_summary(workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(team=p.growth))
    # I1, I2, I5, I7, I9: committed effort 5 + 2, aligned 5, tactical 2; pipeline 200 + 5;
    # realized 600 + 10
    assert growth == ValueSummary(
        as_of=IN_WINDOW,
        currency="EUR",
        counts_by_status=counts(proposed=1, committed=2, measured=2),
        effort_by_status=efforts(committed="7", measured="5"),
        alignment_score=D(5) / D(7),
        tactical_share=D(2) / D(7),
        pipeline_value=D(205),
        realized_value=D(610),
        realized_initiatives=2,
        calibration_by_owner=calibration(
            [(p.ada.pk, "Ada Lovelace", "0.6", 1), (p.bob.pk, "Bob Builder", "0.5", 1)]
        ),
        calibration_by_team=calibration([(p.growth.pk, "Growth", "0.55", 2)]),
        declined_initiatives=0,
        declined_ideas=0,  # ideas belong to no team
    )
    platform = value_summary(workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(team=p.platform))
    # I3, I4, I6, I8: committed effort is I6's 3, aligned only to an archived objective
    assert platform == ValueSummary(
        as_of=IN_WINDOW,
        currency="EUR",
        counts_by_status=counts(in_delivery=1, released=1, measured=1, declined=1),
        effort_by_status=efforts(in_delivery="3", released="5", measured="4", declined="8"),
        alignment_score=D(0),
        tactical_share=D(0),
        pipeline_value=D(250),
        realized_value=D(440),
        realized_initiatives=2,
        calibration_by_owner=calibration([(p.ada.pk, "Ada Lovelace", "0.8", 1)]),
        calibration_by_team=calibration([(p.platform.pk, "Platform", "0.8", 1)]),
        declined_initiatives=1,
        declined_ideas=0,
    )


def test_the_figures_of_an_objective_subtree(portfolio: Portfolio) -> None:
    p = portfolio
    # P and its child S: I1 (both), I3 (S), I4 (P), I5 (S), I8 (P); each counts once and
    # whole (the weights split value among objectives, not the portfolio)
    scoped = value_summary(
        workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(objective=p.objectives["P"])
    )
    assert scoped == ValueSummary(
        as_of=IN_WINDOW,
        currency="EUR",
        counts_by_status=counts(committed=1, released=1, measured=2, declined=1),
        effort_by_status=efforts(committed="5", released="5", measured="7", declined="8"),
        alignment_score=D(1),
        tactical_share=D(0),
        pipeline_value=D(200),
        realized_value=D(1040),
        realized_initiatives=3,
        calibration_by_owner=calibration([(p.ada.pk, "Ada Lovelace", "0.7", 2)]),
        calibration_by_team=calibration(
            [(p.growth.pk, "Growth", "0.6", 1), (p.platform.pk, "Platform", "0.8", 1)]
        ),
        declined_initiatives=1,
        declined_ideas=0,  # ideas belong to no objective
    )
    # the team and the objective together: I1 and I5 of Growth
    both = value_summary(
        workspace=p.workspace,
        as_of=IN_WINDOW,
        scope=Scope(team=p.growth, objective=p.objectives["P"]),
    )
    assert both.counts_by_status == counts(committed=1, measured=1)
    assert (both.realized_value, both.pipeline_value) == (D(600), D(200))


def test_calibration_skips_what_has_no_realization(workspace: Workspace) -> None:
    # given Cy's measured work, each released 03-01 with a window of 10 days
    cy = MembershipFactory.create(
        workspace=workspace, user=UserFactory.create(full_name="Cy Young")
    ).user
    team = TeamFactory.create(workspace=workspace, name="Core")
    money = MetricFactory.create(workspace=workspace, aggregation="sum", value_per_unit=D(1))
    points = MetricFactory.create(workspace=workspace, aggregation="sum", value_per_unit=None)
    silent = MetricFactory.create(workspace=workspace, aggregation="sum", value_per_unit=D(1))
    # money +30 and points +5 over the release; silent has no measurement at all
    measure(money, {RELEASE: "0", RELEASE + timedelta(days=1): "30"})
    measure(points, {RELEASE: "0", RELEASE + timedelta(days=1): "5"})

    def shipped(status: str, impacts: list[tuple[Metric, str]], **fields: Any) -> None:
        initiative = InitiativeFactory.create(
            workspace=workspace,
            status=status,
            released_on=RELEASE,
            measurement_window_days=10,
            **fields,
        )
        for metric, change in impacts:
            ExpectedImpactFactory.create(
                initiative=initiative, metric=metric, expected_change=D(change)
            )

    mine = {"owner": cy, "team": team}
    shipped("measured", [(silent, "10")], **mine)  # no data: no realization
    shipped("measured", [(points, "10")], **mine)  # no money: mean of realizations 5/10
    # with money, Σ realized € / Σ expected € = 30 / 100, not the mean of 0.3 and 5/10
    shipped("measured", [(money, "100"), (points, "10")], **mine)
    shipped("released", [(money, "30")], **mine)  # released, not measured: 1.0, not counted
    shipped("measured", [(money, "30")])  # nobody's: in no group

    summary = value_summary(workspace=workspace, as_of=LATER)

    # then the median is over the two realizations, the count over the three measured
    median = (D("0.5") + D("0.3")) / 2
    assert summary.calibration_by_owner == [Calibration(cy.pk, "Cy Young", median, 3)]
    assert summary.calibration_by_team == [Calibration(team.pk, "Core", median, 3)]
    # and only money counts as realized value: 30 + 30 + 30
    assert (summary.realized_value, summary.realized_initiatives) == (D(90), 3)


def test_an_empty_workspace_has_no_figures(workspace: Workspace) -> None:
    summary = value_summary(workspace=workspace, as_of=IN_WINDOW)
    assert summary == ValueSummary(
        as_of=IN_WINDOW,
        currency="EUR",
        counts_by_status=counts(),
        effort_by_status=efforts(),
        alignment_score=None,
        tactical_share=None,
        pipeline_value=None,
        realized_value=None,
        realized_initiatives=0,
        calibration_by_owner=[],
        calibration_by_team=[],
        declined_initiatives=0,
        declined_ideas=0,
    )


# --- objectives_value ---------------------------------------------------------------------------

ORDER = ["C", "D", "P2", "P", "S", "X"]  # depth first, children by title


def delivered(nodes: list[ObjectiveValue], p: Portfolio) -> dict[str, Decimal | None]:
    names = {o.pk: key for key, o in p.objectives.items()}
    return {names[n.objective.pk]: n.value_delivered for n in nodes}


@pytest.mark.parametrize(
    ("day", "values"),
    [
        (BEFORE_ALL, {}),
        (BEFORE_RELEASE, {"C": 887, "D": 240, "P2": 7, "P": 640, "S": 460}),
        (IN_WINDOW, {"C": 923, "D": 240, "P2": 7, "P": 676, "S": 460}),
        (AFTER_WINDOW, {"C": 1067, "D": 240, "P2": 7, "P": 820, "S": 460}),
    ],
)
def test_value_delivered_to_each_objective(
    portfolio: Portfolio, day: date, values: dict[str, int]
) -> None:
    p = portfolio
    nodes = objectives_value(workspace=p.workspace, as_of=day)
    assert [n.objective.pk for n in nodes] == [p.objectives[k].pk for k in ORDER]
    assert delivered(nodes, p) == {k: None if k not in values else D(values[k]) for k in ORDER}
    own = {k: v for k, v in values.items() if k not in ("C", "P")}
    if values:
        own["P"] = values["P"] - values["S"]  # 180, or 180 + I4's 90 % share
    assert {key: n.own_value for key, n in zip(ORDER, nodes, strict=True)} == {
        k: None if k not in own else D(own[k]) for k in ORDER
    }
    # the initiatives aligned to each objective itself, whether they delivered yet or not
    assert {key: n.initiative_ids for key, n in zip(ORDER, nodes, strict=True)} == {
        "C": p.ids("I9"),
        "D": p.ids("I3", "I6"),
        "P2": p.ids("I2"),
        "P": p.ids("I1", "I4", "I8"),
        "S": p.ids("I1", "I3", "I5"),
        "X": [],
    }
    # the company objective's children, by title
    assert [c.objective.pk for c in nodes[0].children] == [
        p.objectives[k].pk for k in ("D", "P2", "P")
    ]


def _days(a: date, b: date) -> Decimal:
    return D((b - a).days)


@pytest.mark.parametrize(
    ("day", "figures"),
    [
        (
            BEFORE_ALL,
            {
                "KR1": (None, D(0), None),
                "KR2": (D(0), _days(date(2026, 1, 1), BEFORE_ALL) / D(364), "off_track"),
                "KR3": (None, D(0), None),
            },
        ),
        (
            BEFORE_RELEASE,
            {
                "KR1": (D("0.5"), D(1), "off_track"),
                "KR2": (D("0.7"), D(150) / D(364), "on_track"),
                "KR3": (None, D(0), None),
            },
        ),
        (
            IN_WINDOW,
            {
                "KR1": (D("0.5"), D(1), "off_track"),
                "KR2": (D("0.7"), D(180) / D(364), "on_track"),
                "KR3": (D("0.5"), D(29) / D(121), "on_track"),
            },
        ),
        (
            AFTER_WINDOW,
            {
                "KR1": (D("0.5"), D(1), "off_track"),
                "KR2": (D("0.7"), D(272) / D(364), "at_risk"),
                "KR3": (D("1.5"), D(1), "achieved"),
            },
        ),
    ],
)
def test_key_results_progress_and_pace(
    portfolio: Portfolio, day: date, figures: dict[str, tuple[Any, ...]]
) -> None:
    p = portfolio
    nodes = objectives_value(workspace=p.workspace, as_of=day)
    found = {
        key: [(kr.title, f.progress, f.expected_progress, f.pace) for kr, f in n.key_results]
        for key, n in zip(ORDER, nodes, strict=True)
    }
    # the archived key result of C is not listed
    assert found == {
        "C": [("KR3", *figures["KR3"])],
        "D": [],
        "P2": [("KR2", *figures["KR2"])],
        "P": [],
        "S": [("KR1", *figures["KR1"])],
        "X": [],
    }


def test_objective_value_of_one_team(portfolio: Portfolio) -> None:
    p = portfolio
    growth = objectives_value(workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(team=p.growth))
    # Growth's alignments: I1 (S 50 %, P 30 %), I2 (P2 70 %), I5 (S), I9 (C)
    assert delivered(growth, p) == {
        "C": D(487),  # 480 + 7
        "D": None,
        "P2": D(7),
        "P": D(480),  # 180 + 300
        "S": D(300),
        "X": None,
    }
    assert [n.initiative_ids for n in growth] == [
        p.ids("I9"),
        [],
        p.ids("I2"),
        p.ids("I1"),
        p.ids("I1", "I5"),
        [],
    ]
    platform = objectives_value(
        workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(team=p.platform)
    )
    # Platform's: I3 (S 40 % of 400, D 60 %), I4 (P 90 % of 40), I6 (D), I8 (P)
    assert delivered(platform, p) == {
        "C": D(436),  # 196 + 240
        "D": D(240),
        "P2": None,
        "P": D(196),  # 36 + 160
        "S": D(160),
        "X": None,
    }
    assert [n.initiative_ids for n in platform] == [
        [],
        p.ids("I3", "I6"),
        [],
        p.ids("I4", "I8"),
        p.ids("I3"),
        [],
    ]


def test_objective_value_of_a_subtree(portfolio: Portfolio) -> None:
    p = portfolio
    nodes = objectives_value(
        workspace=p.workspace, as_of=IN_WINDOW, scope=Scope(objective=p.objectives["P"])
    )
    # only P and S; P keeps its parent, which is outside the scope
    assert [(n.objective.pk, n.objective.parent_id, n.value_delivered) for n in nodes] == [
        (p.objectives["P"].pk, p.objectives["C"].pk, D(676)),
        (p.objectives["S"].pk, p.objectives["P"].pk, D(460)),
    ]
    leaf = objectives_value(
        workspace=p.workspace,
        as_of=IN_WINDOW,
        scope=Scope(team=p.growth, objective=p.objectives["S"]),
    )
    assert [(n.value_delivered, n.initiative_ids) for n in leaf] == [(D(300), p.ids("I1", "I5"))]


# --- properties ---------------------------------------------------------------------------------

RELEASE = date(2026, 3, 1)
LATER = date(2026, 4, 1)  # after every window of the generated initiatives (10 days)


def _released_initiative(
    workspace: Workspace, *, change: int, per_unit: Decimal | None, status: str = "measured"
) -> Initiative:
    """A released initiative whose one impact realized `change` units (a sum metric: 0 the
    day of the release, `change` the day after), worth change × per_unit."""
    metric = Metric.objects.create(
        workspace=workspace,
        key=f"m-{Metric.objects.count()}",
        name="m",
        unit="u",
        category="other",
        direction="increase",
        aggregation="sum",
        value_per_unit=per_unit,
    )
    measure(metric, {RELEASE: "0", RELEASE + timedelta(days=1): str(change)})
    initiative = Initiative.objects.create(
        workspace=workspace,
        title="generated",
        status=status,
        released_on=RELEASE,
        measurement_window_days=10,
    )
    ExpectedImpact.objects.create(
        initiative=initiative, metric=metric, expected_change=D(100), confidence=50
    )
    return initiative


trees = st.lists(st.integers(0, 5), min_size=1, max_size=6)  # parent index per objective
values = st.lists(
    st.tuples(st.integers(-500, 500), st.sampled_from([None, D(1), D("2.5")])),
    min_size=0,
    max_size=4,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parents=trees,
    initiatives=values,
    links=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(1, 100)), max_size=10
    ),
)
def test_value_delivered_is_own_value_plus_the_children(
    workspace: Workspace,
    parents: list[int],
    initiatives: list[tuple[int, Decimal | None]],
    links: list[tuple[int, int, int]],
) -> None:
    with transaction.atomic():
        # given a random forest: objective n's parent is an earlier one (or none)
        objectives: list[Objective] = []
        for n, parent in enumerate(parents):
            objectives.append(
                ObjectiveFactory.create(
                    workspace=workspace,
                    parent=objectives[parent] if parent < n else None,
                )
            )
        made = [_released_initiative(workspace, change=c, per_unit=u) for c, u in initiatives]
        worth: dict[int, Decimal | None] = {
            i.pk: None if u is None else c * u for i, (c, u) in zip(made, initiatives, strict=True)
        }
        aligned: set[tuple[int, int]] = set()
        for i, o, weight in links:
            if i < len(made) and o < len(objectives) and (i, o) not in aligned:
                aligned.add((i, o))
                Alignment.objects.create(initiative=made[i], objective=objectives[o], weight=weight)
        nodes = objectives_value(workspace=workspace, as_of=LATER)
        parent_of = {o.pk: o.parent_id for o in objectives}
        alignments = list(Alignment.objects.values_list("objective_id", "initiative_id", "weight"))
        transaction.set_rollback(True)

    def share(initiative_id: int, weight: int) -> Decimal | None:
        value = worth[initiative_id]
        return None if value is None else value * weight / 100

    def null_skipping_sum(xs: list[Decimal | None]) -> Decimal | None:
        known = [x for x in xs if x is not None]
        return sum(known, D(0)) if known else None

    def under(objective_id: int, root_id: int) -> bool:
        node: int | None = objective_id
        while node is not None and node != root_id:
            node = parent_of[node]
        return node == root_id

    for node in nodes:
        pk = node.objective.pk
        # then own value = Σ weight/100 × realized value over the alignments to it …
        assert node.own_value == null_skipping_sum(
            [share(i, w) for o, i, w in alignments if o == pk]
        )
        # … value delivered = the same over the alignments to it or a descendant …
        assert node.value_delivered == null_skipping_sum(
            [share(i, w) for o, i, w in alignments if under(o, pk)]
        )
        # … which is its own value plus its children's, skipping nulls
        assert node.value_delivered == null_skipping_sum(
            [node.own_value, *(c.value_delivered for c in node.children)]
        )
    assert len(nodes) == len(parents)


@pytest.mark.django_db
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    realized=st.lists(st.integers(-500, 500), min_size=1, max_size=3),
    committed=st.lists(
        st.tuples(st.integers(-500, 500), st.integers(0, 100)), min_size=1, max_size=3
    ),
    per_unit=st.decimals(D("0.01"), D(1000), places=2),
    k=st.decimals(D("0.01"), D(100), places=2),
)
def test_realized_and_pipeline_value_scale_with_the_value_per_unit(
    workspace: Workspace,
    realized: list[int],
    committed: list[tuple[int, int]],
    per_unit: Decimal,
    k: Decimal,
) -> None:
    with transaction.atomic():
        for change in realized:
            _released_initiative(workspace, change=change, per_unit=per_unit)
        metric = MetricFactory.create(workspace=workspace, value_per_unit=per_unit)
        for change, confidence in committed:
            ExpectedImpactFactory.create(
                initiative=InitiativeFactory.create(workspace=workspace, status="committed"),
                metric=metric,
                expected_change=D(change),
                confidence=confidence,
            )
        before = value_summary(workspace=workspace, as_of=LATER)
        for metric in Metric.objects.filter(workspace=workspace):
            metric.value_per_unit = metric.value_per_unit * k  # type: ignore[operator]
            metric.save(update_fields=["value_per_unit"])
        after = value_summary(workspace=workspace, as_of=LATER)
        transaction.set_rollback(True)
    assert before.realized_value == sum(D(c) * per_unit for c in realized)
    assert after.realized_value == before.realized_value * k
    assert after.pipeline_value == before.pipeline_value * k  # type: ignore[operator]


# --- query budgets ------------------------------------------------------------------------------

SUMMARY_BUDGET = 6
OBJECTIVES_BUDGET = 6


def scale_base(workspace: Workspace) -> None:
    """Two teams and owners, an objective tree (a root, four children, a leaf under each)
    with key results, and a metric of each aggregation with a daily series."""
    for name in ("Growth", "Platform"):
        TeamFactory.create(workspace=workspace, name=name)
    MembershipFactory.create_batch(2, workspace=workspace)
    root = ObjectiveFactory.create(workspace=workspace, title="Root")
    for n in range(4):
        child = ObjectiveFactory.create(workspace=workspace, title=f"Child {n}", parent=root)
        ObjectiveFactory.create(workspace=workspace, title=f"Leaf {n}", parent=child)
    for n, aggregation in enumerate(("sum", "mean", "last")):
        metric = MetricFactory.create(
            workspace=workspace,
            aggregation=aggregation,
            direction="decrease" if n == 1 else "increase",
        )
        measure(metric, {date(2026, 1, 1) + timedelta(days=d): str(d % 9) for d in range(150)})
        KeyResultFactory.create(objective=root, metric=metric)


def add_initiatives(workspace: Workspace, count: int, *, start: int = 0) -> None:
    """`count` more initiatives in bulk: statuses in turn (committed, in delivery, released,
    measured, proposed), teams and owners in turn, initiative n aligned to the nth objective
    (by id, in turn) and expecting an impact on two of the metrics."""
    teams = list(Team.objects.filter(workspace=workspace).order_by("pk"))
    owners = [m.user for m in workspace.memberships.select_related("user").order_by("pk")]
    objectives = list(Objective.objects.filter(workspace=workspace).order_by("pk"))
    metrics = list(Metric.objects.filter(workspace=workspace).order_by("pk"))
    statuses = ["committed", "in_delivery", "released", "measured", "proposed"]
    rows = []
    for n in range(start, start + count):
        status = statuses[n % len(statuses)]
        shipped = status in ("released", "measured")
        rows.append(
            Initiative(
                workspace=workspace,
                title=f"Bulk {n}",
                status=status,
                team=teams[n % len(teams)],
                owner=owners[n % len(owners)],
                kind="tactical" if n % 7 == 0 else "strategic",
                tactical_rationale="A fix customers ask for." if n % 7 == 0 else "",
                effort_weeks=D(n % 5 + 1),
                released_on=RELEASE + timedelta(days=n % 20) if shipped else None,
                measurement_window_days=30,
            )
        )
    made = Initiative.objects.bulk_create(rows)
    Alignment.objects.bulk_create(
        Alignment(initiative=i, objective=objectives[n % len(objectives)], weight=50)
        for n, i in enumerate(made, start=start)
    )
    ExpectedImpact.objects.bulk_create(
        ExpectedImpact(
            initiative=i, metric=metrics[(n + shift) % len(metrics)], expected_change=D(10)
        )
        for n, i in enumerate(made, start=start)
        for shift in (0, 1)
    )


def count_queries(read: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return len(queries)


def scale_scope(workspace: Workspace, name: str) -> Scope:
    """Scopes that hold committed and shipped work from the first ten initiatives on: the
    first team (0 committed, 2 released, 6 in delivery, 8 measured), the subtree of
    Child 0 (1 in delivery, 2 released), and both the first team and the whole tree."""
    team = Team.objects.filter(workspace=workspace).order_by("pk").first()
    return {
        "workspace": Scope(),
        "team": Scope(team=team),
        "objective": Scope(objective=Objective.objects.get(workspace=workspace, title="Child 0")),
        "team and objective": Scope(
            team=team, objective=Objective.objects.get(workspace=workspace, title="Root")
        ),
    }[name]


@pytest.mark.parametrize("scope_name", ["workspace", "team", "objective", "team and objective"])
def test_query_budgets_hold_at_10_and_1000_initiatives(
    workspace: Workspace, scope_name: str, django_assert_max_num_queries: Any
) -> None:
    # given ten initiatives
    scale_base(workspace)
    scope = scale_scope(workspace, scope_name)

    def summary() -> ValueSummary:
        return value_summary(workspace=workspace, as_of=IN_WINDOW, scope=scope)

    def tree() -> list[ObjectiveValue]:
        return objectives_value(workspace=workspace, as_of=IN_WINDOW, scope=scope)

    add_initiatives(workspace, 10)
    small = (count_queries(summary), count_queries(tree))
    shipped = summary().realized_initiatives
    assert shipped > 0
    assert summary().pipeline_value is not None
    # when there are a thousand
    add_initiatives(workspace, 990, start=10)
    # then both reads take as many queries as for ten, within their budgets
    with django_assert_max_num_queries(SUMMARY_BUDGET):
        big = summary()
    with django_assert_max_num_queries(OBJECTIVES_BUDGET):
        nodes = tree()
    assert (count_queries(summary), count_queries(tree)) == small
    assert big.realized_initiatives > shipped
    if scope_name == "workspace":
        assert sum(big.counts_by_status.values()) == 1000
        assert sum(len(n.initiative_ids) for n in nodes) == 1000
