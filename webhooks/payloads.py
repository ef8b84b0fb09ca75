"""The `data` of each event, built from the objects the emitting services hold.

Read by attribute, so webhooks needs no import of initiatives, strategy or reports (they
depend on webhooks, not the other way round). The shapes are documented in the README's
Webhooks section; change them only with it.
"""

from datetime import date, datetime
from typing import Any, Protocol


class _Initiative(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def released_on(self) -> date | None: ...


class _Decision(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def kind(self) -> str: ...
    @property
    def initiative_id(self) -> int | None: ...
    @property
    def from_status(self) -> str: ...
    @property
    def to_status(self) -> str: ...
    @property
    def rationale(self) -> str: ...
    @property
    def decided_by_id(self) -> int | None: ...
    @property
    def decided_at(self) -> datetime: ...
    @property
    def revisit_on(self) -> date | None: ...


class _Metric(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def key(self) -> str: ...


class _ReportRun(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def definition_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def period_start(self) -> date: ...
    @property
    def period_end(self) -> date: ...
    @property
    def as_of(self) -> date: ...
    @property
    def attempts(self) -> int: ...
    @property
    def error(self) -> str: ...


def initiative_data(initiative: _Initiative) -> dict[str, Any]:
    return {
        "initiative": {
            "id": initiative.pk,
            "title": initiative.title,
            "status": initiative.status,
            "kind": initiative.kind,
            "team": initiative.team_id,
            "owner": initiative.owner_id,
            "released_on": initiative.released_on,
        }
    }


def status_change_data(initiative: _Initiative, decision: _Decision) -> dict[str, Any]:
    return {
        **initiative_data(initiative),
        "from_status": decision.from_status,
        "to_status": decision.to_status,
        **decision_data(decision),
    }


def decision_data(decision: _Decision) -> dict[str, Any]:
    return {
        "decision": {
            "id": decision.pk,
            "kind": decision.kind,
            "initiative": decision.initiative_id,
            "from_status": decision.from_status or None,
            "to_status": decision.to_status or None,
            "rationale": decision.rationale,
            "decided_by": decision.decided_by_id,
            "decided_at": decision.decided_at,
            "revisit_on": decision.revisit_on,
        }
    }


def measurements_data(metric: _Metric, result: Any) -> dict[str, Any]:
    """`result`: the {"created", "updated"} counts of one ingested batch."""
    return {
        "metric": {"id": metric.pk, "key": metric.key},
        "created": int(result["created"]),
        "updated": int(result["updated"]),
    }


def report_run_data(run: _ReportRun) -> dict[str, Any]:
    return {
        "report_run": {
            "id": run.pk,
            "definition": run.definition_id,
            "status": run.status,
            "period_start": run.period_start,
            "period_end": run.period_end,
            "as_of": run.as_of,
            "attempts": run.attempts,
            "error": run.error,
        }
    }
