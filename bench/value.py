"""make bench, third part: the value figures at the reference scale, in one table.

For the reference workspace of DESIGN.md §7 (10,000 initiatives, 200 objectives, 500
metrics, 1,000,000 measurements): p50/p95 in ms under 4 concurrent clients over HTTP on a
real gunicorn server, and SQL queries per request, of (i) `value/summary/`, (ii)
`value/objectives/` and (iii) the dashboard page; next to the selectors in process and the
same aggregates as raw SQL on a psycopg2 cursor, computed in SQL (medians, the objective
tree, key-result progress and pace included), whose figures are checked equal to the
selectors' at the API's precision before timing. The selector and its raw SQL are timed
in turn, round after round, so they share the machine's load.

The realized figures are kept between reads (reports.realized: window aggregates in a
table, initiative totals in memory, both read only at the current version of their data),
so the raw SQL comes twice: from the measurements, what the database does without them,
and from the same kept windows, what the selectors read. Rows (iv) time what a read pays
when nothing is kept, and after measurements of one metric are written.

Expects the workspace loaded by `manage.py load_scale_initiatives` (make bench does it)
and DATABASE_URL pointing at PostgreSQL. Runs with DEBUG off, like production; the
server, the client and the timing helpers are bench/strategy.py's and bench/initiatives.py's.
"""

import argparse
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The production-like environment of bench/strategy.py, set when it is imported.
import django  # noqa: E402

from bench.initiatives import (  # noqa: E402
    Pages,
    not_measured,
    page_hint,
    queries_of,
    session_cookie,
)
from bench.strategy import (  # noqa: E402
    RATIO_TARGET,
    SERVER_WORKERS,
    Answer,
    Api,
    Row,
    p50,
    p95,
    raw_cursor,
    server,
)

django.setup()  # bench.strategy ran it already; the model imports below need it

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import override_settings  # noqa: E402

from accounts.models import Role, Team, User, Workspace  # noqa: E402
from accounts.services import api_token_create, api_token_revoke, member_add  # noqa: E402
from initiatives.models import Alignment, ExpectedImpact, Initiative  # noqa: E402
from reports import realized  # noqa: E402
from reports.dashboard import DEFAULT_PERIOD, dashboard, period_of  # noqa: E402
from reports.models import ImpactWindow  # noqa: E402
from reports.selectors import Scope, objectives_value, value_summary  # noqa: E402
from strategy.models import Measurement, Metric, Objective  # noqa: E402
from strategy.services import measurements_ingest, workspace_today  # noqa: E402

CLIENTS = 4
REQUESTS_PER_CLIENT = 40
HTTP_WARMUP = 3  # requests per client first, so that every worker has read once
CPU_REQUESTS = 20  # one at a time, for the server CPU time per request
COMPUTED_REQUESTS_PER_CLIENT = 15  # (v): each request computes the figures
NOTHING_KEPT_SETTINGS = "bench.settings_nothing_kept"
IN_PROCESS_ROUNDS = 40  # selector and raw SQL from the kept windows, in turn
WARMUP = 5
FROM_MEASUREMENTS_ROUNDS = 12  # … and raw SQL from the measurements (up to seconds each)
SLOW_WARMUP = 2
LATENCY_TARGET_MS = 300
CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
# Tables the value figures read: vacuumed first where autovacuum is off (see main).
READ_TABLES = (
    "initiatives_initiative",
    "initiatives_expectedimpact",
    "initiatives_alignment",
    "initiatives_idea",
    "strategy_metric",
    "strategy_measurement",
    "strategy_objective",
    "strategy_keyresult",
    "reports_impactwindow",
    "reports_metricdataversion",
    "reports_valuedataversion",
)

# --- the same aggregates as raw SQL -----------------------------------------------------------

