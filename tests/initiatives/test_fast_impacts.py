"""impacts_for through prepared SQL (pm_value.prepared_reads): on PostgreSQL its query is
written once and run again with each call's ids and day; every impact, metric and figure
must be the one the ORM gives on the same data, whatever the release, the window, the
aggregation, the direction and the day. Elsewhere the ORM runs (checked at the end)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Workspace
from initiatives import selectors
from initiatives.models import ExpectedImpact, Initiative
from initiatives.selectors import (
    ImpactFigures,
    figures_of,
    impacts_for,
    with_release_aggregates,
)
from pm_value import prepared_reads
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, measure

D = Decimal
FIRST_DAY = date(2026, 1, 1)  # measurements on 60 days from here, with gaps
LAST_DAY = FIRST_DAY + timedelta(days=59)
# Released on 01-10 (W 5), 01-20 (W 30), on RELEASE_DAY (W 7), after the last measurement,
# before the first, in 2027, and never: measured, measuring, released today, missing
# windows on either side and not released, depending on the day.
RELEASE_DAY = date(2026, 2, 1)
RELEASES: list[tuple[date | None, int]] = [
    (date(2026, 1, 10), 5),
    (date(2026, 1, 20), 30),
    (RELEASE_DAY, 7),
    (LAST_DAY + timedelta(days=3), 10),
    (date(2025, 12, 1), 10),
    (date(2027, 3, 1), 14),
    (None, 30),
]
TODAYS = [
    date(2025, 11, 1),  # before every release
    date(2026, 1, 13),  # the first measuring
    RELEASE_DAY,  # one released today
    date(2026, 2, 15),
    date(2027, 6, 1),  # all measured that are released
]
AGGREGATIONS = ("sum", "mean", "last")
DIRECTIONS = ("increase", "decrease")
IMPACT_FIELDS = [f.attname for f in ExpectedImpact._meta.concrete_fields]
ANNOTATIONS = (
    "r_on",
    "w_end",
    "w_start",
    "before_value",
    "after_value",
    "before_count",
    "after_count",
)


def the_data(workspace: Workspace) -> list[Initiative]:
    """Six metrics (every aggregation in both directions, one without money), measured on
    most of 60 days; an initiative per release, each expecting an impact on every metric
    (impacts created in turn across initiatives, so ids interleave); one without impacts."""
    metrics = []
    for n, (aggregation, direction) in enumerate((a, d) for a in AGGREGATIONS for d in DIRECTIONS):
        metric = MetricFactory.create(
            workspace=workspace,
            aggregation=aggregation,
            direction=direction,
            value_per_unit=None if n == 3 else D("2.5") + n,
        )
        measure(
            metric,
            {
                FIRST_DAY + timedelta(days=i): f"{(i * 7 + n * 13) % 50 + i * 0.75 + 1:.2f}"
                for i in range(60)
                if i % 4 != 2  # a missing day now and then
            },
        )
        metrics.append(metric)
    initiatives = [
        InitiativeFactory.create(
            workspace=workspace, released_on=released_on, measurement_window_days=window
        )
        for released_on, window in RELEASES
    ]
    for n, metric in enumerate(metrics):
        for k, initiative in enumerate(initiatives):
            ExpectedImpactFactory.create(
                initiative=initiative,
                metric=metric,
                expected_change=D("0") if (n + k) % 7 == 0 else D(10 + n * 3 + k),
                attribution=30 + 10 * ((n + k) % 7),
                confidence=40 + 5 * k,
            )
    initiatives.append(InitiativeFactory.create(workspace=workspace, released_on=RELEASE_DAY))
    # Read back as a caller holds them, not as the factories left them.
    return list(Initiative.objects.filter(pk__in=[i.pk for i in initiatives]).order_by("pk"))


def orm_impacts(
    initiatives: list[Initiative], today: date
) -> dict[int, list[tuple[ExpectedImpact, ImpactFigures]]]:
    """What impacts_for gave before prepared reads: the ORM's query with `IN`, then
    figures_of on each row."""
    by_id = {i.pk: i for i in initiatives}
    result: dict[int, list[tuple[ExpectedImpact, ImpactFigures]]] = {pk: [] for pk in by_id}
    rows = with_release_aggregates(
        ExpectedImpact.objects.filter(initiative_id__in=list(by_id)).select_related("metric"),
        today=today,
    ).order_by("initiative_id", "id")
    for row in rows:
        result[row.initiative_id].append(
            (row, figures_of(row, initiative=by_id[row.initiative_id], today=today))
        )
    return result


def loaded(obj: Any) -> dict[str, Any]:
    """What an instance holds: its values, and where it came from (not its identity)."""
    state = obj.__dict__["_state"]
    values = {
        k: v for k, v in obj.__dict__.items() if k != "_state" and not k.startswith("_prefetched")
    }
    return values | {"_state": (state.db, state.adding)}


def exactly(figures: ImpactFigures) -> list[tuple[str, str]]:
    """Each figure with its type and digits: Decimal("8.8") is not Decimal("8.80") here."""
    return [(type(v).__name__, repr(v)) for v in figures.__dict__.values()]


def same_impacts(
    ours: dict[int, list[tuple[ExpectedImpact, ImpactFigures]]],
    orm: dict[int, list[tuple[ExpectedImpact, ImpactFigures]]],
    initiatives: list[Initiative],
) -> None:
    assert list(ours) == list(orm)
    for initiative in initiatives:
        got, expected = ours[initiative.pk], orm[initiative.pk]
        assert [i.pk for i, _ in got] == [i.pk for i, _ in expected]
        for (a, fa), (b, fb) in zip(got, expected, strict=True):
            assert [a.__dict__[f] for f in IMPACT_FIELDS] == [b.__dict__[f] for f in IMPACT_FIELDS]
            assert [getattr(a, n) for n in ANNOTATIONS] == [getattr(b, n) for n in ANNOTATIONS]
            assert loaded(a.metric) == loaded(b.metric)
            assert a.initiative is initiative  # the caller's instance, no query
            assert fa == fb
            assert exactly(fa) == exactly(fb)


def impacts_shapes() -> list[Any]:
    """The shapes kept for impacts_for's query (None: left to the ORM)."""
    return [
        prepared
        for key, prepared in prepared_reads.shapes.items()
        if isinstance(key, tuple) and key[0] is selectors._impacts_query
    ]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("today", TODAYS)
