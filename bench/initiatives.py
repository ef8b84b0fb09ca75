"""make bench, second part: the initiative lists and impact at the reference scale, in one table.

For 10,000 initiatives (DESIGN.md §7): p50/p95 in ms and SQL queries per request of
(i) the list selectors in process (value-density order, first page of 50, `list_rows`),
(ii) the API list `initiatives/?limit=50` and (iii) the browser list page over HTTP on a
real gunicorn server, (iv) `initiatives/{id}/impact/` over HTTP and (v) `impacts_for` in
process for a measured initiative with three expected impacts; next to the same
computations as raw SQL on a psycopg2 cursor (the page of 50 in stored value-density order with
the window aggregates of all its impacts; the window aggregates of one initiative's
impacts), whose figures are checked equal to the selectors' once before timing. The
paths compared are timed in turn, round after round, so they share the machine's load.

Expects the workspace loaded by `manage.py load_scale_initiatives` (make bench does it)
and DATABASE_URL pointing at PostgreSQL. Runs with DEBUG off, like production; the
server, the client and the timing helpers are bench/strategy.py's.
"""

import argparse
import http.client
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The production-like environment of bench/strategy.py, set when it is imported.
import django  # noqa: E402

from bench.strategy import (  # noqa: E402
    PAIRED_REPETITIONS,
    PAIRED_REPETITIONS_WHOLE_LIST,
    PAIRED_WARMUP,
    RATIO_TARGET,
    SERVER_WORKERS,
    Answer,
    Api,
    Row,
    latency_row,
    p95,
    ratio_row,
    raw_cursor,
    server,
)

django.setup()  # bench.strategy ran it already; the model imports below need it

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Role, User, Workspace  # noqa: E402
from accounts.services import api_token_create, api_token_revoke, member_add  # noqa: E402
from initiatives.models import (  # noqa: E402
    Alignment,
    Decision,
    ExpectedImpact,
    Initiative,
    Status,
)
from initiatives.selectors import (  # noqa: E402
    ImpactFigures,
    impacts_for,
    initiative_totals,
    list_rows,
    order_initiatives,
    with_priority,
)
from strategy.models import Aggregation, Direction, Measurement, Metric, Objective  # noqa: E402
from strategy.services import workspace_today  # noqa: E402

PAGE = 50
LATENCY_TARGET_MS = 300
HUNDRED = Decimal(100)
SIX_PLACES = Decimal("0.000001")

# --- the same computations as raw SQL --------------------------------------------------------

