"""Measurements through the API: reading a metric's days, writing one point or a batch
(idempotent, all or nothing), and the CSV import — every refusal in words, nothing written."""

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from strategy.models import Measurement, Metric
from tests.conftest import token_client
from tests.strategy.factories import MetricFactory, measure

BASE = "/api/v1/workspaces/acme/"
IMPORT = BASE + "measurements/import/"


def points_url(metric: Metric) -> str:
    return f"{BASE}metrics/{metric.pk}/measurements/"


def stored(metric: Metric) -> dict[str, str]:
    return {
        m.observed_on.isoformat(): f"{m.value.normalize():f}"
        for m in Measurement.objects.filter(metric=metric).order_by("observed_on")
    }


@pytest.fixture
def metric(workspace: Workspace) -> Metric:
    return MetricFactory.create(workspace=workspace, key="signups", aggregation="sum")


# --- reading ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestReadMeasurements:
    def test_a_metrics_days_in_order_paginated_and_limited_by_from_and_to(
        self, viewer: Membership, metric: Metric, workspace: Workspace
    ) -> None:
        measure(metric, {date(2026, 1, d): str(d * 10) for d in (5, 1, 3, 2, 4)})
        measure(MetricFactory.create(workspace=workspace), {date(2026, 1, 3): "999"})
        client = token_client(viewer)

        body = client.get(points_url(metric) + "?limit=2").json()
        assert body["count"] == 5
        assert [(m["observed_on"], m["value"]) for m in body["results"]] == [
            ("2026-01-01", "10.000000"),
            ("2026-01-02", "20.000000"),
        ]
        assert set(body["results"][0]) == {
            "id",
            "observed_on",
            "value",
            "source",
            "note",
            "created_at",
            "updated_at",
        }
        ranged = client.get(points_url(metric) + "?from=2026-01-02&to=2026-01-04").json()
        assert [m["observed_on"] for m in ranged["results"]] == [
            "2026-01-02",
            "2026-01-03",
            "2026-01-04",
        ]
        since = client.get(points_url(metric) + "?from=2026-01-04").json()
        assert [m["value"] for m in since["results"]] == ["40.000000", "50.000000"]

    @pytest.mark.parametrize(
        ("query", "errors"),
        [
            ("?from=2026-02-30", {"from": ["“2026-02-30” is not a date; write it as YYYY-MM-DD."]}),
            ("?to=soon", {"to": ["“soon” is not a date; write it as YYYY-MM-DD."]}),
            ("?from=1/2/2026", {"from": ["“1/2/2026” is not a date; write it as YYYY-MM-DD."]}),
            (
                "?from=2026-02-01&to=2026-01-01",
                {"from": ["from (2026-02-01) is after to (2026-01-01); the range would be empty."]},
            ),
        ],
    )
    def test_malformed_dates_answer_400_in_words(
        self, viewer: Membership, metric: Metric, query: str, errors: dict[str, list[str]]
    ) -> None:
        response = token_client(viewer).get(points_url(metric) + query)
        assert response.status_code == 400
        assert response.json() == errors

    def test_a_metric_of_another_workspace_or_unknown_is_404(
        self, viewer: Membership, other_workspace: Workspace
    ) -> None:
        foreign = MetricFactory.create(workspace=other_workspace)
        measure(foreign, {date(2026, 1, 1): "1"})
        client = token_client(viewer)
        for url in (points_url(foreign), f"{BASE}metrics/99999999/measurements/"):
            response = client.get(url)
            assert response.status_code == 404
            assert response.json() == {"detail": "No metric with this id in this workspace."}

    def test_the_list_costs_the_same_queries_for_3_or_300_days(
        self, viewer: Membership, metric: Metric, django_assert_max_num_queries: Any
    ) -> None:
        start = date(2025, 1, 1)
        measure(metric, {start + timedelta(days=i): "1" for i in range(3)})
        client = token_client(viewer)
        with CaptureQueriesContext(connection) as small:
            assert len(client.get(points_url(metric)).json()["results"]) == 3
        measure(metric, {start + timedelta(days=i): "1" for i in range(3, 300)})
        client = token_client(viewer)  # a fresh token: its first use is recorded again

        # token, its last_used_at, the metric, count, page
        with django_assert_max_num_queries(5), CaptureQueriesContext(connection) as large:
            body = client.get(points_url(metric) + "?limit=500").json()

        assert len(body["results"]) == 300
        assert len(small) == len(large) == 5


