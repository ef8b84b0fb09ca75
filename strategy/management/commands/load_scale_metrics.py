"""python manage.py load_scale_metrics: the metrics part of the DESIGN.md §7 reference scale.

Loads `--metrics` metrics with `--measurements` daily measurements between them (each
metric gets a run of consecutive days ending today), and `--objectives` objectives (a
tenth of them company objectives, the rest product objectives under them) with three key
results on those metrics per product objective. Made for benchmarks: rows go in by
PostgreSQL COPY (bulk_create on SQLite), not through the services, so a million
measurements take seconds. Refuses a workspace that already has strategy data, unless told
to replace it (--replace) or to leave it (--skip-if-loaded).
"""

import io
import itertools
import math
import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import workspace_create
from strategy.models import (
    Aggregation,
    Direction,
    KeyResult,
    Measurement,
    Metric,
    MetricCategory,
    Objective,
    ObjectiveStatus,
)
from strategy.services import workspace_today

SEED = 7
KEY_RESULTS_PER_OBJECTIVE = 3
COPY_CHUNK_ROWS = 200_000
BULK_CHUNK_ROWS = 20_000
# (category, direction, aggregation, unit, value per unit) cycled over the metrics.
KINDS: tuple[tuple[str, str, str, str, str | None], ...] = (
    (MetricCategory.REVENUE, Direction.INCREASE, Aggregation.LAST, "EUR", "12"),
    (MetricCategory.ACQUISITION, Direction.INCREASE, Aggregation.SUM, "sign-ups", "640"),
    (MetricCategory.ACQUISITION, Direction.INCREASE, Aggregation.MEAN, "%", "150000"),
    (MetricCategory.RETENTION, Direction.DECREASE, Aggregation.LAST, "%", "30000"),
    (MetricCategory.ENGAGEMENT, Direction.INCREASE, Aggregation.LAST, "teams", None),
    (MetricCategory.COST, Direction.DECREASE, Aggregation.SUM, "EUR", "1"),
    (MetricCategory.MARKET_SHARE, Direction.INCREASE, Aggregation.LAST, "%", "1500000"),
    (MetricCategory.SATISFACTION, Direction.INCREASE, Aggregation.MEAN, "points", None),
    (MetricCategory.OTHER, Direction.DECREASE, Aggregation.MEAN, "ms", None),
)


