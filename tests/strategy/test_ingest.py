"""Measurement ingestion and CSV import: all or nothing, idempotent, errors in words."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import Workspace
from strategy.models import Measurement, Metric
from strategy.services import (
    IngestResult,
    measurements_import_csv,
    measurements_ingest,
    metric_archive,
    workspace_today,
)
from tests.strategy.factories import MetricFactory, measure


@pytest.fixture
def metric(workspace: Workspace) -> Metric:
    return MetricFactory.create(workspace=workspace, key="signups")


def days(n: int, start: date = date(2026, 1, 1)) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def errors_of(exc: pytest.ExceptionInfo[ValidationError], key: str) -> list[str]:
    return list(exc.value.message_dict[key])


@pytest.mark.django_db
class TestIngest:
    def test_creates_then_replaces_and_reports_which(self, metric: Metric) -> None:
        measure(metric, {date(2026, 1, 2): "5"})
        points = [{"observed_on": d.isoformat(), "value": "7.5", "source": "api"} for d in days(3)]
        assert measurements_ingest(metric=metric, points=points) == {"created": 2, "updated": 1}
        assert list(
            Measurement.objects.filter(metric=metric).values_list("observed_on", "value")
        ) == [(d, Decimal("7.5")) for d in days(3)]

    def test_re_posting_the_same_batch_changes_nothing_and_reports_updates(
        self, metric: Metric
    ) -> None:
        points = [{"observed_on": d.isoformat(), "value": i} for i, d in enumerate(days(50))]
        assert measurements_ingest(metric=metric, points=points) == {"created": 50, "updated": 0}
        before = list(Measurement.objects.filter(metric=metric).values_list("pk", "value"))
        assert measurements_ingest(metric=metric, points=points) == {"created": 0, "updated": 50}
        after = list(Measurement.objects.filter(metric=metric).values_list("pk", "value"))
        assert after == before

    def test_one_bad_point_writes_nothing_and_every_bad_point_is_named(
        self, metric: Metric
    ) -> None:
        tomorrow = workspace_today(metric.workspace) + timedelta(days=1)
        points: list[object] = [
            {"observed_on": "2026-01-01", "value": "1"},
            {"observed_on": "2026-01-02", "value": "abc"},
            {"observed_on": (tomorrow + timedelta(days=1)).isoformat(), "value": 1},
            {"observed_on": tomorrow.isoformat(), "value": 1},  # tomorrow is allowed
            {"observed_on": "2026-01-01", "value": 2},
            {"observed_on": "01/02/2026", "value": 1},
            {"observed_on": "2026-01-05", "value": "NaN"},
            {"observed_on": "2026-01-06", "value": "Infinity"},
            {"observed_on": "2026-01-07", "value": True},
            {"observed_on": "2026-01-08"},
            {"value": 1},
            {"observed_on": "2026-01-09", "value": 1, "source": "x" * 101},
            "not an object",
        ]
        with pytest.raises(ValidationError) as exc:
            measurements_ingest(metric=metric, points=points)  # type: ignore[arg-type]
        assert errors_of(exc, "points") == [
            "Item 1: value “abc” is not a number.",
            f"Item 2: observed_on {(tomorrow + timedelta(days=1)).isoformat()} is more than one "
            "day in the future.",
            "Item 4: 2026-01-01 already appears at item 0; send one value per day.",
            "Item 5: observed_on “01/02/2026” is not a date (use YYYY-MM-DD).",
            "Item 6: value must be a finite number, not NaN.",
            "Item 7: value must be a finite number, not Infinity.",
            "Item 8: value must be a number.",
            "Item 9: value is required (a number).",
            "Item 10: observed_on is required (a date, YYYY-MM-DD).",
            "Item 11: source is longer than 100 characters.",
            "Item 12: must be an object with observed_on and value.",
        ]
        assert not Measurement.objects.exists()

    def test_at_most_10000_points_a_call(self, metric: Metric) -> None:
        points = [
            {"observed_on": d.isoformat(), "value": 1} for d in days(10_001, date(1990, 1, 1))
        ]
        with pytest.raises(ValidationError) as exc:
            measurements_ingest(metric=metric, points=points)
        assert errors_of(exc, "points") == [
            "At most 10,000 measurements a call; this one has 10,001."
        ]
        assert not Measurement.objects.exists()

    def test_10000_points_in_one_call(self, metric: Metric) -> None:
        points = [
            {"observed_on": d.isoformat(), "value": 1} for d in days(10_000, date(1990, 1, 1))
        ]
        assert measurements_ingest(metric=metric, points=points) == {
            "created": 10_000,
            "updated": 0,
        }
        assert Measurement.objects.filter(metric=metric).count() == 10_000

    def test_an_archived_metric_takes_no_measurements(self, metric: Metric) -> None:
        metric_archive(metric=metric)
        with pytest.raises(ValidationError) as exc:
            measurements_ingest(metric=metric, points=[{"observed_on": "2026-01-01", "value": 1}])
        assert errors_of(exc, "points") == [
            "This metric is archived; restore it to add measurements."
        ]
        assert not Measurement.objects.exists()

    def test_an_empty_call_is_refused(self, metric: Metric) -> None:
        with pytest.raises(ValidationError) as exc:
            measurements_ingest(metric=metric, points=[])
        assert errors_of(exc, "points") == ["Send at least one measurement."]

    def test_values_keep_six_decimal_places(self, metric: Metric) -> None:
        measurements_ingest(
            metric=metric,
            points=[
                {"observed_on": "2026-01-01", "value": "1234567.1234565"},
                {"observed_on": "2026-01-02", "value": 0.1},
                {"observed_on": "2026-01-03", "value": "-1234.000001"},
            ],
        )
        assert list(Measurement.objects.values_list("value", flat=True)) == [
            Decimal("1234567.123456"),
            Decimal("0.1"),
            Decimal("-1234.000001"),
        ]

    @pytest.mark.postgres
    def test_the_largest_values_are_exact_on_postgresql(self, metric: Metric) -> None:
        # (SQLite, the embedded default, keeps decimals as floats: about 15 digits.)
        measurements_ingest(
            metric=metric, points=[{"observed_on": "2026-01-01", "value": "-9999999999999.999999"}]
        )
        assert Measurement.objects.get().value == Decimal("-9999999999999.999999")

    def test_a_value_too_large_to_store_is_refused(self, metric: Metric) -> None:
        with pytest.raises(ValidationError) as exc:
            measurements_ingest(
                metric=metric, points=[{"observed_on": "2026-01-01", "value": "1e14"}]
            )
        assert errors_of(exc, "points") == [
            "Item 0: value 1e14 is too large: at most 13 digits before the decimal point."
        ]


CSV_OK = (
    b"metric,observed_on,value,source\n"
    b"signups,2026-01-01,10,segment\n"
    b"mrr,2026-01-01,1000.50,stripe\n"
    b"signups,2026-01-02,12,segment\n"
)


@pytest.mark.django_db
class TestCsvImport:
    @pytest.fixture
    def mrr(self, workspace: Workspace) -> Metric:
        return MetricFactory.create(workspace=workspace, key="mrr", aggregation="last")

    def test_imports_every_row_of_a_good_file(
        self, workspace: Workspace, metric: Metric, mrr: Metric
    ) -> None:
        assert measurements_import_csv(workspace=workspace, content=CSV_OK) == {
            "created": 3,
            "updated": 0,
        }
        assert Measurement.objects.get(metric=mrr).value == Decimal("1000.5")
        assert Measurement.objects.filter(metric=metric).count() == 2
        # the same file again replaces, creates nothing
        assert measurements_import_csv(workspace=workspace, content=CSV_OK) == {
            "created": 0,
            "updated": 3,
        }

    def test_a_byte_order_mark_and_windows_line_ends_are_fine(
        self, workspace: Workspace, metric: Metric, mrr: Metric
    ) -> None:
        content = b"\xef\xbb\xbf" + CSV_OK.replace(b"\n", b"\r\n")
        assert measurements_import_csv(workspace=workspace, content=content)["created"] == 3

    def test_a_file_with_bad_rows_writes_nothing_and_lists_every_bad_line(
        self, workspace: Workspace, other_workspace: Workspace, metric: Metric, mrr: Metric
    ) -> None:
        MetricFactory.create(workspace=other_workspace, key="globex-metric")
        archived = MetricFactory.create(workspace=workspace, key="old")
        metric_archive(metric=archived)
        content = (
            b"metric,observed_on,value,source\n"
            b"signups,2026-01-01,10,segment\n"
            b"unknown,2026-01-01,1,\n"
            b"globex-metric,2026-01-01,1,\n"
            b"signups,2026-13-01,1,\n"
            b"signups,2026-01-03,ten,\n"
            b"signups,2026-01-01,11,\n"
            b"old,2026-01-01,1,\n"
            b"mrr,2026-01-02,5,stripe,extra\n"
            b"mrr,2026-01-03,,\n"
        )
        with pytest.raises(ValidationError) as exc:
            measurements_import_csv(workspace=workspace, content=content)
        assert errors_of(exc, "file") == [
            "Line 3: there is no metric with the key “unknown” in this workspace.",
            "Line 4: there is no metric with the key “globex-metric” in this workspace.",
            "Line 5: observed_on “2026-13-01” is not a date (use YYYY-MM-DD).",
            "Line 6: value “ten” is not a number.",
            "Line 7: signups on 2026-01-01 already appears on line 2.",
            "Line 8: the metric “old” is archived.",
            "Line 9: more values than the 4 columns.",
            "Line 10: value is required (a number).",
        ]
        assert not Measurement.objects.exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (
                b"metric,observed_on,valeur\nsignups,2026-01-01,1\n",
                "The first line must name the columns metric,observed_on,value,source (source is "
                "optional); found: metric,observed_on,valeur.",
            ),
            (
                b"",
                "The first line must name the columns metric,observed_on,value,source (source "
                "is optional); found: nothing.",
            ),
            (b"metric,observed_on,value\n", "The file has a header but no rows."),
            (
                "metric,observed_on,value,source\nsignups,2026-01-01,1,Zürich\n".encode("latin-1"),
                "The file is not UTF-8 text (line 2 has a character that is not). Save it as "
                "“CSV UTF-8” and try again.",
            ),
        ],
    )
    def test_a_file_of_the_wrong_shape_is_refused_in_words(
        self, workspace: Workspace, metric: Metric, content: bytes, message: str
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            measurements_import_csv(workspace=workspace, content=content)
        assert errors_of(exc, "file") == [message]
        assert not Measurement.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_overlapping_batches_leave_one_row_per_day(workspace: Workspace) -> None:
    # given 20 writers whose batches of 60 days overlap (each starts 3 days after the last)
    metric = MetricFactory.create(workspace=workspace)
    errors: list[BaseException] = []
    results: list[IngestResult] = []
    barrier = threading.Barrier(20)

    def writer(n: int) -> None:
        try:
            points = [
                {"observed_on": d.isoformat(), "value": n}
                for d in days(60, date(2025, 1, 1) + timedelta(days=3 * n))
            ]
            barrier.wait()
            results.append(measurements_ingest(metric=metric, points=points))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    # then every call succeeded, each day is there once, and the counts add up
    assert errors == []
    distinct_days = 3 * 19 + 60
    assert Measurement.objects.filter(metric=metric).count() == distinct_days
    assert sum(r["created"] for r in results) == distinct_days
    assert sum(r["created"] + r["updated"] for r in results) == 20 * 60
