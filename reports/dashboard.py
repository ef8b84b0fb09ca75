"""The value dashboard's reads: the period a page looks at, its headline figures and the
data of its six charts (DESIGN.md §5), built on reports.selectors.

Twelve queries on PostgreSQL (thirteen elsewhere), whatever the number of initiatives,
objectives or measurements: the objective tree, the scope's shipped work with its
realized totals (shipped_totals, read once for the portfolio figures and for the work
released in the period), the rest of the portfolio figures (portfolio_summary), the
alignments of current and shipped work, the current work, the portfolio's best-valued
open work, and the key results (listed, then the figures of those shown). Charts that
could grow with the data (bars per initiative, points, leaves, key results) keep the
largest items and say how many they leave out.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, QuerySet

from accounts.models import Workspace
from initiatives.models import Alignment, Initiative, Status
from initiatives.selectors import HUNDRED
from reports.realized import Shipped, shipped_totals
from reports.selectors import (
    ACTIVE_WORK,
    SHIPPED,
    Calibration,
    Scope,
    ValueSummary,
    portfolio_summary,
    scoped_initiatives,
)
from strategy.forms import quarter_of
from strategy.models import KeyResult, Objective, ObjectiveStatus
from strategy.selectors import KeyResultFigures, key_results_with_figures

PERIODS = {
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "all_time": "All time",
}
# Realized value shows during a release's measurement window (90 days by default), so a
# quarter that has just begun holds little; twelve months is the view that is never empty
# for a team that ships.
DEFAULT_PERIOD = "last_12_months"

# Work not yet shipped nor closed: the bets the portfolio chart weighs.
OPEN_WORK = (Status.PROPOSED, Status.DISCOVERY, Status.COMMITTED, Status.IN_DELIVERY)
MAX_SERIES = 8  # lines of the value-over-time chart; the rest become "Other objectives"
MAX_BARS = 20  # initiatives of the expected-vs-realized chart
MAX_POINTS = 400  # initiatives of the portfolio chart
MAX_LEAVES = 12  # initiatives under one objective of the alignment chart
MAX_KEY_RESULTS = 40
NOT_ALIGNED = "Not aligned"
NO_OBJECTIVE = "No objective"


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a dashboard looks at: releases on `start` … `end` (no start: all of them),
    valued as of `end`, the evaluation date (§3's `today`)."""

    key: str
    label: str
    phrase: str  # completes "€1.2M realized …": "this quarter (Q3 2026)", "to date"
    start: date | None
    end: date


def period_of(key: str, today: date) -> Period:
    """The period `key` (one of PERIODS) seen from `today`."""
    label = PERIODS[key]
    if key == "this_quarter":
        start, _ = quarter_of(today)
        return Period(key, label, f"this quarter (Q{_quarter(start)} {start.year})", start, today)
    if key == "last_quarter":
        start, end = quarter_of(quarter_of(today)[0] - timedelta(days=1))
        return Period(key, label, f"last quarter (Q{_quarter(start)} {start.year})", start, end)
    if key == "this_year":
        return Period(key, label, f"this year ({today.year})", date(today.year, 1, 1), today)
    if key == "last_12_months":
        start = _year_before(today) + timedelta(days=1)
        return Period(key, label, "in the last 12 months", start, today)
    return Period(key, label, "to date", None, today)


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# --- what the page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    summary: ValueSummary  # the portfolio as of the period's end (§3)
    realized_in_period: Decimal | None  # of the work released in the period
    realized_initiatives: int  # released in the period, with a realized value
    measured_in_period: int  # of those, measured (window over)
    measuring_in_period: int  # of those, still in their window


@dataclass(frozen=True)
class Step:
    day: date
    value: Decimal  # added on that day
    titles: list[str]  # the initiatives released that day


@dataclass(frozen=True)
class ValueSeries:
    """The value one objective (with its descendants) received from the work released in
    the period, step by step, counted on each release day."""

    objective_id: int | None
    name: str
    steps: list[Step]
    total: Decimal


@dataclass(frozen=True)
class InitiativeValue:
    id: int
    title: str
    expected_value: Decimal | None
    realized_value: Decimal | None
    realization: Decimal | None


