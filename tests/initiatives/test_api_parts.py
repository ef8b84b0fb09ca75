"""What hangs under one initiative: alignments (weights summing to at most 100), expected
impacts and stakeholders — CRUD, foreign ids refused as "does not exist", the services'
words for broken rules, nothing written on bad input, roles and query budgets."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import Alignment, ExpectedImpact, Initiative, Stakeholder
from tests.accounts.factories import MembershipFactory
from tests.conftest import token_client
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory

BASE = "/api/v1/workspaces/acme/initiatives/"


def under(initiative: Initiative, part: str, pk: int | None = None) -> str:
    url = f"{BASE}{initiative.pk}/{part}/"
    return url if pk is None else f"{url}{pk}/"


@pytest.fixture
def initiative(workspace: Workspace) -> Initiative:
    return InitiativeFactory.create(workspace=workspace)


def alignments() -> list[tuple[int, int, int, str]]:
    return list(
        Alignment.objects.order_by("id").values_list(
            "initiative_id", "objective_id", "weight", "rationale"
        )
    )


def impacts() -> list[tuple[Any, ...]]:
    return list(
        ExpectedImpact.objects.order_by("id").values_list(
            "initiative_id", "metric_id", "expected_change", "confidence", "attribution"
        )
    )


def stakeholders() -> list[tuple[Any, ...]]:
    return list(
        Stakeholder.objects.order_by("id").values_list(
            "initiative_id", "user_id", "role", "expectation"
        )
    )


# --- alignments ---------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAlignments:
    def test_an_editor_aligns_reweights_and_removes(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        growth = ObjectiveFactory.create(workspace=workspace, title="Growth")
        retention = ObjectiveFactory.create(workspace=workspace, title="Retention")
        client = token_client(editor)

        # when it is aligned 70 to growth and (by default) … to retention
        first = client.post(
            under(initiative, "alignments"),
            {"objective": growth.pk, "weight": 70, "rationale": "More sign-ups."},
        )
        assert first.status_code == 201, first.json()
        assert first.json() == {
            "id": first.json()["id"],
            "objective": growth.pk,
            "weight": 70,
            "rationale": "More sign-ups.",
        }
        second = client.post(
            under(initiative, "alignments"), {"objective": retention.pk, "weight": 30}
        )
        assert second.status_code == 201, second.json()

        # then both are listed, heaviest first, and the initiative nests them
        listed = client.get(under(initiative, "alignments")).json()
        assert [(a["objective"], a["weight"]) for a in listed["results"]] == [
            (growth.pk, 70),
            (retention.pk, 30),
        ]
        nested = client.get(f"{BASE}{initiative.pk}/").json()["alignments"]
        assert nested == listed["results"]

        # when the growth share is cut to 60 and the rationale patched
        patch = client.patch(
            under(initiative, "alignments", first.json()["id"]),
            {"weight": 60, "rationale": "Sign-ups, mostly."},
        )
        assert patch.status_code == 200, patch.json()
        assert (patch.json()["weight"], patch.json()["rationale"]) == (60, "Sign-ups, mostly.")
        rationale_only = client.patch(
            under(initiative, "alignments", second.json()["id"]), {"rationale": "Churn."}
        )
        assert rationale_only.status_code == 200, rationale_only.json()
        assert alignments() == [
            (initiative.pk, growth.pk, 60, "Sign-ups, mostly."),
            (initiative.pk, retention.pk, 30, "Churn."),
        ]

        # when one is removed
        gone = client.delete(under(initiative, "alignments", second.json()["id"]))
        assert gone.status_code == 204
        assert alignments() == [(initiative.pk, growth.pk, 60, "Sign-ups, mostly.")]

    def test_weights_over_100_are_refused_with_the_sum(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        AlignmentFactory.create(initiative=initiative, weight=70)
        other = AlignmentFactory.create(initiative=initiative, weight=30)
        client = token_client(editor)
        before = alignments()

        added = client.post(
            under(initiative, "alignments"),
            {"objective": ObjectiveFactory.create(workspace=workspace).pk, "weight": 1},
        )
        raised = client.patch(under(initiative, "alignments", other.pk), {"weight": 31})

        assert added.status_code == 400
        assert added.json() == {
            "weight": ["The weights of this initiative would add up to 101; at most 100."]
        }
        assert raised.status_code == 400
        assert raised.json() == {
            "weight": ["The weights of this initiative would add up to 101; at most 100."]
        }
        assert alignments() == before

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"weight": 101}, {"weight": ["Ensure this value is less than or equal to 100."]}),
            ({"weight": 0}, {"weight": ["Ensure this value is greater than or equal to 1."]}),
            ({"weight": "half"}, {"weight": ["A valid integer is required."]}),
            ({"objective": None}, {"objective": ["This field may not be null."]}),
            (
                {"objective": 99_999_999},
                {"objective": ['Invalid pk "99999999" - object does not exist.']},
            ),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(
        self,
        editor: Membership,
        workspace: Workspace,
        initiative: Initiative,
        body: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        response = token_client(editor).post(
            under(initiative, "alignments"), {"objective": objective.pk, **body}
        )
        assert response.status_code == 400
        assert response.json() == errors
        assert not Alignment.objects.exists()

    def test_an_objective_of_another_workspace_does_not_exist(
        self, editor: Membership, other_workspace: Workspace, initiative: Initiative
    ) -> None:
        foreign = ObjectiveFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            under(initiative, "alignments"), {"objective": foreign.pk, "weight": 10}
        )
        assert response.status_code == 400
        assert response.json() == {
            "objective": [f'Invalid pk "{foreign.pk}" - object does not exist.']
        }
        assert not Alignment.objects.exists()

    def test_the_same_objective_twice_is_refused(
        self, editor: Membership, initiative: Initiative
    ) -> None:
        existing = AlignmentFactory.create(initiative=initiative, weight=40)
        response = token_client(editor).post(
            under(initiative, "alignments"), {"objective": existing.objective_id, "weight": 10}
        )
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Alignment with this Initiative and Objective already exists."
        }
        assert Alignment.objects.count() == 1

    def test_an_alignment_keeps_its_objective(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        alignment = AlignmentFactory.create(initiative=initiative, weight=40)
        other = ObjectiveFactory.create(workspace=workspace)
        client = token_client(editor)
        before = alignments()

        moved = client.patch(
            under(initiative, "alignments", alignment.pk), {"objective": other.pk, "weight": 50}
        )
        same = client.put(
            under(initiative, "alignments", alignment.pk),
            {"objective": alignment.objective_id, "weight": 50},
        )

        assert moved.status_code == 400
        assert moved.json() == {
            "objective": [
                "An alignment keeps its objective: delete it and align to the other objective."
            ]
        }
        assert same.status_code == 200, same.json()
        assert alignments() == [(initiative.pk, before[0][1], 50, before[0][3])]

    def test_an_alignment_is_found_only_under_its_own_initiative(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        alignment = AlignmentFactory.create(initiative=initiative, weight=40)
        elsewhere = InitiativeFactory.create(workspace=workspace)
        client = token_client(editor)
        url = under(elsewhere, "alignments", alignment.pk)
        assert client.get(url).status_code == 404
        assert client.patch(url, {"weight": 10}).status_code == 404
        assert client.delete(url).status_code == 404
        assert alignments() == [(initiative.pk, alignment.objective_id, 40, "")]

    def test_an_initiative_of_another_workspace_has_nothing_here(
        self, editor: Membership, other_workspace: Workspace
    ) -> None:
        foreign = InitiativeFactory.create(workspace=other_workspace)
        alignment = AlignmentFactory.create(initiative=foreign, weight=40)
        client = token_client(editor)
        for url in (under(foreign, "alignments"), under(foreign, "alignments", alignment.pk)):
            response = client.get(url)
            assert response.status_code == 404
            assert response.json() == {"detail": "No initiative with this id in this workspace."}
        objective = ObjectiveFactory.create(workspace=other_workspace)
        planted = client.post(under(foreign, "alignments"), {"objective": objective.pk})
        assert planted.status_code == 404
        assert client.delete(under(foreign, "alignments", alignment.pk)).status_code == 404
        assert Alignment.objects.count() == 1


# --- expected impacts ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestExpectedImpacts:
    def test_an_editor_adds_changes_and_removes_an_expected_impact(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, value_per_unit=Decimal("12.5"))
        client = token_client(editor)

        created = client.post(
            under(initiative, "expected-impacts"),
            {"metric": metric.pk, "expected_change": "250.5", "confidence": 40},
        )
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        assert created.json() == {
            "id": pk,
            "metric": metric.pk,
            "expected_change": "250.500000",
            "confidence": 40,
            "attribution": 100,
        }
        # the initiative's money follows: 250.5 × 12.5 = 3,131.25; × 40% = 1,252.50
        read = client.get(f"{BASE}{initiative.pk}/").json()
        assert (read["expected_value"], read["risk_adjusted_value"]) == ("3131.25", "1252.50")

        patch = client.patch(
            under(initiative, "expected-impacts", pk), {"attribution": 50, "confidence": 80}
        )
        assert patch.status_code == 200, patch.json()
        assert impacts() == [(initiative.pk, metric.pk, Decimal("250.5"), 80, 50)]

        listed = client.get(under(initiative, "expected-impacts")).json()
        assert listed["results"] == [patch.json()]

        assert client.delete(under(initiative, "expected-impacts", pk)).status_code == 204
        assert impacts() == []

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            (
                {"confidence": 150},
                {"confidence": ["Ensure this value is less than or equal to 100."]},
            ),
            (
                {"attribution": -1},
                {"attribution": ["Ensure this value is greater than or equal to 0."]},
            ),
            ({"expected_change": "NaN"}, {"expected_change": ["A valid number is required."]}),
            ({"expected_change": None}, {"expected_change": ["This field may not be null."]}),
            (
                {"expected_change": "1.0000001"},
                {"expected_change": ["Ensure that there are no more than 6 decimal places."]},
            ),
            (
                {"metric": 99_999_999},
                {"metric": ['Invalid pk "99999999" - object does not exist.']},
            ),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(
        self,
        editor: Membership,
        workspace: Workspace,
        initiative: Initiative,
        body: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        response = token_client(editor).post(
            under(initiative, "expected-impacts"),
            {"metric": metric.pk, "expected_change": "10", **body},
        )
        assert response.status_code == 400
        assert response.json() == errors
        assert impacts() == []

    def test_a_metric_of_another_workspace_does_not_exist(
        self, editor: Membership, other_workspace: Workspace, initiative: Initiative
    ) -> None:
        foreign = MetricFactory.create(workspace=other_workspace)
        response = token_client(editor).post(
            under(initiative, "expected-impacts"),
            {"metric": foreign.pk, "expected_change": "10"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "metric": [f'Invalid pk "{foreign.pk}" - object does not exist.']
        }
        assert impacts() == []

    def test_an_impact_keeps_its_metric_and_a_metric_is_claimed_once(
        self, editor: Membership, workspace: Workspace, initiative: Initiative
    ) -> None:
        impact = ExpectedImpactFactory.create(initiative=initiative)
        client = token_client(editor)
        before = impacts()

        twice = client.post(
            under(initiative, "expected-impacts"),
            {"metric": impact.metric_id, "expected_change": "5"},
        )
        moved = client.patch(
            under(initiative, "expected-impacts", impact.pk),
            {"metric": MetricFactory.create(workspace=workspace).pk},
        )

        assert twice.status_code == 400
        assert twice.json() == {
            "detail": "Expected impact with this Initiative and Metric already exists."
        }
        assert moved.status_code == 400
        assert moved.json() == {
            "metric": [
                "An expected impact keeps its metric: delete it and add one on the other metric."
            ]
        }
        assert impacts() == before


# --- stakeholders -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestStakeholders:
    def test_an_editor_adds_changes_and_removes_a_stakeholder(
        self, editor: Membership, viewer: Membership, initiative: Initiative
    ) -> None:
        client = token_client(editor)

        created = client.post(
            under(initiative, "stakeholders"),
            {"user": viewer.user.pk, "role": "sponsor", "expectation": "  Fewer tickets.  "},
        )
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        assert created.json() == {
            "id": pk,
            "user": viewer.user.pk,
            "role": "sponsor",
            "expectation": "Fewer tickets.",
        }

        patch = client.patch(under(initiative, "stakeholders", pk), {"role": "informed"})
        assert patch.status_code == 200, patch.json()
        assert stakeholders() == [(initiative.pk, viewer.user.pk, "informed", "Fewer tickets.")]
        assert client.get(under(initiative, "stakeholders")).json()["results"] == [patch.json()]
        assert client.get(f"{BASE}{initiative.pk}/").json()["stakeholders"] == [patch.json()]

        assert client.delete(under(initiative, "stakeholders", pk)).status_code == 204
        assert stakeholders() == []

    def test_only_members_can_be_stakeholders_and_only_once(
        self, editor: Membership, viewer: Membership, outsider: Membership, initiative: Initiative
    ) -> None:
        client = token_client(editor)
        Stakeholder.objects.create(initiative=initiative, user=viewer.user, role="consulted")
        before = stakeholders()

        stranger = client.post(
            under(initiative, "stakeholders"), {"user": outsider.user.pk, "role": "sponsor"}
        )
        again = client.post(
            under(initiative, "stakeholders"), {"user": viewer.user.pk, "role": "sponsor"}
        )
        bad_role = client.post(
            under(initiative, "stakeholders"), {"user": editor.user.pk, "role": "boss"}
        )

        assert stranger.status_code == 400
        assert stranger.json() == {
            "user": [f'Invalid pk "{outsider.user.pk}" - object does not exist.']
        }
        assert again.status_code == 400
        assert again.json() == {"user": ["This person is already a stakeholder of it."]}
        assert bad_role.status_code == 400
        assert bad_role.json() == {"role": ['"boss" is not a valid choice.']}
        assert stakeholders() == before

    def test_a_stakeholder_stays_the_same_person(
        self, editor: Membership, viewer: Membership, initiative: Initiative
    ) -> None:
        stakeholder = Stakeholder.objects.create(
            initiative=initiative, user=viewer.user, role="consulted"
        )
        response = token_client(editor).patch(
            under(initiative, "stakeholders", stakeholder.pk), {"user": editor.user.pk}
        )
        assert response.status_code == 400
        assert response.json() == {
            "user": ["A stakeholder stays the same person: remove them and add the other person."]
        }
        assert stakeholders() == [(initiative.pk, viewer.user.pk, "consulted", "")]


# --- roles and budgets for the three ------------------------------------------------------------

PARTS = ["alignments", "expected-impacts", "stakeholders"]


@pytest.fixture
def parts(workspace: Workspace, initiative: Initiative, editor: Membership) -> dict[str, int]:
    return {
        "alignments": AlignmentFactory.create(initiative=initiative, weight=50).pk,
        "expected-impacts": ExpectedImpactFactory.create(initiative=initiative).pk,
        "stakeholders": Stakeholder.objects.create(
            initiative=initiative, user=editor.user, role="sponsor"
        ).pk,
    }


def everything() -> list[Any]:
    return [alignments(), impacts(), stakeholders()]


@pytest.mark.django_db
class TestRoles:
    @pytest.mark.parametrize("part", PARTS)
    @pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
    @pytest.mark.parametrize("who", ["viewer", "read_only"])
    def test_viewers_and_read_only_tokens_get_403(
        self,
        request: pytest.FixtureRequest,
        initiative: Initiative,
        parts: dict[str, int],
        part: str,
        method: str,
        who: str,
    ) -> None:
        if who == "viewer":
            client = token_client(request.getfixturevalue("viewer"))
            message = "Your role in this workspace is viewer; this needs an editor or admin."
        else:
            client = token_client(request.getfixturevalue("admin"), read_only=True)
            message = "This API token is read-only; it cannot change anything."
        url = under(initiative, part, None if method == "post" else parts[part])
        before = everything()

        response = getattr(client, method)(url, {"weight": 10, "role": "informed"})

        assert (response.status_code, response.json()) == (403, {"detail": message})
        assert everything() == before
        assert client.get(under(initiative, part, parts[part])).status_code == 200

    @pytest.mark.parametrize("part", PARTS)
    def test_outsiders_get_404_and_anonymous_401(
        self, outsider: Membership, initiative: Initiative, parts: dict[str, int], part: str
    ) -> None:
        before = everything()
        for client, code in ((token_client(outsider), 404), (APIClient(), 401)):
            assert client.get(under(initiative, part)).status_code == code
            assert client.post(under(initiative, part), {"weight": 1}).status_code == code
            assert client.delete(under(initiative, part, parts[part])).status_code == code
        assert everything() == before


# token lookup, token touch, the initiative, count, page
PART_LIST_QUERIES = 5


@pytest.mark.django_db
class TestQueryBudgets:
    @pytest.mark.parametrize("part", PARTS)
    def test_a_list_costs_the_same_queries_for_3_or_30_rows(
        self,
        viewer: Membership,
        workspace: Workspace,
        initiative: Initiative,
        django_assert_max_num_queries: Any,
        part: str,
    ) -> None:
        def add(n: int) -> None:
            for _ in range(n):
                if part == "alignments":
                    AlignmentFactory.create(initiative=initiative, weight=1)
                elif part == "expected-impacts":
                    ExpectedImpactFactory.create(initiative=initiative)
                else:
                    user = MembershipFactory.create(workspace=workspace).user
                    Stakeholder.objects.create(initiative=initiative, user=user, role="informed")

        add(3)
        reader = token_client(viewer)  # made outside: its creation is audited
        with CaptureQueriesContext(connection) as small:
            assert reader.get(under(initiative, part)).json()["count"] == 3
        add(27)
        client = token_client(viewer)
        with django_assert_max_num_queries(PART_LIST_QUERIES):
            body = client.get(under(initiative, part) + "?limit=500").json()
        assert body["count"] == len(body["results"]) == 30
        assert len(small) == PART_LIST_QUERIES
