"""The strategy of the demo workspace "Acme Analytics": metrics, two years of data, OKRs.

Everything is written through the services, so the demo is valid by construction, and is
deterministic: the series come from a seeded random.Random and are anchored to `today`, so
the strategy page always shows a year in progress. Key-result targets are derived from
the generated data so that the page shows every pace (achieved, on track, at risk, off
track) whatever the day the demo is seeded.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from accounts.models import User, Workspace
from strategy.models import Aggregation, Direction, Metric, Objective
from strategy.selectors import Pace, expected_progress_of, pace_of, progress_of
from strategy.services import (
    MAX_POINTS_PER_CALL,
    key_result_create,
    measurements_ingest,
    metric_create,
    objective_create,
)

HISTORY_DAYS = 730
SEED = 20_260_101


@dataclass(frozen=True)
class Release:
    days_ago: int
    name: str


# Product releases that move the metrics: the step changes in the series.
RELEASES = {
    "onboarding": Release(600, "Guided onboarding: a first dashboard in ten minutes"),
    "scheduled_reports": Release(420, "Scheduled reports and Slack alerts"),
    "query_engine": Release(250, "Query engine v2 with a columnar cache"),
    "help_center": Release(150, "Self-serve help center with in-app answers"),
    "usage_pricing": Release(75, "Team plan with usage-based pricing"),
}

WEEKDAY_FLOW = (1.12, 1.18, 1.15, 1.08, 0.95, 0.42, 0.38)  # Monday … Sunday
WEEKDAY_SUPPORT = (1.15, 1.1, 1.05, 1.0, 0.95, 0.45, 0.4)


@dataclass(frozen=True)
class Series:
    """How a metric's values are drawn. The level moves linearly from `start` to `end`
    over the two years, times a yearly wave, a weekday pattern (flows), the step changes
    of releases, and AR(1) noise (`persistence` 0: independent days, near 1: a level that
    wanders)."""

    start: float
    end: float
    noise: float
    persistence: float = 0.0
    weekday: Sequence[float] | None = None
    yearly: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    places: int = 2
    every_days: int = 1
    maximum: float | None = None


@dataclass(frozen=True)
class MetricSpec:
    key: str
    name: str
    description: str
    unit: str
    category: str
    direction: str
    aggregation: str
    value_per_unit: str | None
    source: str
    series: Series


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        key="mrr",
        name="Monthly recurring revenue",
        description=(
            "Sum of the monthly subscription value of every paying account at the end of "
            "the day, after discounts, before tax. One euro more MRR is worth 12 EUR a year."
        ),
        unit="EUR",
        category="revenue",
        direction=Direction.INCREASE,
        aggregation=Aggregation.LAST,
        value_per_unit="12",
        source="Stripe",
        series=Series(
            start=185_000,
            end=318_000,
            noise=0.003,
            persistence=0.97,
            steps={"scheduled_reports": 0.02, "usage_pricing": 0.04},
            places=0,
        ),
    ),
    MetricSpec(
        key="signups",
        name="Trial sign-ups",
        description=(
            "New workspaces that start a 14-day trial, per day (bots and duplicates "
            "removed). Worth 640 EUR each: lifetime value 16,000 EUR × 4% trial-to-paid."
        ),
        unit="sign-ups",
        category="acquisition",
        direction=Direction.INCREASE,
        aggregation=Aggregation.SUM,
        value_per_unit="640",
        source="Segment",
        series=Series(
            start=36,
            end=50,
            noise=0.16,
            weekday=WEEKDAY_FLOW,
            yearly=0.08,
            steps={"onboarding": 0.12, "usage_pricing": 0.1},
            places=0,
        ),
    ),
    MetricSpec(
        key="trial-conversion",
        name="Trial-to-paid conversion",
        description=(
            "Share of trials ending that day that became a paying account. One percentage "
            "point is about 120 more customers a year: 1,920,000 EUR of lifetime value."
        ),
        unit="%",
        category="acquisition",
        direction=Direction.INCREASE,
        aggregation=Aggregation.MEAN,
        value_per_unit="1920000",
        source="Stripe + Segment",
        series=Series(
            start=3.6,
            end=4.4,
            noise=0.1,
            persistence=0.3,
            steps={"onboarding": 0.08, "usage_pricing": 0.07},
            places=2,
        ),
    ),
    MetricSpec(
        key="logo-churn",
        name="Monthly logo churn",
        description=(
            "Paying accounts lost in the last 30 days, as a share of the paying accounts 30 "
            "days ago. One point less keeps about 7 accounts a month: 33,600 EUR a year."
        ),
        unit="%",
        category="retention",
        direction=Direction.DECREASE,
        aggregation=Aggregation.LAST,
        value_per_unit="33600",
        source="Stripe",
        series=Series(
            start=2.6,
            end=2.05,
            noise=0.03,
            persistence=0.95,
            steps={"scheduled_reports": -0.06, "help_center": -0.05},
            places=2,
        ),
    ),
    MetricSpec(
        key="weekly-active-teams",
        name="Weekly active teams",
        description=(
            "Workspaces where at least three people opened a dashboard in the last 7 days "
            "(trailing window, counted every day)."
        ),
        unit="teams",
        category="engagement",
        direction=Direction.INCREASE,
        aggregation=Aggregation.LAST,
        value_per_unit=None,
        source="Segment",
        series=Series(
            start=410,
            end=720,
            noise=0.012,
            persistence=0.9,
            steps={"scheduled_reports": 0.06},
            places=0,
        ),
    ),
    MetricSpec(
        key="queries-run",
        name="Queries run",
        description="Queries our customers ran that day, from dashboards, alerts and the API.",
        unit="queries",
        category="engagement",
        direction=Direction.INCREASE,
        aggregation=Aggregation.SUM,
        value_per_unit=None,
        source="Query engine logs",
        series=Series(
            start=52_000,
            end=105_000,
            noise=0.08,
            weekday=WEEKDAY_FLOW,
            steps={"query_engine": 0.15, "scheduled_reports": 0.08},
            places=0,
        ),
    ),
    MetricSpec(
        key="support-cost",
        name="Support cost",
        description=(
            "Cost of customer support that day: agent time at the loaded hourly rate plus "
            "the helpdesk licence. A euro saved is a euro."
        ),
        unit="EUR",
        category="cost",
        direction=Direction.DECREASE,
        aggregation=Aggregation.SUM,
        value_per_unit="1",
        source="Zendesk + payroll",
        series=Series(
            start=2_100,
            end=2_650,
            noise=0.1,
            weekday=WEEKDAY_SUPPORT,
            steps={"help_center": -0.18},
            places=2,
        ),
    ),
    MetricSpec(
        key="infra-cost-per-team",
        name="Infrastructure cost per active team",
        description=(
            "Cloud bill of the last 30 days divided by the weekly active teams. One euro "
            "less per team and month is worth about 9,000 EUR a year (750 teams × 12)."
        ),
        unit="EUR",
        category="cost",
        direction=Direction.DECREASE,
        aggregation=Aggregation.LAST,
        value_per_unit="9000",
        source="AWS Cost Explorer",
        series=Series(
            start=46,
            end=41,
            noise=0.01,
            persistence=0.95,
            steps={"query_engine": -0.12},
            places=2,
        ),
    ),
    MetricSpec(
        key="market-share",
        name="Market share, EU mid-market BI",
        description=(
            "Our share of new mid-market BI contracts in the EU, from the quarterly analyst "
            "panel and our win/loss data, re-estimated weekly. One point of a 150 M EUR "
            "market is 1,500,000 EUR of annual revenue."
        ),
        unit="%",
        category="market_share",
        direction=Direction.INCREASE,
        aggregation=Aggregation.LAST,
        value_per_unit="1500000",
        source="Analyst panel + win/loss CRM",
        series=Series(start=6.2, end=7.6, noise=0.012, persistence=0.9, every_days=7),
    ),
    MetricSpec(
        key="nps",
        name="Net Promoter Score",
        description=(
            "Promoters minus detractors, in points, among the admins surveyed that week "
            "(about 60 answers a week)."
        ),
        unit="points",
        category="satisfaction",
        direction=Direction.INCREASE,
        aggregation=Aggregation.MEAN,
        value_per_unit=None,
        source="Delighted",
        series=Series(
            start=28,
            end=38,
            noise=0.08,
            persistence=0.2,
            steps={"scheduled_reports": 0.05},
            places=1,
            every_days=7,
        ),
    ),
    MetricSpec(
        key="csat",
        name="Support satisfaction (CSAT)",
        description="Share of solved support tickets rated good or great, per day.",
        unit="%",
        category="satisfaction",
        direction=Direction.INCREASE,
        aggregation=Aggregation.MEAN,
        value_per_unit=None,
        source="Zendesk",
        series=Series(
            start=87,
            end=90.5,
            noise=0.025,
            weekday=(1, 1, 1, 1, 1, 0.97, 0.97),
            steps={"help_center": 0.02},
            places=1,
            maximum=100,
        ),
    ),
    MetricSpec(
        key="dashboard-load-p95",
        name="Dashboard load time, 95th percentile",
        description=(
            "95th percentile of the time to render a dashboard, over all loads that day, "
            "measured in the browser."
        ),
        unit="ms",
        category="other",
        direction=Direction.DECREASE,
        aggregation=Aggregation.MEAN,
        value_per_unit=None,
        source="Real user monitoring",
        series=Series(
            start=1_450,
            end=1_150,
            noise=0.07,
            persistence=0.4,
            steps={"query_engine": -0.22},
            places=0,
        ),
    ),
)


@dataclass(frozen=True)
class KeyResultSpec:
    metric: str
    title: str  # {baseline}, {target}, {start} and {due} are filled in
    starts_days_ago: int
    days: int
    aim: Pace


@dataclass(frozen=True)
class ObjectiveSpec:
    title: str
    description: str
    key_results: tuple[KeyResultSpec, ...] = ()
    children: tuple["ObjectiveSpec", ...] = ()


OBJECTIVES: tuple[ObjectiveSpec, ...] = (
    ObjectiveSpec(
        title="Make self-serve our growth engine",
        description="Most new revenue comes from teams that find, try and buy Acme alone.",
        children=(
            ObjectiveSpec(
                title="Trials that convert: a first dashboard in ten minutes",
                description="Every trial connects a source and shares a dashboard on day one.",
                key_results=(
                    KeyResultSpec(
                        "trial-conversion",
                        "Raise trial-to-paid conversion from {baseline} to {target}",
                        145,
                        183,
                        "on_track",
                    ),
                    KeyResultSpec(
                        "signups",
                        "Win {target} between {start} and {due}",
                        53,
                        91,
                        "at_risk",
                    ),
                    KeyResultSpec(
                        "signups",
                        "Win {target} between {start} and {due}",
                        236,
                        91,
                        "achieved",
                    ),
                ),
            ),
            ObjectiveSpec(
                title="Win and expand mid-market accounts",
                description="Teams of 50 to 500 people choose Acme and grow on it.",
                key_results=(
                    KeyResultSpec(
                        "mrr", "Grow MRR from {baseline} to {target} by {due}", 326, 364, "on_track"
                    ),
                    KeyResultSpec(
                        "market-share",
                        "Take EU mid-market share from {baseline} to {target}",
                        145,
                        183,
                        "off_track",
                    ),
                ),
            ),
        ),
    ),
    ObjectiveSpec(
        title="Customers rely on Acme every week and stay",
        description="Acme is where our customers' weekly business review happens.",
        children=(
            ObjectiveSpec(
                title="Make Acme a weekly habit",
                description="Scheduled reports and alerts bring teams back without a reminder.",
                key_results=(
                    KeyResultSpec(
                        "weekly-active-teams",
                        "Grow weekly active teams from {baseline} to {target}",
                        145,
                        183,
                        "achieved",
                    ),
                    KeyResultSpec(
                        "queries-run",
                        "Customers run {target} between {start} and {due}",
                        53,
                        91,
                        "on_track",
                    ),
                ),
            ),
            ObjectiveSpec(
                title="Fewer reasons to leave",
                description="Find and fix what makes accounts cancel before they do.",
                key_results=(
                    KeyResultSpec(
                        "logo-churn",
                        "Cut monthly logo churn from {baseline} to {target}",
                        236,
                        274,
                        "at_risk",
                    ),
                    KeyResultSpec(
                        "nps", "Lift NPS from {baseline} to {target}", 145, 183, "on_track"
                    ),
                ),
            ),
            ObjectiveSpec(
                title="Support that answers the first time",
                description="Answers in the product first; a person when it matters.",
                key_results=(
                    KeyResultSpec(
                        "csat",
                        "Lift support CSAT from {baseline} to {target}",
                        145,
                        183,
                        "achieved",
                    ),
                    KeyResultSpec(
                        "nps",
                        "Lift NPS from {baseline} to {target} this quarter",
                        53,
                        91,
                        "off_track",
                    ),
                ),
            ),
        ),
    ),
    ObjectiveSpec(
        title="Serve every customer profitably",
        description="Growth that pays for itself: lower cost to serve, faster product.",
        children=(
            ObjectiveSpec(
                title="Halve the cost to serve a team",
                description="The query engine and caching carry the load, not more servers.",
                key_results=(
                    KeyResultSpec(
                        "infra-cost-per-team",
                        "Bring infrastructure cost per team from {baseline} to {target}",
                        326,
                        364,
                        "on_track",
                    ),
                    KeyResultSpec(
                        "dashboard-load-p95",
                        "Dashboards load in {target} at p95 (from {baseline})",
                        145,
                        183,
                        "achieved",
                    ),
                    KeyResultSpec(
                        "dashboard-load-p95",
                        "Dashboards load in {target} at p95 by {due} (from {baseline})",
                        236,
                        91,
                        "off_track",
                    ),
                ),
            ),
            ObjectiveSpec(
                title="Pricing that grows with usage",
                description="Teams pay more as they get more value, and never feel surprised.",
                key_results=(
                    KeyResultSpec(
                        "mrr",
                        "Grow MRR from {baseline} to {target} this quarter",
                        53,
                        91,
                        "at_risk",
                    ),
                    KeyResultSpec(
                        "queries-run",
                        "Customers run {target} between {start} and {due}",
                        236,
                        91,
                        "achieved",
                    ),
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class SeedSummary:
    metrics: int
    measurements: int
    objectives: int
    key_results: int

    def __str__(self) -> str:
        return (
            f"{self.metrics:,} metrics, {self.measurements:,} measurements, "
            f"{self.objectives:,} objectives, {self.key_results:,} key results"
        )


def seed_strategy(*, workspace: Workspace, owner: User, today: date) -> SeedSummary:
    """Creates the demo metrics, their measurements up to `today`, and the objectives with
    their key results. Call it on a workspace without metrics (metric keys are unique)."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not cryptography
    metrics: dict[str, Metric] = {}
    series: dict[str, dict[date, Decimal]] = {}
    measurements = 0
    for spec in METRICS:
        metric = metric_create(
            workspace=workspace,
            key=spec.key,
            name=spec.name,
            description=spec.description,
            unit=spec.unit,
            category=spec.category,
            direction=spec.direction,
            aggregation=spec.aggregation,
            value_per_unit=Decimal(spec.value_per_unit) if spec.value_per_unit else None,
            owner=owner,
            source=spec.source,
        )
        values = _draw(spec.series, today=today, rng=rng)
        points = [
            {
                "observed_on": day,
                "value": value,
                "source": spec.source,
                "note": _note(spec, day, today),
            }
            for day, value in values.items()
        ]
        for start in range(0, len(points), MAX_POINTS_PER_CALL):
            measurements_ingest(metric=metric, points=points[start : start + MAX_POINTS_PER_CALL])
        metrics[spec.key] = metric
        series[spec.key] = values
        measurements += len(points)

    objectives = key_results = 0
    year_start, year_end = date(today.year, 1, 1), date(today.year, 12, 31)
    for company in OBJECTIVES:
        specs = [kr for child in company.children for kr in child.key_results]
        period_start = min([year_start, *(today - timedelta(kr.starts_days_ago) for kr in specs)])
        period_end = max(
            [year_end, *(today - timedelta(kr.starts_days_ago - kr.days) for kr in specs)]
        )
        parent = _objective(workspace, owner, company, None, period_start, period_end)
        objectives += 1
        for child in company.children:
            objective = _objective(workspace, owner, child, parent, period_start, period_end)
            objectives += 1
            for kr in child.key_results:
                _key_result(workspace, objective, metrics[kr.metric], series[kr.metric], kr, today)
                key_results += 1
    return SeedSummary(
        metrics=len(metrics),
        measurements=measurements,
        objectives=objectives,
        key_results=key_results,
    )