def test_the_prepared_impacts_are_the_orm_ones(
    workspace: Workspace, other_workspace: Workspace, today: date
) -> None:
    initiatives = the_data(workspace)
    the_data(other_workspace)  # never in the answers

    orm = orm_impacts(initiatives, today)
    ours = impacts_for(initiatives=initiatives, today=today)
    again = impacts_for(initiatives=initiatives, today=today)

    same_impacts(ours, orm, initiatives)
    same_impacts(again, orm, initiatives)
    assert sum(len(rows) for rows in ours.values()) == 6 * len(RELEASES)
    assert ours[initiatives[-1].pk] == []
    assert [p is not None for p in impacts_shapes()] == [True], "the prepared path ran"


@pytest.mark.postgres
@pytest.mark.django_db
def test_one_shape_answers_any_number_of_initiatives_on_any_day(workspace: Workspace) -> None:
    initiatives = the_data(workspace)
    for today in TODAYS:
        for some in (initiatives[:1], initiatives[2:3], initiatives[1:5], initiatives[::-1]):
            same_impacts(impacts_for(initiatives=some, today=today), orm_impacts(some, today), some)
    assert len(impacts_shapes()) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_data_holds_every_case(workspace: Workspace) -> None:
    """The comparisons above mean something: every status, aggregation and direction has
    figures, and each missing window gives no data."""
    initiatives = the_data(workspace)
    seen: set[tuple[str, str, str]] = set()
    for today in TODAYS:
        for rows in impacts_for(initiatives=initiatives, today=today).values():
            for impact, figures in rows:
                seen.add((figures.status, impact.metric.aggregation, impact.metric.direction))
    for aggregation in AGGREGATIONS:
        for direction in DIRECTIONS:
            for status in ("not_started", "measuring", "measured", "no_data"):
                assert (status, aggregation, direction) in seen
    released_today = impacts_for(initiatives=[initiatives[2]], today=RELEASE_DAY)
    assert {(f.status, f.realized_change) for _, f in released_today[initiatives[2].pk]} == {
        ("measuring", None)
    }
    after_the_data = impacts_for(initiatives=[initiatives[3]], today=date(2027, 6, 1))
    before_the_data = impacts_for(initiatives=[initiatives[4]], today=date(2027, 6, 1))
    for result in (after_the_data, before_the_data):
        assert {f.status for rows in result.values() for _, f in rows} <= {"no_data"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_once_prepared_the_orm_no_longer_writes_the_query(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiatives = the_data(workspace)
    today = date(2026, 2, 15)
    orm = orm_impacts(initiatives, today)
    impacts_for(initiatives=initiatives[:1], today=today)  # prepares the shape

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the ORM wrote the query again")

    monkeypatch.setattr(selectors, "with_release_aggregates", refused)
    with CaptureQueriesContext(connection) as queries:
        ours = impacts_for(initiatives=initiatives, today=today)
        names = [impact.metric.name for rows in ours.values() for impact, _ in rows]

    same_impacts(ours, orm, initiatives)
    assert len(names) == 6 * len(RELEASES)
    assert len(queries) == 1
    assert "= ANY(" in queries[0]["sql"]


@pytest.mark.django_db
def test_every_database_gives_the_figures_of_the_orm(workspace: Workspace) -> None:
    """Both databases give the ORM's figures; only PostgreSQL keeps the shape of the query
    (SQLite lets the ORM write it each time, with `IN`)."""
    initiatives = the_data(workspace)
    for today in TODAYS:
        same_impacts(
            impacts_for(initiatives=initiatives, today=today),
            orm_impacts(initiatives, today),
            initiatives,
        )
    assert len(impacts_shapes()) == (1 if connection.vendor == "postgresql" else 0)