@dataclass(frozen=True)
class PortfolioPoint:
    id: int
    title: str
    status: str
    effort_weeks: Decimal
    risk_adjusted_value: Decimal
    confidence: int


@dataclass(frozen=True)
class AlignmentNode:
    """One wedge of the alignment chart: an objective, an initiative under it, the
    "Not aligned" branch, or the rest of a crowded branch."""

    id: str
    parent: str
    label: str
    kind: str  # objective | initiative | not_aligned | more
    effort: Decimal  # weeks (× alignment weight / 100 for an initiative under an objective)


@dataclass(frozen=True)
class KeyResultProgress:
    id: int
    objective: str
    title: str
    unit: str
    figures: KeyResultFigures


@dataclass
class Dashboard:
    period: Period
    headline: Headline
    value_over_time: list[ValueSeries] = field(default_factory=list)
    expected_vs_realized: list[InitiativeValue] = field(default_factory=list)
    measured_count: int = 0  # measured initiatives released in the period, all of them
    portfolio: list[PortfolioPoint] = field(default_factory=list)
    open_count: int = 0  # open initiatives (OPEN_WORK) in the scope
    estimated_count: int = 0  # of those, with an effort and a risk-adjusted value
    alignment: list[AlignmentNode] = field(default_factory=list)
    current_count: int = 0  # committed and in-delivery initiatives
    unestimated_current: int = 0  # of those, without an effort (no size in the chart)
    key_results: list[KeyResultProgress] = field(default_factory=list)
    key_result_count: int = 0
    calibration: list[Calibration] = field(default_factory=list)
    calibration_by: str = "team"  # team | owner

    @property
    def unestimated_open(self) -> int:
        return self.open_count - self.estimated_count


def dashboard(*, workspace: Workspace, scope: Scope, period: Period) -> Dashboard:
    """Everything the dashboard of `scope` shows for `period`."""
    objectives = {
        o.pk: o
        for o in Objective.objects.filter(workspace=workspace)
        .only("id", "title", "parent_id", "status")
        .order_by("title", "pk")
    }
    tree = _Tree(objectives)
    subtree = tree.subtree(scope.objective.pk) if scope.objective is not None else None
    initiatives = scoped_initiatives(workspace=workspace, scope=scope, subtree=subtree)

    # The shipped work of the scope with its totals as of the period's end, read once: the
    # portfolio figures take all of it, the charts the part released in the period.
    shipped = shipped_totals(
        initiatives.filter(status__in=SHIPPED), workspace_id=workspace.pk, as_of=period.end
    )
    summary = portfolio_summary(
        workspace=workspace, as_of=period.end, scope=scope, initiatives=initiatives, shipped=shipped
    )
    start = period.start
    released = (
        shipped if start is None else {pk: s for pk, s in shipped.items() if s.released_on >= start}
    )

    alignments = Alignment.objects.filter(
        initiative_id__in=initiatives.filter(status__in=(*ACTIVE_WORK, *SHIPPED)).values("pk")
    )
    if subtree is not None:
        alignments = alignments.filter(objective_id__in=subtree)
    rows = list(alignments.values_list("objective_id", "initiative_id", "weight"))
    current = list(
        initiatives.filter(status__in=ACTIVE_WORK)
        .order_by("title", "pk")
        .values_list("pk", "title", "effort_weeks")
    )

    data = Dashboard(period=period, headline=_headline(summary, released))
    data.value_over_time = _value_over_time(tree, scope, rows, released)
    _expected_vs_realized(data, released)
    _portfolio(data, initiatives, summary)
    _alignment(data, tree, scope, rows, current)
    _key_results(data, workspace, tree, scope, rows, period)
    _calibration(data, summary, scope)
    return data


