"""manage.py load_scale_initiatives: the initiatives part of the DESIGN.md §7 reference scale.

On top of the workspace of `load_scale_metrics` (run first when the workspace has no
metrics yet, so this one command loads the whole reference workspace), it tops the
objectives up to `--objectives` in a company → product tree and loads `--initiatives`
initiatives in a realistic mix of statuses: each with 1–3 expected impacts on the scale
metrics (mostly the priced ones, so they have money figures), 1–2 alignments whose weights
sum to at most 100 (the first to an active objective, so every committed one passes the
commit guard), a release date in the last two years for the released and measured ones
(a measured one's window has passed, a released one is still measuring), and one
Decision for every status change along its way, as `initiative_transition` writes it.

Made for benchmarks: rows go in by bulk_create in batches, not through the services one
by one, so 10,000 initiatives take seconds; the stored priority (value density, RICE) is
then computed by the services' `initiatives_reprice`. The history of django-simple-history is not
written (bulk inserts bypass it): a loaded initiative's history page starts empty, its
decision log is complete. Refuses a workspace that already has initiatives, unless told to
replace them (--replace) or to leave them (--skip-if-loaded).
"""

import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Avg
from django.utils import timezone

from accounts.models import Role, Team, User, Workspace
from accounts.services import member_add, team_create
from initiatives.models import (
    RICE_IMPACTS,
    Alignment,
    Decision,
    DecisionKind,
    ExpectedImpact,
    Horizon,
    Initiative,
    Kind,
    Status,
)
from initiatives.services import REVISITABLE, TRANSITIONS, initiatives_reprice
from strategy.models import Aggregation, Measurement, Metric, Objective, ObjectiveStatus
from strategy.services import workspace_today

SEED = 11
BATCH = 2_000
TEAMS = 12
OWNERS = 24
# The share of each status, in percent (DESIGN.md §7 does not fix it; a portfolio that
# has run for two years): 30 % ideas in work, 25 % committed work, 35 % shipped, 10 % not.
STATUS_MIX: tuple[tuple[str, int], ...] = (
    (Status.PROPOSED, 18),
    (Status.DISCOVERY, 12),
    (Status.COMMITTED, 12),
    (Status.IN_DELIVERY, 13),
    (Status.RELEASED, 15),
    (Status.MEASURED, 20),
    (Status.DECLINED, 6),
    (Status.CANCELLED, 4),
)
WINDOWS = (30, 60, 90, 90, 90, 90, 120, 180)
EFFORTS = tuple(Decimal(e) for e in ("0.5", "1", "2", "3", "4", "6", "8", "12", "16", "26"))
PRICED_SHARE = 0.85  # of initiatives whose impacts are all on metrics with a value per unit
RELEASE_HORIZON_DAYS = 730
HORIZONS: dict[str, str] = {
    Status.DISCOVERY: Horizon.NEXT,
    Status.COMMITTED: Horizon.NOW,
    Status.IN_DELIVERY: Horizon.NOW,
}
THEMES = (
    "Self-serve onboarding",
    "Usage-based pricing",
    "Churn early warning",
    "Bulk import",
    "SSO for teams",
    "In-app guides",
    "Faster search",
    "Annual plan upsell",
    "Referral programme",
    "Billing retries",
    "Mobile approvals",
    "Audit log export",
    "Slack alerts",
    "Data residency",
    "Partner API",
    "Checkout redesign",
)
SEGMENTS = ("SMB", "mid-market", "enterprise", "trial users", "admins", "new markets")
RATIONALES: dict[str, tuple[str, ...]] = {
    DecisionKind.DECLINE: (
        "Too little value for the effort: the segment is small.",
        "A partner covers this need already.",
        "Does not serve an active objective this year.",
        "Discovery found no evidence of the problem.",
    ),
    DecisionKind.CANCEL: (
        "The market moved: the premise no longer holds.",
        "Delivery cost doubled; the value does not justify it.",
        "A higher-value initiative needs the team.",
    ),
    DecisionKind.PIVOT: ("Discovery showed a different problem behind the request.",),
    DecisionKind.REOPEN: ("Customers asked again: the premise changed.",),
    DecisionKind.COMMIT: ("Aligned, sized and worth it: committed for this quarter.",),
}


