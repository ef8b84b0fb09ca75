"""Writes of initiatives: the lifecycle (DESIGN.md "Initiative lifecycle"), alignments,
expected impacts and ideas.

`initiative_transition` is the only way an initiative changes status: it checks the
guards on the row it has locked, so two concurrent transitions cannot both win, and it
writes the Decision of every change.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.audit import audit_deletion, audit_record
from accounts.models import AuditAction, User, Workspace
from accounts.selectors import is_member
from initiatives.models import (
    EARLIEST_RELEASE,
    PRIORITY_DIGITS,
    PRIORITY_FIELDS,
    PRIORITY_PLACES,
    Alignment,
    Decision,
    DecisionKind,
    ExpectedImpact,
    Experiment,
    Idea,
    IdeaStatus,
    Initiative,
    Stakeholder,
    Status,
    Vote,
)
from initiatives.selectors import HUNDRED, rice, value_density
from pm_value.api.errors import DomainError
from pm_value.model_writes import assign_fields, save_validated
from strategy.models import Metric, Objective, ObjectiveStatus
from strategy.services import workspace_today
from webhooks import payloads
from webhooks.services import webhook_emit

# from status → {to status: the decision kind written}
TRANSITIONS: dict[str, dict[str, str]] = {
    Status.PROPOSED: {
        Status.DISCOVERY: DecisionKind.PROGRESS,
        Status.COMMITTED: DecisionKind.COMMIT,
        Status.DECLINED: DecisionKind.DECLINE,
    },
    Status.DISCOVERY: {
        Status.COMMITTED: DecisionKind.COMMIT,
        Status.DECLINED: DecisionKind.DECLINE,
    },
    Status.COMMITTED: {
        Status.IN_DELIVERY: DecisionKind.PROGRESS,
        Status.DISCOVERY: DecisionKind.PIVOT,
        Status.CANCELLED: DecisionKind.CANCEL,
    },
    Status.IN_DELIVERY: {
        Status.RELEASED: DecisionKind.RELEASE,
        Status.CANCELLED: DecisionKind.CANCEL,
    },
    Status.RELEASED: {Status.MEASURED: DecisionKind.PROGRESS},
    Status.DECLINED: {Status.PROPOSED: DecisionKind.REOPEN},
    Status.CANCELLED: {Status.PROPOSED: DecisionKind.REOPEN},
}
NEEDS_RATIONALE = {
    DecisionKind.DECLINE,
    DecisionKind.CANCEL,
    DecisionKind.PIVOT,
    DecisionKind.REOPEN,
}
MIN_RATIONALE = 10
REVISITABLE = {DecisionKind.DECLINE, DecisionKind.CANCEL}


class TransitionRefused(DomainError):
    """A transition the lifecycle or its guards do not allow (HTTP 409, a form error)."""


def _label(status: str) -> str:
    return Status(status).label.lower() if status in Status.values else status


def transition_refusal(
    *,
    initiative: Initiative,
    to: str,
    rationale: str = "",
    released_on: date | None = None,
    revisit_on: date | None = None,
    today: date,
) -> str | None:
    """Why this transition is not allowed now, in words; None when it is. The browser asks
    this before showing a transition button, the service asks it again under the lock."""
    if to not in Status.values:
        return f"“{to}” is not a status; use one of {', '.join(Status.values)}."
    allowed = TRANSITIONS.get(initiative.status, {})
    if to not in allowed:
        if not allowed:
            return f"A {_label(initiative.status)} initiative does not change status any more."
        options = " or ".join(_label(s) for s in allowed)
        return (
            f"A {_label(initiative.status)} initiative cannot become {_label(to)}; "
            f"it can become {options}."
        )
    kind = allowed[to]
    if kind in NEEDS_RATIONALE and len(rationale.strip()) < MIN_RATIONALE:
        return (
            f"Say why ({DecisionKind(kind).label.lower()}): a rationale of at least "
            f"{MIN_RATIONALE} characters."
        )
    if released_on is not None and to != Status.RELEASED:
        return "A release date goes only with the move to released."
    if revisit_on is not None:
        if kind not in REVISITABLE:
            return "A revisit date goes only with a decline or a cancellation."
        if revisit_on <= today:
            return f"The revisit date {revisit_on.isoformat()} is not in the future."
    if to == Status.COMMITTED:
        return _commit_refusal(initiative)
    if to == Status.RELEASED and released_on is not None and released_on < EARLIEST_RELEASE:
        return f"The release date {released_on.isoformat()} is before 1900; check the year."
    if to == Status.RELEASED and released_on is not None and released_on > today:
        return (
            f"The release date {released_on.isoformat()} is in the future; "
            "release on the day it ships."
        )
    if to == Status.MEASURED:
        assert initiative.released_on is not None  # noqa: S101 - set by every release
        ends = initiative.released_on + timedelta(days=initiative.measurement_window_days)
        if today < ends:
            return (
                f"It can be measured from {ends.isoformat()}, when its "
                f"{initiative.measurement_window_days}-day measurement window ends."
            )
    return None


def _commit_refusal(initiative: Initiative) -> str | None:
    has_impact = initiative.expected_impacts.exists()
    aligned = initiative.alignments.filter(objective__status=ObjectiveStatus.ACTIVE).exists()
    tactical = initiative.kind == "tactical" and bool(initiative.tactical_rationale.strip())
    if tactical or (has_impact and aligned):
        return None
    missing = []
    if not has_impact:
        missing.append("an expected impact")
    if not aligned:
        missing.append("an alignment to an active objective")
    return (
        f"Needs {' and '.join(missing)} before it can be committed "
        "(or mark it tactical and say why)."
    )


def initiative_transition(
    *,
    initiative: Initiative,
    to: str,
    rationale: str = "",
    by: User | None,
    released_on: date | None = None,
    revisit_on: date | None = None,
) -> Initiative:
    """Moves the initiative to `to` and writes the Decision, or raises TransitionRefused
    with the reason. The row is locked and re-read first: of two concurrent transitions,
    the second is judged on the status the first left."""
    today = workspace_today(initiative.workspace)
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        refusal = transition_refusal(
            initiative=locked,
            to=to,
            rationale=rationale,
            released_on=released_on,
            revisit_on=revisit_on,
            today=today,
        )
        if refusal is not None:
            raise TransitionRefused(refusal)
        from_status = locked.status
        locked.status = to
        locked._history_user = by  # type: ignore[attr-defined]  # read by simple_history
        fields = ["status", "updated_at"]
        if to == Status.RELEASED:
            locked.released_on = released_on or today
            fields.append("released_on")
        locked.save(update_fields=fields)
        decision = Decision.objects.create(
            workspace_id=locked.workspace_id,
            initiative=locked,
            kind=TRANSITIONS[from_status][to],
            from_status=from_status,
            to_status=to,
            rationale=rationale.strip(),
            decided_by=by,
            decided_at=timezone.now(),
            revisit_on=revisit_on,
        )
        audit_record(
            action=AuditAction.TRANSITION,
            workspace_id=locked.workspace_id,
            actor=by,
            target=locked,
            details={"from": from_status, "to": to, "rationale": rationale.strip()},
        )
        workspace = initiative.workspace
        data = payloads.status_change_data(locked, decision)
        webhook_emit(workspace=workspace, event="initiative.status_changed", data=data)
        webhook_emit(
            workspace=workspace, event="decision.created", data=payloads.decision_data(decision)
        )
    return locked


# --- initiatives, alignments, expected impacts ------------------------------------------------

INITIATIVE_FIELDS = (
    "title",
    "summary",
    "problem",
    "hypothesis",
    "team",
    "owner",
    "kind",
    "tactical_rationale",
    "horizon",
    "effort_weeks",
    "confidence",
    "reach",
    "impact",
    "start_on",
    "target_on",
    "measurement_window_days",
)


def _check_initiative_refs(initiative: Initiative) -> None:
    errors: dict[str, str] = {}
    if initiative.team is not None and initiative.team.workspace_id != initiative.workspace_id:
        errors["team"] = "The team is not in this workspace."
    if initiative.owner is not None and not is_member(
        workspace_id=initiative.workspace_id, user=initiative.owner
    ):
        errors["owner"] = "This person is not a member of this workspace."
    if errors:
        raise ValidationError(errors)


def initiative_create(*, workspace: Workspace, by: User | None = None, **fields: Any) -> Initiative:
    """A new initiative starts as proposed; its status changes only by transitions.
    `by` is who is recorded in its history (an integration's token user, a person)."""
    initiative = Initiative(workspace=workspace)
    initiative._history_user = by  # type: ignore[attr-defined]
    assign_fields(initiative, fields, INITIATIVE_FIELDS)
    _check_initiative_refs(initiative)
    with transaction.atomic():
        save_validated(initiative)
        _reprice(initiative)
        data = payloads.initiative_data(initiative)
        webhook_emit(workspace=workspace, event="initiative.created", data=data)
    return initiative


def initiative_update(
    *, initiative: Initiative, by: User | None = None, **changes: Any
) -> Initiative:
    initiative._history_user = by  # type: ignore[attr-defined]
    assign_fields(initiative, changes, INITIATIVE_FIELDS)
    _check_initiative_refs(initiative)
    with transaction.atomic():
        # The save writes the priority this instance holds, which may be stale: always
        # reprice after it, whatever changed.
        save_validated(initiative)
        _reprice(initiative)
    return initiative


def _check_weights(initiative: Initiative, weight: int, exclude_pk: int | None) -> None:
    others = Alignment.objects.filter(initiative=initiative)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    total = (others.aggregate(total=Sum("weight"))["total"] or 0) + weight
    if total > 100:
        raise ValidationError(
            {"weight": f"The weights of this initiative would add up to {total}; at most 100."}
        )


def alignment_create(
    *, initiative: Initiative, objective: Objective, weight: int = 100, rationale: str = ""
) -> Alignment:
    if objective.workspace_id != initiative.workspace_id:
        raise ValidationError({"objective": "The objective is not in this workspace."})
    with transaction.atomic():
        # Alignments of one initiative change one at a time: the sum check holds.
        Initiative.objects.select_for_update().filter(pk=initiative.pk).values_list("pk").get()
        _check_weights(initiative, weight, None)
        alignment = Alignment(
            initiative=initiative, objective=objective, weight=weight, rationale=rationale
        )
        save_validated(alignment)
    return alignment


def alignment_update(
    *, alignment: Alignment, weight: int, rationale: str | None = None
) -> Alignment:
    with transaction.atomic():
        Initiative.objects.select_for_update().filter(pk=alignment.initiative_id).values_list(
            "pk"
        ).get()
        _check_weights(alignment.initiative, weight, alignment.pk)
        alignment.weight = weight
        if rationale is not None:
            alignment.rationale = rationale
        save_validated(alignment)
    return alignment


def expected_impact_create(
    *, initiative: Initiative, metric: Metric, **fields: Any
) -> ExpectedImpact:
    if metric.workspace_id != initiative.workspace_id:
        raise ValidationError({"metric": "The metric is not in this workspace."})
    impact = ExpectedImpact(initiative=initiative, metric=metric)
    assign_fields(impact, fields, ("expected_change", "confidence", "attribution"))
    with transaction.atomic():
        save_validated(impact)
        _reprice(initiative)
    return impact


def initiative_delete(*, initiative: Initiative, by: User | None = None) -> None:
    """Deletes a proposed, declined or cancelled initiative with its alignments, impacts,
    experiments and decisions. Work that was committed or shipped is part of the record
    (its value counts): it is refused, cancel it instead."""
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        if locked.status not in DELETABLE:
            raise TransitionRefused(
                f"A {_label(locked.status)} initiative is part of the record and cannot be "
                "deleted; cancel it instead."
            )
        locked._history_user = by  # type: ignore[attr-defined]
        audit_deletion(locked, workspace_id=locked.workspace_id, actor=by)
        locked.delete()


DELETABLE = {Status.PROPOSED, Status.DISCOVERY, Status.DECLINED, Status.CANCELLED}


def alignment_delete(*, alignment: Alignment) -> None:
    with transaction.atomic():
        audit_deletion(alignment, workspace_id=alignment.initiative.workspace_id)
        alignment.delete()


def expected_impact_update(*, impact: ExpectedImpact, **changes: Any) -> ExpectedImpact:
    """Changes the expected change, confidence or attribution (the metric stays: delete the
    impact and add one on the other metric)."""
    assign_fields(impact, changes, ("expected_change", "confidence", "attribution"))
    with transaction.atomic():
        save_validated(impact)
        _reprice_of(impact)
    return impact


def expected_impact_delete(*, impact: ExpectedImpact) -> None:
    with transaction.atomic():
        audit_deletion(impact, workspace_id=impact.initiative.workspace_id)
        impact.delete()
        _reprice_of(impact)


def stakeholder_add(
    *, initiative: Initiative, user: User, role: str, expectation: str = ""
) -> Stakeholder:
    if not is_member(workspace_id=initiative.workspace_id, user=user):
        raise ValidationError({"user": "This person is not a member of this workspace."})
    if Stakeholder.objects.filter(initiative=initiative, user=user).exists():
        raise ValidationError({"user": "This person is already a stakeholder of it."})
    stakeholder = Stakeholder(
        initiative=initiative, user=user, role=role, expectation=expectation.strip()
    )
    save_validated(stakeholder)
    return stakeholder


def stakeholder_update(*, stakeholder: Stakeholder, **changes: Any) -> Stakeholder:
    assign_fields(stakeholder, changes, ("role", "expectation"))
    save_validated(stakeholder)
    return stakeholder


def stakeholder_remove(*, stakeholder: Stakeholder) -> None:
    with transaction.atomic():
        audit_deletion(stakeholder, workspace_id=stakeholder.initiative.workspace_id)
        stakeholder.delete()


# --- decisions by hand, experiments ------------------------------------------------------------

HAND_KINDS = (DecisionKind.DEFER, DecisionKind.OTHER)


def decision_record(
    *,
    workspace: Workspace,
    by: User | None,
    kind: str = DecisionKind.OTHER,
    rationale: str,
    initiative: Initiative | None = None,
    revisit_on: date | None = None,
) -> Decision:
    """A decision recorded by hand (`defer` or `other`); status changes write their own."""
    errors: dict[str, str] = {}
    if kind not in HAND_KINDS:
        errors["kind"] = (
            f"Only {' or '.join(HAND_KINDS)} decisions are recorded by hand; the others "
            "are written by a transition."
        )
    if len(rationale.strip()) < MIN_RATIONALE:
        errors["rationale"] = f"Say what was decided: at least {MIN_RATIONALE} characters."
    if initiative is not None and initiative.workspace_id != workspace.pk:
        errors["initiative"] = "The initiative is not in this workspace."
    if revisit_on is not None and revisit_on <= workspace_today(workspace):
        errors["revisit_on"] = "A revisit date is in the future."
    if errors:
        raise ValidationError(errors)
    decision = Decision(
        workspace=workspace,
        initiative=initiative,
        kind=kind,
        rationale=rationale.strip(),
        decided_by=by,
        decided_at=timezone.now(),
        revisit_on=revisit_on,
    )
    with transaction.atomic():
        save_validated(decision)
        webhook_emit(
            workspace=workspace, event="decision.created", data=payloads.decision_data(decision)
        )
    return decision


EXPERIMENT_FIELDS = (
    "hypothesis",
    "method",
    "metric",
    "success_criteria",
    "started_on",
    "ended_on",
    "result",
    "learnings",
)


def _check_experiment(experiment: Experiment) -> None:
    initiative_ws = experiment.initiative.workspace_id
    if experiment.metric is not None and experiment.metric.workspace_id != initiative_ws:
        raise ValidationError({"metric": "The metric is not in this workspace."})


def experiment_create(*, initiative: Initiative, **fields: Any) -> Experiment:
    experiment = Experiment(initiative=initiative)
    assign_fields(experiment, fields, EXPERIMENT_FIELDS)
    _check_experiment(experiment)
    save_validated(experiment)
    return experiment


def experiment_update(*, experiment: Experiment, **changes: Any) -> Experiment:
    assign_fields(experiment, changes, EXPERIMENT_FIELDS)
    _check_experiment(experiment)
    save_validated(experiment)
    return experiment


def experiment_delete(*, experiment: Experiment) -> None:
    with transaction.atomic():
        audit_deletion(experiment, workspace_id=experiment.initiative.workspace_id)
        experiment.delete()


# --- ideas ---------------------------------------------------------------------------------------


class IdeaRefused(DomainError):
    """An idea operation its state does not allow (HTTP 409)."""


def idea_submit(
    *, workspace: Workspace, by: User, title: str, description: str = "", source: str = "other"
) -> Idea:
    idea = Idea(
        workspace=workspace,
        submitted_by=by,
        title=title.strip(),
        description=description.strip(),
        source=source,
    )
    save_validated(idea)
    return idea


def idea_vote(*, idea: Idea, by: User) -> Vote:
    """One vote per person and idea; a second vote is refused, not counted."""
    if idea.status in (IdeaStatus.PROMOTED, IdeaStatus.DECLINED):
        raise IdeaRefused(
            f"This idea is {IdeaStatus(idea.status).label.lower()}; it takes no votes."
        )
    try:
        with transaction.atomic():
            return Vote.objects.create(idea=idea, user=by)
    except IntegrityError as exc:
        raise IdeaRefused("You have already voted for this idea.") from exc


def idea_promote(*, idea: Idea, by: User) -> Initiative:
    """Turns the idea into a proposed initiative, linked both ways."""
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        if locked.status == IdeaStatus.PROMOTED:
            raise IdeaRefused("This idea is already an initiative.")
        if locked.status == IdeaStatus.DECLINED:
            raise IdeaRefused("A declined idea cannot be promoted.")
        initiative = initiative_create(
            workspace=locked.workspace,
            title=locked.title,
            summary=locked.description,
            owner=by,
            by=by,
        )
        locked.status = IdeaStatus.PROMOTED
        locked.promoted_to = initiative
        locked.save(update_fields=["status", "promoted_to"])
    return initiative


def idea_decline(*, idea: Idea, by: User, reason: str, revisit_on: date | None = None) -> Idea:
    if len(reason.strip()) < MIN_RATIONALE:
        raise ValidationError(
            {"reason": f"Say why the idea is declined: at least {MIN_RATIONALE} characters."}
        )
    if revisit_on is not None and revisit_on <= workspace_today(idea.workspace):
        raise ValidationError({"revisit_on": "A revisit date is in the future."})
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        if locked.status in (IdeaStatus.PROMOTED, IdeaStatus.DECLINED):
            raise IdeaRefused(f"This idea is already {IdeaStatus(locked.status).label.lower()}.")
        locked.status = IdeaStatus.DECLINED
        locked.decline_reason = reason.strip()
        locked.declined_by = by
        locked.declined_at = timezone.now()
        locked.revisit_on = revisit_on
        locked.save(
            update_fields=["status", "decline_reason", "declined_by", "declined_at", "revisit_on"]
        )
    return locked


IDEA_FIELDS = ("title", "description", "source")
IDEA_OPEN = (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW)


def _check_open(idea: Idea) -> None:
    if idea.status not in IDEA_OPEN:
        raise IdeaRefused(
            f"This idea is {IdeaStatus(idea.status).label.lower()}; it is part of the record "
            "and does not change any more."
        )


def idea_update(*, idea: Idea, **changes: Any) -> Idea:
    """Changes the title, description or source of an open (new or under review) idea."""
    _check_open(idea)
    assign_fields(idea, changes, IDEA_FIELDS)
    save_validated(idea)
    return idea


def idea_delete(*, idea: Idea) -> None:
    """Deletes an open idea with its votes; a promoted or declined one stays on record."""
    _check_open(idea)
    with transaction.atomic():
        audit_deletion(idea, workspace_id=idea.workspace_id)
        idea.delete()


def idea_unvote(*, idea: Idea, by: User) -> None:
    """Takes the person's vote back."""
    deleted, _ = Vote.objects.filter(idea=idea, user=by).delete()
    if not deleted:
        raise IdeaRefused("You have not voted for this idea.")


REVIEW_REFUSALS = {
    IdeaStatus.UNDER_REVIEW: "This idea is already under review.",
    IdeaStatus.PROMOTED: "This idea is already an initiative; there is nothing left to review.",
    IdeaStatus.DECLINED: "This idea is declined; it is not reviewed any more.",
}


def idea_review(*, idea: Idea, by: User) -> Idea:
    """Marks a new idea under review: the product team is looking at it. It still takes
    votes and is promoted or declined from there. Only a new idea starts a review; the
    callers let only editors and admins ask. `by` is who asks (an idea keeps no reviewer
    yet)."""
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        if locked.status != IdeaStatus.NEW:
            raise IdeaRefused(REVIEW_REFUSALS[IdeaStatus(locked.status)])
        locked.status = IdeaStatus.UNDER_REVIEW
        locked.save(update_fields=["status"])
    return locked


# --- priority: the stored figures of DESIGN.md §3 ------------------------------------------

REPRICE_BATCH = 1_000
_PRIORITY_STEP = Decimal(1).scaleb(-PRIORITY_PLACES)
# Wide enough for any figure the columns hold, so quantize never refuses one.
_PRIORITY_CONTEXT = Context(prec=PRIORITY_DIGITS + 2)


@dataclass(frozen=True)
class Priority:
    """An initiative's stored priority figures, as their columns hold them."""

    risk_adjusted_value: Decimal | None
    value_density: Decimal | None
    rice_score: Decimal | None


def _stored(value: Decimal | None) -> Decimal | None:
    """A figure at the columns' 6 places, half to even (what Django would write)."""
    if value is None:
        return None
    return value.quantize(_PRIORITY_STEP, rounding=ROUND_HALF_EVEN, context=_PRIORITY_CONTEXT)


def priority_of(
    *,
    effort_weeks: Decimal | None,
    reach: int | None,
    impact: Decimal | None,
    confidence: int,
    priced_impacts: Sequence[tuple[Decimal, int, Decimal]],
) -> Priority:
    """The priority of one initiative from its inputs and its impacts on metrics with a
    value per unit, as (expected_change, confidence, value_per_unit) in id order: the
    risk-adjusted value as `figures_of` computes it per impact, summed as
    `initiative_totals` sums it, then `value_density` and `rice` of the selectors."""
    risk_adjusted: Decimal | None = None
    for expected_change, impact_confidence, value_per_unit in priced_impacts:
        value = expected_change * value_per_unit * impact_confidence / HUNDRED
        risk_adjusted = value if risk_adjusted is None else risk_adjusted + value
    return Priority(
        risk_adjusted_value=_stored(risk_adjusted),
        value_density=_stored(value_density(risk_adjusted, effort_weeks)),
        rice_score=_stored(rice(reach, impact, confidence, effort_weeks)),
    )


def priorities_write(
    *,
    initiative_model: type[Initiative],
    impact_model: type[ExpectedImpact],
    ids: Sequence[int],
) -> dict[int, Priority]:
    """Recomputes and stores the priority of the initiatives `ids`, REPRICE_BATCH at a time:
    per batch one read of the initiatives that locks them (a concurrent write of their
    impacts waits, then reads what this one wrote), one read of their priced impacts and
    one UPDATE of the rows whose figures changed. Returns every initiative's figures.
    Takes the models as arguments so a data migration runs it on its historical ones."""
    result: dict[int, Priority] = {}
    ordered = sorted(set(ids))  # one lock order for every writer: no deadlock
    for start in range(0, len(ordered), REPRICE_BATCH):
        batch = ordered[start : start + REPRICE_BATCH]
        # Locked first, then their impacts are read.
        initiatives = list(
            initiative_model.objects.select_for_update()
            .filter(pk__in=batch)
            .order_by("pk")
            .values_list("pk", "effort_weeks", "reach", "impact", "confidence", *PRIORITY_FIELDS)
        )
        priced: dict[int, list[tuple[Decimal, int, Decimal]]] = {pk: [] for pk in batch}
        rows = (
            impact_model.objects.filter(
                initiative_id__in=batch, metric__value_per_unit__isnull=False
            )
            .order_by("initiative_id", "id")
            .values_list("initiative_id", "expected_change", "confidence", "metric__value_per_unit")
        )
        for initiative_id, expected_change, confidence, value_per_unit in rows:
            if value_per_unit is not None:  # (the filter says so; the types do not)
                priced[initiative_id].append((expected_change, confidence, value_per_unit))
        changed: dict[int, Priority] = {}
        for pk, effort_weeks, reach, impact, confidence, *stored in initiatives:
            figures = priority_of(
                effort_weeks=effort_weeks,
                reach=reach,
                impact=impact,
                confidence=confidence,
                priced_impacts=priced[pk],
            )
            result[pk] = figures
            if Priority(*stored) != figures:
                changed[pk] = figures
        _store(initiative_model, changed)
    return result


def _store(initiative_model: type[Initiative], figures: Mapping[int, Priority]) -> None:
    """One UPDATE of the priority of these initiatives. On PostgreSQL from a VALUES list:
    bulk_update's CASE per row and field cost seconds of Python for 10,000 rows."""
    if not figures:
        return
    connection = connections[initiative_model.objects.db]
    if connection.vendor != "postgresql":
        initiative_model.objects.bulk_update(
            [initiative_model(pk=pk, **asdict(f)) for pk, f in figures.items()],
            PRIORITY_FIELDS,
        )
        return
    quote = connection.ops.quote_name
    columns = [quote(name) for name in PRIORITY_FIELDS]  # (no db_column: named as the fields)
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    # A cast on every value: a VALUES column of nothing but NULLs would otherwise be text.
    row = f"(%s, {', '.join(['CAST(%s AS numeric)'] * len(columns))})"
    params: list[Any] = []
    for pk, f in figures.items():
        params += [pk, *(getattr(f, name) for name in PRIORITY_FIELDS)]
    sql = f"""
        UPDATE {quote(initiative_model._meta.db_table)} AS t SET {assignments}
        FROM (VALUES {", ".join([row] * len(figures))}) AS v(id, {", ".join(columns)})
        WHERE t.id = v.id
    """  # noqa: S608 - the model's own names; the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def initiatives_reprice(
    *, initiative_ids: Iterable[int] | None = None, metric: Metric | None = None
) -> dict[int, Priority]:
    """Brings the stored priority (risk_adjusted_value, value_density, rice_score) up to
    date after a write of its inputs: of the initiatives `initiative_ids`, of those with an
    expected impact on `metric` (its value per unit changed), or, given neither, of every
    initiative. Runs in the caller's transaction (or its own)."""
    ids: set[int] = set()
    if initiative_ids is not None:
        ids.update(initiative_ids)
    if metric is not None:
        ids.update(
            ExpectedImpact.objects.filter(metric=metric).values_list("initiative_id", flat=True)
        )
    if initiative_ids is None and metric is None:
        ids.update(Initiative.objects.values_list("pk", flat=True))
    if not ids:
        return {}
    with transaction.atomic():
        return priorities_write(
            initiative_model=Initiative, impact_model=ExpectedImpact, ids=sorted(ids)
        )


def _reprice(initiative: Initiative) -> None:
    """Reprices one initiative and shows the figures on the caller's instance."""
    figures = initiatives_reprice(initiative_ids=[initiative.pk])[initiative.pk]
    for name in PRIORITY_FIELDS:
        setattr(initiative, name, getattr(figures, name))


def _reprice_of(impact: ExpectedImpact) -> None:
    """Reprices an impact's initiative, and the instance the caller holds if it has one
    (without reading it when it has not)."""
    if ExpectedImpact.initiative.is_cached(impact):
        _reprice(impact.initiative)
    else:
        initiatives_reprice(initiative_ids=[impact.initiative_id])