class Command(BaseCommand):
    help = (
        "Loads the metrics part of the reference scale (DESIGN.md §7) into a workspace: "
        "metrics, daily measurements, objectives and key results."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Slug; created when missing.")
        parser.add_argument("--metrics", type=int, default=500)
        parser.add_argument("--measurements", type=int, default=1_000_000)
        parser.add_argument("--objectives", type=int, default=200)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the workspace's metrics, measurements, objectives and key results first.",
        )
        parser.add_argument(
            "--skip-if-loaded",
            action="store_true",
            help="Leave a workspace that already has strategy data as it is, and succeed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n_metrics: int = options["metrics"]
        n_measurements: int = options["measurements"]
        n_objectives: int = options["objectives"]
        if n_metrics < 1:
            raise CommandError("--metrics must be at least 1.")
        if n_measurements < 0 or n_objectives < 0:
            raise CommandError("--measurements and --objectives cannot be negative.")
        started = time.perf_counter()
        with transaction.atomic():
            workspace = self._workspace(options["workspace"])
            existing = _existing(workspace)
            if existing:
                if options["skip_if_loaded"]:
                    self.stdout.write(
                        f"The workspace “{workspace.slug}” already holds {existing}: left as it is."
                    )
                    return
                if not options["replace"]:
                    raise CommandError(
                        f"The workspace “{workspace.slug}” already holds {existing}, so "
                        "nothing was loaded. Run again with --replace to delete them and load "
                        "anew, or use another workspace."
                    )
                self._step("Deleted the existing strategy data", _wipe, workspace)
            today = workspace_today(workspace)
            metrics = self._step(
                "Metrics", _create_metrics, workspace, n_metrics, count=lambda r: len(r)
            )
            self._step(
                "Measurements",
                _load_measurements,
                metrics,
                n_measurements,
                today,
                count=lambda r: r,
            )
            self._step(
                "Objectives and key results",
                _create_objectives,
                workspace,
                metrics,
                n_objectives,
                today,
                count=lambda r: r,
            )
            if connection.vendor == "postgresql":
                # Fresh statistics, so the planner uses the (metric, observed_on) index.
                self._step("ANALYZE", _analyze)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {n_metrics:,} metrics, {n_measurements:,} measurements and "
                f"{n_objectives:,} objectives into “{workspace.slug}” in "
                f"{time.perf_counter() - started:.1f} s."
            )
        )

    def _workspace(self, slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            workspace = workspace_create(slug=slug, name=slug.replace("-", " ").title())
            self.stdout.write(f"Created the workspace “{slug}”.")
        return workspace

    def _step(self, label: str, function: Any, *args: Any, count: Any = None) -> Any:
        started = time.perf_counter()
        result = function(*args)
        seconds = time.perf_counter() - started
        rows = count(result) if count is not None else None
        rate = f" ({rows / seconds:,.0f} rows/s)" if rows and seconds > 0 else ""
        done = f"{rows:,} in " if rows is not None else ""
        self.stdout.write(f"  {label}: {done}{seconds:.2f} s{rate}")
        return result


def _existing(workspace: Workspace) -> str:
    """What strategy data the workspace holds, in words; empty when none."""
    metrics = Metric.objects.filter(workspace=workspace).count()
    objectives = Objective.objects.filter(workspace=workspace).count()
    if not metrics and not objectives:
        return ""
    measurements = Measurement.objects.filter(metric__workspace=workspace).count()
    return f"{metrics:,} metrics, {measurements:,} measurements and {objectives:,} objectives"


def _wipe(workspace: Workspace) -> None:
    KeyResult.objects.filter(workspace=workspace).delete()
    Objective.objects.filter(workspace=workspace).update(parent=None)
    Objective.objects.filter(workspace=workspace).delete()
    Measurement.objects.filter(metric__workspace=workspace).delete()
    try:
        Metric.objects.filter(workspace=workspace).delete()
    except ProtectedError as exc:
        raise CommandError(
            f"Some metrics of “{workspace.slug}” are still used elsewhere (e.g. by the "
            "expected impact of an initiative), so nothing was deleted or loaded. Delete "
            "those first."
        ) from exc


def _create_metrics(workspace: Workspace, n: int) -> list[Metric]:
    metrics = []
    for i in range(n):
        category, direction, aggregation, unit, per_unit = KINDS[i % len(KINDS)]
        metrics.append(
            Metric(
                workspace=workspace,
                key=f"scale-{i + 1:04d}",
                name=f"Scale metric {i + 1:04d} ({category}, {aggregation})",
                description="Generated by load_scale_metrics for benchmarks.",
                unit=unit,
                category=category,
                direction=direction,
                aggregation=aggregation,
                value_per_unit=Decimal(per_unit) if per_unit else None,
                source="load_scale_metrics",
            )
        )
    Metric.objects.bulk_create(metrics, batch_size=1_000)
    if any(m.pk is None for m in metrics):  # a backend that does not return ids
        by_key = dict(Metric.objects.filter(workspace=workspace).values_list("key", "pk"))
        for metric in metrics:
            metric.pk = by_key[metric.key]
    return metrics


def _shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole numbers that differ by at most one."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _base_level(metric: Metric) -> float:
    return {
        "EUR": 25_000.0 if metric.aggregation == Aggregation.LAST else 2_000.0,
        "%": 4.0,
        "sign-ups": 40.0,
        "teams": 500.0,
        "points": 35.0,
        "ms": 900.0,
    }[metric.unit] * (1 + (metric.pk or 0) % 7 / 10)


def _rows(metrics: list[Metric], total: int, today: date) -> Iterator[tuple[int, str, str]]:
    """(metric id, ISO day, value) for every measurement: a run of days ending today per
    metric, a trend, a weekly wave and noise."""
    rng = random.Random(SEED)  # noqa: S311 - benchmark data, not cryptography
    shares = _shares(total, len(metrics))
    days = [(today - timedelta(days=offset)).isoformat() for offset in range(max(shares) or 1)]
    for metric, n in zip(metrics, shares, strict=True):
        base = _base_level(metric)
        trend = rng.uniform(-0.2, 0.6) / max(n, 1)
        for offset in range(n - 1, -1, -1):
            t = n - 1 - offset
            wave = 1 + 0.1 * math.sin(t * 0.8976)  # a weekly rhythm
            value = base * (1 + trend * t) * wave * (1 + rng.gauss(0, 0.03))
            yield metric.pk, days[offset], f"{value:.2f}"


def _load_measurements(metrics: list[Metric], total: int, today: date) -> int:
    if total == 0:
        return 0
    now = timezone.now()
    rows = _rows(metrics, total, today)
    if connection.vendor == "postgresql":
        stamp = now.isoformat()
        columns = "metric_id, observed_on, value, source, note, created_at, updated_at"
        sql = f"COPY {Measurement._meta.db_table} ({columns}) FROM STDIN"  # noqa: S608
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(rows, COPY_CHUNK_ROWS)):
                buffer = io.StringIO(
                    "".join(
                        f"{metric_id}\t{day}\t{value}\tscale\t\t{stamp}\t{stamp}\n"
                        for metric_id, day, value in chunk
                    )
                )
                cursor.copy_expert(sql, buffer)
        return total
    while chunk := list(itertools.islice(rows, BULK_CHUNK_ROWS)):
        Measurement.objects.bulk_create(
            Measurement(
                metric_id=metric_id,
                observed_on=date.fromisoformat(day),
                value=Decimal(value),
                source="scale",
                created_at=now,
                updated_at=now,
            )
            for metric_id, day, value in chunk
        )
    return total


