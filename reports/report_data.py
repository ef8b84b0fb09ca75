"""What a value report says (DESIGN.md §6): the data of one run, section by section, as
JSON-safe values (money and metric values as decimal strings, dates as ISO strings), so
the run keeps an exact snapshot and the HTML, PDF and CSV are rendered from it alone.

The headline is the value dashboard's own (reports.dashboard) for the same scope and days,
so a report and the dashboard never disagree. The lists a person reads are capped (the
largest items first, with how many more there are); the CSV holds every initiative of the
scope.

Each section is a function of a `_Context`; `report_data` runs them in order and reports
progress after each, and a section that fails raises `SectionFailed` naming it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

from accounts.models import Workspace
from initiatives.models import (
    Decision,
    DecisionKind,
    Experiment,
    ExperimentResult,
    Idea,
    IdeaStatus,
    Status,
)
from reports.dashboard import Dashboard, Period, dashboard
from reports.realized import Shipped, shipped_totals
from reports.selectors import (
    ACTIVE_WORK,
    SHIPPED,
    Scope,
    objective_subtree_ids,
    objectives_value,
    scoped_initiatives,
)

DATA_VERSION = 1
MAX_ROWS = 50  # rows of a list a person reads; the CSV has every initiative
LOW_CONFIDENCE = 30  # committed work below this confidence is at risk
UNDERDELIVERING = Decimal("0.5")  # shipped work realizing less than half of its expectation

Json = dict[str, Any]


class SectionFailed(Exception):
    """A section of the report could not be built; the message names it and the cause."""

    def __init__(self, title: str, cause: BaseException) -> None:
        super().__init__(f"The section “{title}” could not be built: {cause}")
        self.title = title


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class _Context:
    workspace: Workspace
    scope: Scope
    start: date
    end: date
    as_of: date
    initiatives: Any  # QuerySet[Initiative] of the scope
    board: Dashboard | None = None
    shipped: dict[int, Shipped] = field(default_factory=dict)


def _headline(ctx: _Context) -> Json:
    period = Period(
        key="report",
        label="Report period",
        phrase=f"from {ctx.start:%-d %B %Y} to {ctx.end:%-d %B %Y}",
        start=ctx.start,
        end=ctx.as_of,
    )
    ctx.board = board = dashboard(workspace=ctx.workspace, scope=ctx.scope, period=period)
    head = board.headline
    summary = head.summary
    committed = summary.effort_by_status.get(Status.COMMITTED, Decimal(0)) + (
        summary.effort_by_status.get(Status.IN_DELIVERY, Decimal(0))
    )
    return {
        "realized_in_period": text(head.realized_in_period),
        "realized_initiatives": head.realized_initiatives,
        "measured_in_period": head.measured_in_period,
        "measuring_in_period": head.measuring_in_period,
        "realized_to_date": text(summary.realized_value),
        "pipeline_value": text(summary.pipeline_value),
        "alignment_score": text(summary.alignment_score),
        "tactical_share": text(summary.tactical_share),
        "committed_effort_weeks": text(committed),
        "counts_by_status": summary.counts_by_status,
        "declined_initiatives": summary.declined_initiatives,
        "declined_ideas": summary.declined_ideas,
    }


def _objectives(ctx: _Context) -> Json:
    """The objectives of the scope, parents before children, each with the value
    delivered to it and below it and its key results: the MAX_ROWS nearest the top when
    there are more (`count` says how many there are)."""
    nodes = objectives_value(workspace=ctx.workspace, as_of=ctx.as_of, scope=ctx.scope)
    depth: dict[int, int] = {}
    for node in nodes:
        o = node.objective
        depth[o.pk] = depth[o.parent_id] + 1 if o.parent_id in depth else 0
    shown = {
        node.objective.pk
        for _, _, node in sorted(
            (depth[node.objective.pk], n, node) for n, node in enumerate(nodes)
        )[:MAX_ROWS]
    }
    rows = []
    for node in nodes:
        o = node.objective
        if o.pk not in shown:
            continue
        rows.append(
            {
                "id": o.pk,
                "title": o.title,
                "status": o.status,
                "depth": depth[o.pk],
                "value_delivered": text(node.value_delivered),
                "initiatives": len(node.initiative_ids),
                "key_results": [
                    {
                        "id": kr.pk,
                        "title": kr.title or kr.metric.name,
                        "unit": kr.metric.unit,
                        "baseline": text(kr.baseline),
                        "target": text(kr.target),
                        "current": text(figures.current),
                        "progress": text(figures.progress),
                        "expected_progress": text(figures.expected_progress),
                        "pace": figures.pace,
                        "due_on": _day(kr.due_on),
                    }
                    for kr, figures in node.key_results
                ],
            }
        )
    return {"count": len(nodes), "rows": rows}


def _released(ctx: _Context) -> Json:
    """The work released in the period, with what it was expected to bring and what it
    has realized as of the run's day: by realized value, the largest first."""
    ctx.shipped = shipped_totals(
        ctx.initiatives.filter(status__in=SHIPPED),
        workspace_id=ctx.workspace.pk,
        as_of=ctx.as_of,
    )
    released = [s for s in ctx.shipped.values() if ctx.start <= s.released_on <= ctx.end]
    released.sort(key=lambda s: (-(s.totals.realized_value or Decimal("-Infinity")), s.title))
    return {
        "count": len(released),
        "measured": sum(1 for s in released if s.status == Status.MEASURED),
        "rows": [
            {
                "id": s.id,
                "title": s.title,
                "status": s.status,
                "team": s.team_name,
                "owner": s.owner_name,
                "released_on": _day(s.released_on),
                "expected_value": text(s.totals.expected_value),
                "risk_adjusted_value": text(s.totals.risk_adjusted_value),
                "realized_value": text(s.totals.realized_value),
                "realization": text(s.totals.realization),
            }
            for s in released[:MAX_ROWS]
        ],
    }


