"""Writes of reports: share links — create one, revoke it, and turn the address a visitor
brings back into the link (or the reason it no longer opens); report definitions; report
runs — request, schedule, make (claimed under a row lock, retried with backoff) and
deliver by e-mail."""

import calendar
import logging
import re
import secrets
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.signing import BadSignature, Signer
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Team, User, Workspace
from initiatives.models import EARLIEST_RELEASE
from pm_value.api.errors import DomainError
from reports.models import (
    LABEL_LENGTH,
    NAME_LENGTH,
    DeliveryStatus,
    ReportDefinition,
    ReportDelivery,
    ReportFormat,
    ReportPeriod,
    ReportRecipient,
    ReportRun,
    RunStatus,
    RunTrigger,
    ShareLink,
    report_upload_to,
)
from reports.report_data import SectionFailed, report_data
from reports.selectors import Scope
from strategy.filters import MAX_ID
from strategy.forms import quarter_of
from strategy.models import Objective
from strategy.services import workspace_today
from webhooks.payloads import report_run_data as run_data
from webhooks.services import webhook_emit

if TYPE_CHECKING:
    from reports import rendering

logger = logging.getLogger(__name__)

# The salt keeps these signatures apart from every other use of SECRET_KEY (sessions,
# password resets): a value signed elsewhere never opens a dashboard.
SHARE_LINK_SALT = "reports.share-link"
# "." is not in the alphabet of the nonce or of the signature, so a token reads
# <id>.<nonce>.<signature>. Signer checks the signature in constant time, against
# SECRET_KEY_FALLBACKS too, so rotating the key need not break the links at once.
_SEPARATOR = "."
_NONCE_BYTES = 12  # 16 characters of URL-safe base64
_VALUE = re.compile(r"([0-9]{1,19})\.([A-Za-z0-9_-]{1,64})")
# Far longer than any token this module writes; anything longer is not worth checking.
MAX_TOKEN_LENGTH = 200
_INSTANT = timedelta(microseconds=1)

Reason = Literal["invalid", "revoked", "expired"]


