"""Share links: a signed address that shows the value dashboard of one scope without a
login (DESIGN.md §5), until it is revoked or expires."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from accounts.models import Team, Workspace
from strategy.models import VALUE_PLACES, Objective

LABEL_LENGTH = 120
NONCE_LENGTH = 16


class ShareLink(models.Model):
    """The dashboard of one scope for whoever holds the link.

    The scope is the whole workspace, one team, one objective subtree, or a team's work
    within an objective subtree (both set: the same intersection the dashboard's filters
    give, never wider). Team and objective belong to the workspace (checked by the
    service). Deleting the team or objective deletes its links: a link never widens to
    the whole workspace because its scope went away.

    The address carries the link's id and nonce, signed with SECRET_KEY
    (django.core.signing, see reports.services), and is looked up by the nonce, which a
    restore keeps, so a shared address survives an import that renumbers the ids. Nothing
    secret is stored, so editors can copy the address again from the list, and the
    database alone cannot forge one.
    Revocation and expiry are read from this row on every visit.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="share_links")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    label = models.CharField(
        max_length=LABEL_LENGTH, help_text="Who or what the link is for, e.g. “Board deck Q3”."
    )
    nonce = models.CharField(
        max_length=NONCE_LENGTH,
        unique=True,
        help_text="Random; signed into the address so an id reused after a restore is "
        "not the same link.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("label")), 0),
                name="share_link_label_not_blank",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("created_at")),
                name="share_link_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="share_link_revoked_by_needs_revoked_at",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("created_at")),
                name="share_link_revoked_after_creation",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="share_link_ws_created")]

    def __str__(self) -> str:
        return f"{self.label} ({self.workspace})"


# --- the realized-value cache (reports.realized) ---------------------------------------------
# Not domain data: what the measurement windows of shipped work added up to, kept so that
# the value figures need not sum a million measurements on every read. Plain ids, no
# foreign keys: a trigger writes versions while a metric may be being deleted, and a row
# of a deleted impact is simply never read again.


class MetricDataVersion(models.Model):
    """The version of a metric's measurements: triggers on the measurements table set a new
    one on every insert, update or delete (PostgreSQL, migrations 0002 and 0003), whoever
    writes. Numbers come from one sequence, so a version is never seen twice, even after
    a rollback."""

    metric_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"metric {self.metric_id} at version {self.version}"


class ImpactWindow(models.Model):
    """The window aggregates of one expected impact (DESIGN.md §3 "Realized impact"),
    as computed for its metric, release day, span L and aggregation at a version of the
    metric's measurements; read only while all five still hold (reports.realized)."""

    impact_id = models.BigIntegerField(primary_key=True)
    metric_id = models.BigIntegerField()
    released_on = models.DateField()
    span = models.IntegerField()
    aggregation = models.CharField(max_length=4)
    version = models.BigIntegerField()
    # Sums of up to a window of values of up to VALUE_DIGITS digits: room to spare, and
    # the measurements' own places, so a sum comes back with the digits it was stored with.
    before_value = models.DecimalField(max_digits=40, decimal_places=VALUE_PLACES, null=True)
    after_value = models.DecimalField(max_digits=40, decimal_places=VALUE_PLACES, null=True)
    before_count = models.IntegerField(null=True)
    after_count = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"impact {self.impact_id}: {self.span} days around {self.released_on}"


class ValueDataVersion(models.Model):
    """The version of everything a workspace's realized figures are computed from: its
    measurements, its metrics' aggregation, direction and value per unit, its expected
    impacts, and its initiatives' release days and measurement windows. Triggers set a new
    one from the same sequence on every change of those (PostgreSQL, migration 0003), so
    figures computed at one version are the figures as long as it is current."""

    workspace_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"workspace {self.workspace_id} at version {self.version}"


# --- report definitions and runs (DESIGN.md §6) ------------------------------------------------

NAME_LENGTH = 120


