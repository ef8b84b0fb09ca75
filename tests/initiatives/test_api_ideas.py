"""Ideas through the API: anyone in the workspace (viewers too) submits and votes, once per
person; the submitter, an editor or an admin changes an open idea; editors promote it to
an initiative or decline it with a reason. Refusals in words, nothing written."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from initiatives.models import Idea, Initiative, Vote
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory
from tests.conftest import token_client
from tests.initiatives.test_api_openapi import W, schema

BASE = "/api/v1/workspaces/acme/"
IDEAS = BASE + "ideas/"
REASON = "Not our market this year."


def detail(idea: Idea | int, action: str = "") -> str:
    pk = idea if isinstance(idea, int) else idea.pk
    return f"{IDEAS}{pk}/" + (f"{action}/" if action else "")


def idea_of(membership: Membership, title: str = "Invoices by e-mail", **fields: Any) -> Idea:
    return Idea.objects.create(
        workspace=membership.workspace, submitted_by=membership.user, title=title, **fields
    )


def ideas() -> list[tuple[Any, ...]]:
    return list(
        Idea.objects.order_by("id").values_list(
            "title", "description", "source", "status", "decline_reason", "promoted_to_id"
        )
    )


@pytest.mark.django_db
class TestSubmitAndVote:
    def test_a_viewer_submits_an_idea_and_votes_for_it_once(
        self, viewer: Membership, editor: Membership
    ) -> None:
        client = token_client(viewer)

        # when a viewer submits an idea
        created = client.post(
            IDEAS,
            {
                "title": "  Invoices by e-mail  ",
                "description": "Finance asks every month.",
                "source": "sales",
            },
        )

        # then it is new, theirs, without votes
        assert created.status_code == 201, created.json()
        body = created.json()
        pk = body["id"]
        assert isinstance(body.pop("created_at"), str)
        assert body == {
            "id": pk,
            "title": "Invoices by e-mail",
            "description": "Finance asks every month.",
            "source": "sales",
            "status": "new",
            "submitted_by": viewer.user.pk,
            "votes": 0,
            "voted": False,
            "decline_reason": "",
            "declined_by": None,
            "declined_at": None,
            "revisit_on": None,
            "promoted_to": None,
        }

        # when they vote, the count and their mark follow
        voted = client.post(detail(pk, "vote"))
        assert voted.status_code == 201, voted.json()
        assert (voted.json()["votes"], voted.json()["voted"]) == (1, True)

        # a second vote is refused and not counted
        again = client.post(detail(pk, "vote"))
        assert again.status_code == 409
        assert again.json() == {"detail": "You have already voted for this idea."}
        assert Vote.objects.count() == 1

        # someone else sees the vote, but not as theirs, and adds their own
        other = token_client(editor)
        assert (other.get(detail(pk)).json()["votes"], other.get(detail(pk)).json()["voted"]) == (
            1,
            False,
        )
        assert other.post(detail(pk, "vote")).json()["votes"] == 2

        # when the viewer takes the vote back
        back = client.delete(detail(pk, "vote"))
        assert back.status_code == 200, back.json()
        assert (back.json()["votes"], back.json()["voted"]) == (1, False)
        twice = client.delete(detail(pk, "vote"))
        assert twice.status_code == 409
        assert twice.json() == {"detail": "You have not voted for this idea."}
        assert list(Vote.objects.values_list("user_id", flat=True)) == [editor.user.pk]

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"title": ""}, {"title": ["This field may not be blank."]}),
            ({"title": "   "}, {"title": ["This field may not be blank."]}),
            (
                {"title": "x" * 201},
                {"title": ["Ensure this field has no more than 200 characters."]},
            ),
            ({"source": "rumour"}, {"source": ['"rumour" is not a valid choice.']}),
            ({"description": ["a"]}, {"description": ["Not a valid string."]}),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(
        self, viewer: Membership, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = token_client(viewer).post(IDEAS, {"title": "Idea", **body})
        assert response.status_code == 400
        assert response.json() == errors
        assert ideas() == []

    def test_status_and_votes_cannot_be_written(self, viewer: Membership) -> None:
        response = token_client(viewer).post(
            IDEAS, {"title": "Idea", "status": "promoted", "votes": 100, "promoted_to": 1}
        )
        assert response.status_code == 201, response.json()
        assert (response.json()["status"], response.json()["votes"]) == ("new", 0)
        assert ideas() == [("Idea", "", "other", "new", "", None)]

    @pytest.mark.parametrize("status", ["promoted", "declined"])
    def test_a_closed_idea_takes_no_votes(
        self, viewer: Membership, editor: Membership, workspace: Workspace, status: str
    ) -> None:
        fields: dict[str, Any] = {"status": status}
        if status == "promoted":
            fields["promoted_to"] = Initiative.objects.create(workspace=workspace, title="I")
        idea = idea_of(editor, **fields)
        response = token_client(viewer).post(detail(idea, "vote"))
        assert response.status_code == 409
        assert response.json() == {"detail": f"This idea is {status}; it takes no votes."}
        assert not Vote.objects.exists()

    @pytest.mark.parametrize("method", ["post", "delete"])
    def test_a_read_only_token_neither_submits_nor_votes(
        self, viewer: Membership, method: str
    ) -> None:
        idea = idea_of(viewer)
        client = token_client(viewer, read_only=True)
        if method == "post":
            assert client.post(IDEAS, {"title": "Planted"}).status_code == 403
        response = getattr(client, method)(detail(idea, "vote"))
        assert response.status_code == 403
        assert response.json() == {
            "detail": "This API token is read-only; it cannot change anything."
        }
        assert ideas() == [("Invoices by e-mail", "", "other", "new", "", None)]
        assert not Vote.objects.exists()

    def test_outsiders_get_404_and_anonymous_401(
        self, viewer: Membership, outsider: Membership
    ) -> None:
        idea = idea_of(viewer)
        for client, code in ((token_client(outsider), 404), (APIClient(), 401)):
            assert client.get(IDEAS).status_code == code
            assert client.post(IDEAS, {"title": "Planted"}).status_code == code
            assert client.post(detail(idea, "vote")).status_code == code
            assert client.patch(detail(idea), {"title": "Planted"}).status_code == code
        assert ideas() == [("Invoices by e-mail", "", "other", "new", "", None)]
        assert not Vote.objects.exists()

    def test_an_idea_of_another_workspace_is_not_found(
        self, viewer: Membership, outsider: Membership
    ) -> None:
        foreign = idea_of(outsider, title="Theirs")
        client = token_client(viewer)
        assert client.get(detail(foreign)).status_code == 404
        assert client.post(detail(foreign, "vote")).status_code == 404
        assert client.patch(detail(foreign), {"title": "Planted"}).status_code == 404
        assert not Vote.objects.exists()
        assert Idea.objects.get().title == "Theirs"


@pytest.mark.django_db
class TestChangeAndDelete:
    def test_the_submitter_changes_and_deletes_their_own_idea(self, viewer: Membership) -> None:
        idea = idea_of(viewer)
        client = token_client(viewer)
        patch = client.patch(detail(idea), {"description": "Monthly.", "source": "customer"})
        assert patch.status_code == 200, patch.json()
        assert (patch.json()["description"], patch.json()["source"]) == ("Monthly.", "customer")
        assert client.delete(detail(idea)).status_code == 204
        assert ideas() == []

    def test_another_viewer_may_not_change_or_delete_it(
        self, viewer: Membership, workspace: Workspace
    ) -> None:
        idea = idea_of(viewer)
        other_viewer = MembershipFactory.create(workspace=workspace, role="viewer")
        client = token_client(other_viewer)
        message = {
            "detail": "Only the person who submitted this idea, or an editor or admin, can "
            "change it."
        }
        patched = client.patch(detail(idea), {"title": "Hijacked"})
        deleted = client.delete(detail(idea))
        assert (patched.status_code, patched.json()) == (403, message)
        assert (deleted.status_code, deleted.json()) == (403, message)
        assert ideas() == [("Invoices by e-mail", "", "other", "new", "", None)]

    @pytest.mark.parametrize("role", ["editor", "admin"])
    def test_editors_and_admins_change_and_delete_anyones_idea(
        self, request: pytest.FixtureRequest, viewer: Membership, role: str
    ) -> None:
        idea = idea_of(viewer)
        client = token_client(request.getfixturevalue(role))
        assert client.patch(detail(idea), {"title": "E-mailed invoices"}).status_code == 200
        assert ideas()[0][0] == "E-mailed invoices"
        assert client.delete(detail(idea)).status_code == 204
        assert ideas() == []

    @pytest.mark.parametrize("status", ["promoted", "declined"])
    def test_a_closed_idea_is_part_of_the_record(
        self, editor: Membership, workspace: Workspace, status: str
    ) -> None:
        fields: dict[str, Any] = {"status": status}
        if status == "promoted":
            fields["promoted_to"] = Initiative.objects.create(workspace=workspace, title="I")
        idea = idea_of(editor, **fields)
        client = token_client(editor)
        before = ideas()
        message = {
            "detail": f"This idea is {status}; it is part of the record and does not change "
            "any more."
        }
        patched = client.patch(detail(idea), {"title": "Rewritten"})
        deleted = client.delete(detail(idea))
        assert (patched.status_code, patched.json()) == (409, message)
        assert (deleted.status_code, deleted.json()) == (409, message)
        assert ideas() == before


@pytest.mark.django_db
class TestPromoteAndDecline:
    def test_an_editor_promotes_an_idea_to_a_proposed_initiative(
        self, viewer: Membership, editor: Membership
    ) -> None:
        idea = idea_of(viewer, description="Finance asks every month.")
        client = token_client(editor)

        response = client.post(detail(idea, "promote"))

        assert response.status_code == 201, response.json()
        initiative = Initiative.objects.get()
        url = f"http://testserver/api/v1/workspaces/acme/initiatives/{initiative.pk}/"
        assert response.json() == {"id": initiative.pk, "url": url}
        assert response["Location"] == url
        assert (
            initiative.title,
            initiative.summary,
            initiative.status,
            initiative.owner,
        ) == ("Invoices by e-mail", "Finance asks every month.", "proposed", editor.user)
        read = client.get(detail(idea)).json()
        assert (read["status"], read["promoted_to"]) == ("promoted", initiative.pk)
        assert client.get(url).json()["title"] == "Invoices by e-mail"

        # a second promotion is refused, and makes no second initiative
        again = client.post(detail(idea, "promote"))
        assert again.status_code == 409
        assert again.json() == {"detail": "This idea is already an initiative."}
        assert Initiative.objects.count() == 1

    def test_an_editor_declines_an_idea_with_a_reason_and_a_revisit_date(
        self, viewer: Membership, editor: Membership, workspace: Workspace
    ) -> None:
        idea = idea_of(viewer)
        revisit_on = (workspace_today(workspace) + timedelta(days=90)).isoformat()
        client = token_client(editor)

        response = client.post(
            detail(idea, "decline"), {"reason": f"  {REASON}  ", "revisit_on": revisit_on}
        )

        assert response.status_code == 200, response.json()
        body = response.json()
        assert (
            body["status"],
            body["decline_reason"],
            body["declined_by"],
            body["revisit_on"],
        ) == ("declined", REASON, editor.user.pk, revisit_on)
        assert isinstance(body["declined_at"], str)

        again = client.post(detail(idea, "decline"), {"reason": REASON})
        assert again.status_code == 409
        assert again.json() == {"detail": "This idea is already declined."}

    def test_promoting_a_declined_idea_is_refused_and_writes_nothing(
        self, viewer: Membership, editor: Membership
    ) -> None:
        idea = idea_of(viewer, status="declined", decline_reason=REASON)
        before = ideas()
        response = token_client(editor).post(detail(idea, "promote"))
        assert response.status_code == 409
        assert response.json() == {"detail": "A declined idea cannot be promoted."}
        assert not Initiative.objects.exists()
        assert ideas() == before

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"reason": ["This field is required."]}),
            (
                {"reason": "No."},
                {"reason": ["Say why the idea is declined: at least 10 characters."]},
            ),
            (
                {"reason": "          "},
                {"reason": ["Say why the idea is declined: at least 10 characters."]},
            ),
            (
                {"reason": REASON, "revisit_on": "2020-01-01"},
                {"revisit_on": ["A revisit date is in the future."]},
            ),
            (
                {"reason": REASON, "revisit_on": "someday"},
                {
                    "revisit_on": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                },
            ),
        ],
    )
    def test_a_decline_without_a_good_reason_is_refused(
        self,
        viewer: Membership,
        editor: Membership,
        body: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        idea = idea_of(viewer)
        response = token_client(editor).post(detail(idea, "decline"), body)
        assert response.status_code == 400
        assert response.json() == errors
        assert ideas() == [("Invoices by e-mail", "", "other", "new", "", None)]

    @pytest.mark.parametrize("action", ["review", "promote", "decline"])
    def test_viewers_neither_review_promote_nor_decline(
        self, viewer: Membership, action: str
    ) -> None:
        idea = idea_of(viewer)
        response = token_client(viewer).post(detail(idea, action), {"reason": REASON})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Your role in this workspace is viewer; this needs an editor or admin."
        }
        assert ideas() == [("Invoices by e-mail", "", "other", "new", "", None)]
        assert not Initiative.objects.exists()


@pytest.mark.django_db
class TestReview:
    def test_an_editor_puts_a_new_idea_under_review_and_it_stays_open(
        self, viewer: Membership, editor: Membership
    ) -> None:
        # Given a new idea
        idea = idea_of(viewer)
        client = token_client(editor)

        # When an editor starts its review
        response = client.post(detail(idea, "review"))

        # Then it answers the idea, under review
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["id"], body["status"], body["votes"]) == (idea.pk, "under_review", 0)
        assert client.get(detail(idea)).json()["status"] == "under_review"
        # it still takes votes, and the status filter finds it
        voted = token_client(viewer).post(detail(idea, "vote"))
        assert (voted.status_code, voted.json()["votes"]) == (201, 1)
        listed = client.get(IDEAS + "?status=under_review").json()["results"]
        assert [(i["title"], i["status"]) for i in listed] == [
            ("Invoices by e-mail", "under_review")
        ]
        # a second review is refused in words
        again = client.post(detail(idea, "review"))
        assert again.status_code == 409
        assert again.json() == {"detail": "This idea is already under review."}
        # and it is promoted from there
        promoted = client.post(detail(idea, "promote"))
        assert promoted.status_code == 201, promoted.json()
        assert client.get(detail(idea)).json()["status"] == "promoted"

    def test_an_idea_under_review_is_declined(self, viewer: Membership, admin: Membership) -> None:
        idea = idea_of(viewer, status="under_review")
        response = token_client(admin).post(detail(idea, "decline"), {"reason": REASON})
        assert response.status_code == 200, response.json()
        assert (response.json()["status"], response.json()["decline_reason"]) == (
            "declined",
            REASON,
        )

    @pytest.mark.parametrize(
        ("status", "refusal"),
        [
            ("promoted", "This idea is already an initiative; there is nothing left to review."),
            ("declined", "This idea is declined; it is not reviewed any more."),
        ],
    )
    def test_a_closed_idea_is_not_reviewed(
        self, editor: Membership, workspace: Workspace, status: str, refusal: str
    ) -> None:
        fields: dict[str, Any] = {"status": status}
        if status == "promoted":
            fields["promoted_to"] = Initiative.objects.create(workspace=workspace, title="I")
        idea = idea_of(editor, **fields)
        before = ideas()

        response = token_client(editor).post(detail(idea, "review"))

        assert response.status_code == 409
        assert response.json() == {"detail": refusal}
        assert ideas() == before

    def test_an_idea_of_another_workspace_is_not_found(
        self, editor: Membership, outsider: Membership
    ) -> None:
        foreign = idea_of(outsider, title="Theirs")
        response = token_client(editor).post(detail(foreign, "review"))
        assert response.status_code == 404
        assert Idea.objects.get().status == "new"

    def test_a_read_only_editor_token_does_not_review(self, editor: Membership) -> None:
        idea = idea_of(editor)
        response = token_client(editor, read_only=True).post(detail(idea, "review"))
        assert response.status_code == 403
        assert Idea.objects.get().status == "new"

    def test_the_review_is_in_the_openapi_schema(self) -> None:
        operation = schema()["paths"][W + "ideas/{id}/review/"]["post"]
        assert "under review" in operation["description"]
        json = "application/json"
        assert operation["responses"]["200"]["content"][json]["schema"] == {
            "$ref": "#/components/schemas/Idea"
        }
        assert operation["responses"]["409"]["description"]
        assert operation["responses"]["409"]["content"][json]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert "requestBody" not in operation


@pytest.mark.django_db
class TestListing:
    def test_filters_and_ordering_by_votes(
        self, viewer: Membership, editor: Membership, workspace: Workspace
    ) -> None:
        quiet = idea_of(viewer, title="Quiet", source="support")
        loud = idea_of(viewer, title="Loud", source="sales")
        dropped = idea_of(viewer, title="Dropped", source="sales", status="declined")
        for _ in range(3):
            Vote.objects.create(idea=loud, user=MembershipFactory.create(workspace=workspace).user)
        Vote.objects.create(idea=quiet, user=viewer.user)
        client = token_client(viewer)

        def listed(query: str) -> list[tuple[str, int, bool]]:
            response = client.get(IDEAS + query)
            assert response.status_code == 200, response.json()
            return [(i["title"], i["votes"], i["voted"]) for i in response.json()["results"]]

        assert listed("") == [("Dropped", 0, False), ("Loud", 3, False), ("Quiet", 1, True)]
        assert listed("?ordering=-votes") == [
            ("Loud", 3, False),
            ("Quiet", 1, True),
            ("Dropped", 0, False),
        ]
        assert listed("?source=sales&ordering=title") == [("Dropped", 0, False), ("Loud", 3, False)]
        assert listed("?status=new&status=under_review") == [("Loud", 3, False), ("Quiet", 1, True)]
        assert listed(f"?status=declined&source={dropped.source}") == [("Dropped", 0, False)]
        bad = client.get(IDEAS + "?ordering=popularity")
        assert bad.status_code == 400
        assert bad.json() == {
            "ordering": ["Select a valid choice. popularity is not one of the available choices."]
        }

    def test_the_list_costs_the_same_queries_for_3_or_30_ideas(
        self, viewer: Membership, workspace: Workspace, django_assert_max_num_queries: Any
    ) -> None:
        voters = [MembershipFactory.create(workspace=workspace).user for _ in range(3)]

        def add(n: int) -> None:
            for i in range(n):
                idea = idea_of(viewer, title=f"Idea {i}")
                for voter in voters[: i % 4]:
                    Vote.objects.create(idea=idea, user=voter)
                if i % 2:
                    Vote.objects.create(idea=idea, user=viewer.user)

        add(3)
        reader = token_client(viewer)  # made outside: its creation is audited
        with CaptureQueriesContext(connection) as small:
            assert reader.get(IDEAS).json()["count"] == 3
        add(27)
        client = token_client(viewer)
        # token lookup, token touch, count, page (votes and "voted" are in the page's query)
        with django_assert_max_num_queries(4):
            body = client.get(IDEAS + "?limit=500").json()
        assert len(body["results"]) == 30
        # first 3: 0 + 1 + 2 voters and the viewer once; then 27: Σ i mod 4 = 39 voters and
        # the viewer on the 13 odd ones
        assert sum(i["votes"] for i in body["results"]) == 4 + 39 + 13
        assert sum(i["voted"] for i in body["results"]) == 1 + 13
        assert len(small) == 4  # the same four with 3 ideas
