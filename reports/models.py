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
    (django.core.signing, see reports.services): nothing secret is stored, so editors can
    copy the address again from the list, and the database alone cannot forge one.
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