class ReportPeriod(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class ReportFormat(models.TextChoices):
    HTML = "html", "HTML"
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV"


class ReportDefinition(models.Model):
    """What a value report covers and who gets it: the audience's scope (the workspace, a
    team, an objective subtree, or a team's work within a subtree, as for share links),
    the period each run covers, whether runs are made by schedule, and the formats.

    Scheduled: every period, once it has ended, a run of it is made on the next day at
    `send_hour` (the workspace's time) or later, by reports.tasks.schedule_due. A
    definition with runs is archived rather than deleted: runs are the record of what
    stakeholders were told."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="report_definitions"
    )
    name = models.CharField(max_length=NAME_LENGTH)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="report_definitions"
    )
    objective = models.ForeignKey(
        Objective,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_definitions",
    )
    period = models.CharField(
        max_length=8, choices=ReportPeriod.choices, default=ReportPeriod.MONTH
    )
    scheduled = models.BooleanField(
        default=True, help_text="Make a run of every period once it has ended."
    )
    send_hour = models.PositiveSmallIntegerField(
        default=7, help_text="Hour of the day (workspace time) scheduled runs are made at."
    )
    formats = models.JSONField(default=list, help_text="Any of html, pdf, csv.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("name")), 0),
                name="report_definition_name_not_blank",
            ),
            models.CheckConstraint(
                condition=Q(period__in=ReportPeriod.values), name="report_definition_period"
            ),
            models.CheckConstraint(
                condition=Q(send_hour__gte=0, send_hour__lte=23),
                name="report_definition_send_hour",
            ),
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=Q(archived_at__isnull=True),
                name="report_definition_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReportRecipient(models.Model):
    """One recipient of a definition's reports: a member of the workspace (their current
    e-mail address is used) or an e-mail address."""

    definition = models.ForeignKey(
        ReportDefinition, on_delete=models.CASCADE, related_name="recipients"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email=""))
                | (Q(user__isnull=True) & ~Q(email="")),
                name="report_recipient_user_or_email",
            ),
            models.UniqueConstraint(
                fields=["definition", "user"],
                condition=Q(user__isnull=False),
                name="report_recipient_user_unique",
            ),
            models.UniqueConstraint(
                fields=["definition", "email"],
                condition=~Q(email=""),
                name="report_recipient_email_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email or str(self.user)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)


def report_upload_to(run: "ReportRun", filename: str) -> str:
    return f"reports/{run.workspace_id}/{run.pk}/{filename}"


class ReportRun(models.Model):
    """One report of one period: a snapshot that does not change once it has succeeded.

    `queued → running → succeeded | failed`. A worker claims the run under a row lock and
    holds it by a lease it renews as it goes (`lease_until`); a run whose worker died is
    claimed again once the lease has run out. `attempts` counts the claims; an attempt
    that failed puts the run back in the queue until the attempts are used up.

    At most one scheduled run per (definition, period), and at most one run of a period
    in flight: both are unique constraints, so two beats or two clicks cannot make two."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="report_runs")
    definition = models.ForeignKey(ReportDefinition, on_delete=models.PROTECT, related_name="runs")
    period_start = models.DateField()
    period_end = models.DateField()
    as_of = models.DateField(
        help_text="The evaluation date: the period's end, or the day it was run."
    )
    trigger = models.CharField(max_length=8, choices=RunTrigger.choices)
    status = models.CharField(max_length=9, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True, help_text="What the run is doing now.")
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)
    html_file = models.FileField(upload_to=report_upload_to, blank=True, max_length=255)
    pdf_file = models.FileField(upload_to=report_upload_to, blank=True, max_length=255)
    csv_file = models.FileField(upload_to=report_upload_to, blank=True, max_length=255)

    class Meta:
        ordering = ["-period_start", "-queued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="report_run_status"
            ),
            models.CheckConstraint(
                condition=Q(trigger__in=RunTrigger.values), name="report_run_trigger"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="report_run_progress"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="report_run_period"
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.SUCCEEDED) | Q(data__isnull=False),
                name="report_run_succeeded_has_data",
            ),
            models.UniqueConstraint(
                fields=["definition", "period_start"],
                condition=Q(trigger=RunTrigger.SCHEDULE),
                name="report_run_one_scheduled_per_period",
            ),
            models.UniqueConstraint(
                fields=["definition", "period_start"],
                condition=Q(status__in=IN_FLIGHT),
                name="report_run_one_in_flight_per_period",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-queued_at"], name="report_run_ws_queued"),
            models.Index(
                fields=["status", "queued_at"],
                condition=Q(status__in=IN_FLIGHT),
                name="report_run_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} {self.period_start}–{self.period_end} ({self.status})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReportDelivery(models.Model):
    """The e-mail of one succeeded run to one address: sent once, retried with backoff
    while the mail server refuses, then marked failed with the server's answer."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="deliveries")
    email = models.EmailField()
    status = models.CharField(
        max_length=7, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "email"], name="report_delivery_unique"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="report_delivery_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} → {self.email} ({self.status})"