def _create_objectives(workspace: Workspace, metrics: list[Metric], n: int, today: date) -> int:
    """`n` objectives: a tenth are company objectives, the others sit under them and get
    three key results each, on the metrics in turn. Returns the rows written."""
    if n == 0:
        return 0
    rng = random.Random(SEED + 1)  # noqa: S311 - benchmark data, not cryptography
    period_start, period_end = date(today.year, 1, 1), date(today.year, 12, 31)
    n_companies = max(1, n // 10)
    companies = Objective.objects.bulk_create(
        Objective(
            workspace=workspace,
            title=f"Company objective {i + 1}",
            period_start=period_start,
            period_end=period_end,
            status=ObjectiveStatus.ACTIVE,
        )
        for i in range(n_companies)
    )
    if any(c.pk is None for c in companies):
        companies = list(Objective.objects.filter(workspace=workspace, parent=None))
    statuses = [ObjectiveStatus.ACTIVE] * 8 + [ObjectiveStatus.DRAFT, ObjectiveStatus.ACHIEVED]
    products = Objective.objects.bulk_create(
        Objective(
            workspace=workspace,
            parent=companies[i % n_companies],
            title=f"Product objective {i + 1}",
            period_start=period_start,
            period_end=period_end,
            status=statuses[i % len(statuses)],
        )
        for i in range(n - n_companies)
    )
    if any(p.pk is None for p in products):
        products = list(Objective.objects.filter(workspace=workspace, parent__isnull=False))
    key_results = []
    turn = itertools.cycle(metrics)
    for objective in products:
        for _ in range(KEY_RESULTS_PER_OBJECTIVE):
            metric = next(turn)
            start_on = today - timedelta(days=rng.randint(20, 300))
            due_on = start_on + timedelta(days=rng.choice((91, 182, 365)))
            level = _base_level(metric)
            if metric.aggregation == Aggregation.SUM:
                baseline, target = Decimal(0), Decimal(round(level * (due_on - start_on).days))
            else:
                better = 1 if metric.direction == Direction.INCREASE else -1
                baseline = Decimal(f"{level:.2f}")
                target = Decimal(f"{level * (1 + better * rng.uniform(0.05, 0.4)):.2f}")
            key_results.append(
                KeyResult(
                    workspace=workspace,
                    objective=objective,
                    metric=metric,
                    title=f"Move {metric.key} from {baseline} to {target}",
                    baseline=baseline,
                    target=target,
                    start_on=start_on,
                    due_on=due_on,
                )
            )
    KeyResult.objects.bulk_create(key_results, batch_size=1_000)
    return n + len(key_results)


def _analyze() -> None:
    with connection.cursor() as cursor:
        for model in (Metric, Measurement, Objective, KeyResult):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
