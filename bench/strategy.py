"""make bench: strategy at the reference scale (DESIGN.md §7) on PostgreSQL, in one table.

(a) measurement ingestion in points per second, through the API on a real gunicorn server
    (lists of 10,000 points) and through the service in process; (b) latency p50/p95 of
    the key-result list (selector for all, selector for the API's page of 50, and that page
    over HTTP for information) and of the metric page data as the view reads it (two years
    of the series and the rows of its latest-measurements table; then with its key results);
    (c) the same reads as raw SQL on a psycopg2 cursor, and the ratio to them. Each read and
    its raw SQL run alternately, so load from elsewhere on the machine falls on both alike.

Expects the workspace loaded by `manage.py load_scale_metrics` (make bench does it) and
DATABASE_URL pointing at PostgreSQL. Runs with DEBUG off, like production.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Production-like settings for this process and the server it starts.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm_value.settings")
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("API_THROTTLE_USER", "100000/minute")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Role, Workspace  # noqa: E402
from accounts.services import api_token_create, api_token_revoke, member_add  # noqa: E402
from strategy.api import KeyResultViewSet  # noqa: E402
from strategy.models import KeyResult, Measurement, Metric  # noqa: E402
from strategy.selectors import (  # noqa: E402
    figures_of,
    key_results_with_figures,
    measurement_series,
    metric_key_results,
    with_window_aggregates,
)
from strategy.services import (  # noqa: E402
    MAX_POINTS_PER_CALL,
    measurements_ingest,
    metric_create,
    workspace_today,
)
from strategy.views import LATEST_ROWS, latest_measurements  # noqa: E402

WARMUP = 3
REPETITIONS = 30
PAIRED_WARMUP = 20  # of a read next to its raw SQL, each
PAIRED_REPETITIONS = 200  # of each small read and of its raw SQL
PAIRED_REPETITIONS_WHOLE_LIST = 60  # of the whole key-result list (tens of ms each)
INGEST_METRICS = 6  # one list of 10,000 points each per pass
INGEST_TARGET = 20_000
RATIO_TARGET = 2.0
SERVER_WORKERS = 2


@dataclass
class Row:
    what: str
    figure: str
    target: str = ""
    note: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description="Strategy bench at the reference scale.")
    parser.add_argument("--workspace", default="bench")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The bench runs on PostgreSQL: set DATABASE_URL (make bench does).")
    workspace = Workspace.objects.filter(slug=args.workspace).first()
    if workspace is None or not Metric.objects.filter(workspace=workspace).exists():
        raise SystemExit(
            f"The workspace “{args.workspace}” has no metrics: run manage.py "
            f"load_scale_metrics --workspace {args.workspace} first (make bench does)."
        )
    today = workspace_today(workspace)
    started = time.perf_counter()
    rows: list[Row] = [scale_row(workspace)]
    ingest = ingest_metrics(workspace)
    membership, _ = member_add(workspace=workspace, email="bench@bench.example", role=Role.ADMIN)
    token, key = api_token_create(membership=membership, name="make bench")
    try:
        with server() as (host, port):
            client = Api(host, port, key, workspace.slug)
            rows += ingestion_rows(client, ingest, today)
            rows += read_rows(client, workspace, today)
    finally:
        Measurement.objects.filter(metric__in=ingest).delete()
        api_token_revoke(token=token)
    print_table(rows, seconds=time.perf_counter() - started)


# --- the data ----------------------------------------------------------------------------


def scale_row(workspace: Workspace) -> Row:
    metrics = Metric.objects.filter(workspace=workspace, key__startswith="scale-").count()
    measurements = Measurement.objects.filter(
        metric__workspace=workspace, metric__key__startswith="scale-"
    ).count()
    key_results = KeyResult.objects.filter(workspace=workspace).count()
    return Row(
        "Data",
        f"{metrics:,} metrics, {measurements:,} measurements, {key_results:,} key results",
        "500 / 1,000,000",
    )


def ingest_metrics(workspace: Workspace) -> list[Metric]:
    """Metrics the bench writes to, emptied first; the loaded scale stays as it is."""
    metrics = []
    for i in range(1, INGEST_METRICS + 1):
        metric = Metric.objects.filter(workspace=workspace, key=f"bench-ingest-{i}").first()
        if metric is None:
            metric = metric_create(
                workspace=workspace,
                key=f"bench-ingest-{i}",
                name=f"Bench ingestion {i}",
                unit="events",
                category="other",
                direction="increase",
                aggregation="sum",
            )
        metrics.append(metric)
    Measurement.objects.filter(metric__in=metrics).delete()
    return metrics


def points(today: date, salt: int) -> list[dict[str, str]]:
    """10,000 points as an integration sends them: one per day, the latest today."""
    return [
        {
            "observed_on": (today - timedelta(days=offset)).isoformat(),
            "value": f"{(offset * 7919 + salt) % 100_000 / 100:.2f}",
            "source": "bench",
        }
        for offset in range(MAX_POINTS_PER_CALL)
    ]


# --- (a) ingestion -------------------------------------------------------------------------


def ingestion_rows(client: "Api", metrics: list[Metric], today: date) -> list[Row]:
    rows = []
    target = f"≥ {INGEST_TARGET:,} points/s"
    route = client.get(f"metrics/{metrics[0].pk}/measurements/?limit=1")
    if route.status == 200:
        bodies = [json.dumps(points(today, i)).encode() for i in range(len(metrics))]
        for label, salt in (("new days", 0), ("days replaced", 1)):
            if salt:
                bodies = [json.dumps(points(today, i + 100)).encode() for i in range(len(metrics))]
            rate, detail = client.ingest(metrics, bodies, parallel=1)
            rows.append(
                Row(
                    f"(a) API POST measurements, 1 client, {label}",
                    f"{rate:,.0f} points/s",
                    target,
                    detail,
                )
            )
        bodies = [json.dumps(points(today, i + 200)).encode() for i in range(len(metrics))]
        rate, detail = client.ingest(metrics, bodies, parallel=SERVER_WORKERS)
        rows.append(
            Row(
                f"(a) API POST measurements, {SERVER_WORKERS} clients, days replaced",
                f"{rate:,.0f} points/s",
                target,
                detail,
            )
        )
    else:
        rows.append(
            Row(
                "(a) API POST measurements",
                "not measured",
                target,
                f"the route answers HTTP {route.status}: {route.body[:80]!r}",
            )
        )
    Measurement.objects.filter(metric__in=metrics).delete()
    for label, salt in (("new days", 0), ("days replaced", 1)):
        payloads = [points(today, i + salt * 100) for i in range(len(metrics))]
        started = time.perf_counter()
        for metric, payload in zip(metrics, payloads, strict=True):
            measurements_ingest(metric=metric, points=payload)
        seconds = time.perf_counter() - started
        total = len(metrics) * MAX_POINTS_PER_CALL
        rows.append(
            Row(
                f"(a) service measurements_ingest in process, {label}",
                f"{total / seconds:,.0f} points/s",
                "(no HTTP, for comparison)",
                f"{len(metrics)} calls × {MAX_POINTS_PER_CALL:,}",
            )
        )
    return rows


# --- (b) and (c) reads ----------------------------------------------------------------------


KEY_RESULTS_SQL = """
SELECT kr.id, kr.baseline, kr.target, kr.start_on, kr.due_on, m.aggregation,
       w.s, w.n, l.value