class ShareLinkRefused(DomainError):
    """An address that opens nothing: not a link we signed (unknown, altered, cut short),
    or the link of a revoked or expired share. `at` is when it was revoked or expired."""

    def __init__(self, detail: str, *, reason: Reason, at: datetime | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.at = at


def _signer() -> Signer:
    return Signer(salt=SHARE_LINK_SALT, sep=_SEPARATOR)


def share_link_token(*, link: ShareLink) -> str:
    """The secret part of the link's address: its id and nonce, signed."""
    return _signer().sign(f"{link.pk}{_SEPARATOR}{link.nonce}")


def day_text(moment: datetime, workspace: Workspace) -> str:
    """A moment as the day it was in the workspace: "3 March 2026"."""
    local = timezone.localtime(moment, ZoneInfo(workspace.timezone))
    return f"{local.day} {local:%B %Y}"


def share_link_create(
    *,
    workspace: Workspace,
    by: User,
    scope: Scope,
    label: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> ShareLink:
    """A new link to the dashboard of `scope` (the whole workspace when empty), working
    until `expires_at` (never, when None) or until revoked."""
    now = now or timezone.now()
    label = " ".join(label.split())
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = (
            "Give the link a label — who or what it is for — so it can be told apart "
            "from the others and revoked later."
        )
    elif len(label) > LABEL_LENGTH:
        errors["label"] = f"Keep the label within {LABEL_LENGTH} characters."
    if scope.team is not None and scope.team.workspace_id != workspace.pk:
        errors["team"] = "This team is not a team of this workspace."
    if scope.objective is not None and scope.objective.workspace_id != workspace.pk:
        errors["objective"] = "This objective is not an objective of this workspace."
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            errors["expires_at"] = "The expiry needs a time zone."
        elif expires_at <= now:
            errors["expires_at"] = (
                "The expiry has already passed: choose a later day, or none for a link "
                "that works until it is revoked."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return ShareLink.objects.create(
            workspace=workspace,
            team=scope.team,
            objective=scope.objective,
            label=label,
            nonce=secrets.token_urlsafe(_NONCE_BYTES),
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )


def share_link_revoke(*, link: ShareLink, by: User, now: datetime | None = None) -> ShareLink:
    """Stops the link for good. Revoking a revoked link changes nothing: the first
    revocation keeps its day and its author, even when two people click at once."""
    now = now or timezone.now()
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by
        )
    link.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return link


def _not_valid() -> ShareLinkRefused:
    return ShareLinkRefused(
        "This share link is not valid. Check that the whole address was copied, or ask "
        "the person who shared it for a new link.",
        reason="invalid",
    )


def share_link_resolve(*, token: str, now: datetime | None = None) -> ShareLink:
    """The link this token opens, with its workspace, team and objective loaded: one
    query, none for a token we did not sign. Raises ShareLinkRefused otherwise."""
    now = now or timezone.now()
    if len(token) > MAX_TOKEN_LENGTH:
        raise _not_valid()
    try:
        value = _signer().unsign(token)
    except BadSignature:
        raise _not_valid() from None
    match = _VALUE.fullmatch(value)
    if match is None or int(match[1]) > MAX_ID:
        raise _not_valid()
    # Found by its nonce, unique in the database and kept by a restore (import_workspace
    # renews it only in a copy beside the original), so an address shared before a
    # backup was restored still opens the same link under its new id. The id in the
    # token is only what was signed with it.
    link = (
        ShareLink.objects.select_related("workspace", "team", "objective")
        .filter(nonce=match[2])
        .first()
    )
    if link is None:  # a deleted link, or the old address of a copy's link
        raise _not_valid()
    # share_link_create never writes a scope of another workspace; a row written some
    # other way does not get to show one either.
    for part in (link.team, link.objective):
        if part is not None and part.workspace_id != link.workspace_id:
            raise _not_valid()
    if link.revoked_at is not None:
        raise ShareLinkRefused(
            f"This share link was revoked on {day_text(link.revoked_at, link.workspace)}. "
            "Ask the person who shared it for a new link.",
            reason="revoked",
            at=link.revoked_at,
        )
    if link.expires_at is not None and link.expires_at <= now:
        raise ShareLinkRefused(
            f"This share link has expired: it worked until "
            f"{day_text(link.expires_at - _INSTANT, link.workspace)}. Ask the person who "
            "shared it for a new link.",
            reason="expired",
            at=link.expires_at,
        )
    return link


def share_link_record_use(*, link: ShareLink, now: datetime | None = None) -> None:
    """Counts a visit: one UPDATE, atomic in the database, so concurrent visits all count."""
    now = now or timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(use_count=F("use_count") + 1, last_used_at=now)
    link.use_count += 1
    link.last_used_at = now


# --- report definitions (DESIGN.md §6) -------------------------------------------------------

MAX_RECIPIENTS = 100
EARLIEST_REPORT_DAY = EARLIEST_RELEASE  # no initiative is released before it
DEFINITION_FIELDS = frozenset(
    {
        "name",
        "period",
        "team",
        "objective",
        "scheduled",
        "send_hour",
        "formats",
        "recipient_users",
        "recipient_emails",
    }
)


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """The first and the last day of the week (Monday to Sunday), month or quarter that
    holds `day`."""
    if kind == ReportPeriod.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == ReportPeriod.MONTH:
        start = day.replace(day=1)
        return start, start.replace(day=calendar.monthrange(day.year, day.month)[1])
    if kind == ReportPeriod.QUARTER:
        return quarter_of(day)
    raise ValueError(f"Unknown period {kind!r}")


def period_label(kind: str, start: date) -> str:
    """ "Q3 2026", "October 2026", "Week of 5 October 2026"."""
    if kind == ReportPeriod.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if kind == ReportPeriod.MONTH:
        return f"{start:%B %Y}"
    return f"Week of {start.day} {start:%B %Y}"


def _definition_errors(
    workspace: Workspace, values: dict[str, Any]
) -> tuple[dict[str, str], list[str], list[User]]:
    """Checks the whole definition; returns the errors by field, and the cleaned formats
    and member recipients."""
    errors: dict[str, str] = {}
    name = " ".join(str(values["name"] or "").split())
    values["name"] = name
    if not name:
        errors["name"] = "Give the report a name, e.g. “Monthly value review”."
    elif len(name) > NAME_LENGTH:
        errors["name"] = f"Keep the name within {NAME_LENGTH} characters."
    if values["period"] not in ReportPeriod.values:
        errors["period"] = "Choose a period: week, month or quarter."
    hour = values["send_hour"]
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        errors["send_hour"] = "Choose an hour of the day from 0 to 23."
    team, objective = values["team"], values["objective"]
    if team is not None and team.workspace_id != workspace.pk:
        errors["team"] = "This team is not a team of this workspace."
    if objective is not None and objective.workspace_id != workspace.pk:
        errors["objective"] = "This objective is not an objective of this workspace."

    formats: list[str] = []
    raw_formats = values["formats"]
    if not isinstance(raw_formats, list | tuple) or not raw_formats:
        errors["formats"] = "Choose at least one format: HTML, PDF or CSV."
    else:
        unknown = [str(f) for f in raw_formats if f not in ReportFormat.values]
        if unknown:
            errors["formats"] = (
                f"Unknown format: {', '.join(unknown)}. The formats are html, pdf and csv."
            )
        formats = [f for f in ReportFormat.values if f in raw_formats]

    users = list(dict.fromkeys(values["recipient_users"] or ()))
    members = set(
        Membership.objects.filter(workspace=workspace, user__in=users).values_list(
            "user_id", flat=True
        )
    )
    if any(u.pk not in members for u in users):
        errors["recipient_users"] = "Recipients chosen by name must be members of this workspace."
    emails: list[str] = []
    bad: list[str] = []
    for raw in values["recipient_emails"] or ():
        email = str(raw).strip()
        try:
            validate_email(email)
        except ValidationError:
            bad.append(email or "(empty)")
            continue
        if email.lower() not in {e.lower() for e in emails}:
            emails.append(email)
    values["recipient_emails"] = emails
    if bad:
        errors["recipient_emails"] = f"Not a valid e-mail address: {', '.join(bad)}."
    elif not users and not emails and "recipient_users" not in errors:
        errors["recipients"] = (
            "Add at least one recipient: a member of the workspace or an e-mail address."
        )
    elif len(users) + len(emails) > MAX_RECIPIENTS:
        errors["recipients"] = f"A report goes to at most {MAX_RECIPIENTS} recipients."
    return errors, formats, users


def _write_recipients(definition: ReportDefinition, users: list[User], emails: list[str]) -> None:
    definition.recipients.all().delete()
    ReportRecipient.objects.bulk_create(
        [ReportRecipient(definition=definition, user=u) for u in users]
        + [ReportRecipient(definition=definition, email=e) for e in emails]
    )


def report_definition_create(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    formats: Sequence[str],
    period: str = ReportPeriod.MONTH,
    team: Team | None = None,
    objective: Objective | None = None,
    scheduled: bool = True,
    send_hour: int = 7,
    recipient_users: Sequence[User] = (),
    recipient_emails: Sequence[str] = (),
) -> ReportDefinition:
    """A new report definition; every problem comes back at once, by field."""
    values: dict[str, Any] = {
        "name": name,
        "period": period,
        "team": team,
        "objective": objective,
        "scheduled": scheduled,
        "send_hour": send_hour,
        "formats": list(formats),
        "recipient_users": list(recipient_users),
        "recipient_emails": list(recipient_emails),
    }
    errors, clean_formats, users = _definition_errors(workspace, values)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if ReportDefinition.objects.filter(
            workspace=workspace, name=values["name"], archived_at__isnull=True
        ).exists():
            raise ValidationError({"name": "Another report already has this name."})
        definition = ReportDefinition.objects.create(
            workspace=workspace,
            name=values["name"],
            period=period,
            team=team,
            objective=objective,
            scheduled=bool(scheduled),
            send_hour=send_hour,
            formats=clean_formats,
            created_by=by,
        )
        _write_recipients(definition, users, values["recipient_emails"])
    return definition


def report_definition_update(
    *, definition: ReportDefinition, changes: Mapping[str, Any]
) -> ReportDefinition:
    """Changes some of the definition's fields (recipients as `recipient_users` and
    `recipient_emails`, each replacing the list). Runs already made keep what they were."""
    unknown = set(changes) - DEFINITION_FIELDS
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        definition = (
            ReportDefinition.objects.select_for_update(of=("self",))
            .select_related("workspace", "team", "objective")
            .get(pk=definition.pk)
        )
        if definition.archived_at is not None:
            raise ReportRefused("This report is archived: it can no longer be changed.")
        recipients = list(definition.recipients.select_related("user"))
        values: dict[str, Any] = {
            "name": definition.name,
            "period": definition.period,
            "team": definition.team,
            "objective": definition.objective,
            "scheduled": definition.scheduled,
            "send_hour": definition.send_hour,
            "formats": list(definition.formats),
            "recipient_users": [r.user for r in recipients if r.user is not None],
            "recipient_emails": [r.email for r in recipients if r.user is None],
            **changes,
        }
        errors, clean_formats, users = _definition_errors(definition.workspace, values)
        if (
            "name" not in errors
            and ReportDefinition.objects.filter(
                workspace=definition.workspace, name=values["name"], archived_at__isnull=True
            )
            .exclude(pk=definition.pk)
            .exists()
        ):
            errors["name"] = "Another report already has this name."
        if errors:
            raise ValidationError(errors)
        for key in ("name", "period", "team", "objective", "send_hour"):
            setattr(definition, key, values[key])
        definition.scheduled = bool(values["scheduled"])
        definition.formats = clean_formats
        definition.updated_at = timezone.now()
        definition.save()
        if "recipient_users" in changes or "recipient_emails" in changes:
            _write_recipients(definition, users, values["recipient_emails"])
    return definition


def report_definition_delete(*, definition: ReportDefinition) -> Literal["deleted", "archived"]:
    """Deletes a definition that has no run yet; one with runs is archived instead (its
    runs are the record of what stakeholders were told) and makes no more runs."""
    with transaction.atomic():
        definition = ReportDefinition.objects.select_for_update().get(pk=definition.pk)
        if not definition.runs.exists():
            definition.delete()
            return "deleted"
        if definition.archived_at is None:
            definition.archived_at = timezone.now()
            definition.scheduled = False
            definition.save(update_fields=["archived_at", "scheduled"])
        return "archived"


# --- report runs ------------------------------------------------------------------------------


class ReportRefused(DomainError):
    """A report action refused by the state of things (409)."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.REPORT_RUN_LEASE_SECONDS)


GENERATE_TASK = "generate_run"
DELIVER_TASK = "deliver_run"


def _enqueue(task_name: str, run_id: int, countdown: float | None = None) -> None:
    # Imported here: reports.tasks imports this module. Through the task object, so the
    # embedded default (no broker) runs it in process.
    from reports import tasks

    getattr(tasks, task_name).apply_async(args=[run_id], countdown=countdown)


def _enqueue_on_commit(task_name: str, run_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(task_name, run_id))


def _backoff(attempts: int) -> float:
    """Seconds before the next attempt; none in the embedded default, where tasks run in
    process and nothing would come back later to try again."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return 0.0
    return float(settings.REPORT_RUN_RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1))


def report_run_request(
    *, definition: ReportDefinition, by: User | None, day: date | None = None
) -> ReportRun:
    """Queues a run ("Run now") of the period holding `day` (today when None): a period
    that has not begun is refused, and so is a second run of a period while one is being
    made. A period still under way is valued as of today."""
    workspace = definition.workspace
    today = workspace_today(workspace)
    day = day or today
    if definition.archived_at is not None:
        raise ReportRefused("This report is archived: it makes no more runs.")
    if day > today:
        begun = period_bounds(definition.period, day)[0] <= today
        raise ValidationError(
            {
                "period": (
                    f"That day is still to come: choose a day up to {today.isoformat()} (a "
                    "run of the current period covers it up to today)."
                    if begun
                    else f"This period has not begun yet: choose a day up to {today.isoformat()}."
                )
            }
        )
    if day < EARLIEST_REPORT_DAY:
        raise ValidationError(
            {"period": f"Choose a day from {EARLIEST_REPORT_DAY.isoformat()} on: no work is older."}
        )
    start, end = period_bounds(definition.period, day)
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(
                workspace=workspace,
                definition=definition,
                period_start=start,
                period_end=end,
                as_of=min(end, today),
                trigger=RunTrigger.MANUAL,
                requested_by=by,
            )
            _enqueue_on_commit(GENERATE_TASK, run.pk)
    except IntegrityError:
        raise ReportRefused(
            f"A report of {period_label(definition.period, start)} is already being made: "
            "wait for it to finish."
        ) from None
    return run


def report_runs_schedule_due(*, now: datetime | None = None) -> int:
    """Creates the scheduled runs that are due — of each scheduled definition, the period
    that ended last, once its send hour has come on the next day (in the workspace's time
    zone), and only for periods that ended after the definition was made — and queues
    them. Safe to run twice or in two beats at once: a second scheduled run of a period
    breaks a unique constraint and is skipped. Runs whose task was lost (queued or with
    an expired lease for too long) are queued again. Returns the number created."""
    now = now or timezone.now()
    created = 0
    definitions = ReportDefinition.objects.filter(
        scheduled=True, archived_at__isnull=True
    ).select_related("workspace")
    for definition in definitions:
        zone = ZoneInfo(definition.workspace.timezone)
        local = now.astimezone(zone)
        this_start, _ = period_bounds(definition.period, local.date())
        start, end = period_bounds(definition.period, this_start - timedelta(days=1))
        if end < definition.created_at.astimezone(zone).date():
            continue
        if local.date() == end + timedelta(days=1) and local.hour < definition.send_hour:
            continue
        if definition.runs.filter(trigger=RunTrigger.SCHEDULE, period_start=start).exists():
            continue
        try:
            with transaction.atomic():
                run = ReportRun.objects.create(
                    workspace=definition.workspace,
                    definition=definition,
                    period_start=start,
                    period_end=end,
                    as_of=end,
                    trigger=RunTrigger.SCHEDULE,
                )
                _enqueue_on_commit(GENERATE_TASK, run.pk)
            created += 1
        except IntegrityError:
            continue  # made by another beat just now, or a run of it is in flight
    stale = now - timedelta(seconds=settings.REPORT_RUN_STALE_SECONDS)
    lost = ReportRun.objects.filter(
        Q(status=RunStatus.QUEUED, queued_at__lt=stale)
        & (Q(lease_until__isnull=True) | Q(lease_until__lt=stale))
        | Q(status=RunStatus.RUNNING, lease_until__lt=stale)
    ).values_list("pk", flat=True)
    for run_id in lost:
        _enqueue(GENERATE_TASK, run_id)
    return created


@dataclass(frozen=True)
class Attempt:
    """What one call of a run's job did: `done` (it finished the work), `skipped`
    (nothing to do: finished already, or taken over by another worker), `failed` (the
    last attempt failed) or `retry` (try again in `retry_in` seconds)."""

    outcome: Literal["done", "skipped", "failed", "retry"]
    retry_in: float | None = None


class _LostRun(Exception):
    """The run was taken over by another worker (our lease ran out)."""


def _claim(run_id: int, now: datetime) -> tuple[ReportRun | None, Attempt | None]:
    with transaction.atomic():
        run = (
            ReportRun.objects.select_for_update(of=("self",))
            .select_related("definition", "workspace", "definition__team", "definition__objective")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return None, Attempt("skipped")
        if run.lease_until is not None and run.lease_until > now:
            # Being made by a live worker, or waiting for its next attempt.
            return None, Attempt("retry", (run.lease_until - now).total_seconds() + 1)
        if run.status == RunStatus.RUNNING and run.attempts >= settings.REPORT_RUN_MAX_ATTEMPTS:
            # Its worker stopped (killed, out of memory) on every attempt: give up in words.
            run.status = RunStatus.FAILED
            run.finished_at = now
            run.lease_until = None
            run.step = "Failed"
            run.error = (
                f"The report could not be made: the worker making it stopped during each of "
                f"its {run.attempts} attempts (killed, or out of memory)."
            )
            run.save(update_fields=["status", "finished_at", "lease_until", "step", "error"])
            webhook_emit(workspace=run.workspace, event="report_run.failed", data=run_data(run))
            return None, Attempt("failed")
        run.status = RunStatus.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or now
        run.lease_until = now + _lease()
        run.progress = 1
        run.step = "Starting"
        run.save(
            update_fields=["status", "attempts", "started_at", "lease_until", "progress", "step"]
        )
        return run, None


def _heartbeat(run: ReportRun, progress: int, step: str) -> None:
    """Shows progress and renews the lease; stops the attempt if the run was taken over."""
    held = ReportRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts
    ).update(progress=progress, step=step[:120], lease_until=timezone.now() + _lease())
    if not held:
        raise _LostRun()


def report_run_generate(*, run_id: int, now: datetime | None = None) -> Attempt:
    """One attempt at making the run: claims it under its row lock (a run finished, or
    held by a live worker, is left alone), builds the data section by section, renders the
    files, and marks it succeeded and queues its e-mails in one transaction — or, on an
    error, puts it back in the queue with backoff until the attempts are used up, then
    marks it failed with the reason in words."""
    now = now or timezone.now()
    run, attempt = _claim(run_id, now)
    if run is None:
        return attempt or Attempt("skipped")
    definition = run.definition
    files: dict[str, tuple[str, bytes]] = {}
    try:
        data = report_data(
            workspace=run.workspace,
            scope=Scope(team=definition.team, objective=definition.objective),
            start=run.period_start,
            end=run.period_end,
            as_of=run.as_of,
            on_progress=lambda percent, what: _heartbeat(run, percent, what),
        )
        data["report"] = {
            "name": definition.name,
            "period": definition.period,
            "period_label": period_label(definition.period, run.period_start),
        }
        files = _render(run, data)
    except _LostRun:
        return Attempt("skipped")
    except Exception as exc:  # noqa: BLE001 — recorded on the run in words, and retried
        logger.exception("Report run %s: attempt %s failed", run.pk, run.attempts)
        return _attempt_failed(run, exc)
    return _finish(run, data, files)


def _render(run: ReportRun, data: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    from reports import rendering

    title = f"{data['report']['name']}: {data['report']['period_label']}"
    formats = set(run.definition.formats)
    _heartbeat(run, 82, "Writing the report")
    html = rendering.render_html(data=data, title=title, standalone=True)
    stem = f"{slugify(run.definition.name) or 'report'}-{run.period_start:%Y-%m-%d}"
    files = {"html_file": (f"{stem}.html", html.encode())}
    if ReportFormat.PDF in formats:
        _heartbeat(run, 88, "Printing the PDF")
        files["pdf_file"] = (f"{stem}.pdf", rendering.render_pdf(html))
    if ReportFormat.CSV in formats:
        _heartbeat(run, 95, "Writing the CSV")
        files["csv_file"] = (f"{stem}.csv", rendering.render_csv(data).encode())
    return files


def _attempt_failed(run: ReportRun, exc: BaseException) -> Attempt:
    now = timezone.now()
    reason = str(exc) if isinstance(exc, SectionFailed) else f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        current = ReportRun.objects.select_for_update().filter(pk=run.pk).first()
        if (
            current is None
            or current.status != RunStatus.RUNNING
            or current.attempts != run.attempts
        ):
            return Attempt("skipped")
        if current.attempts >= settings.REPORT_RUN_MAX_ATTEMPTS:
            current.status = RunStatus.FAILED
            current.finished_at = now
            current.lease_until = None
            current.step = "Failed"
            current.error = (
                f"The report could not be made after {current.attempts} attempts. {reason}"
            )
            current.save(update_fields=["status", "finished_at", "lease_until", "step", "error"])
            webhook_emit(workspace=run.workspace, event="report_run.failed", data=run_data(current))
            return Attempt("failed")
        wait = _backoff(current.attempts)
        current.status = RunStatus.QUEUED
        current.lease_until = now + timedelta(seconds=wait)
        current.step = "Waiting to try again"
        current.error = (
            f"Attempt {current.attempts} of {settings.REPORT_RUN_MAX_ATTEMPTS} failed: "
            f"{reason} Trying again in {wait:g} seconds."
        )
        current.save(update_fields=["status", "lease_until", "step", "error"])
        return Attempt("retry", wait)


def _finish(run: ReportRun, data: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Attempt:
    storage = ReportRun._meta.get_field("html_file").storage
    saved: dict[str, str] = {}
    for field_name, (filename, content) in files.items():
        path = report_upload_to(run, f"a{run.attempts}-{filename}")
        saved[field_name] = storage.save(path, ContentFile(content))
    with transaction.atomic():
        current = ReportRun.objects.select_for_update().filter(pk=run.pk).first()
        if (
            current is None
            or current.status != RunStatus.RUNNING
            or current.attempts != run.attempts
        ):
            for name in saved.values():
                storage.delete(name)
            return Attempt("skipped")
        current.status = RunStatus.SUCCEEDED
        current.progress = 100
        current.step = "Done"
        current.finished_at = timezone.now()
        current.lease_until = None
        current.error = ""
        current.data = data
        for field_name, name in saved.items():
            setattr(current, field_name, name)
        current.save()
        ReportDelivery.objects.bulk_create(
            [ReportDelivery(run=current, email=email) for email in _recipient_emails(run)],
            ignore_conflicts=True,
        )
        _enqueue_on_commit(DELIVER_TASK, current.pk)
        webhook_emit(workspace=run.workspace, event="report_run.succeeded", data=run_data(current))
    return Attempt("done")


def _recipient_emails(run: ReportRun) -> list[str]:
    """The definition's recipients as addresses: members by their current address; each
    address once, whatever its case."""
    seen: dict[str, str] = {}
    for email, user_email in run.definition.recipients.values_list("email", "user__email"):
        address = email or user_email
        if address:
            seen.setdefault(address.lower(), address)
    return list(seen.values())


# --- delivery ---------------------------------------------------------------------------------


def report_run_deliver(*, run_id: int) -> Attempt:
    """E-mails a succeeded run to its pending recipients, one message each, each sent by
    the worker that holds its row lock (a second worker skips it). A refusal by the mail
    server is recorded on the delivery and retried with backoff; after the last attempt
    the delivery is marked failed with the server's answer."""
    run = (
        ReportRun.objects.select_related("definition", "workspace")
        .filter(pk=run_id, status=RunStatus.SUCCEEDED)
        .first()
    )
    if run is None:
        return Attempt("skipped")
    pending = list(
        run.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    )
    if not pending:
        return Attempt("skipped")
    message = _report_message(run)
    waiting = 0
    for delivery_id in pending:
        with transaction.atomic():
            delivery = (
                ReportDelivery.objects.select_for_update(skip_locked=True)
                .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
                .first()
            )
            if delivery is None:
                continue
            delivery.attempts += 1
            message.to = [delivery.email]
            try:
                message.send()
            except (smtplib.SMTPException, OSError) as exc:
                delivery.last_error = f"The mail server did not take the message: {exc}"
                if delivery.attempts >= settings.REPORT_DELIVERY_MAX_ATTEMPTS:
                    delivery.status = DeliveryStatus.FAILED
                else:
                    waiting += 1
            else:
                delivery.status = DeliveryStatus.SENT
                delivery.sent_at = timezone.now()
                delivery.last_error = ""
            delivery.save()
    if waiting:
        attempts = (
            run.deliveries.filter(status=DeliveryStatus.PENDING)
            .order_by("-attempts")
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        return Attempt("retry", _backoff(attempts))
    return Attempt("done")


def report_delivery_resend(*, run: ReportRun, delivery_id: int) -> ReportDelivery:
    """Sends the report again to an address whose delivery failed all its attempts: the
    delivery is pending again with a fresh set of attempts, and the deliver task takes it
    after commit. Decided under the delivery's row lock, so two clicks send one e-mail;
    a delivery that was sent or is still being tried is refused in words."""
    with transaction.atomic():
        delivery = (
            ReportDelivery.objects.select_for_update().filter(pk=delivery_id, run=run).first()
        )
        if delivery is None:
            raise ReportDelivery.DoesNotExist
        if delivery.status == DeliveryStatus.SENT:
            raise ReportRefused(f"The report was sent to {delivery.email} already.")
        if delivery.status == DeliveryStatus.PENDING:
            raise ReportRefused(
                f"The report to {delivery.email} is still being sent: the mail server is "
                "tried again by itself, with growing pauses."
            )
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.save(update_fields=["status", "attempts"])
        _enqueue_on_commit(DELIVER_TASK, run.pk)
    return delivery


def _report_message(run: ReportRun) -> "rendering.ReportEmail":
    from reports import rendering  # matplotlib and WeasyPrint: loaded by workers only

    label = period_label(run.definition.period, run.period_start)
    subject = f"{run.definition.name}: {label}"
    url = settings.SITE_URL + reverse(
        "value_reports:run", kwargs={"workspace_slug": run.workspace.slug, "pk": run.pk}
    )
    # The HTML of the run's file, with its charts as PNGs in the message (mail clients
    # show no SVG and no data: image); drawn once for every address.
    images: list[rendering.InlineImage] = []
    html = ""
    if run.html_file and run.data is not None:
        try:
            html = rendering.render_html(data=run.data, title=subject, images=images)
        except Exception:  # noqa: BLE001 — the report is made: send it as it was stored
            logger.exception("Report run %s: e-mail charts could not be drawn", run.pk)
            images = []
            with run.html_file.open("rb") as stored_html:
                html = stored_html.read().decode()
    body = (
        f"{subject}\n\nThe value report of {run.workspace.name} for {label} is attached "
        f"as a PDF, and online at {url}\n"
    )
    message = rendering.ReportEmail(subject=subject, body=body, images=images)
    if html:
        message.attach_alternative(html, "text/html")
    for field_name, mimetype in (("pdf_file", "application/pdf"), ("csv_file", "text/csv")):
        stored = getattr(run, field_name)
        if stored:
            with stored.open("rb") as handle:
                message.attach(stored.name.rsplit("/", 1)[-1], handle.read(), mimetype)
    return message
