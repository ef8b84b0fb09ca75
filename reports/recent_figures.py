"""The value figures of the last few seconds: `value/summary/`, `value/objectives/` and the
dashboard computed once for all the readers of one scope and day, not once per request.

At the reference scale (DESIGN.md §7) the same aggregates as raw SQL alone take about
200 ms of PostgreSQL for the dashboard, so 4 concurrent readers on 2 cores cannot all be
answered within 300 ms if each request computes them. What a request computed is kept in
the cache (Redis where several processes serve) for VALUE_FIGURES_FRESH_SECONDS (30 s by
default; 0 turns keeping off), under a key of the workspace, what was asked (scope, day,
period) and the workspace's value-data version.

What that costs in freshness: a write of measurements, of a metric's aggregation,
direction or value per unit, of an expected impact, or of a release day changes the
value-data version (PostgreSQL triggers, reports migration 0003), so the next read
computes afresh — realized value and key-result progress are never stale. Other changes
(an initiative's status, effort, title or team, an alignment, an objective or key result
being added or edited, a name) show within VALUE_FIGURES_FRESH_SECONDS. Only on
PostgreSQL, where the version is kept; elsewhere every read computes.
"""

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from accounts.models import Workspace
from reports.realized import value_data_version

FRESH_SECONDS = 30
T = TypeVar("T")


def fresh_seconds() -> int:
    return int(getattr(settings, "VALUE_FIGURES_FRESH_SECONDS", FRESH_SECONDS))


def recent_figures(
    what: str, *, workspace: Workspace, asked: tuple[object, ...], compute: Callable[[], T]
) -> T:
    """`compute()`, or what it gave for the same `what`, workspace, `asked` and value-data
    version within the last fresh_seconds(). One query more than `compute` on a miss, one
    in all on a hit."""
    seconds = fresh_seconds()
    if seconds <= 0:
        return compute()
    version = value_data_version(workspace_id=workspace.pk)
    if version is None:
        return compute()
    key = ":".join(["value-figures", what, str(workspace.pk), str(version), *map(str, asked)])
    found: T | None = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found
