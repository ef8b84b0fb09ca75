"""The periodic work of initiatives: measuring the released ones whose window has ended, and
reminding people of the decisions and declined ideas they meant to revisit.

Celery beat runs both every hour (initiatives/tasks.py), so each workspace is served within
an hour of its own midnight. Both are safe to run twice, or in two workers at once:
- an initiative is moved to measured, and its owner e-mailed, by the run that wins its row
  lock in `initiative_transition`; the other run is refused (it is no longer released) and
  skips it quietly;
- a reminder is sent by the run whose conditional UPDATE of `revisit_reminded_on` changed
  the row; the other run's UPDATE changes nothing and it sends nothing.
E-mails leave only after the change is committed (`transaction.on_commit`).

One item failing does not stop the others: its error is logged with the traceback, the run
goes on, and at the end `JobFailed` is raised so the task fails visibly. What failed is
simply still due and is tried again by the next run.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User, Workspace
from initiatives.models import (
    Decision,
    DecisionKind,
    ExpectedImpact,
    Idea,
    IdeaStatus,
    Initiative,
    Status,
)
from initiatives.selectors import ImpactFigures, impacts_for, initiative_totals
from initiatives.services import TransitionRefused, initiative_transition
from strategy.services import workspace_today

logger = logging.getLogger(__name__)


class JobFailed(Exception):
    """Some items of a periodic job failed (each logged with its traceback); the others
    were done."""


@dataclass
class _Run:
    """The bookkeeping of one run of a job: what it did and what failed."""

    job: str
    done: int = 0
    failures: list[str] = field(default_factory=list)

    def failed(self, what: str) -> None:
        """Call from an `except` block: logs the error with its traceback."""
        logger.exception("%s: %s failed", self.job, what)
        self.failures.append(what)

    def finish(self) -> int:
        if self.failures:
            raise JobFailed(
                f"{self.job}: {len(self.failures)} failed ({'; '.join(self.failures)}), "
                f"{self.done} done; see the log for the errors."
            )
        return self.done


def _today_in(timezone_name: str) -> date:
    # The one definition of a workspace's today, for every workspace in this time zone.
    return workspace_today(Workspace(timezone=timezone_name))


def _todays(timezones: QuerySet[Any, str], today: date | None) -> dict[str, date]:
    """Today in each of these time zones (or `today` for all of them)."""
    return {name: today or _today_in(name) for name in timezones.order_by().distinct()}


# --- measuring initiatives whose window has ended ----------------------------------------------


def _due_for_measurement(today: date | None) -> list[Initiative]:
    """Released initiatives whose window has ended in their workspace's today: released_on +
    measurement_window_days ≤ today. Two queries whatever the number of workspaces: the
    distinct (time zone, window) pairs, then the initiatives, where `released_on ≤ today −
    window` is written out once per pair (no date arithmetic in SQL, so it reads the same
    on SQLite and PostgreSQL)."""
    released = Initiative.objects.filter(status=Status.RELEASED, released_on__isnull=False)
    pairs = released.order_by().values_list("workspace__timezone", "measurement_window_days")
    todays: dict[str, date] = {}
    due = Q()
    for timezone_name, window in pairs.distinct():
        if timezone_name not in todays:
            todays[timezone_name] = today or _today_in(timezone_name)
        due |= Q(
            workspace__timezone=timezone_name,
            measurement_window_days=window,
            released_on__lte=todays[timezone_name] - timedelta(days=window),
        )
    if not todays:
        return []
    return list(
        released.filter(due).select_related("workspace", "owner").order_by("released_on", "id")
    )


def _window_end(initiative: Initiative) -> date:
    assert initiative.released_on is not None  # noqa: S101 - selected with one
    return initiative.released_on + timedelta(days=initiative.measurement_window_days)


def measured_rationale(initiative: Initiative) -> str:
    """The rationale of the system's move to measured."""
    return (
        f"The {initiative.measurement_window_days}-day measurement window ended on "
        f"{_window_end(initiative).isoformat()}."
    )


def initiatives_measure_due(*, today: date | None = None) -> int:
    """Moves every released initiative whose measurement window has ended to measured ("the
    system" decides, with the window in the rationale) and e-mails its owner the expected
    and realized value. `today` is each workspace's own today unless given. Returns how many
    this run moved; raises JobFailed, after doing the others, if any failed."""
    run = _Run("initiatives_measure_due")
    due = _due_for_measurement(today)
    if not due:
        return 0
    # The figures of all of them in one query. Every window has ended, so the figures are
    # final: any today on or after the latest window end gives the same numbers.
    figures = impacts_for(initiatives=due, today=max(_window_end(i) for i in due))
    for initiative in due:
        ends = _window_end(initiative)
        try:
            with transaction.atomic():
                initiative_transition(
                    initiative=initiative,
                    to=Status.MEASURED,
                    rationale=measured_rationale(initiative),
                    by=None,
                )
                message = _measured_message(initiative, figures[initiative.pk], ends)
                if message is not None:
                    _send_on_commit(
                        message, run, f"e-mail to the owner of initiative {initiative.pk}"
                    )
        except TransitionRefused as refusal:
            if Initiative.objects.filter(pk=initiative.pk, status=Status.RELEASED).exists():
                # Still released: the guard judged by the real clock, an earlier day than
                # the `today` this run was given.
                logger.warning("Initiative %s not measured: %s", initiative.pk, refusal.detail)
            # Otherwise another run measured it first: nothing to do.
            continue
        except Exception:
            run.failed(f"initiative {initiative.pk}")
            continue
        run.done += 1
    return run.finish()


