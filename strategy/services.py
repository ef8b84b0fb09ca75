"""Writes of strategy: objectives, metrics, key results, and measurement ingestion.

Every service validates before it writes and writes inside one transaction; a refused
call writes nothing and says why in words (Django ValidationError, field by field).
"""

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.audit import audit_deletion
from accounts.models import User, Workspace
from accounts.selectors import is_member
from pm_value.model_writes import assign_fields, save_validated
from strategy.models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    KeyResult,
    Measurement,
    Metric,
    Objective,
    ObjectiveStatus,
)
from strategy.selectors import objective_ancestor_ids
from webhooks.payloads import measurements_data
from webhooks.services import webhook_emit

MAX_POINTS_PER_CALL = 10_000
MAX_CSV_ROWS = 200_000
CSV_COLUMNS = ("metric", "observed_on", "value", "source")
_QUANTUM = Decimal(1).scaleb(-VALUE_PLACES)
# One digit fewer than the column holds: SQLite keeps decimals as 64-bit floats, and a
# value next to the column's limit could round past it and fail to read back.
_VALUE_INTEGER_DIGITS = VALUE_DIGITS - VALUE_PLACES - 1
_VALUE_LIMIT = Decimal(10) ** _VALUE_INTEGER_DIGITS
_SOURCE_MAX = Measurement._meta.get_field("source").max_length or 100
_NOTE_MAX = Measurement._meta.get_field("note").max_length or 500


class IngestResult(TypedDict):
    created: int
    updated: int


def workspace_today(workspace: Workspace) -> date:
    """Today's calendar date in the workspace's time zone: every value date is one."""
    return timezone.now().astimezone(ZoneInfo(workspace.timezone)).date()


# --- shared checks ------------------------------------------------------------------------


def _check_member(workspace: Workspace, user: User | None, field: str) -> None:
    if user is not None and not is_member(workspace_id=workspace.pk, user=user):
        raise ValidationError({field: "This person is not a member of this workspace."})


# --- objectives -----------------------------------------------------------------------------

OBJECTIVE_FIELDS = (
    "title",
    "description",
    "parent",
    "owner",
    "period_start",
    "period_end",
    "status",
)


def _check_period(objective: Objective) -> None:
    start, end = objective.period_start, objective.period_end
    if start is not None and end is not None and end < start:
        raise ValidationError({"period_end": "The period must not end before it starts."})


def _check_parent(objective: Objective) -> None:
    parent = objective.parent
    if parent is None:
        return
    if parent.workspace_id != objective.workspace_id:
        raise ValidationError({"parent": "The parent objective is not in this workspace."})
    if objective.pk is not None and objective.pk in objective_ancestor_ids(objective_id=parent.pk):
        raise ValidationError(
            {"parent": "An objective cannot sit under itself or one of its own sub-objectives."}
        )


def objective_create(*, workspace: Workspace, **fields: Any) -> Objective:
    objective = Objective(workspace=workspace)
    assign_fields(objective, fields, OBJECTIVE_FIELDS)
    _check_period(objective)
    _check_parent(objective)
    _check_member(workspace, objective.owner, "owner")
    save_validated(objective)
    return objective


def objective_update(*, objective: Objective, **changes: Any) -> Objective:
    with transaction.atomic():
        # Tree changes of a workspace go one at a time, so two moves cannot make a cycle.
        Workspace.objects.select_for_update().filter(pk=objective.workspace_id).get()
        assign_fields(objective, changes, OBJECTIVE_FIELDS)
        _check_period(objective)
        _check_parent(objective)
        _check_member(objective.workspace, objective.owner, "owner")
        save_validated(objective)
    return objective


def objective_archive(*, objective: Objective) -> Objective:
    objective.status = ObjectiveStatus.ARCHIVED
    objective.save(update_fields=["status", "updated_at"])
    return objective


def objective_delete(*, objective: Objective) -> None:
    """Deletes an objective and its key results; one with sub-objectives is refused."""
    refusal = "This objective has sub-objectives: move or delete them first, or archive it."
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=objective.workspace_id).get()
        if objective.children.exists():
            raise ValidationError(refusal)
        # A refusal below leaves this block with an exception: the event is rolled back.
        audit_deletion(objective, workspace_id=objective.workspace_id)
        try:
            objective.delete()
        except ProtectedError as exc:
            # A sub-objective created by someone else just now, or what else keeps it
            # (a value report that covers it): name it.
            kept_by = {str(type(o)._meta.verbose_name_plural) for o in exc.protected_objects}
            if kept_by - {str(Objective._meta.verbose_name_plural)}:
                refusal = (
                    f"Other records depend on this objective ({', '.join(sorted(kept_by))}): "
                    "change or delete them first, or archive it."
                )
            raise ValidationError(refusal) from exc


