"""Objectives (a tree), key results, business metrics and their daily measurements.

Every value and every amount of money is a Decimal. Invariants that fit in one row or one
table live in database constraints; the ones that span rows (an objective cannot be its
own ancestor, a parent or metric of the same workspace) are enforced in services.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from accounts.models import Workspace

VALUE_DIGITS = 20
VALUE_PLACES = 6


class ObjectiveStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    MISSED = "missed", "Missed"
    ARCHIVED = "archived", "Archived"


class Objective(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=ObjectiveStatus.choices, default=ObjectiveStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_start", "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="objective_period_ordered",
                violation_error_message="The period must not end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ObjectiveStatus.values), name="objective_status_valid"
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="objective_not_own_parent"),
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.title


class MetricCategory(models.TextChoices):
    REVENUE = "revenue", "Revenue"
    ACQUISITION = "acquisition", "Acquisition"
    RETENTION = "retention", "Retention"
    ENGAGEMENT = "engagement", "Engagement"
    COST = "cost", "Cost"
    MARKET_SHARE = "market_share", "Market share"
    SATISFACTION = "satisfaction", "Satisfaction"
    OTHER = "other", "Other"


class Direction(models.TextChoices):
    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


class Aggregation(models.TextChoices):
    LAST = "last", "Last value (a level, e.g. MRR)"
    SUM = "sum", "Sum (a flow, e.g. daily sign-ups)"
    MEAN = "mean", "Mean"


class Metric(models.Model):
    """A business-impact metric. `value_per_unit` turns one unit of improvement into money
    in the workspace currency."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="metrics")
    key = models.SlugField(max_length=64, help_text="Short unique name, e.g. mrr or signups.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="How it is defined and measured.")
    unit = models.CharField(max_length=32, help_text="e.g. EUR, users, %, points.")
    category = models.CharField(max_length=16, choices=MetricCategory.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    aggregation = models.CharField(max_length=4, choices=Aggregation.choices)
    value_per_unit = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Money (workspace currency) per unit of improvement; empty: not in money.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the data comes from.")
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"],
                name="metric_key_unique",
                violation_error_message="A metric with this key already exists in this workspace.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=MetricCategory.values), name="metric_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="metric_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(aggregation__in=Aggregation.values), name="metric_aggregation_valid"
            ),
            models.CheckConstraint(
                condition=Q(value_per_unit__isnull=True) | Q(value_per_unit__gte=0),
                name="metric_value_per_unit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class Measurement(models.Model):
    """One value of a metric on one day; writing the same day again replaces it."""

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="measurements")
    observed_on = models.DateField()
    value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    source = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["metric_id", "observed_on"]
        constraints = [
            # Also the index every value query of a metric runs on.
            models.UniqueConstraint(
                fields=["metric", "observed_on"], name="measurement_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.observed_on}: {self.value}"


class KeyResult(models.Model):
    """A measurable result of an objective: move `metric` from `baseline` to `target`
    between `start_on` and `due_on`."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="key_results")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="key_results")
    title = models.CharField(max_length=200, blank=True)
    baseline = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    target = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    start_on = models.DateField()
    due_on = models.DateField()
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["objective_id", "due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(target=F("baseline")), name="key_result_target_not_baseline"
            ),
            models.CheckConstraint(
                condition=Q(due_on__gt=F("start_on")), name="key_result_due_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.metric_id}: {self.baseline} → {self.target}"
