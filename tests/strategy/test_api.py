"""The strategy API: objectives, key results with their figures, and metrics — what an
integration sees (values, messages, rows not written), who may do what, and query budgets."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from strategy.models import KeyResult, Metric, Objective
from tests.conftest import token_client
from tests.strategy.factories import (
    KeyResultFactory,
    MetricFactory,
    ObjectiveFactory,
    measure,
)

BASE = "/api/v1/workspaces/acme/"
OBJECTIVES = BASE + "objectives/"
KEY_RESULTS = BASE + "key-results/"
METRICS = BASE + "metrics/"


def without_timestamps(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body.pop("created_at"), str)
    assert isinstance(body.pop("updated_at"), str)
    return body


def queries_for(client: APIClient, url: str) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(captured), response.json()


# --- objectives -----------------------------------------------------------------------------


@pytest.mark.django_db
class TestObjectives:
    def test_an_editor_creates_reads_updates_and_deletes_an_objective(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        client = token_client(editor)
        parent = ObjectiveFactory.create(workspace=workspace, title="Company")

        # when an editor creates a sub-objective
        response = client.post(
            OBJECTIVES,
            {
                "title": "  Grow self-serve revenue  ",
                "description": "Through the website.",
                "parent": parent.pk,
                "owner": editor.user.pk,
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "status": "active",
            },
        )

        # then it answers with the stored objective
        assert response.status_code == 201, response.json()
        created = without_timestamps(response.json())
        objective_id = created["id"]
        assert created == {
            "id": objective_id,
            "title": "Grow self-serve revenue",
            "description": "Through the website.",
            "parent": parent.pk,
            "owner": editor.user.pk,
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "status": "active",
        }
        assert Objective.objects.get(pk=objective_id).parent == parent

        # and reads it back the same
        read = client.get(f"{OBJECTIVES}{objective_id}/").json()
        assert without_timestamps(read) == created

        # when it is replaced (PUT) and patched
        put = client.put(
            f"{OBJECTIVES}{objective_id}/",
            {
                "title": "Grow revenue",
                "description": "",
                "parent": None,
                "owner": None,
                "period_start": "2026-02-01",
                "period_end": "2026-12-31",
                "status": "draft",
            },
        )
        assert put.status_code == 200, put.json()
        patch = client.patch(f"{OBJECTIVES}{objective_id}/", {"status": "achieved"})
        assert patch.status_code == 200
        assert without_timestamps(patch.json()) == {
            "id": objective_id,
            "title": "Grow revenue",
            "description": "",
            "parent": None,
            "owner": None,
            "period_start": "2026-02-01",
            "period_end": "2026-12-31",
            "status": "achieved",
        }

        # when it is deleted, it is gone
        assert client.delete(f"{OBJECTIVES}{objective_id}/").status_code == 204
        assert not Objective.objects.filter(pk=objective_id).exists()

    def test_only_required_fields_give_a_draft_without_parent_or_owner(
        self, editor: Membership
    ) -> None:
        response = token_client(editor).post(
            OBJECTIVES,
            {"title": "Retain", "period_start": "2026-01-01", "period_end": "2026-01-01"},
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["status"], body["parent"], body["owner"], body["description"]) == (
            "draft",
            None,
            None,
            "",
        )

    def test_an_objective_with_sub_objectives_is_not_deleted(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        parent = ObjectiveFactory.create(workspace=workspace)
        ObjectiveFactory.create(workspace=workspace, parent=parent)
        response = token_client(editor).delete(f"{OBJECTIVES}{parent.pk}/")
        assert response.status_code == 400
        assert response.json() == {
            "detail": "This objective has sub-objectives: move or delete them first, or archive it."
        }
        assert Objective.objects.filter(pk=parent.pk).exists()

    @pytest.mark.parametrize("move", ["under_itself", "under_its_grandchild"])
    def test_a_parent_cycle_is_refused_in_words(
        self, editor: Membership, workspace: Workspace, move: str
    ) -> None:
        # given A → B → C
        a = ObjectiveFactory.create(workspace=workspace, title="A")
        b = ObjectiveFactory.create(workspace=workspace, title="B", parent=a)
        c = ObjectiveFactory.create(workspace=workspace, title="C", parent=b)
        new_parent = a if move == "under_itself" else c

        # when A is moved under itself or under C
        response = token_client(editor).patch(f"{OBJECTIVES}{a.pk}/", {"parent": new_parent.pk})

        # then nothing moves
        assert response.status_code == 400
        assert response.json() == {
            "parent": ["An objective cannot sit under itself or one of its own sub-objectives."]
        }
        a.refresh_from_db()
        assert a.parent_id is None

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"title": ""}, {"title": ["This field may not be blank."]}),
            ({"title": "   "}, {"title": ["This field may not be blank."]}),
            ({"title": None}, {"title": ["This field may not be null."]}),
            ({"title": ["x"]}, {"title": ["Not a valid string."]}),
            (
                {"title": "x" * 201},
                {"title": ["Ensure this field has no more than 200 characters."]},
            ),
            ({"description": {"a": 1}}, {"description": ["Not a valid string."]}),
            (
                {"period_start": "2026-02-30"},
                {
                    "period_start": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),
            (
                {"period_end": ""},
                {
                    "period_end": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),  # noqa: E501
            (
                {"period_start": "2026-07-01", "period_end": "2026-06-30"},
                {"period_end": ["The period must not end before it starts."]},
            ),
            ({"status": "done"}, {"status": ['"done" is not a valid choice.']}),
            ({"status": 3}, {"status": ['"3" is not a valid choice.']}),
            (
                {"parent": 99_999_999},
                {"parent": ['Invalid pk "99999999" - object does not exist.']},
            ),
            (
                {"parent": "abc"},
                {"parent": ["Incorrect type. Expected pk value, received str."]},
            ),
            ({"owner": 99_999_999}, {"owner": ['Invalid pk "99999999" - object does not exist.']}),
        ],
    )
    def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
        self, editor: Membership, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        valid = {"title": "Grow", "period_start": "2026-01-01", "period_end": "2026-12-31"}
        response = token_client(editor).post(OBJECTIVES, {**valid, **body})
        assert response.status_code == 400
        assert response.json() == errors
        assert not Objective.objects.exists()

    def test_a_missing_title_and_period_are_named(self, editor: Membership) -> None:
        response = token_client(editor).post(OBJECTIVES, {})
        assert response.status_code == 400
        assert response.json() == {
            "title": ["This field is required."],
            "period_start": ["This field is required."],
            "period_end": ["This field is required."],
        }

    def test_a_parent_or_owner_of_another_workspace_does_not_exist(
        self, editor: Membership, outsider: Membership, other_workspace: Workspace
    ) -> None:
        foreign = ObjectiveFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            OBJECTIVES,
            {
                "title": "Grow",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "parent": foreign.pk,
                "owner": outsider.user.pk,
            },
        )
        assert response.status_code == 400
        assert response.json() == {
            "parent": [f'Invalid pk "{foreign.pk}" - object does not exist.'],
            "owner": [f'Invalid pk "{outsider.user.pk}" - object does not exist.'],
        }
        assert Objective.objects.count() == 1  # only the foreign one

    def test_a_patch_that_ends_before_the_stored_start_is_refused(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace, period_start=date(2026, 3, 1))
        response = token_client(editor).patch(
            f"{OBJECTIVES}{objective.pk}/", {"period_end": "2026-02-28"}
        )
        assert response.status_code == 400
        assert response.json() == {"period_end": ["The period must not end before it starts."]}
        objective.refresh_from_db()
        assert objective.period_end == date(2026, 12, 31)

    def test_filters_search_and_ordering(self, viewer: Membership, workspace: Workspace) -> None:
        company = ObjectiveFactory.create(
            workspace=workspace, title="Company", status="active", period_start=date(2026, 1, 1)
        )
        ObjectiveFactory.create(
            workspace=workspace,
            title="Retention",
            parent=company,
            status="draft",
            description="Churn below 2%",
            period_start=date(2026, 3, 1),
        )
        ObjectiveFactory.create(
            workspace=workspace,
            title="Acquisition",
            parent=company,
            status="active",
            period_start=date(2026, 2, 1),
        )
        client = token_client(viewer)

        def titles(query: str) -> list[str]:
            response = client.get(OBJECTIVES + query)
            assert response.status_code == 200, response.json()
            return [o["title"] for o in response.json()["results"]]

        assert titles("") == ["Company", "Acquisition", "Retention"]  # by period_start
        assert titles("?status=active") == ["Company", "Acquisition"]
        assert titles(f"?parent={company.pk}") == ["Acquisition", "Retention"]
        assert titles("?q=churn") == ["Retention"]
        assert titles("?ordering=title") == ["Acquisition", "Company", "Retention"]
        assert titles("?ordering=-period_start") == ["Retention", "Acquisition", "Company"]

    @pytest.mark.parametrize(
        ("query", "errors"),
        [
            (
                "?status=done",
                {"status": ["Select a valid choice. done is not one of the available choices."]},
            ),
            ("?parent=abc", {"parent": ["Enter a whole number."]}),
            (
                "?parent=99999999999999999999",
                {"parent": ["Ensure this value is less than or equal to 9223372036854775807."]},
            ),
        ],
    )
    def test_bad_filters_answer_400_in_words(
        self, viewer: Membership, query: str, errors: dict[str, list[str]]
    ) -> None:
        response = token_client(viewer).get(OBJECTIVES + query)
        assert response.status_code == 400
        assert response.json() == errors


# --- key results --------------------------------------------------------------------------


@pytest.fixture
def signups(workspace: Workspace) -> Metric:
    """A sum metric measured around a key result's window 2026-01-01 … 2026-04-11 (100 days)."""
    metric = MetricFactory.create(workspace=workspace, key="signups", aggregation="sum")
    measure(
        metric,
        {
            date(2025, 12, 31): "1000",  # before the window: never counted
            date(2026, 1, 5): "10",
            date(2026, 1, 20): "20",
            date(2026, 2, 10): "30",
            date(2026, 2, 25): "40",  # after ?as_of=2026-02-20
        },
    )
    return metric


