"""Initiative services: alignments, expected impacts and ideas, refused in words."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership, Workspace
from initiatives.models import Alignment, ExpectedImpact, Idea, Initiative, Vote
from initiatives.services import (
    IdeaRefused,
    alignment_create,
    alignment_update,
    expected_impact_create,
    idea_decline,
    idea_promote,
    idea_review,
    idea_submit,
    idea_vote,
    initiative_create,
)
from tests.accounts.factories import TeamFactory
from tests.initiatives.factories import InitiativeFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory


@pytest.mark.django_db
class TestInitiatives:
    def test_a_new_initiative_is_proposed(self, workspace: Workspace, editor: Membership) -> None:
        initiative = initiative_create(
            workspace=workspace,
            title="Self-serve onboarding",
            owner=editor.user,
            effort_weeks=Decimal("6"),
            confidence=70,
        )
        assert initiative.status == "proposed"

    @pytest.mark.parametrize(
        ("fields", "errors"),
        [
            (
                {"confidence": 150},
                {"confidence": ["Ensure this value is less than or equal to 100."]},
            ),
            (
                {"effort_weeks": Decimal("-1")},
                {"effort_weeks": ["Ensure this value is greater than or equal to 0."]},
            ),
            ({"title": ""}, {"title": ["This field cannot be blank."]}),
            ({"impact": Decimal("4")}, {"impact": ["Value Decimal('4') is not a valid choice."]}),
        ],
    )
    def test_bad_fields_are_refused(
        self, workspace: Workspace, fields: dict[str, object], errors: dict[str, list[str]]
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            initiative_create(workspace=workspace, **{"title": "X", **fields})  # type: ignore[arg-type]
        assert {k: v for k, v in exc.value.message_dict.items() if k in errors} == errors
        assert not Initiative.objects.exists()

    def test_a_team_or_owner_from_another_workspace_is_refused(
        self, workspace: Workspace, other_workspace: Workspace, outsider: Membership
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            initiative_create(
                workspace=workspace,
                title="X",
                team=TeamFactory.create(workspace=other_workspace),
                owner=outsider.user,
            )
        assert exc.value.message_dict == {
            "team": ["The team is not in this workspace."],
            "owner": ["This person is not a member of this workspace."],
        }


@pytest.mark.django_db
class TestAlignments:
    def test_weights_add_up_to_at_most_100(self, workspace: Workspace) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        first = alignment_create(
            initiative=initiative, objective=ObjectiveFactory.create(workspace=workspace), weight=70
        )
        with pytest.raises(ValidationError) as exc:
            alignment_create(
                initiative=initiative,
                objective=ObjectiveFactory.create(workspace=workspace),
                weight=50,
            )
        assert exc.value.message_dict == {
            "weight": ["The weights of this initiative would add up to 120; at most 100."]
        }
        alignment_create(
            initiative=initiative, objective=ObjectiveFactory.create(workspace=workspace), weight=30
        )
        with pytest.raises(ValidationError, match="would add up to 101"):
            alignment_update(alignment=first, weight=71)
        assert sorted(Alignment.objects.values_list("weight", flat=True)) == [30, 70]

    def test_an_objective_of_another_workspace_is_refused(
        self, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            alignment_create(
                initiative=InitiativeFactory.create(workspace=workspace),
                objective=ObjectiveFactory.create(workspace=other_workspace),
            )
        assert exc.value.message_dict == {"objective": ["The objective is not in this workspace."]}
        assert not Alignment.objects.exists()

    def test_a_metric_of_another_workspace_is_refused(
        self, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            expected_impact_create(
                initiative=InitiativeFactory.create(workspace=workspace),
                metric=MetricFactory.create(workspace=other_workspace),
                expected_change=Decimal("10"),
            )
        assert exc.value.message_dict == {"metric": ["The metric is not in this workspace."]}
        assert not ExpectedImpact.objects.exists()


@pytest.mark.django_db
class TestIdeas:
    def test_anyone_submits_and_votes_once(self, workspace: Workspace, viewer: Membership) -> None:
        idea = idea_submit(
            workspace=workspace, by=viewer.user, title="  Slack alerts  ", source="customer"
        )
        assert idea.title == "Slack alerts"
        idea_vote(idea=idea, by=viewer.user)
        with pytest.raises(IdeaRefused) as exc:
            idea_vote(idea=idea, by=viewer.user)
        assert exc.value.detail == "You have already voted for this idea."
        assert Vote.objects.filter(idea=idea).count() == 1

    def test_promoting_makes_a_proposed_initiative_linked_both_ways(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = idea_submit(
            workspace=workspace,
            by=viewer.user,
            title="Slack alerts",
            description="When a KPI drops.",
        )
        initiative = idea_promote(idea=idea, by=editor.user)
        idea.refresh_from_db()
        assert (idea.status, idea.promoted_to) == ("promoted", initiative)
        assert (initiative.status, initiative.title, initiative.summary) == (
            "proposed",
            "Slack alerts",
            "When a KPI drops.",
        )
        assert initiative.source_idea == idea
        with pytest.raises(IdeaRefused, match="already an initiative"):
            idea_promote(idea=idea, by=editor.user)
        assert Initiative.objects.count() == 1

    def test_declining_needs_a_reason_and_a_declined_idea_is_not_promoted(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = idea_submit(workspace=workspace, by=viewer.user, title="Dark mode")
        with pytest.raises(ValidationError) as exc:
            idea_decline(idea=idea, by=editor.user, reason="  no  ")
        assert exc.value.message_dict == {
            "reason": ["Say why the idea is declined: at least 10 characters."]
        }
        declined = idea_decline(idea=idea, by=editor.user, reason="Not a value driver this year.")
        assert (declined.status, declined.decline_reason, declined.declined_by) == (
            "declined",
            "Not a value driver this year.",
            editor.user,
        )
        with pytest.raises(IdeaRefused, match="A declined idea cannot be promoted."):
            idea_promote(idea=idea, by=editor.user)
        with pytest.raises(IdeaRefused, match="it takes no votes"):
            idea_vote(idea=Idea.objects.get(pk=idea.pk), by=viewer.user)
        assert not Initiative.objects.exists()


@pytest.mark.django_db
class TestIdeaReview:
    def test_a_new_idea_goes_under_review_and_stays_open(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        # Given a new idea
        idea = idea_submit(workspace=workspace, by=viewer.user, title="Slack alerts")

        # When an editor starts its review
        reviewed = idea_review(idea=idea, by=editor.user)

        # Then it is under review, in the database too
        assert reviewed.status == "under_review"
        assert Idea.objects.get(pk=idea.pk).status == "under_review"
        # and it still takes votes, and can be promoted
        idea_vote(idea=reviewed, by=viewer.user)
        assert Vote.objects.filter(idea=idea).count() == 1
        initiative = idea_promote(idea=reviewed, by=editor.user)
        assert Idea.objects.get(pk=idea.pk).promoted_to == initiative

    def test_an_idea_under_review_can_be_declined(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = idea_submit(workspace=workspace, by=viewer.user, title="Dark mode")
        idea_review(idea=idea, by=editor.user)

        declined = idea_decline(idea=idea, by=editor.user, reason="Not a value driver this year.")

        assert declined.status == "declined"

    @pytest.mark.parametrize(
        ("before", "refusal"),
        [
            ("under_review", "This idea is already under review."),
            ("promoted", "This idea is already an initiative; there is nothing left to review."),
            ("declined", "This idea is declined; it is not reviewed any more."),
        ],
    )
    def test_only_a_new_idea_goes_under_review(
        self,
        workspace: Workspace,
        viewer: Membership,
        editor: Membership,
        before: str,
        refusal: str,
    ) -> None:
        # Given an idea under review, promoted or declined
        idea = idea_submit(workspace=workspace, by=viewer.user, title="Slack alerts")
        if before == "under_review":
            idea_review(idea=idea, by=editor.user)
        elif before == "promoted":
            idea_promote(idea=idea, by=editor.user)
        else:
            idea_decline(idea=idea, by=editor.user, reason="Not a value driver this year.")

        # When someone starts its review, it is refused in words and nothing changes
        with pytest.raises(IdeaRefused) as exc:
            idea_review(idea=idea, by=editor.user)
        assert exc.value.detail == refusal
        assert Idea.objects.get(pk=idea.pk).status == before