# --- metrics ----------------------------------------------------------------------------------

METRIC_FIELDS = (
    "key",
    "name",
    "description",
    "unit",
    "category",
    "direction",
    "aggregation",
    "value_per_unit",
    "owner",
    "source",
)


def _check_metric_key(metric: Metric) -> None:
    taken = Metric.objects.filter(workspace_id=metric.workspace_id, key=metric.key)
    if metric.pk is not None:
        taken = taken.exclude(pk=metric.pk)
    if taken.exists():
        raise ValidationError(
            {"key": f"A metric with the key “{metric.key}” already exists in this workspace."}
        )


def metric_create(*, workspace: Workspace, **fields: Any) -> Metric:
    metric = Metric(workspace=workspace)
    assign_fields(metric, fields, METRIC_FIELDS)
    _check_metric_key(metric)
    _check_member(workspace, metric.owner, "owner")
    save_validated(metric)
    return metric


def metric_update(*, metric: Metric, **changes: Any) -> Metric:
    """A new value per unit reprices every initiative with an expected impact on the
    metric (their stored priority, DESIGN.md §3), in the same transaction."""
    repriced = "value_per_unit" in changes and changes["value_per_unit"] != metric.value_per_unit
    assign_fields(metric, changes, METRIC_FIELDS)
    _check_metric_key(metric)
    _check_member(metric.workspace, metric.owner, "owner")
    with transaction.atomic():
        save_validated(metric)
        if repriced:
            # Imported here: initiatives builds on strategy, which must not import it.
            from initiatives.services import initiatives_reprice

            initiatives_reprice(metric=metric)
    return metric


def metric_archive(*, metric: Metric) -> Metric:
    if metric.archived_at is None:
        metric.archived_at = timezone.now()
        metric.save(update_fields=["archived_at", "updated_at"])
    return metric


def metric_restore(*, metric: Metric) -> Metric:
    """Brings an archived metric back to the dictionary; it takes values again."""
    if metric.archived_at is not None:
        metric.archived_at = None
        metric.save(update_fields=["archived_at", "updated_at"])
    return metric


def metric_delete(*, metric: Metric) -> None:
    """Deletes a metric and its measurements; one that key results measure is refused."""
    refusal = "Key results measure this metric: archive it instead, or delete them first."
    if metric.key_results.exists():
        raise ValidationError(refusal)
    try:
        with transaction.atomic():
            audit_deletion(metric, workspace_id=metric.workspace_id)
            metric.delete()
    except ProtectedError as exc:  # a key result created by someone else just now
        raise ValidationError(refusal) from exc


# --- key results ------------------------------------------------------------------------------

KEY_RESULT_FIELDS = ("objective", "metric", "title", "baseline", "target", "start_on", "due_on")


def _check_key_result(key_result: KeyResult) -> None:
    errors: dict[str, str] = {}
    if key_result.objective.workspace_id != key_result.workspace_id:
        errors["objective"] = "The objective is not in this workspace."
    if key_result.metric.workspace_id != key_result.workspace_id:
        errors["metric"] = "The metric is not in this workspace."
    for name in ("baseline", "target"):
        value = getattr(key_result, name)
        if isinstance(value, Decimal) and value.is_finite() and abs(value) >= _VALUE_LIMIT:
            errors[name] = f"At most {_VALUE_INTEGER_DIGITS} digits before the decimal point."
    if key_result.baseline is not None and key_result.baseline == key_result.target:
        errors["target"] = "The target must differ from the baseline."
    if key_result.start_on and key_result.due_on and key_result.due_on <= key_result.start_on:
        errors["due_on"] = "The due date must come after the start date."
    if errors:
        raise ValidationError(errors)


def key_result_create(*, workspace: Workspace, **fields: Any) -> KeyResult:
    key_result = KeyResult(workspace=workspace)
    assign_fields(key_result, fields, KEY_RESULT_FIELDS)
    _check_key_result(key_result)
    save_validated(key_result)
    return key_result


def key_result_update(*, key_result: KeyResult, **changes: Any) -> KeyResult:
    assign_fields(key_result, changes, KEY_RESULT_FIELDS)
    _check_key_result(key_result)
    save_validated(key_result)
    return key_result


def key_result_delete(*, key_result: KeyResult) -> None:
    with transaction.atomic():
        audit_deletion(key_result, workspace_id=key_result.workspace_id)
        key_result.delete()


def key_result_archive(*, key_result: KeyResult) -> KeyResult:
    if key_result.archived_at is None:
        key_result.archived_at = timezone.now()
        key_result.save(update_fields=["archived_at", "updated_at"])
    return key_result


def key_result_restore(*, key_result: KeyResult) -> KeyResult:
    """Brings an archived key result back to the strategy and metric pages."""
    if key_result.archived_at is not None:
        key_result.archived_at = None
        key_result.save(update_fields=["archived_at", "updated_at"])
    return key_result