def _send_on_commit(message: EmailMultiAlternatives, run: _Run, what: str) -> None:
    """Sends once the transaction commits; a failure is logged and counted, not raised
    through the commit of a change that is already made."""

    def send() -> None:
        try:
            message.send()
        except Exception:
            run.failed(what)

    transaction.on_commit(send)


def _money(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else f"{value:,.0f} {currency}"


def _percent(value: Decimal | None) -> str | None:
    return None if value is None else f"{value * 100:.0f}%"


def _change(value: Decimal | None, unit: str) -> str | None:
    """A signed change in metric units: "+1,250 sign-ups", "−0.35 %"."""
    if value is None:
        return None
    shown = f"{value.quantize(Decimal('0.01')):+,.2f}".removesuffix(".00").replace("-", "−")
    return f"{shown} {unit}".strip()


def _measured_message(
    initiative: Initiative,
    impacts: list[tuple[ExpectedImpact, ImpactFigures]],
    ends: date,
) -> EmailMultiAlternatives | None:
    """The e-mail to the owner, or None without an active owner."""
    owner = initiative.owner
    if owner is None or not owner.is_active:
        return None
    currency = initiative.workspace.currency
    totals = initiative_totals([f for _, f in impacts])
    expected = _money(totals.expected_value, currency)
    realized = _money(totals.realized_value, currency)
    context = {
        "owner": owner.display_name,
        "initiative": initiative,
        "workspace": initiative.workspace,
        "window_days": initiative.measurement_window_days,
        "released_on": initiative.released_on,
        "ends": ends,
        "expected_value": expected,
        "realized_value": realized,
        "realization": _percent(totals.realization),
        "impacts": [
            {
                "metric": impact.metric.name,
                "expected_change": _change(f.expected_change, impact.metric.unit),
                "realized_change": _change(f.realized_change, impact.metric.unit),
                "expected_value": _money(f.expected_value, currency),
                "realized_value": _money(f.realized_value, currency),
                "realization": _percent(f.realization),
                "no_data": f.status == "no_data",
            }
            for impact, f in impacts
        ],
        "url": _link("initiatives:detail", initiative.workspace.slug, initiative.pk),
    }
    if expected is not None and realized is not None:
        subject = f"Measured: “{initiative.title}” realized {realized} of {expected} expected"
    else:
        subject = f"Measured: “{initiative.title}”"
    return _message(subject, "emails/initiative_measured", context, owner)


def _link(view: str, *args: Any) -> str:
    """The full address of a page, for an e-mail: a worker has no request to take the
    host from, so it starts with settings.SITE_URL."""
    return settings.SITE_URL.rstrip("/") + reverse(view, args=args)


def _message(
    subject: str, template: str, context: dict[str, Any], to: User
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


# --- reminding of decisions and declined ideas to revisit ----------------------------------------


def _due_decisions(today: date | None) -> list[Decision]:
    waiting = Decision.objects.filter(revisit_on__isnull=False, revisit_reminded_on__isnull=True)
    todays = _todays(waiting.values_list("workspace__timezone", flat=True), today)
    if not todays:
        return []
    due = Q()
    for timezone_name, day in todays.items():
        due |= Q(workspace__timezone=timezone_name, revisit_on__lte=day)
    # A decline or cancellation already undone (the initiative was reopened since) has
    # been revisited: no reminder.
    still_standing = (
        Q(initiative__isnull=True) | Q(to_status="") | Q(initiative__status=F("to_status"))
    )
    return list(
        waiting.filter(due & still_standing)
        .select_related("workspace", "initiative__owner", "decided_by")
        .order_by("revisit_on", "id")
    )


def _due_ideas(today: date | None) -> list[Idea]:
    waiting = Idea.objects.filter(
        status=IdeaStatus.DECLINED, revisit_on__isnull=False, revisit_reminded_on__isnull=True
    )
    todays = _todays(waiting.values_list("workspace__timezone", flat=True), today)
    if not todays:
        return []
    due = Q()
    for timezone_name, day in todays.items():
        due |= Q(workspace__timezone=timezone_name, revisit_on__lte=day)
    return list(
        waiting.filter(due)
        .select_related("workspace", "declined_by")
        .annotate(vote_count=Count("votes"))
        .order_by("revisit_on", "id")
    )


def _active(*people: User | None) -> User | None:
    return next((p for p in people if p is not None and p.is_active and p.email), None)


def _local_day(decided: Any, workspace: Workspace) -> date:
    return decided.astimezone(ZoneInfo(workspace.timezone)).date()


DECIDED_WORDS = {
    DecisionKind.DECLINE: "declined",
    DecisionKind.CANCEL: "cancelled",
    DecisionKind.DEFER: "deferred",
}


def _decision_message(decision: Decision) -> EmailMultiAlternatives | None:
    initiative = decision.initiative
    recipient = _active(initiative.owner if initiative else None, decision.decided_by)
    if recipient is None:
        return None
    if initiative is not None:
        subject_of = initiative.title
    else:
        first_line = decision.rationale.splitlines()[0] if decision.rationale else "a decision"
        subject_of = first_line
        if len(first_line) > 60:  # cut at a word, not inside one
            subject_of = first_line[:59].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    workspace = decision.workspace
    context = {
        "recipient": recipient.display_name,
        "what": "decision",
        "title": subject_of,
        "initiative": initiative,
        "decided": DECIDED_WORDS.get(DecisionKind(decision.kind), "decided"),
        "decided_by": decision.decided_by.display_name if decision.decided_by else "The system",
        "decided_on": _local_day(decision.decided_at, workspace),
        "rationale": decision.rationale,
        "revisit_on": decision.revisit_on,
        "workspace": workspace,
        "url": _link("ideas:not-doing", workspace.slug),
    }
    return _message(f"Time to revisit: {subject_of}", "emails/decision_revisit", context, recipient)


def _idea_message(idea: Idea) -> EmailMultiAlternatives | None:
    recipient = _active(idea.declined_by)
    if recipient is None:
        return None
    workspace = idea.workspace
    context = {
        "recipient": recipient.display_name,
        "what": "idea",
        "title": idea.title,
        "idea": idea,
        "source": idea.get_source_display().lower(),
        "votes": idea.vote_count,  # type: ignore[attr-defined]  # annotated
        "decided": "declined",
        "decided_by": idea.declined_by.display_name if idea.declined_by else "Someone",
        "decided_on": _local_day(idea.declined_at, workspace) if idea.declined_at else None,
        "rationale": idea.decline_reason,
        "revisit_on": idea.revisit_on,
        "workspace": workspace,
        "url": _link("ideas:not-doing", workspace.slug),
    }
    return _message(
        f"Time to revisit: {idea.title} (declined idea)",
        "emails/decision_revisit",
        context,
        recipient,
    )


Revisitable = TypeVar("Revisitable", Decision, Idea)


def _remind(
    run: _Run,
    item: Revisitable,
    today: date,
    message: Callable[[Revisitable], EmailMultiAlternatives | None],
) -> None:
    """Claims the reminder with a conditional UPDATE (the run that changes the row sends) and
    sends it after the commit. A send that fails gives the claim back, so the next run
    tries again."""
    what = f"{type(item).__name__.lower()} {item.pk}"
    model = type(item)
    with transaction.atomic():
        claimed = model.objects.filter(pk=item.pk, revisit_reminded_on__isnull=True).update(
            revisit_reminded_on=today
        )
        if not claimed:
            return  # another run reminded first
        run.done += 1
        email = message(item)
        if email is None:
            # Nobody to write to (no owner, no one who decided): the reminder is spent.
            logger.info("%s is due for a revisit but has nobody to remind", what)
            return

        def send() -> None:
            try:
                email.send()
            except Exception:
                run.done -= 1
                model.objects.filter(pk=item.pk, revisit_reminded_on=today).update(
                    revisit_reminded_on=None
                )
                run.failed(f"reminder of {what}")

        transaction.on_commit(send)


def decisions_remind_due(*, today: date | None = None) -> int:
    """E-mails a "Time to revisit" reminder for every decision and declined idea whose
    revisit date has come (in its workspace's today unless `today` is given), once: to the
    initiative's owner, else to whoever decided (for an idea: who declined it). Returns how
    many this run claimed; raises JobFailed, after doing the others, if any failed."""
    run = _Run("decisions_remind_due")
    for decision in _due_decisions(today):
        try:
            day = today or workspace_today(decision.workspace)
            _remind(run, decision, day, _decision_message)
        except Exception:
            run.failed(f"decision {decision.pk}")
    for idea in _due_ideas(today):
        try:
            day = today or workspace_today(idea.workspace)
            _remind(run, idea, day, _idea_message)
        except Exception:
            run.failed(f"idea {idea.pk}")
    return run.finish()
