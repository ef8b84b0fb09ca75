"""Backup and restore of one workspace: every row of it as a stream of JSON lines, written
back under new ids (the export_workspace and import_workspace commands).

Which models hold a workspace's rows is not listed by hand: every model of our apps (the
apps whose code lives in this repository, today and tomorrow) that has a path of foreign
keys to Workspace is exported, and its foreign keys are rewritten on import. A model of
our apps that is neither exported nor named in EXCLUDED (with the reason) makes the plan
fail by name (tests/test_backup.py), so a new model cannot silently escape the backup.

The file, one JSON value per line:

    {"format": "pm-value-workspace", "version": 1, "workspace": "acme", ...}   header
    {"model": "accounts.user", "fields": ["id", "password", ...]}              a section
    [12, "argon2$...", ...]                                                    its rows
    ...
    {"end": true, "rows": {"accounts.user": 6, ...}}                          the last line

Sections come in an order where every foreign key points back to a section already
read, so the import streams: it keeps only the old → new id maps of the models that
something references (not the million measurements), and inserts in batches. Links that
cannot be ordered, an objective's parent (a self-reference) or a nullable link in a cycle
of models, are written in a second pass at the end. The export reads one snapshot
(REPEATABLE READ on PostgreSQL), the import writes in one transaction: all or nothing.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import DataError, IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.duration import duration_string

from accounts.models import User, Workspace

FORMAT = "pm-value-workspace"
VERSION = 1
# Rows per INSERT and per read from the database's cursor.
BATCH = 2000
# A batch of report files is written once it holds this many bytes, whatever its rows.
FILE_BYTES_PER_BATCH = 32 * 1024 * 1024

WORKSPACE = "accounts.workspace"
USER = "accounts.user"

# Models of our apps that are not exported, and why. A model lands here only by a decision.
EXCLUDED: dict[str, str] = {
    # Group and permission grants are powers over the whole installation (the Django
    # admin), not data of one workspace: a file from elsewhere must not grant them.
    "accounts.user_groups": "installation-wide admin grants, not workspace data",
    "accounts.user_user_permissions": "installation-wide admin grants, not workspace data",
    # Caches of reports.realized, keyed by plain ids: a restored workspace has new ids,
    # so nothing kept for the old ones could be read for it. The triggers of reports
    # migrations 0002/0003 fire on the import's own inserts (measurements, impacts) and
    # version the new metrics and the new workspace; the window aggregates are computed
    # on the first read, from the restored measurements, as after any write.
    "reports.impactwindow": "cache of reports.realized, re-derived on the first read",
    "reports.metricdataversion": "kept by triggers on measurements; set by the import's inserts",
    "reports.valuedataversion": "kept by triggers; set by the import's inserts",
}

# Links kept as (model name, id) columns rather than a foreign key, by model: the audit
# trail names what an event was about that way, and keeps naming it after it is deleted.
# The id is rewritten like a foreign key when its row is in the backup, and emptied when
# not (the row was deleted before the export; the event's label still says what it was):
# an old id would name an unrelated row once ids are new.
LOOSE_REFERENCES: dict[str, tuple[str, str]] = {
    "accounts.auditevent": ("target_type", "target_id"),
}

# Users belong to no workspace: the ones its rows name (members, owners, voters, the
# history's authors, ...) are written with their password hash, and matched by e-mail
# address on import, so a restore beside other workspaces attaches to the people there.
# Not written: the Django admin powers, for the same reason as EXCLUDED's grants.
USER_FIELDS_LEFT_OUT = frozenset({"is_staff", "is_superuser"})


class BackupError(Exception):
    """A file that cannot be imported, or a plan that cannot be made; the message is for
    the person at the command line."""


# --- which models, in which order ----------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A foreign key of an exported model, rewritten through its target's id map."""

    field: models.ForeignKey[Any, Any]
    target: str
    # Written in the second pass: a self-reference, or the link that breaks a cycle.
    deferred: bool
    # A database constraint holds it: a target missing from the file is a damaged file.
    # Without one (django-simple-history's copies of foreign keys), the target may have
    # been deleted long ago; the link then becomes empty, as it points at nothing.
    constrained: bool