# --- writing ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestWriteMeasurements:
    def test_one_point_as_an_object(self, editor: Membership, metric: Metric) -> None:
        response = token_client(editor).post(
            points_url(metric),
            {"observed_on": "2026-01-01", "value": "12.5", "source": "stripe", "note": "first"},
        )
        assert response.status_code == 200
        assert response.json() == {"created": 1, "updated": 0}
        m = Measurement.objects.get(metric=metric)
        assert (m.observed_on, m.value, m.source, m.note) == (
            date(2026, 1, 1),
            Decimal("12.5"),
            "stripe",
            "first",
        )

    def test_re_posting_a_batch_replaces_the_days_and_adds_no_row(
        self, editor: Membership, metric: Metric
    ) -> None:
        client = token_client(editor)
        batch = [{"observed_on": f"2026-01-{d:02}", "value": d} for d in range(1, 31)]

        first = client.post(points_url(metric), batch)
        again = client.post(points_url(metric), batch)

        assert first.json() == {"created": 30, "updated": 0}
        assert again.status_code == 200
        assert again.json() == {"created": 0, "updated": 30}
        assert Measurement.objects.filter(metric=metric).count() == 30

        # a batch that overlaps: two days replaced, one new
        overlap = client.post(
            points_url(metric),
            [
                {"observed_on": "2026-01-30", "value": "300"},
                {"observed_on": "2026-01-31", "value": 31.25},
                {"observed_on": "2026-01-01", "value": "-1"},
            ],
        )
        assert overlap.json() == {"created": 1, "updated": 2}
        assert Measurement.objects.filter(metric=metric).count() == 31
        days = stored(metric)
        assert (days["2026-01-01"], days["2026-01-30"], days["2026-01-31"]) == (
            "-1",
            "300",
            "31.25",
        )

    def test_a_batch_of_10000_points_is_written(self, editor: Membership, metric: Metric) -> None:
        start = date(1990, 1, 1)
        batch = [
            {"observed_on": (start + timedelta(days=i)).isoformat(), "value": i}
            for i in range(10_000)
        ]
        response = token_client(editor).post(points_url(metric), batch)
        assert response.json() == {"created": 10_000, "updated": 0}
        assert Measurement.objects.filter(metric=metric).count() == 10_000

    @pytest.mark.parametrize(
        ("point", "message"),
        [
            (
                {"observed_on": "2999-01-01", "value": 1},
                "Item 0: observed_on 2999-01-01 is more than one day in the future.",
            ),
            (
                {"observed_on": "2026-01-01", "value": "NaN"},
                "Item 0: value must be a finite number, not NaN.",
            ),  # noqa: E501
            (
                {"observed_on": "2026-01-01", "value": "Infinity"},
                "Item 0: value must be a finite number, not Infinity.",
            ),  # noqa: E501
            ({"observed_on": "2026-01-01", "value": "abc"}, "Item 0: value “abc” is not a number."),
            ({"observed_on": "2026-01-01", "value": ""}, "Item 0: value is required (a number)."),
            ({"observed_on": "2026-01-01"}, "Item 0: value is required (a number)."),
            ({"observed_on": "2026-01-01", "value": True}, "Item 0: value must be a number."),
            ({"observed_on": "2026-01-01", "value": [1]}, "Item 0: value must be a number."),
            (
                {"observed_on": "2026-01-01", "value": "12345678901234"},
                "Item 0: value 12345678901234 is too large: at most 13 digits before the "
                "decimal point.",
            ),
            ({"value": 1}, "Item 0: observed_on is required (a date, YYYY-MM-DD)."),
            (
                {"observed_on": "2026-02-30", "value": 1},
                "Item 0: observed_on “2026-02-30” is not a date (use YYYY-MM-DD).",
            ),
            (
                {"observed_on": 20260101, "value": 1},
                "Item 0: observed_on must be a date written as YYYY-MM-DD.",
            ),
            (
                {"observed_on": "2026-01-01", "value": 1, "source": "s" * 101},
                "Item 0: source is longer than 100 characters.",
            ),
            (
                {"observed_on": "2026-01-01", "value": 1, "note": 5},
                "Item 0: note must be text.",
            ),
        ],
    )
    def test_a_bad_point_is_refused_in_words_and_nothing_is_written(
        self, editor: Membership, metric: Metric, point: dict[str, Any], message: str
    ) -> None:
        response = token_client(editor).post(points_url(metric), point)
        assert response.status_code == 400
        assert response.json() == {"points": [message]}
        assert not Measurement.objects.exists()

    def test_every_bad_point_of_a_batch_is_named_and_the_good_ones_are_not_written(
        self, editor: Membership, metric: Metric
    ) -> None:
        batch = [
            {"observed_on": "2026-01-01", "value": 1},
            {"observed_on": "2026-01-02", "value": "abc"},
            {"observed_on": "2026-01-01", "value": 2},
            "not an object",
            {"observed_on": "2026-01-04", "value": 4},
        ]
        response = token_client(editor).post(points_url(metric), batch)
        assert response.status_code == 400
        assert response.json() == {
            "points": [
                "Item 1: value “abc” is not a number.",
                "Item 2: 2026-01-01 already appears at item 0; send one value per day.",
                "Item 3: must be an object with observed_on and value.",
            ]
        }
        assert not Measurement.objects.exists()

    def test_10001_points_are_refused(self, editor: Membership, metric: Metric) -> None:
        start = date(1990, 1, 1)
        batch = [
            {"observed_on": (start + timedelta(days=i)).isoformat(), "value": 1}
            for i in range(10_001)
        ]
        response = token_client(editor).post(points_url(metric), batch)
        assert response.status_code == 400
        assert response.json() == {
            "points": ["At most 10,000 measurements a call; this one has 10,001."]
        }
        assert not Measurement.objects.exists()

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ("[]", {"points": ["Send at least one measurement."]}),
            (
                '"abc"',
                {
                    "detail": "Send one measurement as an object with observed_on and value, "
                    "or a list of such objects."
                },
            ),
            (
                "42",
                {
                    "detail": "Send one measurement as an object with observed_on and value, "
                    "or a list of such objects."
                },
            ),
            (
                "null",
                {
                    "detail": "Send one measurement as an object with observed_on and value, "
                    "or a list of such objects."
                },
            ),
            ('{"observed_on": "2026-01-01", "value": NaN}', None),
            ('[{"observed_on": "2026-01-01", "value": 1}', None),
        ],
        ids=["empty-list", "string", "number", "null", "bare-NaN", "broken-json"],
    )
    def test_a_body_that_is_not_points_is_refused_in_words(
        self, editor: Membership, metric: Metric, body: str, errors: dict[str, Any] | None
    ) -> None:
        response = token_client(editor).post(
            points_url(metric), body, content_type="application/json"
        )
        assert response.status_code == 400
        if errors is None:  # DRF's parser explains the JSON error
            assert response.json()["detail"].startswith("JSON parse error - ")
        else:
            assert response.json() == errors
        assert not Measurement.objects.exists()

    def test_a_form_body_is_415(self, editor: Membership, metric: Metric) -> None:
        response = token_client(editor).post(
            points_url(metric), {"observed_on": "2026-01-01", "value": "1"}, format="multipart"
        )
        assert response.status_code == 415
        assert not Measurement.objects.exists()

    def test_an_archived_metric_takes_no_measurements(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        archived = MetricFactory.create(workspace=workspace, key="old", archived_at=timezone.now())
        response = token_client(editor).post(
            points_url(archived), {"observed_on": "2026-01-01", "value": 1}
        )
        assert response.status_code == 400
        assert response.json() == {
            "points": ["This metric is archived; restore it to add measurements."]
        }
        assert not Measurement.objects.exists()

    def test_a_metric_of_another_workspace_is_404_and_keeps_its_data(
        self, editor: Membership, other_workspace: Workspace
    ) -> None:
        foreign = MetricFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            points_url(foreign), {"observed_on": "2026-01-01", "value": 1}
        )
        assert response.status_code == 404
        assert not Measurement.objects.exists()