def _next(ctx: _Context) -> Json:
    """Committed and in-delivery work: the most valuable per week of effort first."""
    work = ctx.initiatives.filter(status__in=ACTIVE_WORK).select_related("team", "owner")
    rows = list(work.order_by("-value_density", "-risk_adjusted_value", "title", "pk")[:MAX_ROWS])
    return {
        "count": work.count(),
        "rows": [
            {
                "id": i.pk,
                "title": i.title,
                "status": i.status,
                "team": i.team.name if i.team else "",
                "owner": i.owner.display_name if i.owner else "",
                "target_on": _day(i.target_on),
                "effort_weeks": text(i.effort_weeks),
                "confidence": i.confidence,
                "risk_adjusted_value": text(i.risk_adjusted_value),
                "value_density": text(i.value_density),
            }
            for i in rows
        ],
    }


def _not_doing(ctx: _Context) -> Json:
    """What was declined or cancelled in the period, and why; ideas declined in it (in a
    workspace-wide report: ideas belong to no team or objective)."""
    decisions = (
        Decision.objects.filter(
            workspace=ctx.workspace,
            kind__in=(DecisionKind.DECLINE, DecisionKind.CANCEL),
            decided_at__date__gte=ctx.start,
            decided_at__date__lte=ctx.end,
            initiative__in=ctx.initiatives,
        )
        .select_related("initiative", "decided_by")
        .order_by("-decided_at", "-pk")
    )
    rows: list[Json] = [
        {
            "kind": "initiative",
            "id": d.initiative_id,
            "title": d.initiative.title if d.initiative else "",
            "decision": DecisionKind(d.kind).label,
            "rationale": d.rationale,
            "decided_on": _day(d.decided_at.date()),
            "decided_by": d.decided_by.display_name if d.decided_by else "",
            "revisit_on": _day(d.revisit_on),
        }
        for d in decisions[:MAX_ROWS]
    ]
    count = decisions.count()
    if ctx.scope == Scope():
        ideas = (
            Idea.objects.filter(
                workspace=ctx.workspace,
                status=IdeaStatus.DECLINED,
                declined_at__date__gte=ctx.start,
                declined_at__date__lte=ctx.end,
            )
            .select_related("declined_by")
            .order_by("-declined_at", "-pk")
        )
        count += ideas.count()
        rows += [
            {
                "kind": "idea",
                "id": i.pk,
                "title": i.title,
                "decision": "Declined idea",
                "rationale": i.decline_reason,
                "decided_on": _day(i.declined_at.date() if i.declined_at else None),
                "decided_by": i.declined_by.display_name if i.declined_by else "",
                "revisit_on": _day(i.revisit_on),
            }
            for i in ideas[: max(0, MAX_ROWS - len(rows))]
        ]
    return {"count": count, "rows": rows}


def _experiments(ctx: _Context) -> Json:
    """Experiments that ended in the period, or are still running, with what was learned."""
    experiments = (
        Experiment.objects.filter(initiative__in=ctx.initiatives)
        .filter(
            Q(ended_on__gte=ctx.start, ended_on__lte=ctx.end)
            | Q(ended_on__isnull=True, started_on__lte=ctx.end)
        )
        .select_related("initiative")
        .order_by("-ended_on", "-started_on", "-pk")
    )
    return {
        "count": experiments.count(),
        "rows": [
            {
                "id": e.pk,
                "initiative_id": e.initiative_id,
                "initiative": e.initiative.title,
                "hypothesis": e.hypothesis,
                "method": e.get_method_display(),
                "result": ExperimentResult(e.result).label,
                "learnings": e.learnings,
                "started_on": _day(e.started_on),
                "ended_on": _day(e.ended_on),
            }
            for e in experiments[:MAX_ROWS]
        ],
    }