class _Tree:
    """The workspace's objectives as a tree, from one query."""

    def __init__(self, objectives: dict[int, Objective]) -> None:
        self.objectives = objectives
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for o in objectives.values():  # by title: children come out in that order
            parent = o.parent_id if o.parent_id in objectives else None
            self.children[parent].append(o.pk)

    def subtree(self, root: int) -> set[int]:
        found, todo = set(), [root]
        while todo:
            pk = todo.pop()
            if pk not in found:
                found.add(pk)
                todo.extend(self.children[pk])
        return found

    def parent(self, pk: int) -> int | None:
        parent = self.objectives[pk].parent_id
        return parent if parent in self.objectives else None

    def ancestry(self, pk: int) -> list[int]:
        """The objective and its ancestors, nearest first."""
        chain = [pk]
        seen = {pk}
        while (parent := self.parent(chain[-1])) is not None and parent not in seen:
            chain.append(parent)
            seen.add(parent)
        return chain

    def depth_first(self, roots: Iterable[int]) -> list[int]:
        out: list[int] = []
        todo = list(reversed(list(roots)))
        while todo:
            pk = todo.pop()
            out.append(pk)
            todo.extend(reversed(self.children[pk]))
        return out

    def label(self, pk: int) -> str:
        o = self.objectives[pk]
        if o.status == ObjectiveStatus.ACTIVE:
            return o.title
        return f"{o.title} ({ObjectiveStatus(o.status).label.lower()})"


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


# --- headline --------------------------------------------------------------------------------


def _headline(summary: ValueSummary, released: dict[int, Shipped]) -> Headline:
    with_value = [s for s in released.values() if s.totals.realized_value is not None]
    measured = sum(1 for s in with_value if s.status == Status.MEASURED)
    return Headline(
        summary=summary,
        realized_in_period=_sum(s.totals.realized_value for s in with_value),
        realized_initiatives=len(with_value),
        measured_in_period=measured,
        measuring_in_period=len(with_value) - measured,
    )


# --- 1. value delivered over time by objective -------------------------------------------------


def _value_over_time(
    tree: _Tree,
    scope: Scope,
    rows: list[tuple[int, int, int]],
    released: dict[int, Shipped],
) -> list[ValueSeries]:
    """Per top-level objective (or per child of the scoped objective, and the scoped
    objective itself for the work aligned to it directly): Σ weight/100 × realized value
    over the alignments to it or a descendant (§3 "Objective value") of the initiatives
    released in the period, each counted on its release day. Work aligned to no objective
    has its own line, outside an objective scope."""
    if scope.objective is not None:
        root = scope.objective.pk
        groups = set(tree.children[root]) | {root}
    else:
        root = None
        groups = set(tree.children[None])

    group_of: dict[int, int] = {}  # objective → its line, found once per objective
    for pk in tree.objectives:
        group_of[pk] = next(
            (a for a in tree.ancestry(pk) if a in groups and a != root),
            root if root is not None else pk,
        )

    events: dict[int | None, list[tuple[date, Decimal, str]]] = defaultdict(list)
    aligned: set[int] = set()
    for objective_id, initiative_id, weight in rows:
        aligned.add(initiative_id)
        shipped = released.get(initiative_id)
        if shipped is None or shipped.totals.realized_value is None:
            continue
        events[group_of[objective_id]].append(
            (shipped.released_on, shipped.totals.realized_value * weight / HUNDRED, shipped.title)
        )
    if scope.objective is None:
        for shipped in released.values():
            if shipped.id not in aligned and shipped.totals.realized_value is not None:
                events[None].append(
                    (shipped.released_on, shipped.totals.realized_value, shipped.title)
                )

    series = []
    for group, happened in events.items():
        if group is None:
            name = NO_OBJECTIVE
        elif group == root:
            name = f"{tree.label(group)} itself"
        else:
            name = tree.label(group)
        series.append(
            ValueSeries(objective_id=group, name=name, steps=_steps(happened), total=Decimal(0))
        )
    series = [
        ValueSeries(s.objective_id, s.name, s.steps, sum((st.value for st in s.steps), Decimal(0)))
        for s in series
    ]
    series.sort(key=lambda s: (s.objective_id is None, -s.total, s.name.lower()))
    if len(series) > MAX_SERIES:
        kept, rest = series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :]
        merged = _steps(
            [(st.day, st.value, title) for s in rest for st in s.steps for title in st.titles[:1]]
        )
        kept.append(
            ValueSeries(
                None,
                f"{len(rest)} other objectives",
                merged,
                sum((s.total for s in rest), Decimal(0)),
            )
        )
        series = kept
    return series