# --- measurements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    observed_on: date
    value: Decimal
    source: str
    note: str


def parse_point(raw: Mapping[str, Any], *, latest_allowed: date) -> Point:
    """One measurement from untrusted input; ValueError with the reason in words."""
    if not isinstance(raw, Mapping):
        raise ValueError("must be an object with observed_on and value.")
    observed_on = _parse_date(raw.get("observed_on"))
    if observed_on > latest_allowed:
        raise ValueError(
            f"observed_on {observed_on.isoformat()} is more than one day in the future."
        )
    value = _parse_value(raw.get("value"))
    source = _text(raw.get("source"), "source", _SOURCE_MAX)
    note = _text(raw.get("note"), "note", _NOTE_MAX)
    return Point(observed_on=observed_on, value=value, source=source, note=note)


def _parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        raise ValueError("observed_on must be a date (YYYY-MM-DD), not a date and time.")
    if isinstance(raw, date):
        return raw
    if raw is None or raw == "":
        raise ValueError("observed_on is required (a date, YYYY-MM-DD).")
    if not isinstance(raw, str):
        raise ValueError("observed_on must be a date written as YYYY-MM-DD.")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"observed_on “{raw[:40]}” is not a date (use YYYY-MM-DD).") from None


def _parse_value(raw: Any) -> Decimal:
    if raw is None or raw == "":
        raise ValueError("value is required (a number).")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ValueError("value must be a number.")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"value “{str(raw)[:40]}” is not a number.") from None
    if not value.is_finite():
        raise ValueError(f"value must be a finite number, not {raw}.")
    value = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    if abs(value) >= _VALUE_LIMIT:
        raise ValueError(
            f"value {raw} is too large: at most {_VALUE_INTEGER_DIGITS} digits "
            "before the decimal point."
        )
    return value


def _text(raw: Any, name: str, max_length: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(f"{name} must be text.")
    if len(raw) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters.")
    if "\x00" in raw:  # PostgreSQL stores no NUL in text: refused here, in words
        raise ValueError(f"{name} contains a NUL character (\\x00); remove it.")
    return raw.strip()


def measurements_ingest(*, metric: Metric, points: Sequence[Mapping[str, Any]]) -> IngestResult:
    """Writes the points of one metric, all or nothing: a day already measured is
    replaced (idempotent). Refuses the whole call, naming each bad point by its index,
    when any point is invalid or a day appears twice."""
    if metric.archived_at is not None:
        raise ValidationError(
            {"points": ["This metric is archived; restore it to add measurements."]}
        )
    if len(points) == 0:
        raise ValidationError({"points": ["Send at least one measurement."]})
    if len(points) > MAX_POINTS_PER_CALL:
        raise ValidationError(
            {
                "points": [
                    f"At most {MAX_POINTS_PER_CALL:,} measurements a call; "
                    f"this one has {len(points):,}."
                ]
            }
        )
    latest_allowed = workspace_today(metric.workspace) + timedelta(days=1)
    parsed: list[Point] = []
    errors: list[str] = []
    first_index: dict[date, int] = {}
    for index, raw in enumerate(points):
        try:
            point = parse_point(raw, latest_allowed=latest_allowed)
        except ValueError as exc:
            errors.append(f"Item {index}: {exc}")
            continue
        if point.observed_on in first_index:
            errors.append(
                f"Item {index}: {point.observed_on.isoformat()} already appears at item "
                f"{first_index[point.observed_on]}; send one value per day."
            )
            continue
        first_index[point.observed_on] = index
        parsed.append(point)
    if errors:
        raise ValidationError({"points": errors})
    with transaction.atomic():
        result = _upsert(metric, parsed)
        _emit_ingested(metric, result)
    return result


def _emit_ingested(metric: Metric, result: IngestResult) -> None:
    """One measurement.ingested event per batch of one metric, in its transaction."""
    data = measurements_data(metric, result)
    webhook_emit(workspace=metric.workspace, event="measurement.ingested", data=data)


def _upsert(metric: Metric, points: Sequence[Point]) -> IngestResult:
    """INSERT … ON CONFLICT (metric, observed_on) DO UPDATE. The metric row is locked
    first, so concurrent ingests of one metric take turns and the counts are exact."""
    Metric.objects.select_for_update().filter(pk=metric.pk).values_list("pk").get()
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _upsert_postgresql(metric, points, now)
    days = [p.observed_on for p in points]
    existing = Measurement.objects.filter(metric=metric, observed_on__in=days).count()
    Measurement.objects.bulk_create(
        [
            Measurement(
                metric=metric,
                observed_on=p.observed_on,
                value=p.value,
                source=p.source,
                note=p.note,
                created_at=now,
                updated_at=now,
            )
            for p in points
        ],
        batch_size=2_000,
        update_conflicts=True,
        unique_fields=["metric", "observed_on"],
        update_fields=["value", "source", "note", "updated_at"],
    )
    return {"created": len(points) - existing, "updated": existing}


# One statement for the whole batch: the points travel as four arrays and `xmax = 0` tells
# a freshly inserted row from an updated one, so no count query and no model instances
# (bulk_create spent most of its time preparing 10,000 objects).
_UPSERT_SQL = f"""
    INSERT INTO {Measurement._meta.db_table}
        (metric_id, observed_on, value, source, note, created_at, updated_at)
    SELECT %s, t.d, t.v, t.s, t.n, %s, %s
    FROM unnest(%s::date[], %s::numeric[], %s::text[], %s::text[]) AS t(d, v, s, n)
    ON CONFLICT (metric_id, observed_on) DO UPDATE
        SET value = EXCLUDED.value, source = EXCLUDED.source, note = EXCLUDED.note,
            updated_at = EXCLUDED.updated_at
    RETURNING (xmax = 0)
"""  # noqa: S608 - only the model's own table name is formatted in


def _upsert_postgresql(metric: Metric, points: Sequence[Point], now: datetime) -> IngestResult:
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL,
            [
                metric.pk,
                now,
                now,
                [p.observed_on for p in points],
                [p.value for p in points],
                [p.source for p in points],
                [p.note for p in points],
            ],
        )
        inserted = [row[0] for row in cursor.fetchall()]
    created = sum(inserted)
    return {"created": created, "updated": len(inserted) - created}