@pytest.mark.django_db
class TestMeasurementRoles:
    @pytest.mark.parametrize("who", ["viewer", "read_only_token"])
    def test_viewers_and_read_only_tokens_read_but_get_403_on_writes(
        self, request: pytest.FixtureRequest, metric: Metric, who: str
    ) -> None:
        if who == "viewer":
            client = token_client(request.getfixturevalue("viewer"))
        else:
            client = token_client(request.getfixturevalue("admin"), read_only=True)
        point = {"observed_on": "2026-01-01", "value": 1}

        assert client.get(points_url(metric)).status_code == 200
        assert client.post(points_url(metric), point).status_code == 403
        csv_file = SimpleUploadedFile("m.csv", b"metric,observed_on,value\nsignups,2026-01-01,1\n")
        response = client.post(IMPORT, {"file": csv_file}, format="multipart")
        assert response.status_code == 403
        assert not Measurement.objects.exists()

    def test_outsiders_get_404_and_anonymous_401(
        self, outsider: Membership, metric: Metric
    ) -> None:
        point = {"observed_on": "2026-01-01", "value": 1}
        outsider_client = token_client(outsider)
        assert outsider_client.get(points_url(metric)).status_code == 404
        assert outsider_client.post(points_url(metric), point).status_code == 404
        assert outsider_client.post(IMPORT, b"x", content_type="text/csv").status_code == 404
        assert APIClient().get(points_url(metric)).status_code == 401
        assert APIClient().post(points_url(metric), point).status_code == 401
        assert APIClient().post(IMPORT, b"x", content_type="text/csv").status_code == 401
        assert not Measurement.objects.exists()