def _steps(happened: list[tuple[date, Decimal, str]]) -> list[Step]:
    by_day: dict[date, tuple[list[Decimal], list[str]]] = {}
    for day, value, title in happened:
        values, titles = by_day.setdefault(day, ([], []))
        values.append(value)
        titles.append(title)
    return [
        Step(day=day, value=sum(values, Decimal(0)), titles=sorted(set(titles)))
        for day, (values, titles) in sorted(by_day.items())
    ]


# --- 2. expected vs realized per measured initiative -------------------------------------------


def _expected_vs_realized(data: Dashboard, released: dict[int, Shipped]) -> None:
    measured = [
        InitiativeValue(
            id=s.id,
            title=s.title,
            expected_value=s.totals.expected_value,
            realized_value=s.totals.realized_value,
            realization=s.totals.realization,
        )
        for s in released.values()
        if s.status == Status.MEASURED
        and (s.totals.expected_value is not None or s.totals.realized_value is not None)
    ]
    measured.sort(
        key=lambda v: (
            v.realized_value is None,
            -(v.realized_value or 0),
            -(v.expected_value or 0),
            v.title.lower(),
        )
    )
    data.measured_count = len(measured)
    data.expected_vs_realized = measured[:MAX_BARS]


# --- 3. the portfolio --------------------------------------------------------------------------


def _portfolio(data: Dashboard, initiatives: QuerySet[Initiative], summary: ValueSummary) -> None:
    estimated = initiatives.filter(
        status__in=OPEN_WORK,
        effort_weeks__gt=0,
        risk_adjusted_value__isnull=False,
    )
    data.open_count = sum(summary.counts_by_status[s] for s in OPEN_WORK)
    data.estimated_count = estimated.count()
    data.portfolio = [
        PortfolioPoint(
            id=pk,
            title=title,
            status=status,
            effort_weeks=effort or Decimal(0),
            risk_adjusted_value=value or Decimal(0),
            confidence=confidence,
        )
        for pk, title, status, effort, value, confidence in estimated.order_by(
            F("risk_adjusted_value").desc(), "pk"
        ).values_list("pk", "title", "status", "effort_weeks", "risk_adjusted_value", "confidence")[
            :MAX_POINTS
        ]
    ]


# --- 4. strategy alignment ---------------------------------------------------------------------


def _alignment(
    data: Dashboard,
    tree: _Tree,
    scope: Scope,
    rows: list[tuple[int, int, int]],
    current: list[tuple[int, str, Decimal | None]],
) -> None:
    """Objective → initiative for the committed and in-delivery work, each initiative
    sized by its effort × its alignment's weight (so work split between objectives is
    counted once), and the work aligned to no objective as its own "Not aligned" branch.
    Objectives appear with their ancestors (up to the scoped objective)."""
    efforts = {pk: (title, effort or Decimal(0)) for pk, title, effort in current}
    data.current_count = len(current)
    data.unestimated_current = sum(1 for _, _, effort in current if not effort)
    leaves: dict[str, list[tuple[Decimal, str, int]]] = defaultdict(list)
    aligned: set[int] = set()
    for objective_id, initiative_id, weight in rows:
        if initiative_id not in efforts:
            continue
        aligned.add(initiative_id)
        title, effort = efforts[initiative_id]
        if effort > 0:
            leaves[f"o{objective_id}"].append((effort * weight / HUNDRED, title, initiative_id))
    for pk, (title, effort) in efforts.items():
        if pk not in aligned and effort > 0:
            leaves["not-aligned"].append((effort, title, pk))

    shown: set[int] = set()
    top = scope.objective.pk if scope.objective is not None else None
    for branch in leaves:
        if branch.startswith("o"):
            for pk in tree.ancestry(int(branch[1:])):
                shown.add(pk)
                if pk == top:
                    break
    roots = [top] if top is not None else tree.children[None]
    nodes: list[AlignmentNode] = []
    for pk in tree.depth_first(roots):
        if pk not in shown:
            continue
        parent = tree.parent(pk)
        nodes.append(
            AlignmentNode(
                id=f"o{pk}",
                parent=f"o{parent}" if parent is not None and pk != top else "",
                label=tree.label(pk),
                kind="objective",
                effort=Decimal(0),
            )
        )
        nodes.extend(_leaves(f"o{pk}", leaves.get(f"o{pk}", [])))
    if leaves.get("not-aligned"):
        nodes.append(
            AlignmentNode(
                id="not-aligned",
                parent="",
                label=NOT_ALIGNED,
                kind="not_aligned",
                effort=Decimal(0),
            )
        )
        nodes.extend(_leaves("not-aligned", leaves["not-aligned"]))
    data.alignment = nodes