@dataclass
class Plan:
    """One initiative to insert with what hangs off it (ids filled in once inserted)."""

    initiative: Initiative
    impacts: list[ExpectedImpact] = field(default_factory=list)
    alignments: list[Alignment] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Command(BaseCommand):
    help = (
        "Loads the initiatives part of the reference scale (DESIGN.md §7) into a workspace "
        "loaded by load_scale_metrics (loaded first when it has no metrics): objectives up "
        "to 200, and initiatives with expected impacts, alignments and decisions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Slug; created when missing.")
        parser.add_argument("--initiatives", type=int, default=10_000)
        parser.add_argument(
            "--objectives", type=int, default=200, help="Objectives to top the workspace up to."
        )
        parser.add_argument(
            "--metrics",
            type=int,
            default=500,
            help="For load_scale_metrics, when the workspace has no metrics yet.",
        )
        parser.add_argument(
            "--measurements",
            type=int,
            default=1_000_000,
            help="For load_scale_metrics, when the workspace has no metrics yet.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the workspace's initiatives (and their decisions) first.",
        )
        parser.add_argument(
            "--skip-if-loaded",
            action="store_true",
            help="Leave a workspace that already has initiatives as it is, and succeed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n_initiatives: int = options["initiatives"]
        n_objectives: int = options["objectives"]
        if n_initiatives < 1:
            raise CommandError("--initiatives must be at least 1.")
        if n_objectives < 1:
            raise CommandError("--objectives must be at least 1 (initiatives align to them).")
        slug: str = options["workspace"]
        started = time.perf_counter()
        with transaction.atomic():
            workspace = Workspace.objects.filter(slug=slug).first()
            if workspace is None or not Metric.objects.filter(workspace=workspace).exists():
                self.stdout.write(f"The workspace “{slug}” has no metrics: loading them first.")
                call_command(
                    "load_scale_metrics",
                    workspace=slug,
                    metrics=options["metrics"],
                    measurements=options["measurements"],
                    objectives=n_objectives,
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
                workspace = Workspace.objects.get(slug=slug)
            existing = Initiative.objects.filter(workspace=workspace).count()
            if existing:
                if options["skip_if_loaded"]:
                    self.stdout.write(
                        f"The workspace “{slug}” already holds {existing:,} initiatives: "
                        "left as it is."
                    )
                    return
                if not options["replace"]:
                    raise CommandError(
                        f"The workspace “{slug}” already holds {existing:,} initiatives, so "
                        "nothing was loaded. Run again with --replace to delete them and load "
                        "anew, or use another workspace."
                    )
                self._step("Deleted the existing initiatives", _wipe, workspace)
            metrics = list(
                Metric.objects.filter(
                    workspace=workspace, key__startswith="scale-", archived_at__isnull=True
                ).order_by("key")
            )
            if not metrics:
                raise CommandError(
                    f"The workspace “{slug}” has no scale metrics (keys scale-…) to set "
                    "expected impacts on: load them with load_scale_metrics."
                )
            self._step(
                "Objectives topped up",
                _top_up_objectives,
                workspace,
                n_objectives,
                count=lambda added: added,
            )
            people = self._step(
                "Teams and owners", _teams_and_owners, workspace, count=lambda r: len(r[1])
            )
            plans = self._step(
                "Planned",
                _plan,
                workspace,
                metrics,
                people,
                n_initiatives,
                count=lambda r: len(r),
            )
            self._step("Initiatives", _insert_initiatives, plans, count=lambda r: r)
            self._step("Expected impacts", _insert_children, plans, "impacts", count=lambda r: r)
            self._step("Alignments", _insert_children, plans, "alignments", count=lambda r: r)
            self._step("Decisions", _insert_children, plans, "decisions", count=lambda r: r)
            self._step("Created and updated times", _set_times, plans, count=lambda r: r)
            self._step("Priority figures", _reprice, plans, count=lambda r: r)
        if connection.vendor == "postgresql":
            # Fresh statistics, and no dead rows left by the update of the times (VACUUM
            # runs only outside a transaction: a test's transaction gets ANALYZE alone).
            vacuum = not connection.in_atomic_block
            self._step("VACUUM ANALYZE" if vacuum else "ANALYZE", _analyze, vacuum)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {n_initiatives:,} initiatives into “{workspace.slug}” in "
                f"{time.perf_counter() - started:.1f} s."
            )
        )

    def _step(self, label: str, function: Callable[..., Any], *args: Any, count: Any = None) -> Any:
        started = time.perf_counter()
        result = function(*args)
        seconds = time.perf_counter() - started
        rows = count(result) if count is not None else None
        rate = f" ({rows / seconds:,.0f} rows/s)" if rows and seconds > 0 else ""
        done = f"{rows:,} in " if rows is not None else ""
        self.stdout.write(f"  {label}: {done}{seconds:.2f} s{rate}")
        return result