def _draw(spec: Series, *, today: date, rng: random.Random) -> dict[date, Decimal]:
    first = today - timedelta(days=HISTORY_DAYS - 1)
    quantum = Decimal(1).scaleb(-spec.places)
    values: dict[date, Decimal] = {}
    wander = 0.0
    for offset in range(HISTORY_DAYS):
        day = first + timedelta(days=offset)
        # Innovations of a stationary AR(1): the noise keeps the same spread whatever the
        # persistence.
        wander = spec.persistence * wander + rng.gauss(0, spec.noise) * math.sqrt(
            1 - spec.persistence**2
        )
        if (today - day).days % spec.every_days:
            continue
        level = spec.start + (spec.end - spec.start) * offset / (HISTORY_DAYS - 1)
        level *= 1 + spec.yearly * math.cos(2 * math.pi * (day.timetuple().tm_yday - 60) / 365.25)
        if spec.weekday is not None:
            level *= spec.weekday[day.weekday()]
            if (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2):
                level *= 0.55  # the holidays
        for release, change in spec.steps.items():
            if (today - day).days <= RELEASES[release].days_ago:
                level *= 1 + change
        value = max(0.0, level * (1 + wander))
        if spec.maximum is not None:
            value = min(spec.maximum, value)
        values[day] = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_EVEN)
    return values