@dataclass
class Section:
    model: type[models.Model]
    label: str
    # The lookup from the model to its workspace's id ("" for Workspace; None for users).
    path: str | None
    fields: list[models.Field[Any, Any]]  # the primary key first
    references: dict[str, Reference] = field(default_factory=dict)  # by attname
    # A django-simple-history model: the field that holds the id of the recorded row.
    history_id: tuple[str, str] | None = None  # (attname, label of the recorded model)
    files: list[models.FileField] = field(default_factory=list)
    loose: tuple[str, str] | None = None  # (type attname, id attname): LOOSE_REFERENCES

    def loose_targets(self, workspace_id: int) -> set[str]:
        """The model names its loose references name in a workspace."""
        if self.loose is None:
            return set()
        kind, _ = self.loose
        return set(self.rows(workspace_id).order_by().values_list(kind, flat=True).distinct()) - {
            "",
            None,
        }

    def rows(self, workspace_id: int) -> models.QuerySet[Any]:
        """The section's rows of a workspace (every section but the users)."""
        lookup = "pk" if self.path == "" else f"{self.path}"
        return self.model._base_manager.filter(**{lookup: workspace_id})


@dataclass
class Plan:
    sections: list[Section]  # users first, then the workspace, then in dependency order
    # Models of our apps that are neither exported nor in EXCLUDED: a test fails on them.
    escaped: list[str]
    # Sections something points at: their old → new id maps are kept during an import.
    referenced: set[str]

    def section(self, label: str) -> Section:
        return next(s for s in self.sections if s.label == label)


def our_models() -> list[type[models.Model]]:
    """Every model of the apps whose code is in this repository (not the installed
    packages), including the tables Django makes for many-to-many fields."""
    base = Path(settings.BASE_DIR).resolve()
    ours = {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base)
        and "site-packages" not in Path(config.path).parts
    }
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in ours
    ]


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is not None
    ]


def _target(fk: models.ForeignKey[Any, Any]) -> type[models.Model]:
    """The model a foreign key points at (resolved: a class, never "self")."""
    return cast(type[models.Model], fk.related_model)


def _workspace_path(model: type[models.Model]) -> str | None:
    """The shortest path of foreign keys from the model to Workspace, through required
    keys if there is one (a row with an empty optional key belongs to no workspace)."""
    if model is Workspace:
        return ""
    for through_optional in (False, True):
        queue: deque[tuple[type[models.Model], str]] = deque([(model, "")])
        seen = {model}
        while queue:
            current, path = queue.popleft()
            for fk in _foreign_keys(current):
                if fk.null and not through_optional:
                    continue
                target = _target(fk)
                step = f"{path}__{fk.name}" if path else fk.name
                if target is Workspace:
                    return step
                if target not in seen and target is not User:
                    seen.add(target)
                    queue.append((target, step))
    return None