def measurements_import_csv(*, workspace: Workspace, content: bytes) -> IngestResult:
    """Imports a CSV file with the columns metric,observed_on,value,source (metric by its
    key). A file with any bad row writes nothing; the error lists every bad row by line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ValidationError(
            {
                "file": [
                    f"The file is not UTF-8 text (line {line} has a character that is not). "
                    "Save it as “CSV UTF-8” and try again."
                ]
            }
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationError(
            {"file": [f"Line {line} contains a NUL character (\\x00): this is not a CSV file."]}
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in ("metric", "observed_on", "value") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if not header or missing or unknown:
        raise ValidationError(
            {
                "file": [
                    "The first line must name the columns metric,observed_on,value,source "
                    f"(source is optional); found: {','.join(header) or 'nothing'}."
                ]
            }
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for row in reader:
            if len(rows) >= MAX_CSV_ROWS:
                raise ValidationError({"file": [f"At most {MAX_CSV_ROWS:,} rows a file."]})
            if None in row:
                rows.append((reader.line_num, {"__extra__": True}))
                continue
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ValidationError(
            {"file": [f"Line {reader.line_num}: not valid CSV ({exc})."]}
        ) from None
    if not rows:
        raise ValidationError({"file": ["The file has a header but no rows."]})

    keys = {str(row.get("metric") or "").strip() for _, row in rows}
    metrics = {
        m.key: m
        for m in Metric.objects.filter(workspace=workspace, key__in=keys).select_related(
            "workspace"
        )
    }
    latest_allowed = workspace_today(workspace) + timedelta(days=1)
    by_metric: dict[int, list[Point]] = {}
    seen: dict[tuple[str, date], int] = {}
    errors: list[str] = []
    for line, row in rows:
        if row.get("__extra__"):
            errors.append(f"Line {line}: more values than the {len(header)} columns.")
            continue
        key = str(row.get("metric") or "").strip()
        metric = metrics.get(key)
        if metric is None:
            errors.append(
                f"Line {line}: there is no metric with the key “{key[:64]}” in this workspace."
            )
            continue
        if metric.archived_at is not None:
            errors.append(f"Line {line}: the metric “{key}” is archived.")
            continue
        try:
            point = parse_point(row, latest_allowed=latest_allowed)
        except ValueError as exc:
            errors.append(f"Line {line}: {exc}")
            continue
        if (key, point.observed_on) in seen:
            errors.append(
                f"Line {line}: {key} on {point.observed_on.isoformat()} already appears on line "
                f"{seen[(key, point.observed_on)]}."
            )
            continue
        seen[(key, point.observed_on)] = line
        by_metric.setdefault(metric.pk, []).append(point)
    if errors:
        raise ValidationError({"file": errors})
    total: IngestResult = {"created": 0, "updated": 0}
    metric_by_pk = {m.pk: m for m in metrics.values()}
    with transaction.atomic():
        for pk in sorted(by_metric):  # a fixed order: concurrent imports cannot deadlock
            result = _upsert(metric_by_pk[pk], by_metric[pk])
            _emit_ingested(metric_by_pk[pk], result)
            total["created"] += result["created"]
            total["updated"] += result["updated"]
    return total