def _at_risk(ctx: _Context) -> Json:
    """Committed work past its target date or bet on low confidence, and shipped work
    realizing less than half of what it was expected to bring."""
    reasons: dict[int, list[str]] = {}
    titles: dict[int, tuple[str, str, str]] = {}
    active = ctx.initiatives.filter(status__in=ACTIVE_WORK).filter(
        Q(target_on__lt=ctx.as_of) | Q(confidence__lt=LOW_CONFIDENCE)
    )
    for pk, title, status, team, target_on, confidence in active.values_list(
        "pk", "title", "status", "team__name", "target_on", "confidence"
    ).order_by("target_on", "title", "pk"):
        titles[pk] = (title, status, team or "")
        why = reasons.setdefault(pk, [])
        if target_on is not None and target_on < ctx.as_of:
            why.append(f"Past its target date ({target_on:%-d %B %Y}).")
        if confidence < LOW_CONFIDENCE:
            why.append(f"Low confidence ({confidence}%).")
    for s in ctx.shipped.values():
        realization = s.totals.realization
        if realization is not None and realization < UNDERDELIVERING:
            titles[s.id] = (s.title, s.status, s.team_name)
            reasons.setdefault(s.id, []).append(
                f"Realizing {realization * 100:.0f}% of the value it was expected to bring."
            )
    rows = [
        {"id": pk, "title": t, "status": st, "team": team, "reasons": reasons[pk]}
        for pk, (t, st, team) in titles.items()
    ]
    return {"count": len(rows), "rows": rows[:MAX_ROWS]}


def _table(ctx: _Context) -> Json:
    """Every initiative of the scope, for the CSV: the stored priority figures and, for
    shipped work, what it has realized as of the run's day."""
    rows = []
    for i in (
        ctx.initiatives.select_related("team", "owner")
        .only(
            "pk",
            "title",
            "status",
            "kind",
            "horizon",
            "effort_weeks",
            "confidence",
            "target_on",
            "released_on",
            "risk_adjusted_value",
            "value_density",
            "team__name",
            "owner__full_name",
            "owner__email",
        )
        .order_by("pk")
        .iterator(chunk_size=2000)
    ):
        shipped = ctx.shipped.get(i.pk)
        totals = shipped.totals if shipped else None
        rows.append(
            {
                "id": i.pk,
                "title": i.title,
                "status": i.status,
                "kind": i.kind,
                "team": i.team.name if i.team else "",
                "owner": i.owner.display_name if i.owner else "",
                "horizon": i.horizon,
                "effort_weeks": text(i.effort_weeks),
                "confidence": i.confidence,
                "target_on": _day(i.target_on),
                "released_on": _day(i.released_on),
                "risk_adjusted_value": text(i.risk_adjusted_value),
                "value_density": text(i.value_density),
                "expected_value": text(totals.expected_value) if totals else None,
                "realized_value": text(totals.realized_value) if totals else None,
                "realization": text(totals.realization) if totals else None,
            }
        )
    return {"rows": rows}


# In the order they are built (and read): a later section may use what an earlier one read.
SECTIONS: list[tuple[str, str, Callable[[_Context], Json]]] = [
    ("headline", "Headline value", _headline),
    ("objectives", "Objectives and key results", _objectives),
    ("released", "Released and measured", _released),
    ("next", "What comes next", _next),
    ("not_doing", "What we decided not to do", _not_doing),
    ("experiments", "Experiments and learnings", _experiments),
    ("at_risk", "Initiatives at risk", _at_risk),
    ("initiatives", "All initiatives", _table),
]


def report_data(
    *,
    workspace: Workspace,
    scope: Scope,
    start: date,
    end: date,
    as_of: date,
    on_progress: Callable[[int, str], None] | None = None,
) -> Json:
    """The report of `scope` for the days `start` … `end`, valued as of `as_of` (≤ end).

    `on_progress(percent, what)` is called before each section."""
    subtree = (
        objective_subtree_ids(workspace=workspace, root_id=scope.objective.pk)
        if scope.objective is not None
        else None
    )
    ctx = _Context(
        workspace=workspace,
        scope=scope,
        start=start,
        end=end,
        as_of=as_of,
        initiatives=scoped_initiatives(workspace=workspace, scope=scope, subtree=subtree),
    )
    data: Json = {
        "version": DATA_VERSION,
        "currency": workspace.currency,
        "workspace": workspace.name,
        "scope": {
            "team": {"id": scope.team.pk, "name": scope.team.name} if scope.team else None,
            "objective": (
                {"id": scope.objective.pk, "title": scope.objective.title}
                if scope.objective
                else None
            ),
        },
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "as_of": as_of.isoformat(),
        "sections": {key: title for key, title, _ in SECTIONS},
    }
    for n, (key, title, build) in enumerate(SECTIONS):
        if on_progress is not None:
            on_progress(5 + 75 * n // len(SECTIONS), title)
        try:
            data[key] = build(ctx)
        except Exception as exc:  # noqa: BLE001 — named and re-raised for the run's record
            raise SectionFailed(title, exc) from exc
    return data