# Each expected impact with its release window and the aggregates its metric's aggregation
# needs (§3): sums and counts of (R − L, R] and (R, E] for sum and mean, the level as of R
# and the latest in (R, E] for last. A lateral that its aggregation does not need is skipped
# by a one-time filter, as the selector's CASE skips the subquery it does not need.
IMPACT_COLUMNS = """
    e.initiative_id, e.id, e.expected_change, e.confidence, e.attribution,
    m.value_per_unit, m.direction, m.aggregation, i.released_on, w.span,
    b.s, b.n, a.s, a.n, lr.value, la.value
"""
IMPACT_JOINS = """
JOIN strategy_metric m ON m.id = e.metric_id
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
# The first page in value-density order (unknown last, highest first, ties by id) on the
# stored value_density and its index initiative_density_order, as the selectors sort, every
# column of the initiatives, and the figures of all its impacts: one statement. The stored
# density is checked against one computed from the impacts' rows (check_same_figures).
LIST_PAGE_SQL = f"""
WITH page AS (
    SELECT p.*
    FROM initiatives_initiative p
    WHERE p.workspace_id = %(workspace)s
    ORDER BY p.value_density IS NULL, p.value_density DESC, p.id
    LIMIT %(limit)s
)
SELECT page.id, page.effort_weeks, page.value_density, {IMPACT_COLUMNS}, page.*
FROM page
JOIN initiatives_initiative i ON i.id = page.id
LEFT JOIN initiatives_expectedimpact e ON e.initiative_id = page.id
{IMPACT_JOINS.replace("JOIN strategy_metric m", "LEFT JOIN strategy_metric m", 1)}
ORDER BY page.value_density IS NULL, page.value_density DESC, page.id, e.id
"""  # noqa: S608 - constant SQL, values are parameters
ONE_INITIATIVE_SQL = f"""
SELECT {IMPACT_COLUMNS}
FROM initiatives_expectedimpact e
JOIN initiatives_initiative i ON i.id = e.initiative_id
{IMPACT_JOINS}
WHERE e.initiative_id = %(initiative)s
ORDER BY e.id
"""  # noqa: S608 - constant SQL, values are parameters


@dataclass(frozen=True)
class RawImpact:
    """The figures of one impact from a raw row, by the formulas of §3."""

    id: int
    expected_value: Decimal | None
    risk_adjusted_value: Decimal | None
    realized_change: Decimal | None
    realized_value: Decimal | None


def raw_impact(row: tuple[Any, ...]) -> RawImpact:
    (
        _initiative_id,
        impact_id,
        expected_change,
        confidence,
        attribution,
        per_unit,
        direction,
        aggregation,
        released_on,
        span,
        before_sum,
        before_n,
        after_sum,
        after_n,
        level_at_release,
        level_after,
    ) = row
    expected_value = None if per_unit is None else expected_change * per_unit
    risk_adjusted = None if expected_value is None else expected_value * confidence / HUNDRED
    change: Decimal | None = None
    if released_on is not None and span is not None and span >= 1:
        if aggregation == Aggregation.LAST:
            if level_at_release is not None and level_after is not None:
                change = level_after - level_at_release
        elif before_n and after_n:
            if aggregation == Aggregation.MEAN:
                change = after_sum / after_n - before_sum / before_n
            else:
                change = after_sum - before_sum
    realized_change = None
    if change is not None:
        improvement = change if direction == Direction.INCREASE else -change
        realized_change = improvement * attribution / HUNDRED
    realized_value = (
        None if realized_change is None or per_unit is None else realized_change * per_unit
    )
    return RawImpact(impact_id, expected_value, risk_adjusted, realized_change, realized_value)


def six_places(value: Decimal | None) -> Decimal | None:
    """A figure as the priority columns store it (initiatives_reprice)."""
    return None if value is None else value.quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)


def total(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


@dataclass(frozen=True)
class RawListRow:
    id: int
    risk_adjusted_value: Decimal | None
    realized_value: Decimal | None
    value_density: Decimal | None  # stored, as the page is sorted
    computed_density: Decimal | None  # Σ risk-adjusted value / effort of the impacts' rows


def raw_list_page(cursor: Any, workspace: Workspace, today: date) -> list[RawListRow]:
    cursor.execute(LIST_PAGE_SQL, {"workspace": workspace.pk, "today": today, "limit": PAGE})
    page: dict[int, tuple[Decimal | None, Decimal | None, list[RawImpact]]] = {}
    for row in cursor.fetchall():
        initiative_id, effort, density = row[0], row[1], row[2]
        impacts = page.setdefault(initiative_id, (effort, density, []))[2]
        if row[4] is not None:  # an impact (the LEFT JOIN gives None for none)
            impacts.append(raw_impact(row[3:19]))
    out = []
    for initiative_id, (effort, density, impacts) in page.items():
        risk_adjusted = total([f.risk_adjusted_value for f in impacts])
        out.append(
            RawListRow(
                initiative_id,
                risk_adjusted,
                total([f.realized_value for f in impacts]),
                density,
                None if risk_adjusted is None or not effort else risk_adjusted / effort,
            )
        )
    return out


def raw_one(cursor: Any, initiative: Initiative, today: date) -> list[RawImpact]:
    cursor.execute(ONE_INITIATIVE_SQL, {"initiative": initiative.pk, "today": today})
    return [raw_impact(row) for row in cursor.fetchall()]


# --- the selectors, as the list and the impact endpoint call them ----------------------------


def selector_list_page(workspace: Workspace, today: date) -> list[Any]:
    """What a list runs for its first page: value-density order in SQL, then the figures
    of the page's initiatives (one query for all their impacts)."""
    ordered = order_initiatives(
        with_priority(Initiative.objects.filter(workspace=workspace)), "value_density"
    )
    return list_rows(list(ordered[:PAGE]), today=today)