def _wipe(workspace: Workspace) -> None:
    Initiative.objects.filter(workspace=workspace).delete()


def _top_up_objectives(workspace: Workspace, n: int) -> int:
    """Adds objectives until the workspace holds `n`: company objectives first (a tenth of
    `n`, at least one), the rest product objectives under them in turn. Returns how many
    were added."""
    existing = Objective.objects.filter(workspace=workspace).count()
    missing = n - existing
    if missing <= 0:
        return 0
    today = workspace_today(workspace)
    period_start, period_end = date(today.year, 1, 1), date(today.year, 12, 31)
    roots = list(
        Objective.objects.filter(workspace=workspace, parent=None)
        .exclude(status=ObjectiveStatus.ARCHIVED)
        .order_by("id")
    )
    add_roots = min(missing, max(0, max(1, n // 10) - len(roots)))
    roots += Objective.objects.bulk_create(
        Objective(
            workspace=workspace,
            title=f"Company objective {len(roots) + i + 1}",
            period_start=period_start,
            period_end=period_end,
            status=ObjectiveStatus.ACTIVE,
        )
        for i in range(add_roots)
    )
    statuses = [ObjectiveStatus.ACTIVE] * 8 + [ObjectiveStatus.DRAFT, ObjectiveStatus.ACHIEVED]
    Objective.objects.bulk_create(
        Objective(
            workspace=workspace,
            parent=roots[i % len(roots)],
            title=f"Product objective {existing + add_roots + i + 1}",
            period_start=period_start,
            period_end=period_end,
            status=statuses[i % len(statuses)],
        )
        for i in range(missing - add_roots)
    )
    return missing


def _teams_and_owners(workspace: Workspace) -> tuple[list[Team], list[User]]:
    """Product teams and the PMs (editors) who own initiatives, created when missing."""
    teams = {t.name: t for t in Team.objects.filter(workspace=workspace)}
    for i in range(1, TEAMS + 1):
        name = f"Team {i:02d}"
        if name not in teams:
            teams[name] = team_create(workspace=workspace, name=name)
    owners = [
        member_add(
            workspace=workspace, email=f"pm-{i:02d}@{workspace.slug}.example", role=Role.EDITOR
        )[0].user
        for i in range(1, OWNERS + 1)
    ]
    return [teams[f"Team {i:02d}"] for i in range(1, TEAMS + 1)], owners


def _statuses(n: int, rng: random.Random) -> list[str]:
    """`n` statuses in the shares of STATUS_MIX (exact up to rounding), shuffled."""
    out: list[str] = []
    for status, percent in STATUS_MIX:
        out += [status] * round(n * percent / 100)
    out = (out + [Status.PROPOSED] * n)[:n]
    rng.shuffle(out)
    return out


def _path(status: str, rng: random.Random) -> list[str]:
    """The statuses an initiative went through to reach `status`, from proposed."""
    commit: list[str] = [Status.PROPOSED, Status.COMMITTED]
    if rng.random() < 0.7:
        commit = [Status.PROPOSED, Status.DISCOVERY, Status.COMMITTED]
    if rng.random() < 0.05:  # a pivot back to discovery and a second commit
        commit += [Status.DISCOVERY, Status.COMMITTED]
    if status == Status.PROPOSED:
        return [Status.PROPOSED, Status.DECLINED, Status.PROPOSED] if rng.random() < 0.08 else []
    if status == Status.DISCOVERY:
        return [Status.PROPOSED, Status.DISCOVERY]
    if status == Status.COMMITTED:
        return commit
    if status == Status.IN_DELIVERY:
        return [*commit, Status.IN_DELIVERY]
    if status == Status.RELEASED:
        return [*commit, Status.IN_DELIVERY, Status.RELEASED]
    if status == Status.MEASURED:
        return [*commit, Status.IN_DELIVERY, Status.RELEASED, Status.MEASURED]
    if status == Status.DECLINED:
        if rng.random() < 0.5:
            return [Status.PROPOSED, Status.DECLINED]
        return [Status.PROPOSED, Status.DISCOVERY, Status.DECLINED]
    # cancelled, before or during delivery
    if rng.random() < 0.5:
        return [*commit, Status.CANCELLED]
    return [*commit, Status.IN_DELIVERY, Status.CANCELLED]


def _levels(metrics: Sequence[Metric]) -> dict[int, float]:
    """The mean value of each metric: the scale of its expected changes."""
    rows = (
        Measurement.objects.filter(metric__in=metrics)
        .values("metric")
        .annotate(level=Avg("value"))
        .order_by()
    )
    levels = {row["metric"]: float(row["level"]) for row in rows}
    return {m.pk: abs(levels.get(m.pk, 100.0)) or 100.0 for m in metrics}


def _plan(
    workspace: Workspace,
    metrics: list[Metric],
    people: tuple[list[Team], list[User]],
    n: int,
) -> list[Plan]:
    rng = random.Random(SEED)  # noqa: S311 - benchmark data, not cryptography
    teams, owners = people
    today = workspace_today(workspace)
    zone = ZoneInfo(workspace.timezone)
    now = timezone.now()
    levels = _levels(metrics)
    priced = [m for m in metrics if m.value_per_unit is not None] or metrics
    objectives = list(Objective.objects.filter(workspace=workspace).order_by("id"))
    active = [o for o in objectives if o.status == ObjectiveStatus.ACTIVE]
    if not active:
        raise CommandError(
            f"The workspace “{workspace.slug}” has no active objective to align initiatives "
            "to (the commit guard needs one)."
        )
    active_products = [o for o in active if o.parent_id is not None] or active

    def moment(day: date) -> datetime:
        at = datetime.combine(day, day_time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=zone)
        return min(at, now)

    plans = []
    for i, status in enumerate(_statuses(n, rng)):
        window = rng.choice(WINDOWS)
        effort = None if rng.random() < 0.05 else rng.choice(EFFORTS)
        tactical = rng.random() < 0.15
        theme, segment = rng.choice(THEMES), rng.choice(SEGMENTS)
        owner = owners[i % len(owners)]
        initiative = Initiative(
            workspace=workspace,
            title=f"{theme} for {segment} #{i + 1}",
            summary=f"{theme} for {segment}.",
            problem=f"{segment.capitalize()} lose time without {theme.lower()}.",
            hypothesis=(
                f"We believe {theme.lower()} for {segment} will move our metrics; "
                "we will know when the expected impacts show in the measurement window."
            ),
            status=status,
            team=teams[i % len(teams)],
            owner=owner,
            kind=Kind.TACTICAL if tactical else Kind.STRATEGIC,
            tactical_rationale="Keeps a key account; small and urgent." if tactical else "",
            horizon=HORIZONS.get(status, Horizon.LATER),
            effort_weeks=effort,
            confidence=rng.randrange(20, 95, 5),
            reach=rng.choice((None, *range(200, 50_001, 200))),
            impact=rng.choice(RICE_IMPACTS),
            measurement_window_days=window,
        )
        plan = Plan(initiative)
        # Expected impacts on 1–3 distinct metrics, mostly the priced ones.
        pool = priced if rng.random() < PRICED_SHARE else metrics
        for metric in rng.sample(pool, min(len(pool), rng.choice((1, 1, 2, 2, 3, 3)))):
            level = levels[metric.pk]
            share = rng.uniform(0.01, 0.08)
            change = level * share * (window if metric.aggregation == Aggregation.SUM else 1)
            plan.impacts.append(
                ExpectedImpact(
                    metric=metric,
                    expected_change=Decimal(f"{max(change, 0.01):.2f}"),
                    confidence=rng.randrange(30, 95, 5),
                    attribution=rng.choice((50, 70, 80, 100, 100, 100)),
                )
            )
        # 1–2 alignments, weights summing to at most 100, the first to an active objective.
        first = rng.choice(active_products)
        if rng.random() < 0.6 or len(objectives) < 2:
            plan.alignments.append(Alignment(objective=first, weight=rng.choice((100, 100, 80))))
        else:
            second = rng.choice([o for o in rng.sample(objectives, 2) if o.pk != first.pk])
            w1, w2 = rng.choice(((60, 40), (50, 50), (70, 30), (50, 30), (40, 40)))
            plan.alignments += [
                Alignment(objective=first, weight=w1),
                Alignment(objective=second, weight=w2),
            ]
        # The way to its status, dated backwards from its last step.
        path = _path(status, rng)
        steps = list(itertools.pairwise(path))
        days: list[date] = []
        if status in (Status.RELEASED, Status.MEASURED):
            if status == Status.RELEASED:  # still measuring
                released_on = today - timedelta(days=rng.randint(1, window - 1))
            else:
                released_on = today - timedelta(days=rng.randint(window, RELEASE_HORIZON_DAYS))
            initiative.released_on = released_on
            release = path.index(Status.RELEASED) - 1
            days = [released_on]
            for _ in range(release):
                days.insert(0, days[0] - timedelta(days=rng.randint(5, 45)))
            if status == Status.MEASURED:
                ends = released_on + timedelta(days=window)
                days.append(min(today, ends + timedelta(days=rng.randint(0, 5))))
        elif steps:
            days = [today - timedelta(days=rng.randint(0, 240))]
            for _ in range(len(steps) - 1):
                days.insert(0, days[0] - timedelta(days=rng.randint(5, 45)))
        created = (days[0] if days else today) - timedelta(days=rng.randint(1, 90))
        plan.created_at = moment(created)
        plan.updated_at = plan.created_at
        for n_step, ((before, after), day) in enumerate(zip(steps, days, strict=True)):
            kind = TRANSITIONS[before][after]
            revisit_on = reminded_on = None
            if kind in REVISITABLE and rng.random() < 0.4:
                revisit_on = day + timedelta(days=rng.randint(60, 365))
                reminded_on = revisit_on if revisit_on <= today else None
            decided_at = max(moment(day), plan.updated_at)
            plan.decisions.append(
                Decision(
                    workspace=workspace,
                    kind=kind,
                    from_status=before,
                    to_status=after,
                    rationale=rng.choice(RATIONALES.get(kind, ("",))),
                    decided_by=owner,
                    decided_at=decided_at,
                    revisit_on=revisit_on,
                    revisit_reminded_on=reminded_on,
                )
            )
            plan.updated_at = decided_at
            if kind == DecisionKind.COMMIT:
                # Work starts within three weeks, and before the next step.
                latest = days[n_step + 1] if n_step + 1 < len(days) else day + timedelta(21)
                initiative.start_on = day + timedelta(days=rng.randint(0, (latest - day).days))
                weeks = float(effort or 4)
                initiative.target_on = initiative.start_on + timedelta(days=round(weeks * 7))
        plans.append(plan)
    return plans


def _insert_initiatives(plans: list[Plan]) -> int:
    objects = [plan.initiative for plan in plans]
    Initiative.objects.bulk_create(objects, batch_size=BATCH)
    if any(i.pk is None for i in objects):  # a backend that does not return ids
        raise CommandError("This database does not return the ids of bulk inserts.")
    return len(objects)


def _insert_children(plans: list[Plan], kind: str) -> int:
    """Inserts one kind of child rows of every plan, pointing them at their initiative."""
    rows: list[Any] = []
    for plan in plans:
        for row in getattr(plan, kind):
            row.initiative = plan.initiative
            rows.append(row)
    if rows:
        type(rows[0]).objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _set_times(plans: list[Plan]) -> int:
    """created_at and updated_at as the initiative's story says (bulk_create stamps now):
    created before its first decision, updated at its last."""
    objects = []
    for plan in plans:
        plan.initiative.created_at = plan.created_at  # type: ignore[assignment]
        plan.initiative.updated_at = plan.updated_at  # type: ignore[assignment]
        objects.append(plan.initiative)
    Initiative.objects.bulk_update(objects, ["created_at", "updated_at"], batch_size=BATCH)
    return len(objects)


def _reprice(plans: list[Plan]) -> int:
    """The stored priority the services keep (bulk inserts bypass them): one read and one
    UPDATE per thousand initiatives, by the same function."""
    return len(initiatives_reprice(initiative_ids=[plan.initiative.pk for plan in plans]))


def _analyze(vacuum: bool) -> None:
    command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for model in (Initiative, ExpectedImpact, Alignment, Decision, Objective):
            cursor.execute(f"{command} {model._meta.db_table}")
