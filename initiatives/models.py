"""Initiatives and what they promise: alignment to objectives, expected impact on metrics,
the decision log, experiments and ideas (DESIGN.md §2 initiatives and the lifecycle)."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from simple_history.models import HistoricalRecords

from accounts.models import Team, Workspace
from strategy.models import VALUE_DIGITS, VALUE_PLACES, Metric, Objective

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
# Ten years: a longer window would reach dates no calendar arithmetic should meet.
LONGEST_WINDOW_DAYS = 3660
EARLIEST_RELEASE = date(1900, 1, 1)


class Status(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    DISCOVERY = "discovery", "Discovery"
    COMMITTED = "committed", "Committed"
    IN_DELIVERY = "in_delivery", "In delivery"
    RELEASED = "released", "Released"
    MEASURED = "measured", "Measured"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Kind(models.TextChoices):
    STRATEGIC = "strategic", "Strategic"
    TACTICAL = "tactical", "Tactical"


class Horizon(models.TextChoices):
    NOW = "now", "Now"
    NEXT = "next", "Next"
    LATER = "later", "Later"


RICE_IMPACTS = (Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("2"), Decimal("3"))
# The stored priority figures (DESIGN.md §3 Priority). No valid input overflows them: an
# impact's expected change (< 10^14) × a value per unit (< 10^14) is < 10^28, a sum over
# thousands of impacts < 10^32, and per week of effort (≥ 0.01) < 10^34: 34 digits before
# the point, 6 after, rounded half to even (as Django writes a Decimal).
PRIORITY_DIGITS = 40
PRIORITY_PLACES = 6
# Derived from the inputs by initiatives_reprice, never typed: not in the history.
PRIORITY_FIELDS = ("risk_adjusted_value", "value_density", "rice_score")
# True where the value density is unknown: the first key of the lists' default order.
DENSITY_UNKNOWN = ExpressionWrapper(Q(value_density__isnull=True), output_field=BooleanField())


class Initiative(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    problem = models.TextField(blank=True)
    hypothesis = models.TextField(blank=True, help_text="We believe … will …; we will know when …")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="initiatives"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STRATEGIC)
    tactical_rationale = models.TextField(blank=True)
    horizon = models.CharField(max_length=5, choices=Horizon.choices, default=Horizon.NEXT)
    effort_weeks = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    confidence = models.PositiveSmallIntegerField(default=50, validators=PERCENT)
    reach = models.PositiveIntegerField(null=True, blank=True)
    impact = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        choices=[(v, str(v)) for v in RICE_IMPACTS],
        help_text="RICE impact: 0.25, 0.5, 1, 2 or 3.",
    )
    start_on = models.DateField(null=True, blank=True)
    target_on = models.DateField(null=True, blank=True)
    released_on = models.DateField(null=True, blank=True)
    measurement_window_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(LONGEST_WINDOW_DAYS)]
    )
    # The priority of DESIGN.md §3, kept by the services (initiatives_reprice) whenever an
    # input changes, so a list sorts on an index instead of summing every initiative's
    # impacts per request. Null where §3 says null.
    risk_adjusted_value = models.DecimalField(
        max_digits=PRIORITY_DIGITS,
        decimal_places=PRIORITY_PLACES,
        null=True,
        editable=False,
        help_text="Σ expected change × value per unit × confidence / 100 over its impacts.",
    )
    value_density = models.DecimalField(
        max_digits=PRIORITY_DIGITS,
        decimal_places=PRIORITY_PLACES,
        null=True,
        editable=False,
        help_text="Risk-adjusted value per week of effort.",
    )
    rice_score = models.DecimalField(
        max_digits=PRIORITY_DIGITS,
        decimal_places=PRIORITY_PLACES,
        null=True,
        editable=False,
        help_text="Reach × impact × confidence / 100 / effort weeks.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what and when: one row per save, written by the services (`by`).
    history = HistoricalRecords(
        excluded_fields=["updated_at", *PRIORITY_FIELDS], cascade_delete_history=True
    )

    class Meta:
        ordering = ["-updated_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="initiative_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="initiative_kind_valid"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=100),
                name="initiative_confidence_percent",
                violation_error_message="Confidence is a percentage from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(effort_weeks__isnull=True) | Q(effort_weeks__gte=0),
                name="initiative_effort_not_negative",
                violation_error_message="Effort cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(impact__isnull=True) | Q(impact__in=RICE_IMPACTS),
                name="initiative_rice_impact_scale",
                violation_error_message="RICE impact is one of 0.25, 0.5, 1, 2 or 3.",
            ),
            models.CheckConstraint(
                condition=Q(measurement_window_days__gte=1),
                name="initiative_window_at_least_a_day",
                violation_error_message="The measurement window is at least one day.",
            ),
            models.CheckConstraint(
                condition=Q(measurement_window_days__lte=LONGEST_WINDOW_DAYS),
                name="initiative_window_at_most_ten_years",
                violation_error_message="The measurement window is at most 3660 days.",
            ),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(released_on__gte=EARLIEST_RELEASE),
                name="initiative_released_after_1900",
                violation_error_message="A release date is 1900-01-01 or later.",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status"]),
            # The lists' default order (order_initiatives "value_density": unknown last,
            # then highest first, ties by id), so a first page reads 50 index entries
            # instead of sorting the workspace. "IS NULL" rather than NULLS LAST, which
            # SQLite does not take in an index.
            models.Index(
                F("workspace"),
                DENSITY_UNKNOWN,
                F("value_density").desc(),
                F("id"),
                name="initiative_density_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class StakeholderRole(models.TextChoices):
    SPONSOR = "sponsor", "Sponsor"
    CONSULTED = "consulted", "Consulted"
    INFORMED = "informed", "Informed"


class Stakeholder(models.Model):
    """A person with a stake in an initiative, and what they expect from it."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="stakeholders"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=StakeholderRole.choices)
    expectation = models.TextField(blank=True)

    class Meta:
        ordering = ["role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "user"], name="stakeholder_once_per_initiative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.role}) on {self.initiative_id}"