def plan() -> Plan:
    """The models to export, their fields and references, in an order to import them."""
    problems: list[str] = []
    escaped: list[str] = []
    sections: dict[str, Section] = {}
    order_hint: dict[str, int] = {}
    for index, model in enumerate(our_models()):
        label = _label(model)
        order_hint[label] = index
        if label in EXCLUDED:
            continue
        path = None if model is User else _workspace_path(model)
        if path is None and model is not User:
            escaped.append(label)
            continue
        pk = model._meta.pk
        if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
            problems.append(f"{label}: its primary key is not generated by the database")
            continue
        left_out = USER_FIELDS_LEFT_OUT if model is User else frozenset()
        fields = [pk] + [
            f for f in model._meta.concrete_fields if f is not pk and f.name not in left_out
        ]
        sections[label] = Section(model=model, label=label, path=path, fields=fields)
    exported = set(sections)

    # References, and the dependencies between sections they make.
    depends: dict[str, set[str]] = {label: set() for label in exported}
    optional: dict[tuple[str, str], list[str]] = {}  # (model, target) → nullable attnames
    for label, section in sections.items():
        for fk in _foreign_keys(section.model):
            target = _label(_target(fk))
            if target not in exported:
                problems.append(
                    f"{label}.{fk.name} points at {target}, which is neither exported "
                    "nor a user: export it or say in EXCLUDED why not"
                )
                continue
            if target == label and not fk.null:
                problems.append(f"{label}.{fk.name} is a required link to its own model")
            section.references[fk.attname] = Reference(
                field=fk,
                target=target,
                deferred=target == label,
                constrained=bool(getattr(fk, "db_constraint", True)),
            )
            if target != label:
                depends[label].add(target)
                if fk.null:
                    optional.setdefault((label, target), []).append(fk.attname)
        instance_type = getattr(section.model, "instance_type", None)
        if isinstance(instance_type, type) and issubclass(instance_type, models.Model):
            recorded = _label(instance_type)
            if recorded not in exported:
                problems.append(f"{label} records {recorded}, which is not exported")
            else:
                pk_name = instance_type._meta.pk.name
                history_field = cast(
                    "models.Field[Any, Any]", section.model._meta.get_field(pk_name)
                )
                section.history_id = (history_field.attname, recorded)
                depends[label].add(recorded)
        section.files = [f for f in section.fields if isinstance(f, models.FileField)]
        loose = LOOSE_REFERENCES.get(label)
        names = {f.attname for f in section.fields}
        if loose and set(loose) <= names:
            section.loose = loose

    # Topological order; a cycle is broken at one of its nullable links, written later.
    ordered: list[str] = []
    remaining = set(exported)
    while remaining:
        ready = sorted(
            (label for label in remaining if not (depends[label] & remaining)),
            key=lambda label: (label != USER, label != WORKSPACE, order_hint[label]),
        )
        if ready:
            ordered.append(ready[0])
            remaining.discard(ready[0])
            continue
        breakable = sorted(
            (key for key in optional if key[0] in remaining and key[1] in remaining),
            key=lambda key: (order_hint[key[0]], order_hint[key[1]]),
        )
        if not breakable:
            problems.append(f"a cycle of required links between {sorted(remaining)}")
            break
        source, target = breakable[0]
        for attname in optional.pop((source, target)):
            reference = sections[source].references[attname]
            sections[source].references[attname] = Reference(
                field=reference.field,
                target=target,
                deferred=True,
                constrained=reference.constrained,
            )
        if not any(
            r.target == target and not r.deferred for r in sections[source].references.values()
        ):
            depends[source].discard(target)
    if problems:
        raise BackupError("The backup cannot be planned: " + "; ".join(problems) + ".")
    referenced = {r.target for s in sections.values() for r in s.references.values()}
    referenced |= {s.history_id[1] for s in sections.values() if s.history_id}
    return Plan(
        sections=[sections[label] for label in ordered],
        escaped=sorted(escaped),
        referenced=referenced,
    )


# --- export --------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    """JSON for the values the database gives that JSON has no type for."""
    if isinstance(value, Decimal):
        return str(value)  # exact, every digit
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_string(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot write a {type(value).__name__} to a backup")


def _line(value: Any) -> str:
    return json.dumps(value, default=_encode, separators=(",", ":")) + "\n"


def _file_value(storage: Storage, name: str) -> dict[str, str | None]:
    """A stored file in the row itself, base64: the backup is one self-contained file."""
    if not name:
        return {"name": "", "content": None}
    try:
        with storage.open(name, "rb") as handle:
            content: str | None = base64.b64encode(handle.read()).decode("ascii")
    except FileNotFoundError:
        content = None  # the row names a file the storage lost: the import says so
    return {"name": name, "content": content}


def _user_ids(plan_: Plan, workspace_id: int) -> set[int]:
    ids: set[int] = set()
    for section in plan_.sections:
        if section.path is None:
            continue
        for attname, reference in section.references.items():
            if reference.target == USER:
                ids.update(
                    section.rows(workspace_id)
                    .exclude(**{f"{attname}__isnull": True})
                    .order_by()
                    .values_list(attname, flat=True)
                    .distinct()
                )
    return ids


def workspace_export(*, slug: str, write: Callable[[str], Any]) -> dict[str, int]:
    """Writes the workspace `slug` to `write` (called with chunks of lines) from one
    snapshot of the database; returns the rows written per model."""
    plan_ = plan()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            # One snapshot for every query, however long the export takes.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise BackupError(f"There is no workspace with the slug “{slug}”.")
        named: set[str] = set()
        for section in plan_.sections:
            named |= section.loose_targets(workspace.pk)
        write(
            _line(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "workspace": workspace.slug,
                    "exported_at": timezone.now(),
                    "models": [s.label for s in plan_.sections],
                    # The models whose ids loose references name: maps kept on import.
                    "loose_targets": sorted(
                        s.label for s in plan_.sections if s.model._meta.model_name in named
                    ),
                }
            )
        )
        counts: dict[str, int] = {}
        user_ids = sorted(_user_ids(plan_, workspace.pk))
        for section in plan_.sections:
            names = [f.attname for f in section.fields]
            write(_line({"model": section.label, "fields": names}))
            if section.path is None:
                batches: Iterable[Iterable[tuple[Any, ...]]] = (
                    section.model._base_manager.filter(pk__in=user_ids[i : i + BATCH])
                    .order_by("pk")
                    .values_list(*names)
                    for i in range(0, len(user_ids), BATCH)
                )
            else:
                batches = [
                    section.rows(workspace.pk)
                    .order_by("pk")
                    .values_list(*names)
                    .iterator(chunk_size=BATCH)
                ]
            file_positions = [(names.index(f.attname), f.storage) for f in section.files]
            count = 0
            chunk: list[str] = []
            for batch in batches:
                for row in batch:
                    if file_positions:
                        values = list(row)
                        for position, storage in file_positions:
                            values[position] = _file_value(storage, values[position])
                        row = tuple(values)
                    chunk.append(_line(row))
                    count += 1
                    if len(chunk) >= BATCH:
                        write("".join(chunk))
                        chunk = []
            if chunk:
                write("".join(chunk))
            counts[section.label] = count
        write(_line({"end": True, "rows": counts}))
    return counts


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    workspace: Workspace
    rows: dict[str, int]  # rows written per model (users: the ones created)
    users_matched: int
    notes: list[str]


