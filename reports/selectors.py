"""What product work is worth, for stakeholders: the portfolio figures and the value each
objective received (DESIGN.md §3 "Objective value" and "Portfolio", §4 `value/summary/` and
`value/objectives/`).

`as_of` is the evaluation date of the value formulas (§3's `today`): realized figures use
the windows as they stood on that day, and an initiative released after it has realized
nothing yet. Statuses, efforts and alignments are today's: the portfolio as it is now,
valued as of that day.

Every read is a fixed number of queries, whatever the number of initiatives, objectives,
impacts or measurements.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from accounts.models import Team, Workspace
from initiatives.models import Alignment, ExpectedImpact, Idea, IdeaStatus, Initiative, Status
from initiatives.selectors import HUNDRED, ImpactTotals
from reports.realized import Shipped, shipped_totals, totals_by_id
from strategy.models import KeyResult, Objective, ObjectiveStatus
from strategy.selectors import KeyResultFigures, key_results_with_figures

ACTIVE_WORK = (Status.COMMITTED, Status.IN_DELIVERY)
SHIPPED = (Status.RELEASED, Status.MEASURED)


@dataclass(frozen=True)
class Scope:
    """The part of the workspace a figure covers: all of it, one team's initiatives, or the
    initiatives aligned to an objective or one of its descendants (and those objectives)."""

    team: Team | None = None
    objective: Objective | None = None


def objective_subtree_ids(*, workspace: Workspace, root_id: int) -> set[int]:
    """The objective and its descendants: one query for the workspace's tree."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Objective.objects.filter(workspace=workspace).values_list(
        "pk", "parent_id"
    ):
        children[parent_id].append(pk)
    found, todo = set(), [root_id]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children[pk])
    return found


def scoped_initiatives(
    *, workspace: Workspace, scope: Scope, subtree: set[int] | None = None
) -> QuerySet[Initiative]:
    """The workspace's initiatives within the scope (`subtree`: the objective scope's ids,
    when the caller has them already)."""
    initiatives = Initiative.objects.filter(workspace=workspace)
    if scope.team is not None:
        initiatives = initiatives.filter(team=scope.team)
    if scope.objective is not None:
        ids = subtree or objective_subtree_ids(workspace=workspace, root_id=scope.objective.pk)
        initiatives = initiatives.filter(
            Exists(Alignment.objects.filter(initiative=OuterRef("pk"), objective_id__in=ids))
        )
    return initiatives


# What the readers of realized_totals use of an initiative.
REALIZED_FIELDS = (
    "id",
    "workspace_id",
    "title",
    "status",
    "team_id",
    "owner_id",
    "released_on",
    "measurement_window_days",
)


def realized_totals(
    initiatives: QuerySet[Initiative], *, as_of: date
) -> dict[int, tuple[Initiative, ImpactTotals]]:
    """The totals (§3) of the initiatives of the queryset (of one workspace) released on or
    before `as_of`, by id, with the initiatives: two queries. The others have realized
    nothing as of that day. The totals are those of impacts_for, kept between reads
    (reports.realized). Of the initiatives only the fields of REALIZED_FIELDS are loaded:
    thousands of them with their texts were most of the cost."""
    released = list(
        initiatives.filter(released_on__isnull=False, released_on__lte=as_of).only(*REALIZED_FIELDS)
    )
    totals = totals_by_id(initiatives, released, as_of=as_of)
    return {i.pk: (i, totals[i.pk]) for i in released}


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    """Sums skip nulls; a sum of nothing but nulls is null (§3)."""
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else part / whole


