"""Reads of the ideas page and the Not doing page: ideas with their votes, and every
declined (or cancelled) initiative and declined idea with the decision behind it.

Each read is a fixed number of queries whatever the number of rows: vote counts and the
latest decision of each initiative are correlated subqueries, and the Not doing list is
one UNION of initiatives and ideas ordered by when they were decided, so a page of it is
one slice of that query and then the rows of that page only.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import User, Workspace
from initiatives.models import (
    Decision,
    DecisionKind,
    Idea,
    IdeaStatus,
    Initiative,
    Status,
    Vote,
)

# --- ideas ------------------------------------------------------------------------------------

OPEN_IDEA_STATUSES = (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW)


def _vote_count() -> Coalesce:
    votes = (
        Vote.objects.filter(idea=OuterRef("pk"))
        .order_by()
        .values("idea")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(votes, output_field=IntegerField()), Value(0))


def ideas_for(
    *,
    workspace: Workspace,
    user: User,
    status: str | None = None,
    source: str | None = None,
) -> QuerySet[Idea]:
    """The ideas of the workspace, most voted first, then newest; each with `vote_count`
    and `voted` (whether `user` has voted for it), its submitter, the person who declined
    it and the initiative it became. One query (plus one COUNT when it is paged)."""
    queryset = (
        Idea.objects.filter(workspace=workspace)
        .select_related("submitted_by", "declined_by", "promoted_to")
        .annotate(
            vote_count=_vote_count(),
            voted=Exists(Vote.objects.filter(idea=OuterRef("pk"), user=user)),
        )
        .order_by("-vote_count", "-created_at", "-id")
    )
    if status:
        queryset = queryset.filter(status=status)
    if source:
        queryset = queryset.filter(source=source)
    return queryset


def idea_with_votes(*, workspace: Workspace, user: User, idea_id: int) -> Idea | None:
    """One idea of the workspace with `vote_count` and `voted`, or None (another
    workspace's idea is not found)."""
    return ideas_for(workspace=workspace, user=user).filter(pk=idea_id).first()


def idea_counts_by_status(*, workspace: Workspace) -> dict[str, int]:
    """How many ideas the workspace has in each status (every status present, 0 or more)."""
    rows = (
        Idea.objects.filter(workspace=workspace)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(IdeaStatus.values, 0)
    counts.update({status: n for status, n in rows})
    return counts


# --- not doing --------------------------------------------------------------------------------

Show = Literal["all", "initiatives", "ideas", "cancelled"]
SHOW_CHOICES: tuple[Show, ...] = ("all", "initiatives", "ideas", "cancelled")

# The decision that put an initiative in each of the "not doing" statuses.
DECISION_OF_STATUS: dict[str, str] = {
    Status.DECLINED: DecisionKind.DECLINE,
    Status.CANCELLED: DecisionKind.CANCEL,
}


def _latest_decision(status: str) -> QuerySet[Decision]:
    """The decisions that moved the outer initiative to `status`, latest first: declined,
    reopened and declined again, it is the second decline that counts."""
    return Decision.objects.filter(
        initiative=OuterRef("pk"), kind=DECISION_OF_STATUS[status], to_status=status
    ).order_by("-decided_at", "-id")


def _initiative_rows(workspace: Workspace, status: str) -> QuerySet[Any, Mapping[str, Any]]:
    # When no decision was recorded (an import, the admin), the last change stands for it.
    decided_at = Coalesce(
        Subquery(_latest_decision(status).values("decided_at")[:1]),
        F("updated_at"),
        output_field=DateTimeField(),
    )
    return (
        Initiative.objects.filter(workspace=workspace, status=status)
        .order_by()
        .annotate(row_kind=Value("initiative"), row_id=F("pk"), row_at=decided_at)
        .values("row_kind", "row_id", "row_at")
    )


def _idea_rows(workspace: Workspace) -> QuerySet[Any, Mapping[str, Any]]:
    return (
        Idea.objects.filter(workspace=workspace, status=IdeaStatus.DECLINED)
        .order_by()
        .annotate(
            row_kind=Value("idea"),
            row_id=F("pk"),
            row_at=Coalesce(F("declined_at"), F("created_at"), output_field=DateTimeField()),
        )
        .values("row_kind", "row_id", "row_at")
    )


def not_doing_rows(*, workspace: Workspace, show: Show) -> QuerySet[Any, Mapping[str, Any]]:
    """What the Not doing page lists, newest decision first, as (row_kind, row_id, row_at)
    rows: one query however it is sliced. `all` is declined initiatives and ideas together;
    `cancelled` lists the initiatives cancelled after they were committed."""
    if show == "initiatives":
        rows: QuerySet[Any, Mapping[str, Any]] = _initiative_rows(workspace, Status.DECLINED)
    elif show == "ideas":
        rows = _idea_rows(workspace)
    elif show == "cancelled":
        rows = _initiative_rows(workspace, Status.CANCELLED)
    else:
        rows = _initiative_rows(workspace, Status.DECLINED).union(_idea_rows(workspace), all=True)
    return rows.order_by("-row_at", "-row_id")


@dataclass(frozen=True)
class NotDoingEntry:
    """One thing we decided not to do, and the decision behind it."""

    kind: Literal["initiative", "idea"]
    pk: int
    title: str
    summary: str
    status: str  # declined or cancelled
    reason: str
    decided_by: User | None
    decided_at: datetime | None
    revisit_on: date | None
    revisit_due: bool
    from_status: str  # an initiative's status before the decision, in words; "" for ideas
    votes: int  # an idea's votes; 0 for initiatives


def _initiative_entry(initiative: Initiative, today: date) -> NotDoingEntry:
    decisions: list[Decision] = getattr(initiative, "latest_decision", [])
    # A decision that does not match the status it is in now (edited by hand) is not its.
    decision = next(
        (d for d in decisions if d.kind == DECISION_OF_STATUS.get(initiative.status)), None
    )
    revisit_on = decision.revisit_on if decision else None
    from_status = decision.from_status if decision else ""
    return NotDoingEntry(
        kind="initiative",
        pk=initiative.pk,
        title=initiative.title,
        summary=initiative.summary,
        status=initiative.status,
        reason=decision.rationale if decision else "",
        decided_by=decision.decided_by if decision else None,
        decided_at=decision.decided_at if decision else None,
        revisit_on=revisit_on,
        revisit_due=revisit_on is not None and revisit_on <= today,
        from_status=Status(from_status).label.lower() if from_status in Status.values else "",
        votes=0,
    )


def _idea_entry(idea: Idea, today: date) -> NotDoingEntry:
    return NotDoingEntry(
        kind="idea",
        pk=idea.pk,
        title=idea.title,
        summary=idea.description,
        status=idea.status,
        reason=idea.decline_reason,
        decided_by=idea.declined_by,
        decided_at=idea.declined_at,
        revisit_on=idea.revisit_on,
        revisit_due=idea.revisit_on is not None and idea.revisit_on <= today,
        from_status="",
        votes=getattr(idea, "vote_count", 0),
    )


def not_doing_entries(
    *, workspace: Workspace, rows: Iterable[Mapping[str, Any]], today: date
) -> list[NotDoingEntry]:
    """The entries of these rows (a slice of not_doing_rows), in their order: the
    initiatives with their latest decline or cancel decision, the ideas with their
    decline. Three queries whatever the number of rows."""
    rows = list(rows)
    initiative_ids = [r["row_id"] for r in rows if r["row_kind"] == "initiative"]
    idea_ids = [r["row_id"] for r in rows if r["row_kind"] == "idea"]
    initiatives: dict[int, Initiative] = {}
    if initiative_ids:
        # Status changes only by transitions, so the latest decline or cancel of an
        # initiative is the one that put it where it is now.
        not_doing = Q(kind=DecisionKind.DECLINE, to_status=Status.DECLINED) | Q(
            kind=DecisionKind.CANCEL, to_status=Status.CANCELLED
        )
        latest = Decision.objects.filter(
            not_doing,
            pk=Subquery(
                Decision.objects.filter(not_doing, initiative=OuterRef("initiative"))
                .order_by("-decided_at", "-id")
                .values("pk")[:1]
            ),
        ).select_related("decided_by")
        initiatives = {
            i.pk: i
            for i in Initiative.objects.filter(
                workspace=workspace, pk__in=initiative_ids
            ).prefetch_related(Prefetch("decisions", queryset=latest, to_attr="latest_decision"))
        }
    ideas: dict[int, Idea] = {}
    if idea_ids:
        ideas = {
            i.pk: i
            for i in Idea.objects.filter(workspace=workspace, pk__in=idea_ids)
            .select_related("declined_by")
            .annotate(vote_count=_vote_count())
        }
    entries: list[NotDoingEntry] = []
    for row in rows:
        if row["row_kind"] == "initiative" and row["row_id"] in initiatives:
            entries.append(_initiative_entry(initiatives[row["row_id"]], today))
        elif row["row_kind"] == "idea" and row["row_id"] in ideas:
            entries.append(_idea_entry(ideas[row["row_id"]], today))
    return entries


@dataclass(frozen=True)
class NotDoingCounts:
    declined_initiatives: int
    declined_ideas: int
    cancelled: int
    revisit_due: int  # of the declined initiatives and ideas, and the cancelled initiatives

    @property
    def declined(self) -> int:
        return self.declined_initiatives + self.declined_ideas


def not_doing_counts(*, workspace: Workspace, today: date) -> NotDoingCounts:
    """The headline figures of the Not doing page: two queries."""
    declined_revisit = Subquery(_latest_decision(Status.DECLINED).values("revisit_on")[:1])
    cancelled_revisit = Subquery(_latest_decision(Status.CANCELLED).values("revisit_on")[:1])
    figures = (
        Initiative.objects.filter(
            workspace=workspace, status__in=[Status.DECLINED, Status.CANCELLED]
        )
        .order_by()
        .annotate(declined_revisit=declined_revisit, cancelled_revisit=cancelled_revisit)
        .aggregate(
            declined=Count("pk", filter=Q(status=Status.DECLINED)),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
            due=Count(
                "pk",
                filter=Q(status=Status.DECLINED, declined_revisit__lte=today)
                | Q(status=Status.CANCELLED, cancelled_revisit__lte=today),
            ),
        )
    )
    ideas = Idea.objects.filter(workspace=workspace, status=IdeaStatus.DECLINED).aggregate(
        declined=Count("pk"), due=Count("pk", filter=Q(revisit_on__lte=today))
    )
    return NotDoingCounts(
        declined_initiatives=figures["declined"],
        declined_ideas=ideas["declined"],
        cancelled=figures["cancelled"],
        revisit_due=figures["due"] + ideas["due"],
    )