def open_backup(path: str) -> IO[str]:
    """A backup file to read, gzip-compressed or not."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115 - the caller closes it


def _renew_token(values: dict[str, Any]) -> str:
    # A key opens one token: the copy's tokens get a hash no key has, and are revoked,
    # so the list shows them as they were and nobody mistakes them for working keys.
    values["key_hash"] = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    values["revoked_at"] = values.get("revoked_at") or timezone.now()
    return "API tokens were revoked in the copy: their keys keep opening the original only"


def _renew_invitation(values: dict[str, Any]) -> str:
    # Like a token: the link opens the original's invitation only; the copy's is withdrawn.
    values["key_hash"] = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    if values.get("accepted_at") is None:
        values["revoked_at"] = values.get("revoked_at") or timezone.now()
    return "open invitations were withdrawn in the copy: their links open the original's only"


def _renew_nonce(values: dict[str, Any]) -> str:
    nonce_field = apps.get_model("reports", "ShareLink")._meta.get_field("nonce")
    values["nonce"] = get_random_string(nonce_field.max_length or 16)
    return "share links of the copy have new addresses"


# Fields unique across the whole database (not per workspace) and what an import does
# when a value is taken already (a copy renews them anyway, see ON_COPY). Any other such
# field with a taken value refuses the import, naming it.
ON_CLASH: dict[tuple[str, str], Callable[[dict[str, Any]], str]] = {
    ("accounts.apitoken", "key_hash"): _renew_token,
    ("reports.sharelink", "nonce"): _renew_nonce,
    ("accounts.invitation", "key_hash"): _renew_invitation,
}


def _pause_schedule(values: dict[str, Any]) -> str | None:
    if not values.get("scheduled"):
        return None
    values["scheduled"] = False
    return "the copy's scheduled reports are paused, so its recipients get no second report"


def _turn_off_endpoint(values: dict[str, Any]) -> str | None:
    if not values.get("active"):
        return None
    values.update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="Imported as a copy: turned off so that the copy does not call the "
        "receivers of its original. Turn it on if it should.",
    )
    return "the copy's webhook endpoints are turned off, so its events reach no receiver"


# What a copy (imported under another slug than the file's) must not do on its own:
# e-mail the original's stakeholders, call the original's receivers. A restore under the
# same slug is the workspace itself and keeps everything as it was.
ON_COPY: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "reports.reportdefinition": _pause_schedule,
    "webhooks.webhookendpoint": _turn_off_endpoint,
    # Keys and addresses too, whether or not the original is in this database: an address
    # handed out for the original must never open the copy (and if the original is
    # restored later, its addresses must still be its own).
    "accounts.apitoken": _renew_token,
    "reports.sharelink": _renew_nonce,
    "accounts.invitation": _renew_invitation,
}


def _derive(maps: dict[str, dict[int, int]]) -> None:
    """Figures other modules keep from the restored rows, computed again rather than
    trusted from the file: the stored priority of the initiatives (DESIGN.md §3
    Priority, kept by initiatives_reprice; it writes only the rows whose figures differ
    from the copied ones, so a file from this app changes nothing). The realized-value
    caches are the triggers' business: see EXCLUDED."""
    from initiatives.services import initiatives_reprice

    initiative_ids = maps.get("initiatives.initiative")
    if initiative_ids:
        initiatives_reprice(initiative_ids=initiative_ids.values())