# The realized change of every expected impact of the workspace's initiatives released by
# today (§3): the window aggregates, as the database computes them from the measurements…
FROM_MEASUREMENTS = """
    CROSS JOIN LATERAL (
        SELECT LEAST(i.measurement_window_days, %(today)s::date - i.released_on) AS span
    ) w
    LEFT JOIN LATERAL (
        SELECT SUM(x.value) AS s, COUNT(*) AS n FROM strategy_measurement x
        WHERE m.aggregation <> 'last' AND x.metric_id = e.metric_id
          AND x.observed_on > i.released_on - w.span AND x.observed_on <= i.released_on
    ) b ON TRUE
    LEFT JOIN LATERAL (
        SELECT SUM(x.value) AS s, COUNT(*) AS n FROM strategy_measurement x
        WHERE m.aggregation <> 'last' AND x.metric_id = e.metric_id
          AND x.observed_on > i.released_on AND x.observed_on <= i.released_on + w.span
    ) a ON TRUE
    LEFT JOIN LATERAL (
        SELECT x.value FROM strategy_measurement x
        WHERE m.aggregation = 'last' AND x.metric_id = e.metric_id
          AND x.observed_on <= i.released_on
        ORDER BY x.observed_on DESC LIMIT 1
    ) lr ON TRUE
    LEFT JOIN LATERAL (
        SELECT x.value FROM strategy_measurement x
        WHERE m.aggregation = 'last' AND x.metric_id = e.metric_id
          AND x.observed_on > i.released_on AND x.observed_on <= i.released_on + w.span
        ORDER BY x.observed_on DESC LIMIT 1
    ) la ON TRUE
"""
FROM_MEASUREMENTS_CHANGE = """
    CASE m.aggregation
        WHEN 'last' THEN la.value - lr.value
        WHEN 'mean' THEN a.s / NULLIF(a.n, 0) - b.s / NULLIF(b.n, 0)
        ELSE a.s - b.s
    END
"""
# … or read from the windows reports.realized keeps, with the checks it makes.
FROM_KEPT = """
    CROSS JOIN LATERAL (
        SELECT LEAST(i.measurement_window_days, %(today)s::date - i.released_on) AS span
    ) w
    LEFT JOIN reports_metricdataversion v ON v.metric_id = e.metric_id
    LEFT JOIN reports_impactwindow c ON c.impact_id = e.id AND c.metric_id = e.metric_id
        AND c.released_on = i.released_on AND c.span = w.span
        AND c.aggregation = m.aggregation AND c.version = COALESCE(v.version, 0)
"""
FROM_KEPT_CHANGE = """
    CASE m.aggregation
        WHEN 'mean' THEN c.after_value / c.after_count - c.before_value / c.before_count
        ELSE c.after_value - c.before_value
    END
"""
# Per initiative released by today (all of them, with or without impacts): Σ expected
# value, Σ realized value, and its realization (§3 "Objective value").
INITIATIVES = """
impacts AS (
    SELECT e.initiative_id, e.expected_change, m.value_per_unit,
           CASE WHEN w.span >= 1 THEN {change}
               * CASE m.direction WHEN 'increase' THEN 1 ELSE -1 END * e.attribution / 100
           END AS realized_change
    FROM initiatives_initiative i
    JOIN initiatives_expectedimpact e ON e.initiative_id = i.id
    JOIN strategy_metric m ON m.id = e.metric_id
    {windows}
    WHERE i.workspace_id = %(workspace)s AND i.released_on <= %(today)s
),
totals AS (
    SELECT initiative_id, SUM(expected_change * value_per_unit) AS expected_value,
           SUM(realized_change * value_per_unit) AS realized_value,
           AVG(realized_change / NULLIF(expected_change, 0)) AS mean_realization
    FROM impacts GROUP BY initiative_id
),
released AS (
    SELECT i.id, i.status, i.owner_id, i.team_id, i.released_on, t.realized_value,
           CASE WHEN t.expected_value <> 0 AND t.realized_value IS NOT NULL
                THEN t.realized_value / t.expected_value
                ELSE t.mean_realization END AS realization
    FROM initiatives_initiative i
    LEFT JOIN totals t ON t.initiative_id = i.id
    WHERE i.workspace_id = %(workspace)s AND i.released_on <= %(today)s
)"""
SHIPPED = "('released', 'measured')"
# value/summary/: counts and effort by status, alignment, pipeline, realized value,
# calibration (exact medians), declined ideas.
SUMMARY_SQL = """
WITH {initiatives},
by_status AS (
    SELECT status, COUNT(*) AS n, COALESCE(SUM(effort_weeks), 0) AS effort
    FROM initiatives_initiative WHERE workspace_id = %(workspace)s GROUP BY status
),
active_work AS (
    SELECT i.id, COALESCE(i.effort_weeks, 0) AS effort, i.kind, EXISTS (
        SELECT 1 FROM initiatives_alignment a JOIN strategy_objective o ON o.id = a.objective_id
        WHERE a.initiative_id = i.id AND o.status = 'active'
    ) AS aligned
    FROM initiatives_initiative i
    WHERE i.workspace_id = %(workspace)s AND i.status IN ('committed', 'in_delivery')
),
portfolio AS (
    SELECT SUM(effort) AS effort, SUM(effort) FILTER (WHERE aligned) AS aligned_effort,
           SUM(effort) FILTER (WHERE kind = 'tactical') AS tactical_effort,
           (SELECT SUM(e.expected_change * m.value_per_unit * e.confidence / 100)
            FROM initiatives_expectedimpact e JOIN strategy_metric m ON m.id = e.metric_id
            WHERE e.initiative_id IN (SELECT id FROM active_work)) AS pipeline
    FROM active_work
),
measured AS (SELECT * FROM released WHERE status = 'measured'),
ranked AS (
    SELECT 'owner' AS kind, owner_id AS id, realization,
           ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY realization) AS k,
           COUNT(realization) OVER (PARTITION BY owner_id) AS known
    FROM measured WHERE owner_id IS NOT NULL
    UNION ALL
    SELECT 'team', team_id, realization,
           ROW_NUMBER() OVER (PARTITION BY team_id ORDER BY realization),
           COUNT(realization) OVER (PARTITION BY team_id)
    FROM measured WHERE team_id IS NOT NULL
)
SELECT 'status', status, n, effort, NULL FROM by_status
UNION ALL
SELECT 'portfolio', NULL, NULL,
       CASE WHEN effort <> 0 THEN aligned_effort / effort END,
       CASE WHEN effort <> 0 THEN COALESCE(tactical_effort, 0) / effort END
FROM portfolio
UNION ALL SELECT 'pipeline', NULL, NULL, pipeline, NULL FROM portfolio
UNION ALL
SELECT 'realized', NULL, COUNT(realized_value), SUM(realized_value), NULL
FROM released WHERE status IN {shipped}
UNION ALL
SELECT kind, id::text, COUNT(*),
       AVG(realization) FILTER (WHERE realization IS NOT NULL
                                  AND k IN ((known + 1) / 2, (known + 2) / 2)), NULL
FROM ranked GROUP BY kind, id
UNION ALL
SELECT 'declined ideas', NULL, COUNT(*), NULL, NULL FROM initiatives_idea
WHERE workspace_id = %(workspace)s AND status = 'declined'
"""
# value/objectives/: the value each objective and its descendants received, the
# initiatives aligned to it, and its key results (not archived) with progress and pace.
OBJECTIVES_SQL = """
WITH RECURSIVE tree(ancestor, descendant) AS (
    SELECT id, id FROM strategy_objective WHERE workspace_id = %(workspace)s
    UNION ALL
    SELECT t.ancestor, o.id FROM tree t JOIN strategy_objective o ON o.parent_id = t.descendant
),
{initiatives},
own AS (
    SELECT a.objective_id, a.weight * r.realized_value / 100 AS value
    FROM initiatives_alignment a JOIN released r ON r.id = a.initiative_id
),
delivered AS (
    SELECT t.ancestor, SUM(own.value) AS value
    FROM tree t JOIN own ON own.objective_id = t.descendant GROUP BY t.ancestor
),
key_results AS (
    SELECT kr.objective_id, kr.id, f.progress,
           CASE WHEN f.progress IS NULL THEN NULL
                WHEN f.progress >= 1 THEN 'achieved'
                WHEN f.progress >= f.expected THEN 'on_track'
                WHEN f.progress >= 0.7 * f.expected THEN 'at_risk'
                ELSE 'off_track' END AS pace
    FROM strategy_keyresult kr
    JOIN strategy_metric m ON m.id = kr.metric_id
    CROSS JOIN LATERAL (SELECT LEAST(kr.due_on, %(today)s::date) AS window_end) w
    LEFT JOIN LATERAL (
        SELECT SUM(x.value) AS s, AVG(x.value) AS mean FROM strategy_measurement x
        WHERE x.metric_id = kr.metric_id AND x.observed_on BETWEEN kr.start_on AND w.window_end
    ) agg ON TRUE
    LEFT JOIN LATERAL (
        SELECT x.value FROM strategy_measurement x
        WHERE x.metric_id = kr.metric_id AND x.observed_on <= w.window_end
        ORDER BY x.observed_on DESC LIMIT 1
    ) lv ON TRUE
    CROSS JOIN LATERAL (
        SELECT (CASE WHEN w.window_end < kr.start_on THEN NULL
                     WHEN m.aggregation = 'sum' THEN agg.s
                     WHEN m.aggregation = 'mean' THEN agg.mean
                     ELSE lv.value END - kr.baseline) / (kr.target - kr.baseline) AS progress,
               LEAST(1, GREATEST(0, (%(today)s::date - kr.start_on)::numeric
                                    / (kr.due_on - kr.start_on))) AS expected
    ) f
    WHERE kr.workspace_id = %(workspace)s AND kr.archived_at IS NULL
)
SELECT o.id, d.value,
       ARRAY(SELECT a.initiative_id FROM initiatives_alignment a
             WHERE a.objective_id = o.id ORDER BY a.initiative_id),
       ARRAY(SELECT ARRAY[k.id::text, k.progress::text, k.pace] FROM key_results k
             WHERE k.objective_id = o.id ORDER BY k.id)
FROM strategy_objective o
LEFT JOIN delivered d ON d.ancestor = o.id
WHERE o.workspace_id = %(workspace)s
ORDER BY o.title, o.id
"""
# The dashboard's headline: what the work released in the period realized.
PERIOD_SQL = """
WITH {initiatives}
SELECT COUNT(realized_value), SUM(realized_value),
       COUNT(realized_value) FILTER (WHERE status = 'measured')
FROM released WHERE status IN {shipped} AND released_on >= %(start)s
"""