FROM strategy_keyresult kr
JOIN strategy_metric m ON m.id = kr.metric_id
LEFT JOIN LATERAL (
    SELECT SUM(x.value) AS s, COUNT(*) AS n FROM strategy_measurement x
    WHERE x.metric_id = kr.metric_id
      AND x.observed_on BETWEEN kr.start_on AND LEAST(kr.due_on, %(today)s)
) w ON TRUE
LEFT JOIN LATERAL (
    SELECT x.value FROM strategy_measurement x
    WHERE x.metric_id = kr.metric_id AND x.observed_on <= LEAST(kr.due_on, %(today)s)
    ORDER BY x.observed_on DESC LIMIT 1
) l ON TRUE
WHERE kr.workspace_id = %(workspace)s{archived}
ORDER BY kr.objective_id, kr.due_on, kr.id
"""
# The API lists key results that are not archived unless asked.
KEY_RESULTS_PAGE_SQL = KEY_RESULTS_SQL.format(archived=" AND kr.archived_at IS NULL") + " LIMIT 50"
KEY_RESULTS_SQL = KEY_RESULTS_SQL.format(archived="")
SERIES_SQL = """
SELECT observed_on, value FROM strategy_measurement
WHERE metric_id = %s AND observed_on BETWEEN %s AND %s ORDER BY observed_on
"""
LATEST_SQL = """
SELECT * FROM strategy_measurement WHERE metric_id = %s ORDER BY observed_on DESC LIMIT %s
"""
METRIC_KEY_RESULTS_SQL = """
SELECT kr.id, kr.title, kr.baseline, kr.target, kr.start_on, kr.due_on, kr.objective_id,
       o.title, m.aggregation, w.s, w.n, l.value