def _leaves(parent: str, items: list[tuple[Decimal, str, int]]) -> list[AlignmentNode]:
    items = sorted(items, key=lambda item: (-item[0], item[1].lower(), item[2]))
    nodes = [
        AlignmentNode(
            id=f"{parent}/i{pk}", parent=parent, label=title, kind="initiative", effort=effort
        )
        for effort, title, pk in items[:MAX_LEAVES]
    ]
    rest = items[MAX_LEAVES:]
    if rest:
        nodes.append(
            AlignmentNode(
                id=f"{parent}/more",
                parent=parent,
                label=f"{len(rest)} more initiatives",
                kind="more",
                effort=sum((effort for effort, _, _ in rest), Decimal(0)),
            )
        )
    return nodes


# --- 5. key-result progress --------------------------------------------------------------------


def _key_results(
    data: Dashboard,
    workspace: Workspace,
    tree: _Tree,
    scope: Scope,
    rows: list[tuple[int, int, int]],
    period: Period,
) -> None:
    """The key results of the active objectives of the scope, as of the period's end: the
    objective subtree, or under a team scope the objectives its current and shipped work
    serves with their ancestors (value rolls up to them)."""
    if scope.objective is not None:
        ids = tree.subtree(scope.objective.pk)
    elif scope.team is not None:
        ids = {pk for objective_id, _, _ in rows for pk in tree.ancestry(objective_id)}
    else:
        ids = set(tree.objectives)
    active = [pk for pk in ids if tree.objectives[pk].status == ObjectiveStatus.ACTIVE]
    if not active:
        return
    order = {pk: n for n, pk in enumerate(tree.depth_first(tree.children[None]))}
    # Each key result's figures sum a window of its metric: only the ones the chart shows
    # get them; the others are listed (to be counted and ordered) without.
    listed = sorted(
        KeyResult.objects.filter(
            workspace=workspace, archived_at__isnull=True, objective_id__in=active
        ).values_list("objective_id", "title", "metric__name", "pk"),
        key=lambda row: (order.get(row[0], 0), (row[1] or row[2]).lower(), row[3]),
    )
    shown = {pk: n for n, (_, _, _, pk) in enumerate(listed[:MAX_KEY_RESULTS])}
    found = key_results_with_figures(
        workspace=workspace,
        today=period.end,
        queryset=KeyResult.objects.filter(pk__in=list(shown)),
    )
    found.sort(key=lambda item: shown[item[0].pk])
    data.key_result_count = len(listed)
    data.key_results = [
        KeyResultProgress(
            id=kr.pk,
            objective=tree.objectives[kr.objective_id].title,
            title=kr.title or kr.metric.name,
            unit=kr.metric.unit,
            figures=figures,
        )
        for kr, figures in found
    ]


# --- 6. calibration ----------------------------------------------------------------------------


def _calibration(data: Dashboard, summary: ValueSummary, scope: Scope) -> None:
    """By team, unless one team is chosen or fewer than two teams have measured work:
    then by owner, which says more."""
    if scope.team is None and len(summary.calibration_by_team) >= 2:
        data.calibration, data.calibration_by = summary.calibration_by_team, "team"
    else:
        data.calibration, data.calibration_by = summary.calibration_by_owner, "owner"