# --- CSV import ---------------------------------------------------------------------------


@pytest.fixture
def mrr(workspace: Workspace) -> Metric:
    return MetricFactory.create(workspace=workspace, key="mrr", aggregation="last")


GOOD_CSV = (
    "metric,observed_on,value,source\n"
    "signups,2026-01-01,10,web\n"
    "signups,2026-01-02,12,web\n"
    "mrr,2026-01-01,1000.50,stripe\n"
)


@pytest.mark.django_db
class TestCsvImport:
    def test_a_multipart_file_is_imported_and_re_importing_replaces_the_days(
        self, editor: Membership, metric: Metric, mrr: Metric
    ) -> None:
        client = token_client(editor)

        def upload() -> Any:
            csv_file = SimpleUploadedFile("m.csv", GOOD_CSV.encode(), content_type="text/csv")
            return client.post(IMPORT, {"file": csv_file}, format="multipart")

        first = upload()
        assert first.status_code == 200, first.json()
        assert first.json() == {"created": 3, "updated": 0}
        assert stored(metric) == {"2026-01-01": "10", "2026-01-02": "12"}
        assert stored(mrr) == {"2026-01-01": "1000.5"}

        again = upload()
        assert again.json() == {"created": 0, "updated": 3}
        assert Measurement.objects.count() == 3

    def test_a_raw_text_csv_body_is_imported(
        self, editor: Membership, metric: Metric, mrr: Metric
    ) -> None:
        response = token_client(editor).post(
            IMPORT, GOOD_CSV.encode("utf-8-sig"), content_type="text/csv"
        )
        assert response.status_code == 200
        assert response.json() == {"created": 3, "updated": 0}
        assert Measurement.objects.filter(metric=metric, source="web").count() == 2

    def test_every_bad_line_is_reported_and_nothing_is_written(
        self, editor: Membership, metric: Metric, mrr: Metric, other_workspace: Workspace
    ) -> None:
        MetricFactory.create(workspace=other_workspace, key="globex-secret")
        MetricFactory.create(workspace=metric.workspace, key="old", archived_at=timezone.now())
        content = (
            "metric,observed_on,value,source\n"
            "signups,2026-01-01,10,web\n"  # line 2: fine
            "signups,2026-01-02,abc,web\n"  # line 3
            "nope,2026-01-02,1,web\n"  # line 4
            "globex-secret,2026-01-02,1,web\n"  # line 5: another workspace's key
            "signups,2999-01-01,1,web\n"  # line 6
            "signups,2026-01-01,11,web\n"  # line 7: day again
            "old,2026-01-01,1,web\n"  # line 8
            "mrr,2026-01-01,1,web,extra\n"  # line 9
            "mrr,01/02/2026,1,web\n"  # line 10
        )
        response = token_client(editor).post(IMPORT, content.encode(), content_type="text/csv")
        assert response.status_code == 400
        assert response.json() == {
            "file": [
                "Line 3: value “abc” is not a number.",
                "Line 4: there is no metric with the key “nope” in this workspace.",
                "Line 5: there is no metric with the key “globex-secret” in this workspace.",
                "Line 6: observed_on 2999-01-01 is more than one day in the future.",
                "Line 7: signups on 2026-01-01 already appears on line 2.",
                "Line 8: the metric “old” is archived.",
                "Line 9: more values than the 4 columns.",
                "Line 10: observed_on “01/02/2026” is not a date (use YYYY-MM-DD).",
            ]
        }
        assert not Measurement.objects.exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (
                "metric,observed_on,value\nsignups,2026-01-01,café\n".encode("latin-1"),
                "The file is not UTF-8 text (line 2 has a character that is not). "
                "Save it as “CSV UTF-8” and try again.",
            ),
            (
                b"metric,date,value\nsignups,2026-01-01,1\n",
                "The first line must name the columns metric,observed_on,value,source "
                "(source is optional); found: metric,date,value.",
            ),
            (
                b"metric,observed_on,value,source,comment\nsignups,2026-01-01,1,web,x\n",
                "The first line must name the columns metric,observed_on,value,source "
                "(source is optional); found: metric,observed_on,value,source,comment.",
            ),
            (
                b"\n",
                "The first line must name the columns metric,observed_on,value,source "
                "(source is optional); found: nothing.",
            ),
            (b"metric,observed_on,value\n", "The file has a header but no rows."),
        ],
        ids=["latin-1", "wrong-column", "extra-column", "blank", "header-only"],
    )
    def test_a_file_that_is_not_our_csv_is_refused_in_words(
        self, editor: Membership, metric: Metric, content: bytes, message: str
    ) -> None:
        csv_file = SimpleUploadedFile("m.csv", content, content_type="text/csv")
        response = token_client(editor).post(IMPORT, {"file": csv_file}, format="multipart")
        assert response.status_code == 400
        assert response.json() == {"file": [message]}
        assert not Measurement.objects.exists()

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"", "text/csv"),
            (json.dumps({"file": "metric,observed_on,value"}), "application/json"),
        ],
        ids=["empty-body", "json"],
    )
    def test_no_file_is_refused_in_words(
        self, editor: Membership, body: Any, content_type: str
    ) -> None:
        response = token_client(editor).post(IMPORT, body, content_type=content_type)
        if content_type == "application/json":
            assert response.status_code == 415
            assert response.json() == {
                "detail": 'Unsupported media type "application/json" in request.'
            }
        else:
            assert response.status_code == 400
            assert response.json() == {
                "file": [
                    "No CSV file: send it as the multipart field “file”, or as the request "
                    "body with Content-Type: text/csv."
                ]
            }
        assert not Measurement.objects.exists()

    def test_a_multipart_form_without_the_file_field_is_refused(self, editor: Membership) -> None:
        response = token_client(editor).post(IMPORT, {"data": "x"}, format="multipart")
        assert response.status_code == 400
        assert list(response.json()) == ["file"]