FROM strategy_keyresult kr
JOIN strategy_metric m ON m.id = kr.metric_id
JOIN strategy_objective o ON o.id = kr.objective_id
LEFT JOIN LATERAL (
    SELECT SUM(x.value) AS s, COUNT(*) AS n FROM strategy_measurement x
    WHERE x.metric_id = kr.metric_id
      AND x.observed_on BETWEEN kr.start_on AND LEAST(kr.due_on, %(today)s)
) w ON TRUE
LEFT JOIN LATERAL (
    SELECT x.value FROM strategy_measurement x
    WHERE x.metric_id = kr.metric_id AND x.observed_on <= LEAST(kr.due_on, %(today)s)
    ORDER BY x.observed_on DESC LIMIT 1
) l ON TRUE
WHERE kr.workspace_id = %(workspace)s AND kr.metric_id = %(metric)s AND kr.archived_at IS NULL
ORDER BY kr.objective_id, kr.due_on, kr.id
"""


def read_rows(client: "Api", workspace: Workspace, today: date) -> list[Row]:
    rows: list[Row] = []
    raw = raw_cursor()
    n_key_results = KeyResult.objects.filter(workspace=workspace).count()
    two_years_ago = today - timedelta(days=730)
    metric_ids = list(
        Metric.objects.filter(workspace=workspace, key__startswith="scale-").values_list(
            "pk", flat=True
        )
    )
    # Each side walks the metrics in the same order: the same pages for both.
    metric_turn, raw_metric_turn = cycle_of(metric_ids), cycle_of(metric_ids)

    def selector_list() -> None:
        key_results_with_figures(workspace=workspace, today=today)

    def raw_list() -> None:
        raw.execute(KEY_RESULTS_SQL, {"today": today, "workspace": workspace.pk})
        raw.fetchall()

    def raw_page() -> None:
        raw.execute(KEY_RESULTS_PAGE_SQL, {"today": today, "workspace": workspace.pk})
        raw.fetchall()

    def selector_page() -> None:
        # What the API's list runs for its first page, without the HTTP, the count and the
        # JSON: its queryset with the default filter (not archived) and order.
        queryset = KeyResultViewSet.queryset.filter(
            workspace=workspace, archived_at__isnull=True
        ).order_by(*KeyResultViewSet.ordering)
        for kr in with_window_aggregates(queryset, today=today)[:50]:
            figures_of(kr, today=today)

    def metric_page() -> None:
        # The measurement reads of the metric page, as strategy.views._metric_page runs them.
        metric = Metric.objects.get(pk=next(metric_turn))
        measurement_series(metric=metric, date_from=two_years_ago, date_to=today)
        latest_measurements(metric)

    def metric_page_whole() -> None:
        # … and the key results on the metric, with their objective: all the view reads.
        metric = Metric.objects.get(pk=next(metric_turn))
        measurement_series(metric=metric, date_from=two_years_ago, date_to=today)
        latest_measurements(metric)
        metric_key_results(metric=metric, today=today)

    def raw_metric_page() -> int:
        metric_id = next(raw_metric_turn)
        raw.execute("SELECT * FROM strategy_metric WHERE id = %s", [metric_id])
        raw.fetchall()
        raw.execute(SERIES_SQL, [metric_id, two_years_ago, today])
        raw.fetchall()
        raw.execute(LATEST_SQL, [metric_id, LATEST_ROWS])
        raw.fetchall()
        return metric_id

    def raw_metric_page_whole() -> None:
        metric_id = raw_metric_page()
        params = {"today": today, "workspace": workspace.pk, "metric": metric_id}
        raw.execute(METRIC_KEY_RESULTS_SQL, params)
        raw.fetchall()

    selector, raw_whole = paired_timings(selector_list, raw_list, PAIRED_REPETITIONS_WHOLE_LIST)
    rows.append(
        latency_row(
            f"(b) key_results_with_figures, all {n_key_results:,}", selector, "", paired=True
        )
    )
    rows.append(
        latency_row("(c) raw SQL, same aggregates, all key results", raw_whole, "", paired=True)
    )
    rows.append(ratio_row("    ratio selector / raw SQL", selector, raw_whole))

    selector_50, raw_50 = paired_timings(selector_page, raw_page)
    rows.append(
        latency_row(
            "(b) selectors of the API list, first 50, in process", selector_50, "", paired=True
        )
    )
    rows.append(latency_row("(c) raw SQL, same aggregates, first 50", raw_50, "", paired=True))
    rows.append(ratio_row("    ratio selectors / raw SQL", selector_50, raw_50))

    page = client.get("key-results/?limit=50")
    if page.status == 200:
        api = timings(lambda: client.get("key-results/?limit=50", expect=200))
        rows.append(latency_row("(b) API GET key-results/?limit=50, HTTP round trip", api, ""))
        rows.append(
            ratio_row("    ratio HTTP round trip / raw SQL, for information", api, raw_50, "")
        )
    else:
        rows.append(
            Row(
                "(b) API GET key-results/?limit=50",
                "not measured",
                "",
                f"HTTP {page.status}: {page.body[:80]!r}",
            )
        )

    metric_data, raw_metric = paired_timings(metric_page, raw_metric_page)
    rows.append(
        latency_row(
            f"(b) metric page: metric, series 2 years, latest {LATEST_ROWS} rows",
            metric_data,
            "",
            paired=True,
        )
    )
    rows.append(latency_row("(c) raw SQL, same rows", raw_metric, "", paired=True))
    rows.append(ratio_row("    ratio selectors / raw SQL", metric_data, raw_metric))
    whole, raw_whole_page = paired_timings(metric_page_whole, raw_metric_page_whole)
    rows.append(latency_row("(b) the same + its key results with figures", whole, "", paired=True))
    rows.append(latency_row("(c) raw SQL, same rows", raw_whole_page, "", paired=True))
    rows.append(ratio_row("    ratio selectors / raw SQL", whole, raw_whole_page))
    return rows


def raw_cursor() -> Any:
    """A psycopg2 cursor on its own connection: no Django in the way."""
    import psycopg2

    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    conn.autocommit = True
    return conn.cursor()


def cycle_of(values: Sequence[int]) -> Iterator[int]:
    while True:
        yield from values


def timings(action: Callable[[], Any], repetitions: int = REPETITIONS) -> list[float]:
    for _ in range(WARMUP):
        action()
    out = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def paired_timings(
    ours: Callable[[], Any], raw: Callable[[], Any], repetitions: int = PAIRED_REPETITIONS
) -> tuple[list[float], list[float]]:
    """Timings of a read and of its raw SQL, run alternately (each first in turn), so that
    whatever else the machine does meanwhile slows both alike."""
    for _ in range(PAIRED_WARMUP):
        ours()
        raw()
    out: tuple[list[float], list[float]] = ([], [])
    for i in range(repetitions):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            action = ours if side == 0 else raw
            started = time.perf_counter()
            action()
            out[side].append(time.perf_counter() - started)
    return out


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def latency_row(what: str, values: list[float], target: str, *, paired: bool = False) -> Row:
    """p50 and p95; `paired`: timed alternately with its raw SQL (paired_timings)."""
    note = (
        f"{len(values)} runs alternated with raw SQL after {PAIRED_WARMUP} warm-up"
        if paired
        else f"{len(values)} runs after {WARMUP} warm-up"
    )
    return Row(
        what, f"p50 {p50(values) * 1000:7.2f} ms  p95 {p95(values) * 1000:7.2f} ms", target, note
    )


def ratio_row(what: str, ours: list[float], raw: list[float], target: str | None = None) -> Row:
    """A ratio to raw SQL; with target="" a figure for information, held to no target."""
    at_50, at_95 = p50(ours) / p50(raw), p95(ours) / p95(raw)
    figure = f"p50 {at_50:5.2f}×       p95 {at_95:5.2f}×"
    if target is not None:
        return Row(what, figure, target, "")
    verdict = "met" if at_95 <= RATIO_TARGET else "NOT met"
    return Row(what, figure, f"≤ {RATIO_TARGET:.0f}×", verdict)


# --- the server and its client ----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes


class Api:
    def __init__(self, host: str, port: int, key: str, slug: str) -> None:
        self.host, self.port, self.key, self.slug = host, port, key, slug

    def _request(self, method: str, path: str, body: bytes | None = None) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            headers = {"Authorization": f"Token {self.key}", "Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, f"/api/v1/workspaces/{self.slug}/{path}", body, headers)
            response = conn.getresponse()
            return Answer(response.status, response.read())
        finally:
            conn.close()

    def get(self, path: str, expect: int | None = None) -> Answer:
        answer = self._request("GET", path)
        if expect is not None and answer.status != expect:
            raise RuntimeError(f"GET {path}: HTTP {answer.status} {answer.body[:200]!r}")
        return answer

    def ingest(
        self, metrics: list[Metric], bodies: list[bytes], *, parallel: int
    ) -> tuple[float, str]:
        """POSTs one body per metric, `parallel` at a time; points per second overall."""
        errors: list[str] = []
        counts = {"created": 0, "updated": 0}
        lock = threading.Lock()
        jobs = list(zip(metrics, bodies, strict=True))

        def worker() -> None:
            while True:
                with lock:
                    if not jobs:
                        return
                    metric, body = jobs.pop()
                answer = self._request("POST", f"metrics/{metric.pk}/measurements/", body)
                with lock:
                    if answer.status == 200:
                        result = json.loads(answer.body)
                        counts["created"] += result["created"]
                        counts["updated"] += result["updated"]
                    else:
                        errors.append(f"HTTP {answer.status} {answer.body[:120]!r}")

        threads = [threading.Thread(target=worker) for _ in range(parallel)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if errors:
            raise RuntimeError(f"Ingestion through the API failed: {errors[0]}")
        total = len(metrics) * MAX_POINTS_PER_CALL
        detail = (
            f"{len(metrics)} POSTs × {MAX_POINTS_PER_CALL:,}; created {counts['created']:,}, "
            f"updated {counts['updated']:,}"
        )
        return total / seconds, detail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server() -> Iterator[tuple[str, int]]:
    """gunicorn with the project's WSGI app on a free port, stopped on the way out."""
    port = free_port()
    log = REPO / "var" / "bench-gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "pm_value.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(SERVER_WORKERS),
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"gunicorn did not start:\n{log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- output ----------------------------------------------------------------------------------


def print_table(rows: list[Row], *, seconds: float) -> None:
    headers = Row("What", "Result", "Target", "Notes")
    widths = [
        max(len(getattr(r, name)) for r in [headers, *rows])
        for name in ("what", "figure", "target", "note")
    ]

    def line(row: Row) -> str:
        cells = (row.what, row.figure, row.target, row.note)
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    print()
    print(
        f"PM Value strategy bench on PostgreSQL ({connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs, gunicorn {SERVER_WORKERS} workers, DEBUG off"
    )
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(f"\nBench ran in {seconds:.0f} s.")


if __name__ == "__main__":
    main()