def selector_one(initiative: Initiative, today: date) -> list[ImpactFigures]:
    return [f for _, f in impacts_for(initiatives=[initiative], today=today)[initiative.pk]]


def check_same_figures(raw: Any, workspace: Workspace, initiative: Initiative, today: date) -> str:
    """Raw SQL and the selectors must compute the same numbers, or the ratio means nothing."""
    ours = selector_list_page(workspace, today)
    theirs = raw_list_page(raw, workspace, today)
    mine = [
        (r.initiative.pk, r.totals.risk_adjusted_value, r.totals.realized_value, r.value_density)
        for r in ours
    ]
    raws = [(r.id, r.risk_adjusted_value, r.realized_value, r.value_density) for r in theirs]
    if mine != raws:
        raise SystemExit(f"The list page differs from raw SQL:\n{mine[:3]}\n{raws[:3]}")
    # Both sides read the stored density: it must be the one the impacts' rows give.
    stale = [r for r in theirs if r.value_density != six_places(r.computed_density)]
    if stale:
        raise SystemExit(f"Stored value densities differ from the impacts': {stale[:3]}")
    figures = selector_one(initiative, today)
    raw_figures = raw_one(raw, initiative, today)
    pairs = list(zip(figures, raw_figures, strict=True))
    for f, r in pairs:
        if (f.expected_value, f.risk_adjusted_value, f.realized_change, f.realized_value) != (
            r.expected_value,
            r.risk_adjusted_value,
            r.realized_change,
            r.realized_value,
        ):
            raise SystemExit(f"Impact {r.id} differs from raw SQL: {f} {r}")
    realized = initiative_totals(figures).realized_value
    return (
        f"{len(mine)} rows (risk-adjusted, realized, stored density = computed) and "
        f"{len(pairs)} impacts equal; realized {realized:,.2f}"
        if realized is not None
        else f"{len(mine)} rows and {len(pairs)} impacts equal"
    )


# --- the bench -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Initiatives bench at the reference scale.")
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
    today = workspace_today(workspace)
    started = time.perf_counter()
    initiative = measured_with_three_impacts(workspace, today)
    raw = raw_cursor()
    rows: list[Row] = [*scale_rows(workspace)]
    rows.append(
        Row("Same figures", "checked", "", check_same_figures(raw, workspace, initiative, today))
    )
    membership, _ = member_add(workspace=workspace, email="bench@bench.example", role=Role.ADMIN)
    token, key = api_token_create(membership=membership, name="make bench initiatives")
    try:
        with server() as (host, port):
            api = Api(host, port, key, workspace.slug)
            pages = Pages(host, port, session_cookie(membership.user))
            rows += list_rows_of(api, pages, raw, workspace, today, key, membership.user)
            rows += impact_rows(api, raw, initiative, today, key)
    finally:
        api_token_revoke(token=token)
    print_table(rows, seconds=time.perf_counter() - started)


def measured_with_three_impacts(workspace: Workspace, today: date) -> Initiative:
    """The first measured initiative with three expected impacts that all have a realized
    value: the heaviest impact/ the reference scale holds."""
    candidates = (
        Initiative.objects.filter(workspace=workspace, status=Status.MEASURED)
        .annotate(n=Count("expected_impacts"))
        .filter(n=3)
        .order_by("id")
    )
    for initiative in candidates[:200]:
        figures = selector_one(initiative, today)
        if all(f.realized_value is not None for f in figures):
            return initiative
    raise SystemExit("No measured initiative with three realized impacts: reload the scale.")


def scale_rows(workspace: Workspace) -> list[Row]:
    initiatives = Initiative.objects.filter(workspace=workspace).count()
    impacts = ExpectedImpact.objects.filter(initiative__workspace=workspace).count()
    alignments = Alignment.objects.filter(initiative__workspace=workspace).count()
    decisions = Decision.objects.filter(workspace=workspace).count()
    objectives = Objective.objects.filter(workspace=workspace).count()
    metrics = Metric.objects.filter(workspace=workspace, key__startswith="scale-").count()
    measurements = Measurement.objects.filter(
        metric__workspace=workspace, metric__key__startswith="scale-"
    ).count()
    return [
        Row(
            "Data",
            f"{initiatives:,} initiatives, {objectives:,} objectives, {metrics:,} metrics, "
            f"{measurements:,} measurements",
            "10,000 / 200 / 500 / 1,000,000",
        ),
        Row(
            "",
            f"{impacts:,} expected impacts, {alignments:,} alignments, {decisions:,} decisions",
        ),
    ]


