"""POST initiatives/{id}/transition/: the lifecycle through the API — a move answers the
initiative and writes one Decision; a refused move answers 409 with the reason and writes
nothing; malformed input answers 400; two concurrent commits on PostgreSQL give one
200 and one 409."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import Decision, Initiative
from strategy.services import workspace_today
from tests.conftest import token_client
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory

BASE = "/api/v1/workspaces/acme/initiatives/"
WHY = "Customers asked for it twice."


def transition_url(initiative: Initiative) -> str:
    return f"{BASE}{initiative.pk}/transition/"


def ready_to_commit(workspace: Workspace, status: str = "proposed") -> Initiative:
    initiative = InitiativeFactory.create(workspace=workspace, status=status)
    ExpectedImpactFactory.create(initiative=initiative)
    AlignmentFactory.create(initiative=initiative, objective__status="active")
    return initiative


def state(initiative: Initiative) -> tuple[str, Any, int]:
    fresh = Initiative.objects.get(pk=initiative.pk)
    return fresh.status, fresh.released_on, Decision.objects.count()


@pytest.mark.django_db
class TestTransitions:
    def test_a_commit_answers_the_initiative_and_writes_the_decision(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        initiative = ready_to_commit(workspace)

        response = token_client(editor).post(
            transition_url(initiative), {"to": "committed", "rationale": f"  {WHY}  "}
        )

        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["id"], body["status"], body["title"]) == (
            initiative.pk,
            "committed",
            initiative.title,
        )
        # the read's figures come along: 100 units × 10 € × 50% over 4 weeks
        assert (body["risk_adjusted_value"], body["value_density"]) == ("500.00", "125.00")
        decision = Decision.objects.get()
        assert (
            decision.initiative_id,
            decision.kind,
            decision.from_status,
            decision.to_status,
            decision.rationale,
            decision.decided_by,
        ) == (initiative.pk, "commit", "proposed", "committed", WHY, editor.user)
        history = Initiative.objects.get(pk=initiative.pk).history
        assert history.first().history_user == editor.user

    def test_a_release_takes_its_date_and_a_decline_its_revisit_date(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        today = workspace_today(workspace)
        shipped = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        dropped = InitiativeFactory.create(workspace=workspace, status="discovery")
        client = token_client(editor)
        released_on = (today - timedelta(days=3)).isoformat()
        revisit_on = (today + timedelta(days=30)).isoformat()

        released = client.post(
            transition_url(shipped), {"to": "released", "released_on": released_on}
        )
        declined = client.post(
            transition_url(dropped),
            {"to": "declined", "rationale": WHY, "revisit_on": revisit_on},
        )

        assert released.status_code == 200, released.json()
        assert (released.json()["status"], released.json()["released_on"]) == (
            "released",
            released_on,
        )
        assert declined.status_code == 200, declined.json()
        assert declined.json()["status"] == "declined"
        decline = Decision.objects.get(kind="decline")
        assert decline.revisit_on.isoformat() == revisit_on  # type: ignore[union-attr]

    def test_a_release_without_a_date_is_released_today(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        shipped = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        response = token_client(editor).post(transition_url(shipped), {"to": "released"})
        assert response.status_code == 200, response.json()
        assert response.json()["released_on"] == workspace_today(workspace).isoformat()

    @pytest.mark.parametrize(
        ("status", "body", "reason"),
        [
            (
                "proposed",
                {"to": "committed", "rationale": WHY},
                "Needs an expected impact and an alignment to an active objective before it "
                "can be committed (or mark it tactical and say why).",
            ),
            (
                "proposed",
                {"to": "declined", "rationale": "meh"},
                "Say why (decline): a rationale of at least 10 characters.",
            ),
            (
                "proposed",
                {"to": "declined", "rationale": "   too short   "},
                "Say why (decline): a rationale of at least 10 characters.",
            ),
            (
                "proposed",
                {"to": "released"},
                "A proposed initiative cannot become released; it can become discovery or "
                "committed or declined.",
            ),
            (
                "measured",
                {"to": "proposed", "rationale": WHY},
                "A measured initiative does not change status any more.",
            ),
            (
                "in_delivery",
                {"to": "released", "released_on": "2999-01-01"},
                "The release date 2999-01-01 is in the future; release on the day it ships.",
            ),
            (
                "proposed",
                {"to": "discovery", "released_on": "2026-01-01"},
                "A release date goes only with the move to released.",
            ),
            (
                "proposed",
                {"to": "discovery", "revisit_on": "2999-01-01"},
                "A revisit date goes only with a decline or a cancellation.",
            ),
        ],
    )
    def test_a_refused_move_answers_409_with_the_reason_and_writes_nothing(
        self,
        editor: Membership,
        workspace: Workspace,
        status: str,
        body: dict[str, Any],
        reason: str,
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status=status)
        before = state(initiative)

        response = token_client(editor).post(transition_url(initiative), body)

        assert response.status_code == 409
        assert response.json() == {"detail": reason}
        assert state(initiative) == before

    def test_measured_before_the_window_ends_is_refused_with_the_date(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        today = workspace_today(workspace)
        initiative = InitiativeFactory.create(
            workspace=workspace,
            status="released",
            released_on=today - timedelta(days=10),
            measurement_window_days=30,
        )
        response = token_client(editor).post(transition_url(initiative), {"to": "measured"})
        ends = (today + timedelta(days=20)).isoformat()
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"It can be measured from {ends}, when its 30-day measurement window ends."
        }
        assert not Decision.objects.exists()

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            (
                {"to": "done", "rationale": WHY},
                {
                    "to": [
                        "“done” is not a status; use one of proposed, discovery, committed, "
                        "in_delivery, released, measured, declined, cancelled."
                    ]
                },
            ),
            ({"rationale": WHY}, {"to": ["This field is required."]}),
            ({"to": ["committed"]}, {"to": ["Not a valid string."]}),
            ({"to": None}, {"to": ["This field may not be null."]}),
            ({"to": "declined", "rationale": {"why": 1}}, {"rationale": ["Not a valid string."]}),
            (
                {"to": "released", "released_on": "2026-02-30"},
                {
                    "released_on": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),
            (
                {"to": "released", "released_on": "1899-12-31"},
                {
                    "released_on": [
                        "1899-12-31 is not a release date of this work; write one from "
                        "1900-01-01 on."
                    ]
                },
            ),
            (
                {"to": "declined", "rationale": WHY, "revisit_on": "next spring"},
                {
                    "revisit_on": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),
        ],
    )
    def test_malformed_input_answers_400_and_writes_nothing(
        self, editor: Membership, workspace: Workspace, body: dict[str, Any], errors: Any
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        before = state(initiative)
        response = token_client(editor).post(transition_url(initiative), body)
        assert response.status_code == 400
        assert response.json() == errors
        assert state(initiative) == before

    def test_a_body_that_is_not_an_object_is_refused(
        self, editor: Membership, workspace: Workspace
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        response = token_client(editor).post(transition_url(initiative), ["committed"])
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid data. Expected a dictionary, but got list."}
        assert not Decision.objects.exists()

    @pytest.mark.parametrize(
        ("who", "code", "message"),
        [
            (
                "viewer",
                403,
                "Your role in this workspace is viewer; this needs an editor or admin.",
            ),
            ("read_only", 403, "This API token is read-only; it cannot change anything."),
            ("outsider", 404, "No workspace with this slug."),
        ],
    )
    def test_only_editors_and_admins_move_an_initiative(
        self,
        request: pytest.FixtureRequest,
        workspace: Workspace,
        who: str,
        code: int,
        message: str,
    ) -> None:
        initiative = ready_to_commit(workspace)
        if who == "read_only":
            client = token_client(request.getfixturevalue("admin"), read_only=True)
        else:
            client = token_client(request.getfixturevalue(who))
        response = client.post(transition_url(initiative), {"to": "committed"})
        assert (response.status_code, response.json()) == (code, {"detail": message})
        assert state(initiative) == ("proposed", None, 0)

    def test_anonymous_gets_401(self, workspace: Workspace) -> None:
        initiative = ready_to_commit(workspace)
        response = APIClient().post(transition_url(initiative), {"to": "committed"})
        assert response.status_code == 401
        assert state(initiative) == ("proposed", None, 0)

    def test_an_unknown_initiative_is_404_in_words(self, editor: Membership) -> None:
        response = token_client(editor).post(f"{BASE}99999999/transition/", {"to": "committed"})
        assert response.status_code == 404
        assert response.json() == {"detail": "No Initiative matches the given query."}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_commits_give_one_200_one_409_and_one_decision(
    workspace: Workspace, editor: Membership, admin: Membership
) -> None:
    # given a proposed initiative ready to commit, and two people who commit it at once
    initiative = ready_to_commit(workspace)
    clients = [token_client(editor), token_client(admin)]
    barrier = threading.Barrier(len(clients))
    answers: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def commit(client: APIClient) -> None:
        try:
            barrier.wait(30)
            response = client.post(transition_url(initiative), {"to": "committed"})
            with lock:
                answers.append((response.status_code, response.json()))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=commit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then exactly one wins; the other is judged on the status the first left
    assert not errors, errors
    assert sorted(code for code, _ in answers) == [200, 409]
    refused = next(body for code, body in answers if code == 409)
    assert refused == {
        "detail": "A committed initiative cannot become committed; it can become in delivery "
        "or discovery or cancelled."
    }
    assert Initiative.objects.get(pk=initiative.pk).status == "committed"
    decision = Decision.objects.get()
    assert (decision.kind, decision.from_status, decision.to_status) == (
        "commit",
        "proposed",
        "committed",
    )