def _note(spec: MetricSpec, day: date, today: date) -> str:
    for release, _ in spec.series.steps.items():
        if (today - day).days == RELEASES[release].days_ago:
            return f"Released: {RELEASES[release].name}"
    return ""


def _objective(
    workspace: Workspace,
    owner: User,
    spec: ObjectiveSpec,
    parent: Objective | None,
    period_start: date,
    period_end: date,
) -> Objective:
    return objective_create(
        workspace=workspace,
        title=spec.title,
        description=spec.description,
        parent=parent,
        owner=owner,
        period_start=period_start,
        period_end=period_end,
        status="active",
    )


def _key_result(
    workspace: Workspace,
    objective: Objective,
    metric: Metric,
    values: dict[date, Decimal],
    spec: KeyResultSpec,
    today: date,
) -> None:
    start_on = today - timedelta(days=spec.starts_days_ago)
    due_on = start_on + timedelta(days=spec.days)
    window = [v for d, v in values.items() if start_on <= d <= min(today, due_on)]
    if metric.aggregation == Aggregation.SUM:
        # A flow's key result counts from zero: "9,000 sign-ups this quarter".
        baseline = Decimal(0)
        current = sum(window, Decimal(0))
    elif metric.aggregation == Aggregation.MEAN:
        before = [v for d, v in values.items() if start_on - timedelta(days=90) <= d < start_on]
        baseline = _round(sum(before, Decimal(0)) / len(before), metric)
        current = sum(window, Decimal(0)) / len(window)
    else:
        baseline = _round(_as_of(values, start_on - timedelta(days=1)), metric)
        current = _as_of(values, min(today, due_on))
    expected = expected_progress_of(start_on=start_on, due_on=due_on, today=today)
    target = _target(
        metric=metric,
        baseline=baseline,
        current=current,
        aim=spec.aim,
        expected=expected,
    )
    key_result_create(
        workspace=workspace,
        objective=objective,
        metric=metric,
        title=spec.title.format(
            baseline=_show(baseline, metric),
            target=_show(target, metric),
            start=f"{start_on:%-d %b}",
            due=f"{due_on:%-d %b %Y}",
        ),
        baseline=baseline,
        target=target,
        start_on=start_on,
        due_on=due_on,
    )