class _Importer:
    def __init__(self, plan_: Plan, slug: str | None) -> None:
        self.plan = plan_
        self.slug = slug
        self.maps: dict[str, dict[int, int]] = {label: {} for label in plan_.referenced}
        self.maps.setdefault(WORKSPACE, {})
        self.rows: dict[str, int] = {}
        self.read: dict[str, int] = {}
        self.users_matched = 0
        self.notes: set[str] = set()
        self.emptied: dict[str, int] = {}  # links to rows deleted before the export
        self.dropped_history = 0
        self.missing_files = 0
        # (label, attname) → [(new id, old id of the target)]
        self.deferred: dict[tuple[str, str], list[tuple[int, int]]] = {}
        # label → [(new id, model name, old id)]: LOOSE_REFERENCES, rewritten at the end
        self.loose: dict[str, list[tuple[int, str, int]]] = {}
        self.written_files: list[tuple[Storage, str]] = []
        self.line_number = 0
        self.writing = ""  # the model whose rows are being written
        self.copy = False  # imported under another slug than the file's

    def fail(self, message: str) -> BackupError:
        return BackupError(f"Line {self.line_number}: {message} Nothing was imported.")

    def run(self, lines: Iterable[str]) -> ImportResult:
        stream = self._values(lines)
        header = next(stream, None)
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupError(
                "This is not a workspace backup of PM Value (its first line should say "
                f"“{FORMAT}”). Nothing was imported."
            )
        if header.get("version") != VERSION:
            raise BackupError(
                f"The backup is of format version {header.get('version')}; this version of "
                f"PM Value reads version {VERSION}. Nothing was imported."
            )
        self.copy = bool(self.slug) and self.slug != header.get("workspace")
        self.slug = self.slug or str(header.get("workspace", ""))
        known = {s.label for s in self.plan.sections}
        for label in header.get("loose_targets") or []:
            if label in known:
                self.maps.setdefault(label, {})
        self._check_slug(self.slug)
        section: Section | None = None
        columns: list[models.Field[Any, Any]] = []
        batch: list[list[Any]] = []
        ended: dict[str, Any] | None = None
        for value in stream:
            if ended is not None:
                raise self.fail("there is more after the last line.")
            if isinstance(value, list):
                if section is None:
                    raise self.fail("a row comes before any section.")
                batch.append(value)
                if len(batch) >= BATCH:
                    self._insert(section, columns, batch)
                    batch = []
                continue
            if not isinstance(value, dict):
                raise self.fail("a line is neither a row nor a section.")
            if section is not None:
                self._insert(section, columns, batch)
                batch = []
            if value.get("end") is True:
                ended = value
                section = None
            else:
                section, columns = self._section(value)
        if ended is None:
            raise BackupError(
                "The backup ends before its last line: it was cut short (a full disk, an "
                "interrupted copy?). Nothing was imported."
            )
        if ended.get("rows") != self.read:
            raise BackupError(
                f"The backup's last line counts {ended.get('rows')} rows, but the file holds "
                f"{self.read}: it is damaged. Nothing was imported."
            )
        if self.rows.get(WORKSPACE) != 1:
            raise BackupError("The backup holds no workspace row. Nothing was imported.")
        self._second_pass()
        _derive(self.maps)
        workspace = Workspace.objects.get(pk=next(iter(self.maps[WORKSPACE].values())))
        return ImportResult(
            workspace=workspace,
            rows=self.rows,
            users_matched=self.users_matched,
            notes=self._notes(),
        )

    def _values(self, lines: Iterable[str]) -> Iterator[Any]:
        for line in lines:
            self.line_number += 1
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise self.fail(
                    f"this is not valid JSON ({exc.msg}): the file is damaged or was cut short."
                ) from None

    def _check_slug(self, slug: str) -> None:
        try:
            Workspace._meta.get_field("slug").run_validators(slug)
        except ValidationError as exc:
            raise BackupError(
                f"“{slug}” cannot be a workspace slug: {' '.join(exc.messages)}"
            ) from None
        if Workspace.objects.filter(slug=slug).exists():
            raise BackupError(
                f"A workspace with the slug “{slug}” exists already. Nothing was imported. "
                f"To import a copy beside it, give the copy another slug: --slug {slug}-copy"
            )

    def _section(self, value: dict[str, Any]) -> tuple[Section, list[models.Field[Any, Any]]]:
        label = value.get("model")
        names = value.get("fields")
        known = {s.label: s for s in self.plan.sections}
        if label not in known or not isinstance(names, list):
            raise self.fail(
                f"the backup holds rows of “{label}”, which this version of PM Value does not know."
            )
        section = known[label]
        if label in self.read:
            raise self.fail(f"the rows of {label} come twice.")
        by_name = {f.attname: f for f in section.fields}
        unknown = [n for n in names if n not in by_name]
        if unknown or not names or names[0] != section.fields[0].attname:
            raise self.fail(f"the fields of {label} are not those of this version: {unknown}.")
        self.read[section.label] = 0
        self.rows[section.label] = 0
        return section, [by_name[n] for n in names]

    def _insert(
        self, section: Section, columns: list[models.Field[Any, Any]], rows: list[list[Any]]
    ) -> None:
        self.read[section.label] += len(rows)
        if not rows:
            return
        label = self.writing = section.label
        model = section.model
        instances: list[models.Model] = []
        old_ids: list[int] = []
        deferred: list[tuple[str, int]] = []  # per instance: (attname, old target)
        # per instance: its deferred links, and its loose reference (model name, old id)
        deferred_of: list[tuple[list[tuple[str, int]], tuple[str, int] | None]] = []
        files: list[list[tuple[models.FileField, str, bytes | None]]] = []
        unique = [
            f for f in section.fields[1:] if f.unique and not isinstance(f, models.ForeignKey)
        ]
        for row in rows:
            if len(row) != len(columns):
                raise self.fail(f"a row of {label} has {len(row)} values, not {len(columns)}.")
            values: dict[str, Any] = {}
            deferred = []
            row_files: list[tuple[models.FileField, str, bytes | None]] = []
            keep = True
            for column, value in zip(columns[1:], row[1:], strict=True):
                values[column.attname] = self._value(
                    section, column, value, deferred, row_files, row[0]
                )
                if values[column.attname] is _DROP:
                    keep = False
            if not keep:
                continue
            if label == WORKSPACE:
                values["slug"] = self.slug
            if self.copy and label in ON_COPY:
                note = ON_COPY[label](values)
                if note:
                    self.notes.add(note)
            loose: tuple[str, int] | None = None
            if section.loose and values[section.loose[1]] is not None:
                loose = (str(values[section.loose[0]]), values[section.loose[1]])
                values[section.loose[1]] = None  # rewritten at the end
            old_ids.append(self._old_id(label, row[0]))
            instances.append(model(**values))
            deferred_of.append((deferred, loose))
            files.append(row_files)
        if label == USER:
            instances, old_ids, deferred_of, files = self._match_users(
                instances, old_ids, deferred_of, files
            )
        for unique_field in unique:
            self._clash(section, unique_field, instances)
        if not instances:
            return
        # Every column: a field the file does not have (a backup of an older version, a
        # user's admin flags) takes its default.
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if f is not pk]
        size = max(1, min(len(instances), connection.ops.bulk_batch_size(fields, instances)))
        new_ids: list[int] = []
        for start in range(0, len(instances), size):
            # raw=True: the values of the file, not those auto_now would write.
            returned = model._base_manager._insert(  # type: ignore[attr-defined]
                instances[start : start + size],
                fields=fields,
                returning_fields=[pk],
                raw=True,
            )
            new_ids += [r[0] for r in returned]
        self.rows[label] += len(new_ids)
        id_map = self.maps.get(label)
        if id_map is not None:
            id_map.update(zip(old_ids, new_ids, strict=True))
        for new_id, instance, (row_deferred, row_loose), row_files in zip(
            new_ids, instances, deferred_of, files, strict=True
        ):
            for attname, old_target in row_deferred:
                self.deferred.setdefault((label, attname), []).append((new_id, old_target))
            if row_loose is not None:
                self.loose.setdefault(label, []).append((new_id, *row_loose))
            if row_files:
                instance.pk = new_id
                self._write_files(instance, row_files)

    def _old_id(self, label: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"a row of {label} has no integer id.")
        return value

    def _value(
        self,
        section: Section,
        column: models.Field[Any, Any],
        value: Any,
        deferred: list[tuple[str, int]],
        files: list[tuple[models.FileField, str, bytes | None]],
        row_id: Any,
    ) -> Any:
        label = section.label
        reference = section.references.get(column.attname)
        if reference is not None:
            if value is None:
                return None
            old = self._old_id(label, value)
            if reference.deferred:
                deferred.append((column.attname, old))
                return None
            new = self.maps[reference.target].get(old)
            if new is None:
                if reference.constrained:
                    raise self.fail(
                        f"{label} {row_id} points at {reference.target} {old}, which is not "
                        "in the file."
                    )
                self.emptied[label] = self.emptied.get(label, 0) + 1
            return new
        if section.history_id and column.attname == section.history_id[0]:
            new = self.maps[section.history_id[1]].get(self._old_id(label, value))
            if new is None:  # the history of a row deleted before the export
                self.dropped_history += 1
                return _DROP
            return new
        if value is None:
            return None
        if isinstance(column, models.FileField):
            if not isinstance(value, dict) or not value.get("name"):
                return ""
            content = value.get("content")
            files.append((column, str(value["name"]), None if content is None else _b64(content)))
            return ""  # set once the row has its id (the path holds it)
        if isinstance(column, models.BinaryField):
            return _b64(value)
        if isinstance(column, models.JSONField):
            return value
        try:
            return column.to_python(value)
        except ValidationError as exc:
            raise self.fail(
                f"{label} {row_id}: {column.name} {value!r} is not valid "
                f"({' '.join(exc.messages)})."
            ) from None

    def _match_users(
        self,
        instances: list[models.Model],
        old_ids: list[int],
        deferred_of: list[tuple[list[tuple[str, int]], tuple[str, int] | None]],
        files: list[list[tuple[models.FileField, str, bytes | None]]],
    ) -> tuple[
        list[models.Model],
        list[int],
        list[tuple[list[tuple[str, int]], tuple[str, int] | None]],
        list[list[tuple[models.FileField, str, bytes | None]]],
    ]:
        """Users who exist already (by e-mail address) are not written again: the rows
        that name them are attached to them, and their password stays theirs."""
        emails = [str(getattr(u, "email", "")).lower() for u in instances]
        existing = dict(
            User.objects.filter(email__in=emails).values_list("email", "pk")  # stored lower
        )
        keep: list[int] = []
        for index, email in enumerate(emails):
            if email in existing:
                self.maps[USER][old_ids[index]] = existing[email]
                self.users_matched += 1
            else:
                keep.append(index)
        return (
            [instances[i] for i in keep],
            [old_ids[i] for i in keep],
            [deferred_of[i] for i in keep],
            [files[i] for i in keep],
        )

    def _clash(
        self, section: Section, unique_field: models.Field[Any, Any], instances: list[Any]
    ) -> None:
        name = unique_field.attname
        values = [getattr(i, name) for i in instances if getattr(i, name) not in (None, "")]
        if not values:
            return
        taken = set(
            section.model._base_manager.filter(**{f"{name}__in": values}).values_list(
                name, flat=True
            )
        )
        if not taken:
            return
        renew = ON_CLASH.get((section.label, unique_field.name))
        if renew is None:
            raise self.fail(
                f"{section.label}.{unique_field.name} {sorted(taken)[0]!r} exists already in "
                "this database and must be unique."
            )
        for instance in instances:
            if getattr(instance, name) in taken:
                values_of = {f.attname: getattr(instance, f.attname) for f in section.fields[1:]}
                self.notes.add(renew(values_of))
                for attname, value in values_of.items():
                    setattr(instance, attname, value)

    def _write_files(
        self, instance: models.Model, files: list[tuple[models.FileField, str, bytes | None]]
    ) -> None:
        names: dict[str, str] = {}
        for file_field, name, content in files:
            if content is None:
                self.missing_files += 1
                continue
            target = file_field.generate_filename(instance, Path(name).name)
            saved = file_field.storage.save(target, ContentFile(content))
            self.written_files.append((file_field.storage, saved))
            names[file_field.attname] = saved
        if names:
            type(instance)._base_manager.filter(pk=instance.pk).update(**names)

    def _second_pass(self) -> None:
        for (label, attname), pairs in self.deferred.items():
            section = self.plan.section(label)
            reference = section.references[attname]
            target_map = self.maps[reference.target]
            updates = []
            for new_id, old_target in pairs:
                target = target_map.get(old_target)
                if target is None:
                    if reference.constrained:
                        raise BackupError(
                            f"{label} points at {reference.target} {old_target} in its "
                            f"{reference.field.name}, which is not in the file. Nothing was "
                            "imported."
                        )
                    continue
                updates.append(section.model(pk=new_id, **{attname: target}))
            section.model._base_manager.bulk_update(
                updates, [reference.field.name], batch_size=BATCH
            )

        by_model_name = {s.model._meta.model_name: s.label for s in self.plan.sections}
        for label, triples in self.loose.items():
            section = self.plan.section(label)
            assert section.loose is not None  # noqa: S101 - only such sections have them
            id_attname = section.loose[1]
            updates = []
            for new_id, model_name, old_id in triples:
                target_label = by_model_name.get(model_name) or ""
                rewritten = self.maps.get(target_label, {}).get(old_id)
                if rewritten is None:
                    self.emptied[label] = self.emptied.get(label, 0) + 1
                else:
                    updates.append(section.model(pk=new_id, **{id_attname: rewritten}))
            section.model._base_manager.bulk_update(updates, [id_attname], batch_size=BATCH)

    def _notes(self) -> list[str]:
        notes = sorted(self.notes)
        if self.emptied:
            notes.append(
                "links to rows deleted before the export (in the history, the audit trail) "
                "were left empty: "
                + ", ".join(f"{n} in {label}" for label, n in sorted(self.emptied.items()))
            )
        if self.dropped_history:
            notes.append(
                f"{self.dropped_history} history rows of rows deleted before the export "
                "were left out"
            )
        if self.missing_files:
            notes.append(
                f"{self.missing_files} report files were missing from the storage at the "
                "export; their runs have no file"
            )
        return notes