class Alignment(models.Model):
    """The share (weight, 1–100) of an initiative that serves an objective. The weights of
    one initiative sum to at most 100 (checked in the service, under a row lock)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="alignments")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="alignments")
    weight = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["-weight", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "objective"], name="alignment_once_per_objective"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100),
                name="alignment_weight_1_to_100",
                violation_error_message="A weight is from 1 to 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative_id} → {self.objective_id} ({self.weight}%)"


class ExpectedImpact(models.Model):
    """The change in a metric an initiative is expected to bring, in metric units;
    positive means better in the metric's better direction."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="expected_impacts"
    )
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="expected_impacts")
    expected_change = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    confidence = models.PositiveSmallIntegerField(default=50, validators=PERCENT)
    attribution = models.PositiveSmallIntegerField(default=100, validators=PERCENT)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "metric"], name="expected_impact_once_per_metric"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=100),
                name="expected_impact_confidence_percent",
            ),
            models.CheckConstraint(
                condition=Q(attribution__gte=0, attribution__lte=100),
                name="expected_impact_attribution_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative_id}: {self.expected_change} on {self.metric_id}"


class DecisionKind(models.TextChoices):
    COMMIT = "commit", "Commit"
    DECLINE = "decline", "Decline"
    CANCEL = "cancel", "Cancel"
    PIVOT = "pivot", "Pivot"
    RELEASE = "release", "Release"
    REOPEN = "reopen", "Reopen"
    PROGRESS = "progress", "Progress"
    DEFER = "defer", "Defer"
    OTHER = "other", "Other"


class Decision(models.Model):
    """The decision log: every status change writes one; `defer` and `other` are recorded
    by hand. The declined ones form the "not doing" list."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="decisions")
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    kind = models.CharField(max_length=10, choices=DecisionKind.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    revisit_on = models.DateField(null=True, blank=True)
    revisit_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DecisionKind.values), name="decision_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}→{self.to_status} ({self.initiative_id})"


class ExperimentMethod(models.TextChoices):
    AB_TEST = "ab_test", "A/B test"
    PROTOTYPE = "prototype", "Prototype"
    INTERVIEW = "interview", "Interviews"
    SURVEY = "survey", "Survey"
    FAKE_DOOR = "fake_door", "Fake door"
    OTHER = "other", "Other"


class ExperimentResult(models.TextChoices):
    PENDING = "pending", "Pending"
    VALIDATED = "validated", "Validated"
    INVALIDATED = "invalidated", "Invalidated"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Experiment(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="experiments")
    hypothesis = models.TextField()
    method = models.CharField(max_length=10, choices=ExperimentMethod.choices)
    metric = models.ForeignKey(
        Metric, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    success_criteria = models.TextField(blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    result = models.CharField(
        max_length=12, choices=ExperimentResult.choices, default=ExperimentResult.PENDING
    )
    learnings = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="experiment_ends_after_start",
                violation_error_message="An experiment cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.hypothesis[:60]


class IdeaSource(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SALES = "sales", "Sales"
    SUPPORT = "support", "Support"
    MARKETING = "marketing", "Marketing"
    ENGINEERING = "engineering", "Engineering"
    LEADERSHIP = "leadership", "Leadership"
    OTHER = "other", "Other"


class IdeaStatus(models.TextChoices):
    NEW = "new", "New"
    UNDER_REVIEW = "under_review", "Under review"
    PROMOTED = "promoted", "Promoted"
    DECLINED = "declined", "Declined"


class Idea(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=12, choices=IdeaSource.choices, default=IdeaSource.OTHER)
    status = models.CharField(max_length=12, choices=IdeaStatus.choices, default=IdeaStatus.NEW)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.TextField(blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revisit_on = models.DateField(null=True, blank=True)
    revisit_reminded_on = models.DateField(null=True, blank=True)
    promoted_to = models.OneToOneField(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_idea"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IdeaStatus.values), name="idea_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=IdeaStatus.PROMOTED) | Q(promoted_to__isnull=False),
                name="idea_promoted_has_initiative",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Vote(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="vote_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} for {self.idea_id}"
