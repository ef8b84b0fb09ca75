"""Measurements POSTed concurrently over real HTTP: the live server answers every call
with 200, each day is stored once with a value one of the writers sent, and the
created/updated counts add up exactly (the metric row is locked during the upsert)."""

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Membership, Workspace
from accounts.services import api_token_create
from strategy.models import Measurement, Metric
from tests.strategy.factories import MetricFactory

START = date(2025, 1, 1)
TIMEOUT = 60  # seconds, per request and per thread join
CONNECT_RETRIES = 5  # a refused connection never reached the server: safe to send again


@dataclass
class Answer:
    status: int
    body: Any


def days(n: int, start: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def points_url(live_server: LiveServer, workspace: Workspace, metric: Metric) -> str:
    return f"{live_server.url}/api/v1/workspaces/{workspace.slug}/metrics/{metric.pk}/measurements/"


def post(url: str, key: str, points: list[dict[str, str]]) -> Answer:
    """POSTs the points; any HTTP status is returned (a 5xx too, never raised away)."""
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        url,
        data=json.dumps(points).encode(),
        method="POST",
        headers={
            "Authorization": f"Token {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    for attempt in range(CONNECT_RETRIES):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return Answer(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")[:2000]
            return Answer(exc.code, body)
        except urllib.error.URLError as exc:
            # Only a refused connection is retried: the request was never received, so
            # sending it again cannot count a batch twice.
            if isinstance(exc.reason, ConnectionRefusedError) and attempt + 1 < CONNECT_RETRIES:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def run_concurrently(
    batches: list[list[dict[str, str]]], url: str, key: str, *, posts_each: int = 1
) -> tuple[list[Answer], list[BaseException]]:
    """One thread per batch, released together by a barrier; each POSTs its batch
    `posts_each` times in a row."""
    answers: list[Answer] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(batches))

    def writer(points: list[dict[str, str]]) -> None:
        try:
            barrier.wait(TIMEOUT)
            for _ in range(posts_each):
                answer = post(url, key, points)
                with lock:
                    answers.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * (posts_each + 1))
    assert not any(t.is_alive() for t in threads), "a writer thread did not finish"
    return answers, errors


def value_of(thread: int) -> str:
    return str(thread + 1)


@pytest.fixture
def key(editor: Membership) -> str:
    _, token_key = api_token_create(membership=editor)
    return token_key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_overlapping_api_batches_leave_one_row_per_day(
    live_server: LiveServer, workspace: Workspace, key: str
) -> None:
    # given 20 clients whose batches of 60 days overlap (each starts 3 days after the last),
    # each sending values and a source that name it
    writers, per_batch = 20, 60
    metric = MetricFactory.create(workspace=workspace)
    batches = [
        [
            {"observed_on": d.isoformat(), "value": value_of(n), "source": f"t{n}", "note": ""}
            for d in days(per_batch, START + timedelta(days=3 * n))
        ]
        for n in range(writers)
    ]
    sent: dict[date, set[tuple[Decimal, str]]] = {}
    for batch in batches:
        for p in batch:
            day = date.fromisoformat(p["observed_on"])
            sent.setdefault(day, set()).add((Decimal(p["value"]), p["source"]))

    # when they all POST at once over HTTP
    answers, errors = run_concurrently(batches, points_url(live_server, workspace, metric), key)

    # then every call got a 200, none failed
    assert errors == []
    assert [(a.status, a.body) for a in answers if a.status != 200] == []
    assert len(answers) == writers
    # and each day is there once, with a value and a source that one writer sent together
    distinct_days = 3 * (writers - 1) + per_batch
    assert len(sent) == distinct_days == 117
    rows = list(
        Measurement.objects.filter(metric=metric).values_list("observed_on", "value", "source")
    )
    assert len(rows) == distinct_days
    assert {day for day, _, _ in rows} == set(sent)
    mixed = [(day, v, s) for day, v, s in rows if (v, s) not in sent[day]]
    assert mixed == []
    # and the counts add up: each day created once, every other write an update
    assert sum(a.body["created"] for a in answers) == distinct_days
    assert sum(a.body["created"] + a.body["updated"] for a in answers) == writers * per_batch


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_posted_twice_by_5_concurrent_clients_creates_each_day_once(
    live_server: LiveServer, workspace: Workspace, key: str
) -> None:
    # given one batch of 60 days
    metric = MetricFactory.create(workspace=workspace)
    batch = [
        {"observed_on": d.isoformat(), "value": str(i), "source": "api", "note": "same"}
        for i, d in enumerate(days(60, START))
    ]

    # when 5 clients POST it at once, twice each
    answers, errors = run_concurrently(
        [batch] * 5, points_url(live_server, workspace, metric), key, posts_each=2
    )

    # then all 10 calls got a 200, the 60 days were created once, and the rest updated
    assert errors == []
    assert [(a.status, a.body) for a in answers if a.status != 200] == []
    assert len(answers) == 10
    assert sum(a.body["created"] for a in answers) == 60
    assert sum(a.body["created"] + a.body["updated"] for a in answers) == 10 * 60
    rows = list(Measurement.objects.filter(metric=metric).values_list("observed_on", "value"))
    assert sorted(rows) == [(d, Decimal(i)) for i, d in enumerate(days(60, START))]