_DROP = object()


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise BackupError(
            "A file in the backup is not valid base64. Nothing was imported."
        ) from None


def workspace_import(*, lines: Iterable[str], slug: str | None = None) -> ImportResult:
    """Writes a workspace from a backup under new ids, all or nothing; `slug` renames it
    (to import a copy beside the original)."""
    importer = _Importer(plan(), slug)
    committed = False
    try:
        # (On PostgreSQL foreign keys are checked at the commit: its error is caught too.)
        with transaction.atomic():
            result = importer.run(lines)
        committed = True
        return result
    except (IntegrityError, DataError) as exc:
        # A constraint of the database refused a row the file's own checks let through
        # (a file edited by hand: two values of a metric on one day, a weight of 300, ...).
        reason = str(exc).strip().splitlines()[0]
        raise BackupError(
            f"The database refused the rows of {importer.writing or 'the file'} "
            f"(near line {importer.line_number}): {reason}. Nothing was imported."
        ) from None
    finally:
        if not committed:
            # Files are not in the transaction: take back the ones written.
            for storage, name in importer.written_files:
                storage.delete(name)


def workspace_delete(*, workspace: Workspace) -> None:
    """Deletes a workspace and every exported row of it (not its users, not the files of
    its report runs), children first: the protected links (an objective's parent, a key
    result's metric, a report's definition) would stop a plain delete of the workspace.
    Rows go without signals: no history row records the deletion of what is deleted."""
    plan_ = plan()
    with transaction.atomic():
        for section in plan_.sections:
            for reference in section.references.values():
                if reference.deferred and reference.field.null:
                    section.rows(workspace.pk).update(**{reference.field.name: None})
        for section in reversed(plan_.sections):
            if section.path:
                section.rows(workspace.pk)._raw_delete(section.model._base_manager.db)
        workspace.delete()