class Pages:
    """GETs browser pages of the bench server with a session cookie."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie

    def get(self, path: str, expect: int | None = None) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request("GET", path, headers={"Cookie": self.cookie, "Accept": "text/html"})
            response = conn.getresponse()
            answer = Answer(response.status, response.read())
        finally:
            conn.close()
        if expect is not None and answer.status != expect:
            raise RuntimeError(f"GET {path}: HTTP {answer.status} {answer.body[:200]!r}")
        return answer


def session_cookie(user: User) -> str:
    """A logged-in session in the database (the server reads it there), as a Cookie header."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def queries_of(path: str, *, key: str | None = None, user: User | None = None) -> tuple[int, int]:
    """(status, SQL queries) of one request run in process through Django's test client."""
    client = Client(SERVER_NAME="127.0.0.1")
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Token {key}"
    if user is not None:
        client.force_login(user)
    client.get(path, headers=headers)  # warm: first-request work is not per request
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    return response.status_code, len(captured)


def queries_in_process(action: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def latency_target_row(what: str, values: list[float], queries: str) -> Row:
    """A latency held to the p95 target, with the queries of one request in the notes."""
    row = latency_row(what, values, f"p95 ≤ {LATENCY_TARGET_MS} ms", paired=True)
    verdict = "met" if p95(values) * 1000 <= LATENCY_TARGET_MS else "NOT met"
    return Row(row.what, row.figure, row.target, f"{verdict}; {queries}; {row.note}")


def interleaved(actions: dict[str, Callable[[], Any]], repetitions: int) -> dict[str, list[float]]:
    """Timings of several actions taken in turn, round after round, each round starting one
    further along: on a machine shared with other work, each sees the same load, so their
    ratio is fairer than two series timed one after the other."""
    for _ in range(PAIRED_WARMUP):
        for action in actions.values():
            action()
    names = list(actions)
    out: dict[str, list[float]] = {name: [] for name in names}
    for i in range(repetitions):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            actions[name]()
            out[name].append(time.perf_counter() - started)
    return out


def not_measured(what: str, answer: Answer, hint: str = "") -> Row:
    return Row(
        what,
        "not measured",
        f"p95 ≤ {LATENCY_TARGET_MS} ms",
        f"it answers HTTP {answer.status}{hint}: {answer.body[:80]!r}",
    )


def list_rows_of(
    api: Api, pages: Pages, raw: Any, workspace: Workspace, today: date, key: str, user: User
) -> list[Row]:
    n = Initiative.objects.filter(workspace=workspace).count()
    api_path = f"initiatives/?limit={PAGE}"
    page_path = f"/w/{workspace.slug}/initiatives/"
    api_first, page_first = api.get(api_path), pages.get(page_path)
    actions: dict[str, Callable[[], Any]] = {
        "selector": lambda: selector_list_page(workspace, today),
        "raw": lambda: raw_list_page(raw, workspace, today),
    }
    if api_first.status == 200:
        actions["api"] = lambda: api.get(api_path, expect=200)
    if page_first.status == 200:
        actions["page"] = lambda: pages.get(page_path, expect=200)
    times = interleaved(actions, PAIRED_REPETITIONS_WHOLE_LIST)
    raw_page = times["raw"]

    rows = [
        latency_target_row(
            f"(i) list selectors in process: value density, first {PAGE} of {n:,}",
            times["selector"],
            f"{queries_in_process(actions['selector'])} queries",
        ),
        latency_row("    raw SQL, same page and figures (1 statement)", raw_page, "", paired=True),
        ratio_row("    ratio selectors / raw SQL", times["selector"], raw_page),
    ]
    # PostgreSQL compiles a plan whose estimated cost passes jit_above_cost (100,000) to
    # machine code first; the correlated risk-adjusted subquery over every initiative did,
    # before the density was stored. Kept to show that no list plan needs it any more.
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        try:
            without_jit = interleaved(
                {"selector": actions["selector"], "raw": actions["raw"]},
                PAIRED_REPETITIONS_WHOLE_LIST,
            )
        finally:
            cursor.execute("RESET jit")
    rows.append(
        latency_row(
            "    selectors with jit off, for information", without_jit["selector"], "", paired=True
        )
    )
    rows.append(
        ratio_row(
            "    ratio selectors with jit off / raw SQL (its own runs)",
            without_jit["selector"],
            without_jit["raw"],
            "",
        )
    )

    if "api" in actions:
        _, queries = queries_of(f"/api/v1/workspaces/{workspace.slug}/{api_path}", key=key)
        _, queries_10 = queries_of(
            f"/api/v1/workspaces/{workspace.slug}/initiatives/?limit=10", key=key
        )
        rows.append(
            latency_target_row(
                f"(ii) API GET {api_path}, HTTP round trip",
                times["api"],
                f"{queries} queries ({queries_10} for limit=10)",
            )
        )
        rows.append(
            ratio_row("    ratio HTTP / raw SQL, for information", times["api"], raw_page, "")
        )
    else:
        rows.append(not_measured(f"(ii) API GET {api_path}", api_first))

    if "page" in actions:
        _, queries = queries_of(page_path, user=user)
        rows.append(
            latency_target_row(
                f"(iii) page GET {page_path}, HTTP round trip",
                times["page"],
                f"{queries} queries, {len(page_first.body) / 1024:.0f} KiB",
            )
        )
        rows.append(
            ratio_row("    ratio HTTP / raw SQL, for information", times["page"], raw_page, "")
        )
    else:
        rows.append(
            not_measured(f"(iii) page GET {page_path}", page_first, page_hint(page_first.status))
        )
    return rows


def page_hint(status: int) -> str:
    """Why a page may fail here: DEBUG off wants the hashed static files' manifest."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if status == 500 and not manifest.exists():
        return ": no static files manifest, run manage.py collectstatic (make bench does)"
    return ""


def impact_rows(api: Api, raw: Any, initiative: Initiative, today: date, key: str) -> list[Row]:
    path = f"initiatives/{initiative.pk}/impact/"
    first = api.get(path)
    actions: dict[str, Callable[[], Any]] = {
        "selector": lambda: selector_one(initiative, today),
        "raw": lambda: raw_one(raw, initiative, today),
    }
    if first.status == 200:
        actions["api"] = lambda: api.get(path, expect=200)
    times = interleaved(actions, PAIRED_REPETITIONS)
    rows: list[Row] = []
    if "api" in actions:
        _, queries = queries_of(f"/api/v1/workspaces/{initiative.workspace.slug}/{path}", key=key)
        rows.append(
            latency_target_row(
                "(iv) API GET initiatives/{id}/impact/, measured, 3 impacts",
                times["api"],
                f"{queries} queries",
            )
        )
        rows.append(
            ratio_row("    ratio HTTP / raw SQL, for information", times["api"], times["raw"], "")
        )
    else:
        rows.append(not_measured("(iv) API GET initiatives/{id}/impact/", first))
    rows.append(
        latency_target_row(
            f"(v) impacts_for of initiative {initiative.pk} in process",
            times["selector"],
            f"{queries_in_process(actions['selector'])} query",
        )
    )
    rows.append(latency_row("    raw SQL, same window aggregates", times["raw"], "", paired=True))
    rows.append(ratio_row("    ratio selector / raw SQL", times["selector"], times["raw"]))
    return rows


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
        f"PM Value initiatives bench on PostgreSQL ({connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs, gunicorn {SERVER_WORKERS} workers, DEBUG off; "
        f"targets p95 ≤ {LATENCY_TARGET_MS} ms and ≤ {RATIO_TARGET:.0f}× raw SQL"
    )
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(f"\nBench ran in {seconds:.0f} s.")


if __name__ == "__main__":
    main()