def _sql(template: str, change: str, windows: str) -> str:
    initiatives = INITIATIVES.format(change=change, windows=windows)
    return template.format(initiatives=initiatives, shipped=SHIPPED)


@dataclass(frozen=True)
class RawSql:
    """The statements of one way to compute the figures in SQL."""

    summary: str
    objectives: str
    period: str


FROM_THE_MEASUREMENTS = RawSql(
    *(
        _sql(t, FROM_MEASUREMENTS_CHANGE, FROM_MEASUREMENTS)
        for t in (SUMMARY_SQL, OBJECTIVES_SQL, PERIOD_SQL)
    )
)
FROM_THE_KEPT_WINDOWS = RawSql(
    *(_sql(t, FROM_KEPT_CHANGE, FROM_KEPT) for t in (SUMMARY_SQL, OBJECTIVES_SQL, PERIOD_SQL))
)


class Raw:
    """Runs one RawSql for the workspace on its own psycopg2 connection."""

    def __init__(self, sql: RawSql, workspace: Workspace, today: date, start: date) -> None:
        self.sql = sql
        self.params = {"workspace": workspace.pk, "today": today, "start": start}
        self.cursor = raw_cursor()
        # An OLTP read: the estimate of a plan with thousands of lateral lookups passes
        # jit_above_cost, and compiling it takes longer than running it.
        self.cursor.execute("SET jit = off")

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, self.params)
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def summary(self) -> list[tuple[Any, ...]]:
        return self._rows(self.sql.summary)

    def objectives(self) -> list[tuple[Any, ...]]:
        return self._rows(self.sql.objectives)

    def period(self) -> list[tuple[Any, ...]]:
        return self._rows(self.sql.period)

    def dashboard(self) -> list[list[tuple[Any, ...]]]:
        """The aggregates the dashboard stands on: the portfolio, the period's realized
        value, and the objectives with their key results."""
        return [self.summary(), self.period(), self.objectives()]


