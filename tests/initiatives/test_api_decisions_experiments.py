"""The decision log (list newest first, record `defer` and `other` by hand) and experiments
(CRUD, only initiatives and metrics of the workspace) through the API."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import Decision, Experiment, Initiative
from strategy.services import workspace_today
from tests.conftest import token_client
from tests.initiatives.factories import InitiativeFactory
from tests.strategy.factories import MetricFactory

BASE = "/api/v1/workspaces/acme/"
DECISIONS = BASE + "decisions/"
EXPERIMENTS = BASE + "experiments/"
WHY = "We wait for the Q3 pricing study."


def decision(workspace: Workspace, kind: str, days_ago: int, **fields: Any) -> Decision:
    return Decision.objects.create(
        workspace=workspace,
        kind=kind,
        rationale=WHY,
        decided_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def decisions() -> list[tuple[Any, ...]]:
    return list(Decision.objects.order_by("id").values_list("kind", "initiative_id", "rationale"))


@pytest.mark.django_db
class TestDecisions:
    def test_an_editor_records_a_deferral_and_it_heads_the_log(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        older = decision(workspace, "commit", 3, initiative=initiative)
        revisit_on = (workspace_today(workspace) + timedelta(days=60)).isoformat()
        client = token_client(editor)

        response = client.post(
            DECISIONS,
            {
                "kind": "defer",
                "initiative": initiative.pk,
                "rationale": f"  {WHY}  ",
                "revisit_on": revisit_on,
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert isinstance(body.pop("decided_at"), str)
        assert body == {
            "id": body["id"],
            "initiative": initiative.pk,
            "kind": "defer",
            "from_status": "",
            "to_status": "",
            "rationale": WHY,
            "decided_by": editor.user.pk,
            "revisit_on": revisit_on,
        }
        listed = client.get(DECISIONS).json()["results"]
        assert [d["id"] for d in listed] == [body["id"], older.pk]

    def test_a_decision_without_an_initiative_is_other_by_default(self, editor: Membership) -> None:
        response = token_client(editor).post(DECISIONS, {"rationale": WHY})
        assert response.status_code == 201, response.json()
        assert (response.json()["kind"], response.json()["initiative"]) == ("other", None)
        assert decisions() == [("other", None, WHY)]

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            (
                {"kind": "commit"},
                {
                    "kind": [
                        "Only defer or other decisions are recorded by hand; the others are "
                        "written by a transition."
                    ]
                },
            ),
            ({"kind": "shelve"}, {"kind": ['"shelve" is not a valid choice.']}),
            (
                {"rationale": "Later."},
                {"rationale": ["Say what was decided: at least 10 characters."]},
            ),
            ({"rationale": ""}, {"rationale": ["Say what was decided: at least 10 characters."]}),
            ({"revisit_on": "2020-01-01"}, {"revisit_on": ["A revisit date is in the future."]}),
            (
                {"revisit_on": "soon"},
                {
                    "revisit_on": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),
            (
                {"initiative": 99_999_999},
                {"initiative": ['Invalid pk "99999999" - object does not exist.']},
            ),
        ],
    )
    def test_bad_input_is_refused_in_words_and_nothing_is_written(
        self, editor: Membership, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = token_client(editor).post(DECISIONS, {"rationale": WHY, **body})
        assert response.status_code == 400
        assert response.json() == errors
        assert not Decision.objects.exists()

    def test_an_initiative_of_another_workspace_does_not_exist(
        self, editor: Membership, other_workspace: Workspace
    ) -> None:
        foreign = InitiativeFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            DECISIONS, {"kind": "defer", "initiative": foreign.pk, "rationale": WHY}
        )
        assert response.status_code == 400
        assert response.json() == {
            "initiative": [f'Invalid pk "{foreign.pk}" - object does not exist.']
        }
        assert not Decision.objects.exists()

    def test_filters_by_kind_and_initiative(
        self, viewer: Membership, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        a = InitiativeFactory.create(workspace=workspace)
        b = InitiativeFactory.create(workspace=workspace)
        declined_a = decision(workspace, "decline", 5, initiative=a)
        deferred_b = decision(workspace, "defer", 4, initiative=b)
        declined_b = decision(workspace, "decline", 1, initiative=b)
        decision(other_workspace, "decline", 0)  # never shown here
        client = token_client(viewer)

        def ids(query: str) -> list[int]:
            response = client.get(DECISIONS + query)
            assert response.status_code == 200, response.json()
            return [d["id"] for d in response.json()["results"]]

        assert ids("") == [declined_b.pk, deferred_b.pk, declined_a.pk]
        assert ids("?kind=decline") == [declined_b.pk, declined_a.pk]
        assert ids(f"?initiative={b.pk}") == [declined_b.pk, deferred_b.pk]
        assert ids(f"?kind=decline&initiative={a.pk}") == [declined_a.pk]
        bad = client.get(DECISIONS + "?kind=maybe")
        assert bad.status_code == 400
        assert bad.json() == {
            "kind": ["Select a valid choice. maybe is not one of the available choices."]
        }

    def test_the_log_is_never_edited(self, admin: Membership, workspace: Workspace) -> None:
        logged = decision(workspace, "other", 1)
        client = token_client(admin)
        assert client.patch(f"{DECISIONS}{logged.pk}/", {"rationale": "x" * 20}).status_code == 405
        assert client.delete(f"{DECISIONS}{logged.pk}/").status_code == 405
        assert decisions() == [("other", None, WHY)]

    @pytest.mark.parametrize(
        ("who", "code"), [("viewer", 403), ("read_only", 403), ("outsider", 404), ("anon", 401)]
    )
    def test_only_editors_and_admins_record_decisions(
        self, request: pytest.FixtureRequest, workspace: Workspace, who: str, code: int
    ) -> None:
        if who == "anon":
            client = APIClient()
        elif who == "read_only":
            client = token_client(request.getfixturevalue("admin"), read_only=True)
        else:
            client = token_client(request.getfixturevalue(who))
        assert client.post(DECISIONS, {"rationale": WHY}).status_code == code
        assert not Decision.objects.exists()

    def test_the_log_costs_the_same_queries_for_3_or_30_decisions(
        self, viewer: Membership, workspace: Workspace, django_assert_max_num_queries: Any
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        for i in range(3):
            decision(workspace, "other", i, initiative=initiative)
        reader = token_client(viewer)
        with CaptureQueriesContext(connection) as small:
            assert reader.get(DECISIONS).json()["count"] == 3
        for i in range(27):
            decision(
                workspace, "defer", i, initiative=InitiativeFactory.create(workspace=workspace)
            )
        client = token_client(viewer)
        # token lookup, token touch, count, page
        with django_assert_max_num_queries(4):
            assert len(client.get(DECISIONS + "?limit=500").json()["results"]) == 30
        assert len(small) == 4  # the same four with 3 rows


# --- experiments --------------------------------------------------------------------------------


def experiments() -> list[tuple[Any, ...]]:
    return list(
        Experiment.objects.order_by("id").values_list(
            "initiative_id", "hypothesis", "method", "metric_id", "result"
        )
    )


@pytest.fixture
def initiative(workspace: Workspace) -> Initiative:
    return InitiativeFactory.create(workspace=workspace)


@pytest.mark.django_db
class TestExperiments:
    def test_an_editor_runs_an_experiment_from_start_to_learnings(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        client = token_client(editor)

        created = client.post(
            EXPERIMENTS,
            {
                "initiative": initiative.pk,
                "hypothesis": "A fake door shows demand for invoices.",
                "method": "fake_door",
                "metric": metric.pk,
                "success_criteria": "5% click it.",
                "started_on": "2026-02-01",
            },
        )
        assert created.status_code == 201, created.json()
        body = created.json()
        pk = body["id"]
        assert isinstance(body.pop("created_at"), str)
        assert body == {
            "id": pk,
            "initiative": initiative.pk,
            "hypothesis": "A fake door shows demand for invoices.",
            "method": "fake_door",
            "metric": metric.pk,
            "success_criteria": "5% click it.",
            "started_on": "2026-02-01",
            "ended_on": None,
            "result": "pending",
            "learnings": "",
        }

        done = client.patch(
            f"{EXPERIMENTS}{pk}/",
            {"ended_on": "2026-02-15", "result": "validated", "learnings": "7% clicked."},
        )
        assert done.status_code == 200, done.json()
        assert (done.json()["result"], done.json()["learnings"]) == ("validated", "7% clicked.")
        assert client.get(f"{EXPERIMENTS}{pk}/").json() == done.json()

        assert client.delete(f"{EXPERIMENTS}{pk}/").status_code == 204
        assert experiments() == []

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"hypothesis": ""}, {"hypothesis": ["This field may not be blank."]}),
            ({"method": "guess"}, {"method": ['"guess" is not a valid choice.']}),
            ({"result": "great"}, {"result": ['"great" is not a valid choice.']}),
            (
                {"started_on": "2026-03-01", "ended_on": "2026-02-01"},
                {"detail": "An experiment cannot end before it starts."},
            ),
            ({"initiative": None}, {"initiative": ["This field may not be null."]}),
            (
                {"metric": 99_999_999},
                {"metric": ['Invalid pk "99999999" - object does not exist.']},
            ),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(
        self,
        editor: Membership,
        initiative: Initiative,
        body: dict[str, Any],
        errors: dict[str, Any],
    ) -> None:
        response = token_client(editor).post(
            EXPERIMENTS,
            {"initiative": initiative.pk, "hypothesis": "H", "method": "survey", **body},
        )
        assert response.status_code == 400
        assert response.json() == errors
        assert experiments() == []

    def test_an_initiative_or_metric_of_another_workspace_does_not_exist(
        self, editor: Membership, other_workspace: Workspace, initiative: Initiative
    ) -> None:
        foreign_initiative = InitiativeFactory.create(workspace=other_workspace)
        foreign_metric = MetricFactory.create(workspace=other_workspace)
        client = token_client(editor)
        created = client.post(
            EXPERIMENTS,
            {
                "initiative": foreign_initiative.pk,
                "metric": foreign_metric.pk,
                "hypothesis": "H",
                "method": "survey",
            },
        )
        assert created.status_code == 400
        assert created.json() == {
            "initiative": [f'Invalid pk "{foreign_initiative.pk}" - object does not exist.'],
            "metric": [f'Invalid pk "{foreign_metric.pk}" - object does not exist.'],
        }
        experiment = Experiment.objects.create(
            initiative=initiative, hypothesis="H", method="survey"
        )
        moved = client.patch(f"{EXPERIMENTS}{experiment.pk}/", {"metric": foreign_metric.pk})
        assert moved.status_code == 400
        assert experiments() == [(initiative.pk, "H", "survey", None, "pending")]

    def test_an_experiment_stays_with_its_initiative(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        experiment = Experiment.objects.create(
            initiative=initiative, hypothesis="H", method="survey"
        )
        other = InitiativeFactory.create(workspace=workspace)
        response = token_client(editor).patch(
            f"{EXPERIMENTS}{experiment.pk}/", {"initiative": other.pk, "result": "validated"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "initiative": [
                "An experiment stays with its initiative: delete it and add it to the other one."
            ]
        }
        assert experiments() == [(initiative.pk, "H", "survey", None, "pending")]

    def test_filters_and_order(
        self, viewer: Membership, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        a = InitiativeFactory.create(workspace=workspace)
        b = InitiativeFactory.create(workspace=workspace)

        def run(initiative: Initiative, started: date, result: str) -> int:
            return Experiment.objects.create(
                initiative=initiative,
                hypothesis="H",
                method="interview",
                started_on=started,
                result=result,
            ).pk

        first = run(a, date(2026, 1, 1), "validated")
        second = run(b, date(2026, 2, 1), "pending")
        third = run(b, date(2026, 3, 1), "validated")
        run(InitiativeFactory.create(workspace=other_workspace), date(2026, 4, 1), "pending")
        client = token_client(viewer)

        def ids(query: str) -> list[int]:
            response = client.get(EXPERIMENTS + query)
            assert response.status_code == 200, response.json()
            return [e["id"] for e in response.json()["results"]]

        assert ids("") == [third, second, first]  # newest start first
        assert ids(f"?initiative={b.pk}") == [third, second]
        assert ids("?result=validated") == [third, first]
        assert ids("?ordering=started_on") == [first, second, third]
        bad = client.get(EXPERIMENTS + "?result=maybe")
        assert bad.status_code == 400
        assert bad.json() == {
            "result": ["Select a valid choice. maybe is not one of the available choices."]
        }

    @pytest.mark.parametrize("method", ["post", "patch", "delete"])
    @pytest.mark.parametrize(
        ("who", "code"), [("viewer", 403), ("read_only", 403), ("outsider", 404), ("anon", 401)]
    )
    def test_only_editors_and_admins_change_experiments(
        self,
        request: pytest.FixtureRequest,
        initiative: Initiative,
        method: str,
        who: str,
        code: int,
    ) -> None:
        experiment = Experiment.objects.create(
            initiative=initiative, hypothesis="H", method="survey"
        )
        if who == "anon":
            client = APIClient()
        elif who == "read_only":
            client = token_client(request.getfixturevalue("admin"), read_only=True)
        else:
            client = token_client(request.getfixturevalue(who))
        url = EXPERIMENTS if method == "post" else f"{EXPERIMENTS}{experiment.pk}/"
        body = {"initiative": initiative.pk, "hypothesis": "Planted", "method": "other"}
        assert getattr(client, method)(url, body).status_code == code
        assert experiments() == [(initiative.pk, "H", "survey", None, "pending")]

    def test_an_experiment_of_another_workspace_is_not_found(
        self, admin: Membership, other_workspace: Workspace
    ) -> None:
        foreign = Experiment.objects.create(
            initiative=InitiativeFactory.create(workspace=other_workspace),
            hypothesis="Theirs",
            method="survey",
        )
        client = token_client(admin)
        url = f"{EXPERIMENTS}{foreign.pk}/"
        assert client.get(url).status_code == 404
        assert client.patch(url, {"hypothesis": "Planted"}).status_code == 404
        assert client.delete(url).status_code == 404
        assert Experiment.objects.get(pk=foreign.pk).hypothesis == "Theirs"

    def test_the_list_costs_the_same_queries_for_3_or_30_experiments(
        self, viewer: Membership, workspace: Workspace, django_assert_max_num_queries: Any
    ) -> None:
        def add(n: int) -> None:
            for _ in range(n):
                Experiment.objects.create(
                    initiative=InitiativeFactory.create(workspace=workspace),
                    metric=MetricFactory.create(workspace=workspace),
                    hypothesis="H",
                    method="ab_test",
                )

        add(3)
        reader = token_client(viewer)
        with CaptureQueriesContext(connection) as small:
            assert reader.get(EXPERIMENTS).json()["count"] == 3
        add(27)
        client = token_client(viewer)
        # token lookup, token touch, count, page
        with django_assert_max_num_queries(4):
            assert len(client.get(EXPERIMENTS + "?limit=500").json()["results"]) == 30
        assert len(small) == 4  # the same four with 3 rows