# --- value/summary/ ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """How good the bets of one owner or team were: the median realization of their
    measured initiatives (those with a realization)."""

    id: int
    name: str
    median_realization: Decimal | None
    measured: int


@dataclass(frozen=True)
class ValueSummary:
    as_of: date
    currency: str
    counts_by_status: dict[str, int]
    effort_by_status: dict[str, Decimal]
    alignment_score: Decimal | None
    tactical_share: Decimal | None
    pipeline_value: Decimal | None
    realized_value: Decimal | None
    realized_initiatives: int  # shipped initiatives with a realized value as of the day
    calibration_by_owner: list[Calibration]
    calibration_by_team: list[Calibration]
    declined_initiatives: int
    declined_ideas: int


def value_summary(*, workspace: Workspace, as_of: date, scope: Scope = Scope()) -> ValueSummary:
    """The portfolio figures of §3: six queries (five on PostgreSQL)."""
    subtree = (
        objective_subtree_ids(workspace=workspace, root_id=scope.objective.pk)
        if scope.objective is not None
        else None
    )
    initiatives = scoped_initiatives(workspace=workspace, scope=scope, subtree=subtree)
    shipped = shipped_totals(
        initiatives.filter(status__in=SHIPPED), workspace_id=workspace.pk, as_of=as_of
    )
    return portfolio_summary(
        workspace=workspace, as_of=as_of, scope=scope, initiatives=initiatives, shipped=shipped
    )


def portfolio_summary(
    *,
    workspace: Workspace,
    as_of: date,
    scope: Scope,
    initiatives: QuerySet[Initiative],
    shipped: dict[int, Shipped],
) -> ValueSummary:
    """value_summary's figures from what its caller read already: the scope's initiatives
    (scoped_initiatives) and the shipped_totals of their released and measured ones as of
    `as_of` (the dashboard reads those once for its charts as well). Four queries."""
    counts = {s: 0 for s in Status.values}
    efforts = {s: Decimal(0) for s in Status.values}
    by_status = (
        initiatives.order_by().values("status").annotate(n=Count("id"), e=Sum("effort_weeks"))
    )
    for row in by_status:
        counts[row["status"]] = row["n"]
        efforts[row["status"]] = row["e"] or Decimal(0)

    # Committed and in-delivery work: its effort, the part that serves an active objective
    # and the tactical part, summed in the database (exact sums of the efforts, as Python's
    # are), then its risk-adjusted expected value from its impacts.
    committed = initiatives.filter(status__in=ACTIVE_WORK)
    active_aligned = Alignment.objects.filter(
        initiative=OuterRef("pk"), objective__status=ObjectiveStatus.ACTIVE
    )
    # By (aligned, kind), four rows at most: a FILTER (WHERE EXISTS …) would run the
    # subquery per initiative, a GROUP BY on it hashes it once.
    effort = aligned_effort = tactical_effort = Decimal(0)
    for aligned, kind, part in (
        committed.annotate(aligned=Exists(active_aligned))
        .order_by()
        .values("aligned", "kind")
        .annotate(effort=Sum("effort_weeks"))
        .values_list("aligned", "kind", "effort")
    ):
        part = part or Decimal(0)
        effort += part
        aligned_effort += part if aligned else 0
        tactical_effort += part if kind == "tactical" else 0
    pipeline = _sum(
        change * per_unit * confidence / HUNDRED
        for change, per_unit, confidence in ExpectedImpact.objects.filter(
            initiative__in=committed.values("pk"), metric__value_per_unit__isnull=False
        ).values_list("expected_change", "metric__value_per_unit", "confidence")
        if per_unit is not None
    )

    realized = [s.totals.realized_value for s in shipped.values()]
    measured: list[Shipped] = [s for s in shipped.values() if s.status == Status.MEASURED]
    declined_ideas = (
        Idea.objects.filter(workspace=workspace, status=IdeaStatus.DECLINED).count()
        if scope == Scope()
        else 0  # ideas belong to no team or objective
    )
    return ValueSummary(
        as_of=as_of,
        currency=workspace.currency,
        counts_by_status=counts,
        effort_by_status=efforts,
        alignment_score=_share(aligned_effort, effort),
        tactical_share=_share(tactical_effort, effort),
        pipeline_value=pipeline,
        realized_value=_sum(realized),
        realized_initiatives=sum(1 for v in realized if v is not None),
        calibration_by_owner=_calibration(
            (s.owner_id, s.owner_name, s.totals.realization)
            for s in measured
            if s.owner_id is not None
        ),
        calibration_by_team=_calibration(
            (s.team_id, s.team_name, s.totals.realization) for s in measured if s.team_id
        ),
        declined_initiatives=counts[Status.DECLINED],
        declined_ideas=declined_ideas,
    )


def _calibration(rows: Iterable[tuple[int, str, Decimal | None]]) -> list[Calibration]:
    """Median realization per id over the rows that have one; by name."""
    groups: dict[int, tuple[str, list[Decimal], list[int]]] = {}
    for pk, name, realization in rows:
        _, values, count = groups.setdefault(pk, (name, [], [0]))
        count[0] += 1
        if realization is not None:
            values.append(realization)
    return sorted(
        (
            Calibration(
                id=pk,
                name=name,
                median_realization=statistics.median(values) if values else None,
                measured=count[0],
            )
            for pk, (name, values, count) in groups.items()
        ),
        key=lambda c: (c.name.lower(), c.id),
    )


# --- value/objectives/ -------------------------------------------------------------------------


@dataclass
class ObjectiveValue:
    objective: Objective
    value_delivered: Decimal | None = None
    own_value: Decimal | None = None  # from the alignments to this objective itself
    key_results: list[tuple[KeyResult, KeyResultFigures]] = field(default_factory=list)
    initiative_ids: list[int] = field(default_factory=list)  # aligned to it directly
    children: list["ObjectiveValue"] = field(default_factory=list)


def objectives_value(
    *, workspace: Workspace, as_of: date, scope: Scope = Scope()
) -> list[ObjectiveValue]:
    """Every objective (of the scope's subtree) with the value delivered to it and its
    descendants, `value_delivered(o) = Σ a.weight/100 × realized_value(a.initiative)` over
    the alignments to o or a descendant (§3), its key results with progress and pace, and
    the initiatives aligned to it; parents before children. Five queries (four on
    PostgreSQL)."""
    objectives = list(Objective.objects.filter(workspace=workspace).order_by("title", "pk"))
    if scope.objective is not None:
        keep = objective_subtree_ids(workspace=workspace, root_id=scope.objective.pk)
        objectives = [o for o in objectives if o.pk in keep]
    nodes = {o.pk: ObjectiveValue(objective=o) for o in objectives}

    alignments = Alignment.objects.filter(
        objective_id__in=list(nodes), initiative__workspace=workspace
    )
    if scope.team is not None:
        alignments = alignments.filter(initiative__team=scope.team)
    rows = list(
        alignments.order_by("initiative_id").values_list("objective_id", "initiative_id", "weight")
    )
    # The workspace's (or team's) released work, aligned or not: no join with the
    # alignments to pick the aligned, and the same totals value_summary keeps.
    released = Initiative.objects.filter(workspace=workspace)
    if scope.team is not None:
        released = released.filter(team=scope.team)
    realized = shipped_totals(released, workspace_id=workspace.pk, as_of=as_of)
    own: dict[int, list[Decimal | None]] = defaultdict(list)
    for objective_id, initiative_id, weight in rows:
        nodes[objective_id].initiative_ids.append(initiative_id)
        if initiative_id in realized:
            value = realized[initiative_id].totals.realized_value
            own[objective_id].append(None if value is None else value * weight / HUNDRED)

    for kr, figures in key_results_with_figures(
        workspace=workspace,
        today=as_of,
        queryset=KeyResult.objects.filter(archived_at__isnull=True, objective_id__in=list(nodes)),
    ):
        nodes[kr.objective_id].key_results.append((kr, figures))

    roots: list[ObjectiveValue] = []
    for node in nodes.values():
        node.own_value = _sum(own[node.objective.pk])
        parent = nodes.get(node.objective.parent_id) if node.objective.parent_id else None
        (parent.children if parent else roots).append(node)
    for root in roots:
        _roll_up(root)
    return _depth_first(roots)


def _roll_up(node: ObjectiveValue) -> Decimal | None:
    for child in node.children:
        _roll_up(child)
    node.value_delivered = _sum([node.own_value, *(c.value_delivered for c in node.children)])
    return node.value_delivered


def _depth_first(nodes: Sequence[ObjectiveValue]) -> list[ObjectiveValue]:
    out: list[ObjectiveValue] = []
    for node in nodes:
        out.append(node)
        out.extend(_depth_first(node.children))
    return out