def _as_of(values: dict[date, Decimal], on: date) -> Decimal:
    return values[max(d for d in values if d <= on)]


def _target(
    *, metric: Metric, baseline: Decimal, current: Decimal, aim: Pace, expected: Decimal
) -> Decimal:
    """A round target that puts the key result at the pace `aim` today, or a plain 10%
    improvement when the metric moved the wrong way (then it is off track anyway)."""
    better = 1 if metric.direction == Direction.INCREASE else -1
    moved = current - baseline
    wanted = {
        "achieved": Decimal("1.15"),
        "on_track": expected + (1 - expected) * Decimal("0.4"),
        "at_risk": Decimal("0.85") * expected,
        "off_track": Decimal("0.35") * expected,
    }[aim]
    if moved * better <= 0 or wanted <= 0:
        return _round(baseline + better * max(abs(baseline), Decimal(1)) / 10, metric)
    exact = baseline + moved / wanted
    for digits in range(2, 10):
        target = _significant(exact, digits, metric)
        if target == baseline:
            continue
        progress = progress_of(current=current, baseline=baseline, target=target)
        if progress is not None and all(
            pace_of(progress=progress * factor, expected=expected) == aim
            for factor in (Decimal("0.99"), Decimal("1.01"))
        ):
            return target
    return _round(exact, metric)


def _significant(value: Decimal, digits: int, metric: Metric) -> Decimal:
    """`value` with at most `digits` significant digits, never finer than the metric's."""
    places = _places(metric)
    exponent = max(value.adjusted() - digits + 1, -places) if value else -places
    rounded = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    return rounded.quantize(Decimal(1).scaleb(-places))


def _round(value: Decimal, metric: Metric) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-_places(metric)), rounding=ROUND_HALF_EVEN)


def _places(metric: Metric) -> int:
    return next(spec.series.places for spec in METRICS if spec.key == metric.key)


def _show(value: Decimal, metric: Metric) -> str:
    if metric.unit == "EUR":
        if abs(value) >= 10_000:
            return f"€{value / 1000:,.0f}k"
        return f"€{value:,.2f}".replace(".00", "")
    if metric.unit == "%":
        return f"{value.normalize():f}%"
    number = f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    return f"{number} {metric.unit}"