# --- the figures, side by side, at the API's precision ----------------------------------------


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def summary_figures(workspace: Workspace, today: date) -> dict[str, Any]:
    s = value_summary(workspace=workspace, as_of=today)
    return {
        "counts": {k: v for k, v in s.counts_by_status.items() if v},
        "effort": {k: money(v) for k, v in s.effort_by_status.items() if s.counts_by_status[k]},
        "alignment": (ratio(s.alignment_score), ratio(s.tactical_share)),
        "pipeline": money(s.pipeline_value),
        "realized": (s.realized_initiatives, money(s.realized_value)),
        "owner": {c.id: (c.measured, ratio(c.median_realization)) for c in s.calibration_by_owner},
        "team": {c.id: (c.measured, ratio(c.median_realization)) for c in s.calibration_by_team},
        "declined ideas": s.declined_ideas,
    }


def raw_summary_figures(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {"counts": {}, "effort": {}, "owner": {}, "team": {}}
    for kind, key, n, value, other in rows:
        if kind == "status":
            out["counts"][key] = n
            out["effort"][key] = money(value)
        elif kind == "portfolio":
            out["alignment"] = (ratio(value), ratio(other))
        elif kind == "pipeline":
            out["pipeline"] = money(value)
        elif kind == "realized":
            out["realized"] = (n, money(value))
        elif kind in ("owner", "team"):
            out[kind][int(key)] = (n, ratio(value))
        else:
            out["declined ideas"] = n
    return out


def objectives_figures(workspace: Workspace, today: date) -> list[Any]:
    return [
        (
            node.objective.pk,
            money(node.value_delivered),
            sorted(node.initiative_ids),
            sorted((kr.pk, ratio(f.progress), f.pace) for kr, f in node.key_results),
        )
        for node in sorted(
            objectives_value(workspace=workspace, as_of=today),
            key=lambda n: (n.objective.title, n.objective.pk),
        )
    ]


def raw_objectives_figures(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [
        (
            pk,
            money(value),
            list(initiatives),
            [
                (int(kr), ratio(None if p is None else Decimal(p)), pace)
                for kr, p, pace in key_results
            ],
        )
        for pk, value, initiatives, key_results in rows
    ]


def headline_figures(workspace: Workspace, today: date) -> tuple[Any, ...]:
    data = dashboard(workspace=workspace, scope=Scope(), period=period_of(DEFAULT_PERIOD, today))
    h = data.headline
    return (h.realized_initiatives, money(h.realized_in_period), h.measured_in_period)


def check_same_figures(raws: dict[str, Raw], workspace: Workspace, today: date) -> str:
    """Raw SQL and the selectors must compute the same numbers, or the ratios mean nothing."""
    ours = summary_figures(workspace, today)
    tree = objectives_figures(workspace, today)
    headline = headline_figures(workspace, today)
    for name, raw in raws.items():
        theirs = raw_summary_figures(raw.summary())
        if theirs != ours:
            diff = {k: (ours.get(k), theirs.get(k)) for k in ours if ours.get(k) != theirs.get(k)}
            raise SystemExit(f"value_summary differs from raw SQL {name}: {diff}")
        raw_tree = raw_objectives_figures(raw.objectives())
        if raw_tree != tree:
            pairs = [(a, b) for a, b in zip(tree, raw_tree, strict=False) if a != b][:2]
            raise SystemExit(f"objectives_value differs from raw SQL {name}: {pairs}")
        period = raw.period()[0]
        if (period[0], money(period[1]), period[2]) != headline:
            raise SystemExit(f"The dashboard's headline differs from raw SQL {name}: {headline}")
    initiatives, value = ours["realized"]
    return (
        f"summary (realized {value:,} from {initiatives:,} initiatives, calibration of "
        f"{len(ours['owner'])} owners and {len(ours['team'])} teams), {len(tree)} objectives "
        f"with {sum(len(o[3]) for o in tree)} key results, and the headline equal"
    )


# --- HTTP under concurrent clients ------------------------------------------------------------


def concurrent(get: Callable[[], Answer], clients: int, per_client: int) -> list[float]:
    """Latencies of `clients` threads, each sending `per_client` requests one after another."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_client):
            started = time.perf_counter()
            answer = get()
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                if answer.status != 200:
                    errors.append(f"HTTP {answer.status} {answer.body[:120]!r}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[0]}")
    return latencies


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time the process has used (Linux /proc); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_processes(port: int) -> set[int]:
    """The gunicorn master and workers serving `port`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"gunicorn" in command and f"127.0.0.1:{port}".encode() in command:
                found.add(int(entry.name))
    return found


def database_processes() -> set[int]:
    """The PostgreSQL backends connected to the bench's database, but this process's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


class CpuMeter:
    """CPU time used by a changing set of processes since the meter started: read again
    after every request, so a database connection that closes (CONN_MAX_AGE) or opens
    meanwhile is counted up to its last reading, or from its start."""

    def __init__(self, processes: Callable[[], set[int]]) -> None:
        self.processes = processes
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.read(starting=True)

    def read(self, starting: bool = False) -> None:
        for pid in self.processes():
            used = cpu_seconds(pid)
            if used is not None:
                self.first.setdefault(pid, used if starting else 0.0)
                self.last[pid] = used

    def used(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


@dataclass(frozen=True)
class CpuPerRequest:
    app: float
    database: float


def cpu_per_request(get: Callable[[], Answer], port: int, requests: int) -> CpuPerRequest:
    """Server CPU time per request, one client at a time: gunicorn's and PostgreSQL's,
    whatever else the machine runs meanwhile (the bench's own client is not counted)."""
    app = CpuMeter(lambda: server_processes(port))
    database = CpuMeter(database_processes)
    for _ in range(requests):
        get()
        app.read()
        database.read()
    return CpuPerRequest(app.used() / requests, database.used() / requests)


def cpu_row(cpu: CpuPerRequest) -> Row:
    """On the reference machine (2 idle cores), 4 clients of 2 workers keep both cores busy
    and each request waits for about one other: about twice its CPU time."""
    both = cpu.app + cpu.database
    return Row(
        "    server CPU per request, 1 client",
        f"{both * 1000:7.1f} ms",
        "",
        f"gunicorn {cpu.app * 1000:.1f} ms + PostgreSQL {cpu.database * 1000:.1f} ms; "
        f"on {SERVER_WORKERS} idle cores {CLIENTS} clients would wait ≈ "
        f"{CLIENTS / SERVER_WORKERS * both * 1000:.0f} ms (an estimate, not a measure)",
    )


def http_row(what: str, values: list[float], queries: str) -> Row:
    verdict = "met" if p95(values) * 1000 <= LATENCY_TARGET_MS else "NOT met"
    return Row(
        what,
        f"p50 {p50(values) * 1000:7.2f} ms  p95 {p95(values) * 1000:7.2f} ms",
        f"p95 ≤ {LATENCY_TARGET_MS} ms",
        f"{verdict}; {queries}; {CLIENTS} clients × {REQUESTS_PER_CLIENT} requests",
    )


def ratio_to(what: str, ours: list[float], raw: list[float]) -> Row:
    at_50, at_95 = p50(ours) / p50(raw), p95(ours) / p95(raw)
    figure = f"p50 {at_50:5.2f}×       p95 {at_95:5.2f}×"
    verdict = "met" if at_95 <= RATIO_TARGET else "NOT met"
    return Row(what, figure, f"≤ {RATIO_TARGET:.0f}×", verdict)


# --- the bench --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Value figures bench at the reference scale.")
    parser.add_argument("--workspace", default="bench")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The bench runs on PostgreSQL: set DATABASE_URL (make bench does).")
    workspace = Workspace.objects.filter(slug=args.workspace).first()
    if workspace is None or not Initiative.objects.filter(workspace=workspace).exists():
        raise SystemExit(
            f"The workspace “{args.workspace}” has no initiatives: run manage.py "
            f"load_scale_initiatives --workspace {args.workspace} first (make bench does)."
        )
    started = time.perf_counter()
    rows: list[Row] = [*scale_rows(workspace), vacuumed()]
    today = workspace_today(workspace)
    period = period_of(DEFAULT_PERIOD, today)
    assert period.start is not None  # noqa: S101 - the default period has a start
    raws = {
        "from the measurements": Raw(FROM_THE_MEASUREMENTS, workspace, today, period.start),
        "from the kept windows": Raw(FROM_THE_KEPT_WINDOWS, workspace, today, period.start),
    }
    cold = cold_rows(workspace, today)  # before anything is kept in this process
    rows.append(Row("Same figures", "checked", "", check_same_figures(raws, workspace, today)))

    membership, _ = member_add(workspace=workspace, email="bench@bench.example", role=Role.ADMIN)
    token, key = api_token_create(membership=membership, name="make bench value")
    try:
        with server() as (host, port):
            api = Api(host, port, key, workspace.slug)
            pages = Pages(host, port, session_cookie(membership.user))
            rows += read_rows(api, pages, raws, workspace, today, key, membership.user)
        with nothing_kept(), server() as (host, port):
            api = Api(host, port, key, workspace.slug)
            pages = Pages(host, port, session_cookie(membership.user))
            rows += computed_rows(api, pages, workspace, key, membership.user)
    finally:
        api_token_revoke(token=token)
    rows += cold
    print_table(rows, seconds=time.perf_counter() - started)


def scale_rows(workspace: Workspace) -> list[Row]:
    initiatives = Initiative.objects.filter(workspace=workspace)
    shipped = initiatives.filter(status__in=("released", "measured")).count()
    impacts = ExpectedImpact.objects.filter(initiative__workspace=workspace).count()
    objectives = Objective.objects.filter(workspace=workspace).count()
    metrics = Metric.objects.filter(workspace=workspace, key__startswith="scale-").count()
    measurements = Measurement.objects.filter(
        metric__workspace=workspace, metric__key__startswith="scale-"
    ).count()
    alignments = Alignment.objects.filter(initiative__workspace=workspace).count()
    return [
        Row(
            "Data",
            f"{initiatives.count():,} initiatives, {objectives:,} objectives, {metrics:,} "
            f"metrics, {measurements:,} measurements",
            "10,000 / 200 / 500 / 1,000,000",
        ),
        Row("", f"{shipped:,} shipped, {impacts:,} expected impacts, {alignments:,} alignments"),
    ]


def vacuumed() -> Row:
    """This server runs without autovacuum: the loaders' and the other benches' updates
    and deletes leave dead rows that every read steps over. Vacuum what the figures read,
    as autovacuum would have."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return Row("Vacuum", "autovacuum is on", "", "left to it")
        started = time.perf_counter()
        for table in READ_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return Row(
        "Vacuum",
        f"{time.perf_counter() - started:.1f} s",
        "",
        "autovacuum is off on this server: VACUUM ANALYZE of the tables read, as it would",
    )


def cold_rows(workspace: Workspace, today: date) -> list[Row]:
    """What a read pays before anything is kept, and after one metric's measurements are
    written (the first of a day pays for every open window, in between)."""

    def summary() -> float:
        started = time.perf_counter()
        value_summary(workspace=workspace, as_of=today)
        return time.perf_counter() - started

    impacts = ExpectedImpact.objects.filter(initiative__workspace=workspace)
    ImpactWindow.objects.filter(impact_id__in=impacts.values("pk")).delete()
    realized._kept.clear()
    nothing_kept = summary()
    kept = min(summary() for _ in range(3))
    # Write the latest measurement of the metric with most impacts again, as it is: the
    # data stay the same, its version and the workspace's move on.
    busiest = (
        impacts.values("metric_id")
        .annotate(n=Count("id"))
        .order_by("-n", "metric_id")
        .values_list("metric_id", flat=True)
    )
    metric = Metric.objects.get(pk=busiest[0])
    return [
        Row(
            "(iv) value_summary in process, nothing kept",
            f"{nothing_kept * 1000:7.0f} ms",
            "",
            f"every window summed and stored, every total computed; kept: {kept * 1000:.0f} ms",
        ),
        after_a_write(metric, summary),
    ]


def after_a_write(metric: Metric, summary: Callable[[], float]) -> Row:
    latest = Measurement.objects.filter(metric=metric).order_by("-observed_on").first()
    assert latest is not None  # noqa: S101 - a scale metric has measurements
    measurements_ingest(
        metric=metric,
        points=[
            {
                "observed_on": latest.observed_on.isoformat(),
                "value": str(latest.value),
                "source": latest.source,
                "note": latest.note,
            }
        ],
    )
    on_it = ExpectedImpact.objects.filter(metric=metric).count()
    return Row(
        "(iv) value_summary after one metric's measurements are written",
        f"{summary() * 1000:7.0f} ms",
        "",
        f"{metric.key}'s {on_it} impacts summed again, every total computed again",
    )


def read_rows(
    api: Api,
    pages: Pages,
    raws: dict[str, Raw],
    workspace: Workspace,
    today: date,
    key: str,
    user: User,
) -> list[Row]:
    team = Team.objects.filter(workspace=workspace).order_by("pk").first()
    team_query = f"?team={team.pk}" if team is not None else ""
    period = period_of(DEFAULT_PERIOD, today)
    dashboard_path = f"/w/{workspace.slug}/dashboard/"
    reads: list[tuple[str, str, Callable[[], Any], Callable[[Raw], Any]]] = [
        (
            "(i) value/summary/",
            "value/summary/",
            lambda: value_summary(workspace=workspace, as_of=today),
            Raw.summary,
        ),
        (
            "(ii) value/objectives/",
            "value/objectives/",
            lambda: objectives_value(workspace=workspace, as_of=today),
            Raw.objectives,
        ),
    ]
    rows: list[Row] = []
    for label, path, selector, raw_read in reads:
        first = api.get(path)
        if first.status != 200:
            rows.append(not_measured(f"{label} API GET", first))
            continue
        api_path = f"/api/v1/workspaces/{workspace.slug}/{path}"
        _, queries = queries_of(api_path, key=key)
        _, team_queries = queries_of(f"{api_path}{team_query}", key=key)

        def get(p: str = path) -> Answer:
            return api.get(p)

        concurrent(get, CLIENTS, HTTP_WARMUP)
        latencies = concurrent(get, CLIENTS, REQUESTS_PER_CLIENT)
        rows.append(
            http_row(
                f"{label} API GET, HTTP, {CLIENTS} concurrent clients",
                latencies,
                f"{queries} queries ({team_queries} for one team) with the figures kept",
            )
        )
        rows.append(cpu_row(cpu_per_request(get, api.port, CPU_REQUESTS)))
        rows += in_process_rows(label, selector, raws, raw_read)

    first = pages.get(dashboard_path)
    if first.status != 200:
        rows.append(
            not_measured(f"(iii) page GET {dashboard_path}", first, page_hint(first.status))
        )
        return rows
    _, queries = queries_of(dashboard_path, user=user)
    _, team_queries = queries_of(f"{dashboard_path}{team_query}", user=user)

    def page() -> Answer:
        return pages.get(dashboard_path)

    concurrent(page, CLIENTS, HTTP_WARMUP)
    latencies = concurrent(page, CLIENTS, REQUESTS_PER_CLIENT)
    rows.append(
        http_row(
            f"(iii) page GET {dashboard_path}, HTTP, {CLIENTS} concurrent clients",
            latencies,
            f"{queries} queries ({team_queries} for one team) with the markup kept, "
            f"{len(first.body) / 1024:.0f} KiB",
        )
    )
    rows.append(cpu_row(cpu_per_request(page, pages.port, CPU_REQUESTS)))
    rows += in_process_rows(
        "(iii) dashboard",
        lambda: dashboard(workspace=workspace, scope=Scope(), period=period),
        raws,
        Raw.dashboard,
    )
    return rows


@contextmanager
def nothing_kept() -> Iterator[None]:
    """Servers started inside, and requests in process, keep no figures between requests."""
    before = os.environ.get("DJANGO_SETTINGS_MODULE")
    os.environ["DJANGO_SETTINGS_MODULE"] = NOTHING_KEPT_SETTINGS
    try:
        with override_settings(VALUE_FIGURES_FRESH_SECONDS=0):
            yield
    finally:
        if before is None:
            del os.environ["DJANGO_SETTINGS_MODULE"]
        else:
            os.environ["DJANGO_SETTINGS_MODULE"] = before


def computed_rows(api: Api, pages: Pages, workspace: Workspace, key: str, user: User) -> list[Row]:
    """(v) The same reads when every request computes its figures (nothing kept by
    reports.recent_figures; realized totals and windows still kept by reports.realized):
    what a read costs after the figures' 30 s, or after a write of value data."""
    team = Team.objects.filter(workspace=workspace).order_by("pk").first()
    team_query = f"?team={team.pk}" if team is not None else ""
    api_base = f"/api/v1/workspaces/{workspace.slug}/"
    dashboard_path = f"/w/{workspace.slug}/dashboard/"
    reads: list[tuple[str, Callable[[], Answer], str, dict[str, Any]]] = [
        ("value/summary/", lambda: api.get("value/summary/"), api_base + "value/summary/",
         {"key": key}),
        ("value/objectives/", lambda: api.get("value/objectives/"),
         api_base + "value/objectives/", {"key": key}),
        (f"page {dashboard_path}", lambda: pages.get(dashboard_path), dashboard_path,
         {"user": user}),
    ]  # fmt: skip
    port = api.port
    rows: list[Row] = []
    for label, get, path, who in reads:
        first = get()
        if first.status != 200:
            rows.append(not_measured(f"(v) {label}, computed per request", first))
            continue
        _, queries = queries_of(path, **who)
        _, team_queries = queries_of(f"{path}{team_query}", **who)
        concurrent(get, CLIENTS, HTTP_WARMUP)
        latencies = concurrent(get, CLIENTS, COMPUTED_REQUESTS_PER_CLIENT)
        row = http_row(
            f"(v) {label}, computed per request, {CLIENTS} clients",
            latencies,
            f"{queries} queries ({team_queries} for one team)",
        )
        rows.append(Row(row.what, row.figure, "", row.note.replace(
            f"× {REQUESTS_PER_CLIENT} requests", f"× {COMPUTED_REQUESTS_PER_CLIENT} requests"
        )))  # fmt: skip
        rows.append(cpu_row(cpu_per_request(get, port, CPU_REQUESTS)))
    return rows


def alternated(
    actions: dict[str, Callable[[], Any]], rounds: int, warmup: int
) -> dict[str, list[float]]:
    """bench/initiatives.py's interleaved, with a warm-up of its own: the raw SQL from the
    measurements takes seconds for the dashboard."""
    for _ in range(warmup):
        for action in actions.values():
            action()
    # As the web server does once it has loaded (pm_value/wsgi.py): what lives as long as
    # the process is no longer scanned by every collection a read sets off.
    gc.collect()
    gc.freeze()
    names = list(actions)
    out: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            actions[name]()
            out[name].append(time.perf_counter() - started)
    return out


def timed_row(what: str, values: list[float], warmup: int) -> Row:
    figure = f"p50 {p50(values) * 1000:7.2f} ms  p95 {p95(values) * 1000:7.2f} ms"
    return Row(what, figure, "", f"{len(values)} runs in turn after {warmup} warm-up")


def in_process_rows(
    label: str, selector: Callable[[], Any], raws: dict[str, Raw], raw_read: Callable[[Raw], Any]
) -> list[Row]:
    kept = raws["from the kept windows"]
    measurements = raws["from the measurements"]
    fast = alternated(
        {"selector": selector, "raw": lambda: raw_read(kept)}, IN_PROCESS_ROUNDS, WARMUP
    )
    slow = alternated(
        {"selector": selector, "raw": lambda: raw_read(measurements)},
        FROM_MEASUREMENTS_ROUNDS,
        SLOW_WARMUP,
    )
    return [
        timed_row(f"    {label.split(' ', 1)[1]} selectors in process", fast["selector"], WARMUP),
        timed_row("    raw SQL from the kept windows", fast["raw"], WARMUP),
        ratio_to(
            "    ratio selectors / raw SQL from the kept windows", fast["selector"], fast["raw"]
        ),
        timed_row("    raw SQL from the measurements", slow["raw"], SLOW_WARMUP),
        ratio_to(
            "    ratio selectors / raw SQL from the measurements", slow["selector"], slow["raw"]
        ),
    ]


def print_table(rows: list[Row], *, seconds: float) -> None:
    headers = Row("What", "Result", "Target", "Notes")
    widths = [
        max(len(getattr(r, name)) for r in [headers, *rows])
        for name in ("what", "figure", "target", "note")
    ]

    def line(row: Row) -> str:
        cells = (row.what, row.figure, row.target, row.note)
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    with open("/proc/loadavg") as load:
        load_average = load.read().split()[0]
    print()
    print(
        f"PM Value value bench on PostgreSQL ({connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs (load average {load_average} at the end), gunicorn "
        f"{SERVER_WORKERS} workers, DEBUG off; targets p95 ≤ {LATENCY_TARGET_MS} ms under "
        f"{CLIENTS} clients and ≤ {RATIO_TARGET:.0f}× raw SQL"
    )
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(f"\nBench ran in {seconds:.0f} s.")


if __name__ == "__main__":
    main()
