"""Writes of initiatives. For now: the lifecycle (DESIGN.md "Initiative lifecycle").

`initiative_transition` is the only way an initiative changes status: it checks the
guards on the row it has locked, so two concurrent transitions cannot both win, and it
writes the Decision of every change.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from initiatives.models import Decision, DecisionKind, Initiative, Status
from pm_value.api.errors import DomainError
from strategy.models import ObjectiveStatus
from strategy.services import workspace_today

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
    if to == Status.COMMITTED:
        return _commit_refusal(initiative)
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
) -> Initiative:
    """Moves the initiative to `to` and writes the Decision, or raises TransitionRefused
    with the reason. The row is locked and re-read first: of two concurrent transitions,
    the second is judged on the status the first left."""
    today = workspace_today(initiative.workspace)
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        refusal = transition_refusal(
            initiative=locked, to=to, rationale=rationale, released_on=released_on, today=today
        )
        if refusal is not None:
            raise TransitionRefused(refusal)
        from_status = locked.status
        locked.status = to
        fields = ["status", "updated_at"]
        if to == Status.RELEASED:
            locked.released_on = released_on or today
            fields.append("released_on")
        locked.save(update_fields=fields)
        Decision.objects.create(
            workspace_id=locked.workspace_id,
            initiative=locked,
            kind=TRANSITIONS[from_status][to],
            from_status=from_status,
            to_status=to,
            rationale=rationale.strip(),
            decided_by=by,
            decided_at=timezone.now(),
        )
    return locked