@pytest.mark.django_db
class TestKeyResultFigures:
    @pytest.mark.parametrize(
        ("as_of", "figures"),
        [
            # 50 of 100 days passed; 10 + 20 + 30 = 60 of 100
            (
                "2026-02-20",
                {
                    "current": "60.000000",
                    "progress": "0.6000",
                    "expected_progress": "0.5000",
                    "pace": "on_track",
                    "window_start": "2026-01-01",
                    "window_end": "2026-02-20",
                },
            ),
            # 80 of 100 days; the 40 of 2026-02-25 now counts: 100 of 100
            (
                "2026-03-22",
                {
                    "current": "100.000000",
                    "progress": "1.0000",
                    "expected_progress": "0.8000",
                    "pace": "achieved",
                    "window_start": "2026-01-01",
                    "window_end": "2026-03-22",
                },
            ),
            # 10 of 100 days; only the 10 of 2026-01-05
            (
                "2026-01-11",
                {
                    "current": "10.000000",
                    "progress": "0.1000",
                    "expected_progress": "0.1000",
                    "pace": "on_track",
                    "window_start": "2026-01-01",
                    "window_end": "2026-01-11",
                },
            ),
            # 30 of 100 days: 30 of 100 reached, 0.1 short of 0.3 but above 0.7 × 0.3
            (
                "2026-01-31",
                {
                    "current": "30.000000",
                    "progress": "0.3000",
                    "expected_progress": "0.3000",
                    "pace": "on_track",
                    "window_start": "2026-01-01",
                    "window_end": "2026-01-31",
                },
            ),
            # before the start: an empty window, no figures but the expected 0
            (
                "2025-12-31",
                {
                    "current": None,
                    "progress": None,
                    "expected_progress": "0.0000",
                    "pace": None,
                    "window_start": "2026-01-01",
                    "window_end": "2025-12-31",
                },
            ),
            # after the due date: the window stops at due_on
            (
                "2026-12-31",
                {
                    "current": "100.000000",
                    "progress": "1.0000",
                    "expected_progress": "1.0000",
                    "pace": "achieved",
                    "window_start": "2026-01-01",
                    "window_end": "2026-04-11",
                },
            ),
        ],
    )
    def test_a_sum_key_result_read_on_a_date(
        self,
        viewer: Membership,
        workspace: Workspace,
        signups: Metric,
        as_of: str,
        figures: dict[str, Any],
    ) -> None:
        # given a key result 0 → 100 sign-ups from 2026-01-01 to 2026-04-11
        key_result = KeyResultFactory.create(
            objective=ObjectiveFactory.create(workspace=workspace),
            metric=signups,
            baseline=Decimal(0),
            target=Decimal(100),
            start_on=date(2026, 1, 1),
            due_on=date(2026, 4, 11),
        )
        client = token_client(viewer)

        # when it is read on that date, alone and in the list
        one = client.get(f"{KEY_RESULTS}{key_result.pk}/?as_of={as_of}").json()
        listed = client.get(f"{KEY_RESULTS}?as_of={as_of}").json()["results"]

        # then both show the hand-computed figures
        assert {name: one[name] for name in figures} == figures
        assert listed == [one]

    @pytest.mark.parametrize(
        ("aggregation", "baseline", "target", "figures"),
        [
            # level: the last value on or before 2026-02-20 is 150; (150−100)/(200−100)
            ("last", "100", "200", ("150.000000", "0.5000", "on_track")),
            # mean of 120, 150: 135; (135−100)/100 = 0.35 ≥ 0.7 × 0.5
            ("mean", "100", "200", ("135.000000", "0.3500", "at_risk")),
            # sum 270 of a target 900: 0.3 < 0.35
            ("sum", "0", "900", ("270.000000", "0.3000", "off_track")),
            # 270 of 810: a third, rounded to 4 places
            ("sum", "0", "810", ("270.000000", "0.3333", "off_track")),
            # 270 of 405: two thirds, rounded half up
            ("sum", "0", "405", ("270.000000", "0.6667", "on_track")),
            # a decrease: 150 from 300 towards 0 is half way
            ("last", "300", "0", ("150.000000", "0.5000", "on_track")),
        ],
    )
    def test_each_aggregation_on_2026_02_20(
        self,
        viewer: Membership,
        workspace: Workspace,
        aggregation: str,
        baseline: str,
        target: str,
        figures: tuple[str, str, str],
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, aggregation=aggregation)
        measure(
            metric,
            {date(2025, 12, 1): "90", date(2026, 1, 10): "120", date(2026, 2, 15): "150"},
        )
        measure(metric, {date(2026, 3, 1): "300"})
        key_result = KeyResultFactory.create(
            objective=ObjectiveFactory.create(workspace=workspace),
            metric=metric,
            baseline=Decimal(baseline),
            target=Decimal(target),
            start_on=date(2026, 1, 1),
            due_on=date(2026, 4, 11),
        )
        body = token_client(viewer).get(f"{KEY_RESULTS}{key_result.pk}/?as_of=2026-02-20").json()
        assert (body["current"], body["progress"], body["pace"]) == figures
        assert body["expected_progress"] == "0.5000"

    def test_without_as_of_the_figures_are_of_today_in_the_workspace(
        self, viewer: Membership, workspace: Workspace, signups: Metric
    ) -> None:
        # given a key result that is over (due 2026-04-11, today is later)
        key_result = KeyResultFactory.create(
            objective=ObjectiveFactory.create(workspace=workspace),
            metric=signups,
            start_on=date(2026, 1, 1),
            due_on=date(2026, 4, 11),
        )
        assert timezone.now().date() > date(2026, 4, 12)
        body = token_client(viewer).get(f"{KEY_RESULTS}{key_result.pk}/").json()
        assert (body["current"], body["expected_progress"], body["window_end"]) == (
            "100.000000",
            "1.0000",
            "2026-04-11",
        )

    @pytest.mark.parametrize("as_of", ["2026-13-01", "yesterday", "20260101"])
    def test_a_malformed_as_of_is_refused_and_nothing_is_written(
        self, editor: Membership, workspace: Workspace, signups: Metric, as_of: str
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        client = token_client(editor)
        message = {"as_of": [f"“{as_of}” is not a date; write it as YYYY-MM-DD."]}

        listed = client.get(f"{KEY_RESULTS}?as_of={as_of}")
        created = client.post(
            f"{KEY_RESULTS}?as_of={as_of}",
            {
                "objective": objective.pk,
                "metric": signups.pk,
                "baseline": "0",
                "target": "100",
                "start_on": "2026-01-01",
                "due_on": "2026-04-11",
            },
        )

        assert (listed.status_code, listed.json()) == (400, message)
        assert (created.status_code, created.json()) == (400, message)
        assert not KeyResult.objects.exists()


@pytest.mark.django_db
class TestKeyResults:
    def test_an_editor_creates_updates_and_deletes_a_key_result(
        self, editor: Membership, workspace: Workspace, signups: Metric
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        client = token_client(editor)

        # when an editor creates a key result, evaluated on 2026-02-20
        response = client.post(
            KEY_RESULTS + "?as_of=2026-02-20",
            {
                "objective": objective.pk,
                "metric": signups.pk,
                "title": "100 sign-ups by spring",
                "baseline": "0",
                "target": 100,
                "start_on": "2026-01-01",
                "due_on": "2026-04-11",
            },
        )

        # then it answers with the key result and its figures
        assert response.status_code == 201, response.json()
        body = without_timestamps(response.json())
        key_result_id = body["id"]
        assert body == {
            "id": key_result_id,
            "objective": objective.pk,
            "metric": signups.pk,
            "title": "100 sign-ups by spring",
            "baseline": "0.000000",
            "target": "100.000000",
            "start_on": "2026-01-01",
            "due_on": "2026-04-11",
            "archived_at": None,
            "current": "60.000000",
            "progress": "0.6000",
            "expected_progress": "0.5000",
            "pace": "on_track",
            "window_start": "2026-01-01",
            "window_end": "2026-02-20",
        }

        # when the target is raised, the figures follow
        patch = client.patch(f"{KEY_RESULTS}{key_result_id}/?as_of=2026-02-20", {"target": "120.5"})
        assert patch.status_code == 200, patch.json()
        assert (patch.json()["target"], patch.json()["progress"]) == ("120.500000", "0.4979")
        assert KeyResult.objects.get(pk=key_result_id).target == Decimal("120.5")

        # and a delete removes it, not its objective or metric
        assert client.delete(f"{KEY_RESULTS}{key_result_id}/").status_code == 204
        assert not KeyResult.objects.exists()
        assert Objective.objects.filter(pk=objective.pk).exists()

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"target": "0"}, {"target": ["The target must differ from the baseline."]}),
            (
                {"due_on": "2025-12-31"},
                {"due_on": ["The due date must come after the start date."]},
            ),
            (
                {"due_on": "2026-01-01"},
                {"due_on": ["The due date must come after the start date."]},
            ),
            ({"baseline": "abc"}, {"baseline": ["A valid number is required."]}),
            ({"baseline": "NaN"}, {"baseline": ["A valid number is required."]}),
            ({"baseline": ""}, {"baseline": ["A valid number is required."]}),
            ({"baseline": None}, {"baseline": ["This field may not be null."]}),
            ({"baseline": [1]}, {"baseline": ["A valid number is required."]}),
            (
                {"target": "123456789012345"},
                {
                    "target": [
                        "Ensure that there are no more than 14 digits before the decimal point."
                    ]
                },  # noqa: E501
            ),
            (
                {"target": "1.1234567"},
                {"target": ["Ensure that there are no more than 6 decimal places."]},
            ),
            (
                {"start_on": "01/01/2026"},
                {
                    "start_on": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),  # noqa: E501
            (
                {"title": "x" * 201},
                {"title": ["Ensure this field has no more than 200 characters."]},
            ),  # noqa: E501
            (
                {"metric": 99_999_999},
                {"metric": ['Invalid pk "99999999" - object does not exist.']},
            ),
            ({"objective": None}, {"objective": ["This field may not be null."]}),
            (
                {"objective": True},
                {"objective": ["Incorrect type. Expected pk value, received bool."]},
            ),  # noqa: E501
        ],
    )
    def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
        self,
        editor: Membership,
        workspace: Workspace,
        signups: Metric,
        body: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        valid = {
            "objective": ObjectiveFactory.create(workspace=workspace).pk,
            "metric": signups.pk,
            "baseline": "0",
            "target": "100",
            "start_on": "2026-01-01",
            "due_on": "2026-04-11",
        }
        response = token_client(editor).post(KEY_RESULTS, {**valid, **body})
        assert response.status_code == 400
        assert response.json() == errors
        assert not KeyResult.objects.exists()

    def test_an_objective_or_metric_of_another_workspace_does_not_exist(
        self, editor: Membership, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        foreign_objective = ObjectiveFactory.create(workspace=other_workspace)
        foreign_metric = MetricFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            KEY_RESULTS,
            {
                "objective": foreign_objective.pk,
                "metric": foreign_metric.pk,
                "baseline": "0",
                "target": "100",
                "start_on": "2026-01-01",
                "due_on": "2026-04-11",
            },
        )
        assert response.status_code == 400
        assert response.json() == {
            "objective": [f'Invalid pk "{foreign_objective.pk}" - object does not exist.'],
            "metric": [f'Invalid pk "{foreign_metric.pk}" - object does not exist.'],
        }
        assert not KeyResult.objects.exists()

    def test_a_patch_to_a_foreign_metric_or_to_target_equal_baseline_changes_nothing(
        self, editor: Membership, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        key_result = KeyResultFactory.create(objective=ObjectiveFactory.create(workspace=workspace))
        foreign_metric = MetricFactory.create(workspace=other_workspace)
        client = token_client(editor)
        url = f"{KEY_RESULTS}{key_result.pk}/"

        foreign = client.patch(url, {"metric": foreign_metric.pk})
        same = client.patch(url, {"target": "0"})
        backwards = client.patch(url, {"due_on": "2025-06-30"})

        assert foreign.json() == {
            "metric": [f'Invalid pk "{foreign_metric.pk}" - object does not exist.']
        }
        assert same.json() == {"target": ["The target must differ from the baseline."]}
        assert backwards.json() == {"due_on": ["The due date must come after the start date."]}
        assert {foreign.status_code, same.status_code, backwards.status_code} == {400}
        key_result.refresh_from_db()
        assert (key_result.target, key_result.due_on) == (Decimal(100), date(2026, 3, 31))

    def test_archived_key_results_are_listed_only_on_request_but_always_readable(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        live = KeyResultFactory.create(objective=objective, title="Live")
        archived = KeyResultFactory.create(
            objective=objective, title="Old", archived_at=timezone.now()
        )
        client = token_client(viewer)

        def titles(query: str) -> list[str]:
            return [kr["title"] for kr in client.get(KEY_RESULTS + query).json()["results"]]

        assert titles("") == ["Live"]
        assert titles("?archived=true") == ["Live", "Old"]
        assert titles(f"?metric={live.metric_id}") == ["Live"]
        assert titles(f"?objective={objective.pk}&archived=true") == ["Live", "Old"]
        assert titles("?objective=99999999") == []
        assert client.get(f"{KEY_RESULTS}{archived.pk}/").json()["archived_at"] is not None


# --- metrics --------------------------------------------------------------------------------

METRIC_BODY = {
    "key": "mrr",
    "name": "Monthly recurring revenue",
    "description": "Sum of active subscriptions.",
    "unit": "EUR",
    "category": "revenue",
    "direction": "increase",
    "aggregation": "last",
    "value_per_unit": "1.5",
    "source": "Stripe",
}


@pytest.mark.django_db
class TestMetrics:
    def test_an_editor_creates_updates_and_deletes_a_metric(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        client = token_client(editor)

        response = client.post(METRICS, {**METRIC_BODY, "owner": editor.user.pk})

        assert response.status_code == 201, response.json()
        body = without_timestamps(response.json())
        metric_id = body["id"]
        assert body == {
            "id": metric_id,
            **METRIC_BODY,
            "value_per_unit": "1.5000",
            "owner": editor.user.pk,
            "archived_at": None,
            "latest_on": None,
            "latest_value": None,
        }

        # given measurements, the read shows the latest one
        measure(
            Metric.objects.get(pk=metric_id), {date(2026, 1, 1): "10", date(2026, 2, 1): "12.5"}
        )
        read = client.get(f"{METRICS}{metric_id}/").json()
        assert (read["latest_on"], read["latest_value"]) == ("2026-02-01", "12.500000")

        patch = client.patch(f"{METRICS}{metric_id}/", {"value_per_unit": None, "name": "MRR"})
        assert patch.status_code == 200, patch.json()
        assert (patch.json()["value_per_unit"], patch.json()["name"]) == (None, "MRR")
        assert patch.json()["latest_value"] == "12.500000"

        assert client.delete(f"{METRICS}{metric_id}/").status_code == 204
        assert not Metric.objects.exists()

    def test_a_duplicate_key_is_refused_under_key_but_fine_in_another_workspace(
        self, editor: Membership, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        MetricFactory.create(workspace=other_workspace, key="mrr")
        client = token_client(editor)
        assert client.post(METRICS, METRIC_BODY).status_code == 201

        again = client.post(METRICS, {**METRIC_BODY, "name": "Another"})
        assert again.status_code == 400
        assert again.json() == {
            "key": ["A metric with the key “mrr” already exists in this workspace."]
        }
        assert Metric.objects.filter(workspace=workspace).count() == 1

        # renaming another metric to the taken key is refused too; keeping one's own is fine
        other = MetricFactory.create(workspace=workspace, key="arr")
        renamed = client.patch(f"{METRICS}{other.pk}/", {"key": "mrr"})
        assert renamed.json() == {
            "key": ["A metric with the key “mrr” already exists in this workspace."]
        }
        assert client.patch(f"{METRICS}{other.pk}/", {"key": "arr"}).status_code == 200

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            (
                {"key": "not a slug!"},
                {
                    "key": [
                        'Enter a valid "slug" consisting of letters, numbers, underscores '
                        "or hyphens."
                    ]
                },
            ),
            ({"key": ""}, {"key": ["This field may not be blank."]}),
            ({"key": "k" * 65}, {"key": ["Ensure this field has no more than 64 characters."]}),
            ({"name": ""}, {"name": ["This field may not be blank."]}),
            ({"name": "n" * 121}, {"name": ["Ensure this field has no more than 120 characters."]}),
            ({"unit": "u" * 33}, {"unit": ["Ensure this field has no more than 32 characters."]}),
            ({"category": "fun"}, {"category": ['"fun" is not a valid choice.']}),
            ({"direction": "up"}, {"direction": ['"up" is not a valid choice.']}),
            ({"aggregation": "max"}, {"aggregation": ['"max" is not a valid choice.']}),
            (
                {"value_per_unit": "-1"},
                {"value_per_unit": ["Ensure this value is greater than or equal to 0."]},
            ),
            ({"value_per_unit": "abc"}, {"value_per_unit": ["A valid number is required."]}),
            (
                {"value_per_unit": "1.12345"},
                {"value_per_unit": ["Ensure that there are no more than 4 decimal places."]},
            ),
            (
                {"source": "s" * 201},
                {"source": ["Ensure this field has no more than 200 characters."]},
            ),  # noqa: E501
            ({"owner": "me"}, {"owner": ["Incorrect type. Expected pk value, received str."]}),
        ],
    )
    def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
        self, editor: Membership, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = token_client(editor).post(METRICS, {**METRIC_BODY, **body})
        assert response.status_code == 400
        assert response.json() == errors
        assert not Metric.objects.exists()

    def test_an_owner_of_another_workspace_does_not_exist(
        self, editor: Membership, outsider: Membership
    ) -> None:
        response = token_client(editor).post(METRICS, {**METRIC_BODY, "owner": outsider.user.pk})
        assert response.json() == {
            "owner": [f'Invalid pk "{outsider.user.pk}" - object does not exist.']
        }
        assert not Metric.objects.exists()

    def test_a_metric_that_key_results_measure_is_not_deleted(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        key_result = KeyResultFactory.create(objective=ObjectiveFactory.create(workspace=workspace))
        response = token_client(editor).delete(f"{METRICS}{key_result.metric_id}/")
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Key results measure this metric: archive it instead, or delete them first."
        }
        assert Metric.objects.filter(pk=key_result.metric_id).exists()

    def test_filters_and_archived_metrics(self, viewer: Membership, workspace: Workspace) -> None:
        MetricFactory.create(workspace=workspace, key="mrr", name="MRR", category="revenue")
        MetricFactory.create(
            workspace=workspace, key="churn", name="Churn", category="retention",
            direction="decrease", aggregation="mean",
        )  # fmt: skip
        old = MetricFactory.create(
            workspace=workspace, key="old", name="Old", archived_at=timezone.now()
        )
        client = token_client(viewer)

        def keys(query: str) -> list[str]:
            response = client.get(METRICS + query)
            assert response.status_code == 200, response.json()
            return [m["key"] for m in response.json()["results"]]

        assert keys("") == ["churn", "mrr"]
        assert keys("?archived=true") == ["churn", "mrr", "old"]
        assert keys("?category=revenue") == ["mrr"]
        assert keys("?direction=decrease") == ["churn"]
        assert keys("?aggregation=mean") == ["churn"]
        assert keys("?key=mrr") == ["mrr"]
        assert keys("?ordering=-key") == ["mrr", "churn"]
        assert client.get(f"{METRICS}{old.pk}/").json()["archived_at"] is not None
        bad = client.get(METRICS + "?category=fun")
        assert bad.status_code == 400
        assert bad.json() == {
            "category": ["Select a valid choice. fun is not one of the available choices."]
        }


# --- who may do what ----------------------------------------------------------------------

WRITES = [
    ("post", OBJECTIVES, False),
    ("put", OBJECTIVES, True),
    ("patch", OBJECTIVES, True),
    ("delete", OBJECTIVES, True),
    ("post", KEY_RESULTS, False),
    ("put", KEY_RESULTS, True),
    ("patch", KEY_RESULTS, True),
    ("delete", KEY_RESULTS, True),
    ("post", METRICS, False),
    ("put", METRICS, True),
    ("patch", METRICS, True),
    ("delete", METRICS, True),
]


@pytest.fixture
def key_result(workspace: Workspace) -> KeyResult:
    return KeyResultFactory.create(
        objective=ObjectiveFactory.create(workspace=workspace, title="Keep"),
        metric=MetricFactory.create(workspace=workspace, key="keep", name="Keep"),
        title="Keep",
    )


def _target(base: str, key_result: KeyResult, detail: bool) -> str:
    if not detail:
        return base
    pk = {
        OBJECTIVES: key_result.objective_id,
        KEY_RESULTS: key_result.pk,
        METRICS: key_result.metric_id,
    }[base]
    return f"{base}{pk}/"


def _snapshot() -> list[tuple[Any, ...]]:
    return [
        *Objective.objects.values_list("id", "title", "status"),
        *KeyResult.objects.values_list("id", "title", "target"),
        *Metric.objects.values_list("id", "key", "name"),
    ]


@pytest.mark.django_db
class TestRoles:
    @pytest.mark.parametrize(("method", "base", "detail"), WRITES)
    @pytest.mark.parametrize("who", ["viewer", "read_only_token"])
    def test_viewers_and_read_only_tokens_get_403_on_every_write(
        self,
        request: pytest.FixtureRequest,
        key_result: KeyResult,
        method: str,
        base: str,
        detail: bool,
        who: str,
    ) -> None:
        if who == "viewer":
            client = token_client(request.getfixturevalue("viewer"))
            message = "Your role in this workspace is viewer; this needs an editor or admin."
        else:
            client = token_client(request.getfixturevalue("admin"), read_only=True)
            message = "This API token is read-only; it cannot change anything."
        before = _snapshot()

        response = getattr(client, method)(
            _target(base, key_result, detail), {"title": "Changed", "key": "changed"}
        )

        assert response.status_code == 403
        assert response.json() == {"detail": message}
        assert _snapshot() == before
        # and they still read
        assert client.get(_target(base, key_result, detail)).status_code == 200

    @pytest.mark.parametrize(("method", "base", "detail"), [*WRITES, ("get", OBJECTIVES, False)])
    def test_a_member_of_another_workspace_gets_404(
        self, outsider: Membership, key_result: KeyResult, method: str, base: str, detail: bool
    ) -> None:
        before = _snapshot()
        response = getattr(token_client(outsider), method)(
            _target(base, key_result, detail), {"title": "Planted"}
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "No workspace with this slug."}
        assert _snapshot() == before

    @pytest.mark.parametrize("base", [OBJECTIVES, KEY_RESULTS, METRICS])
    def test_an_object_of_another_workspace_is_not_found_in_this_one(
        self, admin: Membership, other_workspace: Workspace, base: str
    ) -> None:
        foreign = KeyResultFactory.create(
            objective=ObjectiveFactory.create(workspace=other_workspace)
        )
        client = token_client(admin)
        url = _target(base, foreign, detail=True)
        assert client.get(url).status_code == 404
        assert client.patch(url, {"title": "Planted"}).status_code == 404
        assert client.delete(url).status_code == 404
        assert KeyResult.objects.filter(pk=foreign.pk).exists()

    @pytest.mark.parametrize(("method", "base", "detail"), [*WRITES, ("get", METRICS, False)])
    def test_anonymous_gets_401(
        self, key_result: KeyResult, method: str, base: str, detail: bool
    ) -> None:
        before = _snapshot()
        response = getattr(APIClient(), method)(_target(base, key_result, detail), {})
        assert response.status_code == 401
        assert _snapshot() == before

    def test_an_admin_writes_like_an_editor(self, admin: Membership) -> None:
        assert token_client(admin).post(METRICS, METRIC_BODY).status_code == 201


# --- query budgets --------------------------------------------------------------------------

# token lookup, token last_used_at touch, count, page
LIST_QUERIES = 4


def _objectives(workspace: Workspace, n: int) -> None:
    parent = ObjectiveFactory.create(workspace=workspace)
    for _ in range(n - 1):
        ObjectiveFactory.create(workspace=workspace, parent=parent)


def _key_results(workspace: Workspace, n: int) -> None:
    objective = ObjectiveFactory.create(workspace=workspace)
    for i in range(n):
        metric = MetricFactory.create(
            workspace=workspace, aggregation=["sum", "last", "mean"][i % 3]
        )
        measure(metric, {date(2026, 1, day): str(day * i) for day in range(1, 29)})
        KeyResultFactory.create(objective=objective, metric=metric)


def _metrics(workspace: Workspace, n: int) -> None:
    for i in range(n):
        metric = MetricFactory.create(workspace=workspace)
        measure(metric, {date(2026, 2, day): str(day + i) for day in range(1, 11)})


@pytest.mark.django_db
class TestQueryBudgets:
    @pytest.mark.parametrize(
        ("url", "make"),
        [
            (OBJECTIVES, _objectives),
            (KEY_RESULTS + "?as_of=2026-01-20", _key_results),
            (METRICS, _metrics),
        ],
        ids=["objectives", "key-results", "metrics"],
    )
    def test_a_list_costs_the_same_queries_for_3_or_30_rows(
        self,
        viewer: Membership,
        workspace: Workspace,
        django_assert_max_num_queries: Any,
        url: str,
        make: Any,
    ) -> None:
        # (a fresh token each time, so both requests record its first use)
        make(workspace, 3)
        small, body = queries_for(token_client(viewer), url)
        assert body["count"] == 3
        make(workspace, 27)

        client = token_client(viewer)
        with django_assert_max_num_queries(LIST_QUERIES):
            large, body = queries_for(client, url + ("&" if "?" in url else "?") + "limit=500")

        assert body["count"] == len(body["results"]) == 30
        assert small == large == LIST_QUERIES

    def test_the_key_result_list_computes_each_row_from_its_own_metric(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        _key_results(workspace, 3)
        body = token_client(viewer).get(KEY_RESULTS + "?as_of=2026-01-20").json()
        # i = 0, 1, 2 with aggregations sum, last, mean over days 1–20 of day × i
        assert [kr["current"] for kr in body["results"]] == [
            "0.000000",
            "20.000000",
            "21.000000",
        ]
