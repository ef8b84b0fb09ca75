"""The ideas page and the Not doing page through Django's test client: submitting, voting
(in place with htmx), promoting and declining ideas, and reading what was declined, with
who may do what and how many queries each page reads."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from initiatives.idea_views import CANCELLED_PREVIEW, IDEAS_PER_PAGE, NOT_DOING_PER_PAGE
from initiatives.models import (
    Decision,
    DecisionKind,
    Idea,
    IdeaStatus,
    Initiative,
    Status,
    Vote,
)
from initiatives.services import idea_decline, initiative_transition
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.initiatives.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

# Session, user, membership and the header's workspace switcher, then the page's own reads:
# ideas — the page of ideas with votes, its COUNT, the counts by status;
# not doing — the page of rows (one UNION), its COUNT, two headline counts, the rows of the
# cancelled preview, then the initiatives of both, their latest decisions, and the ideas.
# None of them grows with the data.
IDEAS_PAGE_QUERIES = 7
NOT_DOING_PAGE_QUERIES = 12

HTMX = {"HX-Request": "true"}


def client_for(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def text_of(response: Any) -> str:
    """The page as words: tags dropped, entities of quotes and dashes kept as they are."""
    html = response.content.decode()
    html = re.sub(r"<script\b[^>]*>.*?</script>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


def titles_in_order(response: Any) -> list[str]:
    return re.findall(r'data-testid="idea-title">([^<]+)<', response.content.decode())


def entry_titles(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", t).strip()
        for t in re.findall(r'data-testid="entry-title">(.*?)</h3>', html, flags=re.S)
    ]


def make_idea(workspace: Workspace, by: User | None, title: str, **fields: Any) -> Idea:
    return Idea.objects.create(workspace=workspace, submitted_by=by, title=title, **fields)


def add_votes(idea: Idea, count: int) -> None:
    voters = UserFactory.create_batch(count)
    Vote.objects.bulk_create(Vote(idea=idea, user=u) for u in voters)


def declined_initiative(
    workspace: Workspace,
    title: str,
    *,
    by: User | None,
    rationale: str,
    at: datetime,
    revisit_on: Any = None,
    status: str = Status.DECLINED,
) -> Initiative:
    """An initiative declined (or cancelled) at `at`, with the Decision a transition writes."""
    initiative = InitiativeFactory.create(workspace=workspace, title=title, status=status)
    Decision.objects.create(
        workspace=workspace,
        initiative=initiative,
        kind=DecisionKind.DECLINE if status == Status.DECLINED else DecisionKind.CANCEL,
        from_status=Status.DISCOVERY if status == Status.DECLINED else Status.IN_DELIVERY,
        to_status=status,
        rationale=rationale,
        decided_by=by,
        decided_at=at,
        revisit_on=revisit_on,
    )
    return initiative


def idea_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Export reports to Excel",
        "description": "Finance pastes every report into a spreadsheet by hand.",
        "source": "customer",
    }
    return data | overrides


# --- the ideas page ----------------------------------------------------------------------------


class TestIdeasPage:
    def test_a_viewer_submits_an_idea_and_finds_it_in_the_list(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        client = client_for(viewer)

        response = client.post("/w/acme/ideas/", idea_post())

        idea = Idea.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/w/acme/ideas/#idea-{idea.pk}"
        assert idea.submitted_by == viewer.user
        assert idea.source == "customer"
        assert idea.status == IdeaStatus.NEW
        text = text_of(client.get("/w/acme/ideas/"))
        assert "Thanks — your idea “Export reports to Excel” is in the list." in text
        assert "Finance pastes every report into a spreadsheet by hand." in text
        assert "Customer" in text
        assert f"Submitted by {viewer.user.display_name}" in text
        assert "just now" in text
        assert "0 votes" in text
        assert "New" in text

    def test_each_idea_shows_its_age(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode")
        Idea.objects.filter(pk=idea.pk).update(created_at=timezone.now() - timedelta(days=3))

        text = text_of(client_for(viewer).get("/w/acme/ideas/"))

        assert "3 days ago" in text
        assert f"Submitted by {editor.user.display_name}" in text

    @pytest.mark.parametrize(
        ("overrides", "field_error"),
        [
            ({"title": "   "}, "This field is required."),
            ({"title": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
            ({"source": "twitter"}, "Select a valid choice. twitter is not one of the available"),
        ],
    )
    def test_bad_input_is_a_form_error_and_nothing_is_written(
        self,
        workspace: Workspace,
        viewer: Membership,
        overrides: dict[str, str],
        field_error: str,
    ) -> None:
        response = client_for(viewer).post("/w/acme/ideas/", idea_post(**overrides))

        assert response.status_code == 200
        assert field_error in text_of(response)
        assert 'class="field field--error' in response.content.decode()
        assert Idea.objects.count() == 0

    def test_ideas_are_sorted_by_votes_then_newest(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        now = timezone.now()
        for title, votes, days_old in [
            ("Old and unloved", 0, 9),
            ("Two votes", 2, 8),
            ("One vote, older", 1, 7),
            ("One vote, newer", 1, 1),
            ("Brand new", 0, 0),
        ]:
            idea = make_idea(workspace, viewer.user, title)
            Idea.objects.filter(pk=idea.pk).update(created_at=now - timedelta(days=days_old))
            add_votes(idea, votes)

        response = client_for(viewer).get("/w/acme/ideas/")

        assert titles_in_order(response) == [
            "Two votes",
            "One vote, newer",
            "One vote, older",
            "Brand new",
            "Old and unloved",
        ]
        assert "2 votes" in text_of(response)
        assert "1 vote " in text_of(response)

    def test_filters_by_status_and_source(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        make_idea(workspace, viewer.user, "Sales wants SSO", source="sales")
        make_idea(workspace, viewer.user, "Support wants macros", source="support")
        declined = make_idea(workspace, viewer.user, "Sales wants a fax export", source="sales")
        idea_decline(idea=declined, by=editor.user, reason="Nobody has a fax machine any more.")
        client = client_for(viewer)

        assert titles_in_order(client.get("/w/acme/ideas/?source=sales")) == [
            "Sales wants a fax export",
            "Sales wants SSO",
        ]
        assert titles_in_order(client.get("/w/acme/ideas/?status=declined")) == [
            "Sales wants a fax export"
        ]
        assert titles_in_order(client.get("/w/acme/ideas/?status=new&source=sales")) == [
            "Sales wants SSO"
        ]
        # An unknown status is ignored; the good source still filters
        assert titles_in_order(client.get("/w/acme/ideas/?status=nope&source=support")) == [
            "Support wants macros"
        ]
        response = client.get("/w/acme/ideas/?status=promoted")
        assert "No ideas match these filters" in text_of(response)
        # The status tabs count every idea of each status
        text = text_of(response)
        assert "All 3" in text
        assert "New 2" in text
        assert "Declined 1" in text

    def test_the_empty_page_invites_the_first_idea(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        response = client_for(viewer).get("/w/acme/ideas/")

        text = text_of(response)
        assert "No ideas yet — bring the first one" in text
        assert "Submit idea" in text
        assert 'data-testid="idea-list"' not in response.content.decode()

    def test_ideas_of_another_workspace_are_not_listed(
        self, workspace: Workspace, other_workspace: Workspace, viewer: Membership
    ) -> None:
        make_idea(other_workspace, None, "Globex secret plan")

        text = text_of(client_for(viewer).get("/w/acme/ideas/"))

        assert "Globex secret plan" not in text
        assert "No ideas yet" in text

    def test_pages_of_fifty(self, workspace: Workspace, viewer: Membership) -> None:
        now = timezone.now()
        Idea.objects.bulk_create(
            Idea(workspace=workspace, title=f"Idea {n:02d}", created_at=now) for n in range(55)
        )
        client = client_for(viewer)

        first = client.get("/w/acme/ideas/?source=other")
        second = client.get("/w/acme/ideas/?source=other&page=2")

        assert len(titles_in_order(first)) == IDEAS_PER_PAGE == 50
        assert len(titles_in_order(second)) == 5
        assert "Showing 1–50 of 55 ideas" in text_of(first)
        assert "?source=other&amp;page=2" in first.content.decode()
        assert set(titles_in_order(first)).isdisjoint(titles_in_order(second))

    @pytest.mark.parametrize("size", [5, 60])
    def test_the_page_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        editor: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        # Given `size` ideas by different people, each with votes (the viewer's among them),
        # some promoted to an initiative and some declined
        voters = UserFactory.create_batch(3)
        for n in range(size):
            submitter = UserFactory.create()
            MembershipFactory.create(user=submitter, workspace=workspace, role=Role.VIEWER)
            idea = make_idea(workspace, submitter, f"Idea {n}", description=f"Because {n}.")
            Vote.objects.bulk_create(
                Vote(idea=idea, user=u) for u in [*voters[: n % 4], viewer.user][: n % 5]
            )
            if n % 3 == 1:
                initiative = InitiativeFactory.create(workspace=workspace, title=f"Bet {n}")
                Idea.objects.filter(pk=idea.pk).update(
                    status=IdeaStatus.PROMOTED, promoted_to=initiative
                )
            elif n % 3 == 2:
                idea_decline(idea=idea, by=editor.user, reason=f"Not now, because {n}.")
        client = client_for(editor)

        with django_assert_max_num_queries(IDEAS_PAGE_QUERIES):
            response = client.get("/w/acme/ideas/")

        assert response.status_code == 200
        shown = min(size, IDEAS_PER_PAGE)
        assert len(titles_in_order(response)) == shown
        assert text_of(response).count("Submitted by ") == shown
        # Every idea shown says what became of it, or offers the editor to decide
        text, html = text_of(response), response.content.decode()
        promoted = text.count("Became the initiative Bet ")
        declined = text.count("On the Not doing page")
        still_open = html.count(">Promote</button>")
        assert promoted > 0
        assert declined > 0
        assert still_open > 0
        assert promoted + declined + still_open == shown


class TestVoting:
    def test_a_vote_with_htmx_answers_the_vote_box_with_the_new_count(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode")
        add_votes(idea, 2)

        response = client_for(viewer).post(f"/w/acme/ideas/{idea.pk}/vote/", headers=HTMX)

        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html  # only the vote box, swapped in place
        assert f'id="vote-{idea.pk}"' in html
        assert 'data-testid="vote-count">3<' in html
        text = text_of(response)
        assert "3 votes" in text
        assert "Thanks for your vote." in text
        assert "Voted" in text
        assert Vote.objects.filter(idea=idea, user=viewer.user).exists()

    def test_a_second_vote_says_so_in_words_and_is_not_counted(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode")
        client = client_for(viewer)
        client.post(f"/w/acme/ideas/{idea.pk}/vote/", headers=HTMX)

        response = client.post(f"/w/acme/ideas/{idea.pk}/vote/", headers=HTMX)

        assert response.status_code == 200
        assert "You have already voted for this idea." in text_of(response)
        assert 'data-testid="vote-count">1<' in response.content.decode()
        assert Vote.objects.filter(idea=idea).count() == 1

    def test_a_vote_without_javascript_returns_to_the_page_with_a_message(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode", source="support")
        client = client_for(viewer)

        response = client.post(
            f"/w/acme/ideas/{idea.pk}/vote/", {"next": "/w/acme/ideas/?source=support"}
        )

        assert response.status_code == 302
        assert response["Location"] == "/w/acme/ideas/?source=support"
        page = client.get(response["Location"])
        assert "“Dark mode”: Thanks for your vote." in text_of(page)
        assert 'data-testid="vote-count">1<' in page.content.decode()
        assert 'aria-pressed="true"' in page.content.decode()

    def test_a_vote_never_returns_to_another_host(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        idea = make_idea(workspace, viewer.user, "Dark mode")

        response = client_for(viewer).post(
            f"/w/acme/ideas/{idea.pk}/vote/", {"next": "https://evil.example/"}
        )

        assert response["Location"] == f"/w/acme/ideas/#idea-{idea.pk}"

    def test_a_declined_idea_takes_no_vote_and_shows_no_vote_button(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        idea = make_idea(workspace, viewer.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")
        client = client_for(viewer)

        response = client.post(f"/w/acme/ideas/{idea.pk}/vote/", headers=HTMX)

        assert "This idea is declined; it takes no votes." in text_of(response)
        assert not Vote.objects.exists()
        page = client.get("/w/acme/ideas/")
        assert "Vote for Fax export" not in page.content.decode()
        assert f"/ideas/{idea.pk}/vote/" not in page.content.decode()

    def test_a_vote_for_another_workspaces_idea_is_404(
        self, workspace: Workspace, other_workspace: Workspace, viewer: Membership
    ) -> None:
        foreign = make_idea(other_workspace, None, "Globex idea")

        response = client_for(viewer).post(f"/w/acme/ideas/{foreign.pk}/vote/", headers=HTMX)

        assert response.status_code == 404
        assert not Vote.objects.exists()

    def test_only_post_votes(self, workspace: Workspace, viewer: Membership) -> None:
        idea = make_idea(workspace, viewer.user, "Dark mode")

        assert client_for(viewer).get(f"/w/acme/ideas/{idea.pk}/vote/").status_code == 405
        assert not Vote.objects.exists()


class TestPromoteAndDecline:
    def test_a_viewer_sees_no_promote_or_decline_and_is_refused(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        idea = make_idea(workspace, viewer.user, "Dark mode")
        client = client_for(viewer)

        page = client.get("/w/acme/ideas/")
        assert ">Promote<" not in page.content.decode()
        assert ">Decline<" not in page.content.decode()
        assert "Vote for Dark mode" in page.content.decode()

        assert client.post(f"/w/acme/ideas/{idea.pk}/promote/").status_code == 403
        assert client.get(f"/w/acme/ideas/{idea.pk}/decline/").status_code == 403
        response = client.post(
            f"/w/acme/ideas/{idea.pk}/decline/", {"reason": "Viewers cannot decide this."}
        )
        assert response.status_code == 403
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.NEW
        assert idea.decline_reason == ""
        assert not Initiative.objects.exists()

    def test_an_editor_promotes_an_idea_to_a_proposed_initiative(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        idea = make_idea(
            workspace, viewer.user, "Dark mode", description="Eyes hurt at night.", source="sales"
        )
        client = client_for(editor)

        response = client.post(f"/w/acme/ideas/{idea.pk}/promote/")

        initiative = Initiative.objects.get()
        assert initiative.title == "Dark mode"
        assert initiative.summary == "Eyes hurt at night."
        assert initiative.status == Status.PROPOSED
        assert initiative.owner == editor.user
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.PROMOTED
        assert idea.promoted_to == initiative
        try:
            expected = reverse("initiatives:detail", args=["acme", initiative.pk])
        except NoReverseMatch:  # the initiative pages are not there yet
            expected = f"/w/acme/ideas/#idea-{idea.pk}"
        assert response.status_code == 302
        assert response["Location"] == expected
        # And the editor is told, and the ideas page says what became of it to everyone,
        # and offers it no vote any more
        assert "“Dark mode” is now a proposed initiative, with you as its owner." in text_of(
            client.get("/w/acme/ideas/")
        )
        page = client_for(viewer).get("/w/acme/ideas/")
        text = text_of(page)
        assert "Became the initiative Dark mode" in text
        assert "Promoted" in text
        assert f"/ideas/{idea.pk}/vote/" not in page.content.decode()
        if expected.startswith("/w/acme/initiatives/"):
            assert f'href="{expected}"' in page.content.decode()

    def test_promoting_twice_says_so_and_writes_one_initiative(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode")
        client = client_for(editor)
        client.post(f"/w/acme/ideas/{idea.pk}/promote/")

        response = client.post(f"/w/acme/ideas/{idea.pk}/promote/", follow=True)

        assert "“Dark mode”: This idea is already an initiative." in text_of(response)
        assert Initiative.objects.count() == 1

    def test_an_editor_declines_an_idea_with_a_reason_and_a_revisit_date(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        idea = make_idea(workspace, viewer.user, "Fax export", source="sales")
        add_votes(idea, 2)
        revisit = workspace_today(workspace) + timedelta(days=90)
        client = client_for(editor)

        form = client.get(f"/w/acme/ideas/{idea.pk}/decline/?next=/w/acme/ideas/%3Fsource%3Dsales")
        assert form.status_code == 200
        assert "Fax export" in text_of(form)
        assert "2 votes" in text_of(form)
        assert 'value="/w/acme/ideas/?source=sales"' in form.content.decode()

        response = client.post(
            f"/w/acme/ideas/{idea.pk}/decline/",
            {
                "reason": "  Fewer than 1% of customers still use fax.  ",
                "revisit_on": revisit.isoformat(),
                "next": "/w/acme/ideas/?source=sales",
            },
        )

        assert response.status_code == 302
        assert response["Location"] == "/w/acme/ideas/?source=sales"
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.DECLINED
        assert idea.decline_reason == "Fewer than 1% of customers still use fax."
        assert idea.declined_by == editor.user
        assert idea.revisit_on == revisit
        text = text_of(client.get(response["Location"]))
        assert "Declined “Fax export”. It is on the Not doing page with your reason." in text
        assert f"Declined by {editor.user.display_name}" in text
        assert f"revisit on {revisit:%-d %b %Y}" in text
        assert "Fewer than 1% of customers still use fax." in text

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            (
                {"reason": "too short"},
                "Say why the idea is declined: at least 10 characters (this has 9).",
            ),
            ({"reason": "          "}, "This field is required."),
            (
                {"reason": "We have no budget this year.", "revisit_on": "2026-02-31"},
                "Enter a valid date.",
            ),
        ],
    )
    def test_bad_decline_input_is_a_form_error_and_nothing_changes(
        self,
        workspace: Workspace,
        editor: Membership,
        data: dict[str, str],
        error: str,
    ) -> None:
        idea = make_idea(workspace, editor.user, "Fax export")

        response = client_for(editor).post(f"/w/acme/ideas/{idea.pk}/decline/", data)

        assert response.status_code == 200
        assert error in text_of(response)
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.NEW
        assert idea.decline_reason == ""
        assert idea.declined_by is None

    @pytest.mark.parametrize("days", [0, -3])
    def test_a_revisit_date_not_in_the_future_is_a_form_error(
        self, workspace: Workspace, editor: Membership, days: int
    ) -> None:
        idea = make_idea(workspace, editor.user, "Fax export")
        today = workspace_today(workspace)

        response = client_for(editor).post(
            f"/w/acme/ideas/{idea.pk}/decline/",
            {
                "reason": "We have no budget this year.",
                "revisit_on": (today + timedelta(days=days)).isoformat(),
            },
        )

        assert response.status_code == 200
        assert f"A revisit date is in the future: after {today:%-d %b %Y} (today)." in text_of(
            response
        )
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.NEW

    def test_a_declined_idea_cannot_be_declined_again(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")
        client = client_for(editor)

        assert "This idea is already declined." in text_of(
            client.get(f"/w/acme/ideas/{idea.pk}/decline/")
        )
        response = client.post(
            f"/w/acme/ideas/{idea.pk}/decline/", {"reason": "A second, different reason."}
        )

        assert "This idea is already declined." in text_of(response)
        idea.refresh_from_db()
        assert idea.decline_reason == "Nobody has a fax machine any more."

    def test_a_declined_idea_cannot_be_promoted(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")

        response = client_for(editor).post(f"/w/acme/ideas/{idea.pk}/promote/", follow=True)

        assert "“Fax export”: A declined idea cannot be promoted." in text_of(response)
        assert not Initiative.objects.exists()

    def test_another_workspaces_idea_is_404(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = make_idea(other_workspace, None, "Globex idea")
        client = client_for(editor)

        assert client.post(f"/w/acme/ideas/{foreign.pk}/promote/").status_code == 404
        assert client.get(f"/w/acme/ideas/{foreign.pk}/decline/").status_code == 404
        response = client.post(
            f"/w/acme/ideas/{foreign.pk}/decline/", {"reason": "Not ours to decline."}
        )
        assert response.status_code == 404
        # Nor does the other workspace's address work for someone outside it
        assert client.get(f"/w/globex/ideas/{foreign.pk}/decline/").status_code == 404
        foreign.refresh_from_db()
        assert foreign.status == IdeaStatus.NEW
        assert not Initiative.objects.exists()

    def test_someone_outside_the_workspace_gets_404(
        self, workspace: Workspace, outsider: Membership
    ) -> None:
        client = client_for(outsider)

        assert client.get("/w/acme/ideas/").status_code == 404
        assert client.post("/w/acme/ideas/", idea_post()).status_code == 404
        assert client.get("/w/acme/not-doing/").status_code == 404
        assert not Idea.objects.exists()

    def test_anonymous_visitors_are_sent_to_log_in(self, workspace: Workspace) -> None:
        response = Client().get("/w/acme/ideas/")

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class TestReview:
    @pytest.mark.parametrize("role", ["editor", "admin"])
    def test_an_editor_starts_a_review_and_the_filter_shows_it(
        self, request: pytest.FixtureRequest, workspace: Workspace, viewer: Membership, role: str
    ) -> None:
        # Given two new ideas, on a page filtered by source
        idea = make_idea(workspace, viewer.user, "Dark mode", source="customer")
        make_idea(workspace, viewer.user, "Fax export", source="customer")
        client = client_for(request.getfixturevalue(role))
        back = "/w/acme/ideas/?source=customer"
        before = client.get(back).content.decode()
        assert before.count(">Start review</button>") == 2
        assert 'aria-label="Start reviewing Dark mode"' in before

        # When an editor or admin starts the review of one
        response = client.post(f"/w/acme/ideas/{idea.pk}/review/", {"next": back})

        # Then it is under review, and they are back on the page they were on, told so
        assert response.status_code == 302
        assert response["Location"] == back
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.UNDER_REVIEW
        page = client.get(back)
        text = text_of(page)
        assert "“Dark mode” is under review. It still takes votes;" in text
        # it offers no second review, and can still be voted, promoted or declined
        html = page.content.decode()
        assert html.count(">Start review</button>") == 1
        assert 'aria-label="Start reviewing Dark mode"' not in html
        assert "Vote for Dark mode" in html
        assert f"/w/acme/ideas/{idea.pk}/promote/" in html
        assert f"/w/acme/ideas/{idea.pk}/decline/" in html
        # and the status filter finds it, counted in its tab
        under_review = client.get("/w/acme/ideas/?status=under_review")
        assert titles_in_order(under_review) == ["Dark mode"]
        assert re.findall(r'data-status="(\w+)"', under_review.content.decode()) == ["under_review"]
        assert "Under review 1" in text_of(under_review)
        assert titles_in_order(client.get("/w/acme/ideas/?status=new")) == ["Fax export"]

    def test_a_viewer_sees_no_start_review_and_is_refused(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        idea = make_idea(workspace, viewer.user, "Dark mode")
        client = client_for(viewer)

        assert "Start review" not in client.get("/w/acme/ideas/").content.decode()
        response = client.post(f"/w/acme/ideas/{idea.pk}/review/")

        assert response.status_code == 403
        assert "You cannot do this here" in text_of(response)
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.NEW

    def test_a_second_review_says_so_in_words(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Dark mode")
        client = client_for(editor)
        client.post(f"/w/acme/ideas/{idea.pk}/review/")

        response = client.post(f"/w/acme/ideas/{idea.pk}/review/", follow=True)

        assert "“Dark mode”: This idea is already under review." in text_of(response)
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.UNDER_REVIEW

    def test_a_declined_idea_is_not_reviewed_and_shows_no_button(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        idea = make_idea(workspace, editor.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")
        client = client_for(editor)

        assert "Start review" not in client.get("/w/acme/ideas/").content.decode()
        response = client.post(f"/w/acme/ideas/{idea.pk}/review/", follow=True)

        assert "“Fax export”: This idea is declined; it is not reviewed any more." in text_of(
            response
        )
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.DECLINED

    def test_another_workspaces_idea_is_404_and_only_post_reviews(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = make_idea(other_workspace, None, "Globex idea")
        own = make_idea(workspace, editor.user, "Dark mode")
        client = client_for(editor)

        assert client.post(f"/w/acme/ideas/{foreign.pk}/review/").status_code == 404
        assert client.post(f"/w/globex/ideas/{foreign.pk}/review/").status_code == 404
        assert client.get(f"/w/acme/ideas/{own.pk}/review/").status_code == 405
        assert set(Idea.objects.values_list("status", flat=True)) == {IdeaStatus.NEW}


# --- the Not doing page -------------------------------------------------------------------------


class TestNotDoingPage:
    def test_a_viewer_reads_what_was_declined_and_why_newest_first(
        self, workspace: Workspace, viewer: Membership, editor: Membership, admin: Membership
    ) -> None:
        # Given an initiative declined through the lifecycle, an idea declined later, and an
        # initiative declined long ago
        today = workspace_today(workspace)
        declined_initiative(
            workspace,
            "Build our own CRM",
            by=admin.user,
            rationale="Buying one costs a tenth of building it.",
            at=datetime(2025, 3, 4, 10, 0, tzinfo=UTC),
        )
        lifecycle = InitiativeFactory.create(workspace=workspace, title="Native mobile app")
        initiative_transition(
            initiative=lifecycle,
            to=Status.DECLINED,
            rationale="Our users work at desks; the web app covers them.",
            by=editor.user,
            revisit_on=today + timedelta(days=180),
        )
        Decision.objects.filter(initiative=lifecycle).update(
            decided_at=timezone.now() - timedelta(days=2)
        )
        idea = make_idea(workspace, viewer.user, "Fax export", description="A customer asked.")
        idea_decline(
            idea=idea,
            by=editor.user,
            reason="Nobody has a fax machine any more.",
            revisit_on=today + timedelta(days=30),
        )

        # When a viewer opens the Not doing page
        response = client_for(viewer).get("/w/acme/not-doing/")

        # Then they read the headline, and every decision newest first, with its reason,
        # who decided, when, and when it should be looked at again
        assert response.status_code == 200
        text = text_of(response)
        assert "What we decided not to do, and why" in text
        assert entry_titles(response.content.decode()) == [
            "Fax export",
            "Native mobile app",
            "Build our own CRM",
        ]
        assert "Nobody has a fax machine any more." in text
        assert f"Declined by {editor.user.display_name}" in text
        assert f"Revisit on {today + timedelta(days=30):%-d %b %Y}" in text
        assert "Our users work at desks; the web app covers them." in text
        assert f"Revisit on {today + timedelta(days=180):%-d %b %Y}" in text
        assert "it was proposed" in text
        assert "Buying one costs a tenth of building it." in text
        assert f"Declined by {admin.user.display_name} on 4 Mar 2025" in text
        assert "2 declined initiatives" in text
        assert "1 declined idea" in text
        assert "Revisit due" not in text
        assert "due for a second look" not in text

    def test_after_a_reopen_the_latest_decline_is_the_one_shown(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Native mobile app")
        initiative_transition(
            initiative=initiative,
            to=Status.DECLINED,
            rationale="First no: our users work at desks.",
            by=editor.user,
        )
        initiative_transition(
            initiative=initiative,
            to=Status.PROPOSED,
            rationale="Field sales now asks for it every week.",
            by=editor.user,
        )
        initiative_transition(
            initiative=initiative,
            to=Status.DECLINED,
            rationale="Second no: a responsive web app serves field sales.",
            by=editor.user,
        )

        response = client_for(viewer).get("/w/acme/not-doing/")

        text = text_of(response)
        assert entry_titles(response.content.decode()) == ["Native mobile app"]
        assert "Second no: a responsive web app serves field sales." in text
        assert "First no" not in text

    def test_a_revisit_date_that_has_come_is_marked_due(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        today = workspace_today(workspace)
        declined_initiative(
            workspace,
            "Enterprise tier",
            by=editor.user,
            rationale="No enterprise customer yet to shape it.",
            at=timezone.now() - timedelta(days=100),
            revisit_on=today,
        )
        idea = make_idea(workspace, viewer.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")
        # The services take only future dates; time has passed since.
        Idea.objects.filter(pk=idea.pk).update(revisit_on=today - timedelta(days=5))
        later = make_idea(workspace, viewer.user, "Blockchain ledger")
        idea_decline(
            idea=later,
            by=editor.user,
            reason="No customer problem it solves.",
            revisit_on=today + timedelta(days=1),
        )

        response = client_for(viewer).get("/w/acme/not-doing/")

        html = response.content.decode()
        text = text_of(response)
        assert html.count('data-testid="revisit-due"') == 2
        assert f"Revisit due since {today:%-d %b %Y}" in text
        assert f"Revisit due since {today - timedelta(days=5):%-d %b %Y}" in text
        assert f"Revisit on {today + timedelta(days=1):%-d %b %Y}" in text
        assert "2 due for a second look" in text
        due_entries = [
            title
            for entry in html.split('<li class="notdoing__entry')[1:]
            if entry.startswith(" notdoing__entry--due")
            for title in entry_titles(entry)
        ]
        assert sorted(due_entries) == ["Enterprise tier", "Fax export"]

    def test_the_filter_shows_initiatives_ideas_or_all(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        declined_initiative(
            workspace,
            "Native mobile app",
            by=editor.user,
            rationale="Our users work at desks.",
            at=timezone.now() - timedelta(days=1),
        )
        idea = make_idea(workspace, viewer.user, "Fax export")
        idea_decline(idea=idea, by=editor.user, reason="Nobody has a fax machine any more.")
        client = client_for(viewer)

        def titles(url: str) -> list[str]:
            return entry_titles(client.get(url).content.decode())

        assert titles("/w/acme/not-doing/") == ["Fax export", "Native mobile app"]
        assert titles("/w/acme/not-doing/?show=initiatives") == ["Native mobile app"]
        assert titles("/w/acme/not-doing/?show=ideas") == ["Fax export"]
        assert titles("/w/acme/not-doing/?show=everything") == ["Fax export", "Native mobile app"]
        text = text_of(client.get("/w/acme/not-doing/?show=ideas"))
        assert "All declined 2" in text
        assert "Initiatives 1" in text
        assert "Ideas 1" in text

    def test_cancelled_initiatives_have_their_own_section(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        declined_initiative(
            workspace,
            "Usage-based pricing",
            by=editor.user,
            rationale="Stopped: the billing provider cannot meter usage yet.",
            at=timezone.now() - timedelta(days=3),
            status=Status.CANCELLED,
        )
        declined_initiative(
            workspace,
            "Native mobile app",
            by=editor.user,
            rationale="Our users work at desks.",
            at=timezone.now() - timedelta(days=1),
        )
        client = client_for(viewer)

        response = client.get("/w/acme/not-doing/")

        html = response.content.decode()
        main, _, section = html.partition('data-testid="cancelled-section"')
        assert entry_titles(main) == ["Native mobile app"]
        assert entry_titles(section) == ["Usage-based pricing"]
        assert "Cancelled after we committed" in text_of(response)
        assert "Stopped: the billing provider cannot meter usage yet." in section
        assert "Cancelled by <strong" in section
        assert "it was in delivery" in text_of(response)
        assert entry_titles(client.get("/w/acme/not-doing/?show=cancelled").content.decode()) == [
            "Usage-based pricing"
        ]

    def test_the_cancelled_preview_links_to_all_of_them(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        for n in range(CANCELLED_PREVIEW + 2):
            declined_initiative(
                workspace,
                f"Stopped {n}",
                by=None,
                rationale="The market moved on.",
                at=timezone.now() - timedelta(days=n),
                status=Status.CANCELLED,
            )

        response = client_for(viewer).get("/w/acme/not-doing/")

        text = text_of(response)
        assert f"See all {CANCELLED_PREVIEW + 2} cancelled initiatives" in text
        assert entry_titles(response.content.decode())[0] == "Stopped 0"
        assert len(entry_titles(response.content.decode())) == CANCELLED_PREVIEW
        assert "Cancelled by someone no longer in the workspace" in text
        assert "Nothing declined yet" in text  # nothing declined, only cancelled

    def test_a_declined_initiative_without_a_decision_still_shows(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        InitiativeFactory.create(workspace=workspace, title="Imported decline", status="declined")

        response = client_for(viewer).get("/w/acme/not-doing/")

        assert response.status_code == 200
        text = text_of(response)
        assert "Imported decline" in text
        assert "No reason was recorded." in text

    def test_the_empty_page_says_what_will_appear(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        text = text_of(client_for(viewer).get("/w/acme/not-doing/"))

        assert "What we decided not to do, and why" in text
        assert "Nothing declined yet" in text
        assert "Cancelled after we committed" not in text

    def test_another_workspaces_declines_are_not_shown(
        self,
        workspace: Workspace,
        other_workspace: Workspace,
        viewer: Membership,
        outsider: Membership,
    ) -> None:
        declined_initiative(
            other_workspace,
            "Globex secret",
            by=outsider.user,
            rationale="Globex does not do this.",
            at=timezone.now(),
        )
        idea = make_idea(other_workspace, outsider.user, "Globex idea")
        idea_decline(idea=idea, by=outsider.user, reason="Globex does not do this either.")

        text = text_of(client_for(viewer).get("/w/acme/not-doing/"))

        assert "Globex" not in text
        assert "Nothing declined yet" in text
        assert "0 declined initiatives" in text

    def test_pages_of_fifty_across_initiatives_and_ideas(
        self, workspace: Workspace, viewer: Membership, editor: Membership
    ) -> None:
        now = timezone.now()
        for n in range(30):
            declined_initiative(
                workspace,
                f"Initiative {n:02d}",
                by=editor.user,
                rationale="Not this year, sorry.",
                at=now - timedelta(hours=2 * n),
            )
        Idea.objects.bulk_create(
            Idea(
                workspace=workspace,
                title=f"Idea {n:02d}",
                status=IdeaStatus.DECLINED,
                decline_reason="Not this year, sorry.",
                declined_by=editor.user,
                declined_at=now - timedelta(hours=2 * n + 1),
            )
            for n in range(30)
        )
        client = client_for(viewer)

        first = entry_titles(client.get("/w/acme/not-doing/").content.decode())
        second = entry_titles(client.get("/w/acme/not-doing/?page=2").content.decode())

        assert len(first) == NOT_DOING_PER_PAGE == 50
        assert first[:4] == ["Initiative 00", "Idea 00", "Initiative 01", "Idea 01"]
        assert second == [
            t for n in range(25, 30) for t in (f"Initiative {n:02d}", f"Idea {n:02d}")
        ]

    @pytest.mark.parametrize("size", [5, 60])
    def test_the_page_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        # Given `size` declined initiatives, each declined, reopened and declined again by
        # different people, `size` declined ideas with votes, and `size` cancelled initiatives
        now = timezone.now()
        today = workspace_today(workspace)
        deciders = UserFactory.create_batch(4)
        for n in range(size):
            by = deciders[n % 4]
            initiative = declined_initiative(
                workspace,
                f"Declined {n}",
                by=by,
                rationale=f"First no, number {n}.",
                at=now - timedelta(days=n, hours=5),
            )
            Decision.objects.create(
                workspace=workspace,
                initiative=initiative,
                kind=DecisionKind.DECLINE,
                from_status=Status.PROPOSED,
                to_status=Status.DECLINED,
                rationale=f"Second no, number {n}.",
                decided_by=deciders[(n + 1) % 4],
                decided_at=now - timedelta(days=n),
                revisit_on=today - timedelta(days=1) if n % 2 else today + timedelta(days=9),
            )
            idea = make_idea(
                workspace,
                by,
                f"Idea {n}",
                status=IdeaStatus.DECLINED,
                decline_reason=f"Idea no, number {n}.",
                declined_by=deciders[(n + 2) % 4],
                declined_at=now - timedelta(days=n, hours=1),
                revisit_on=today + timedelta(days=n),
            )
            add_votes(idea, n % 3)
            declined_initiative(
                workspace,
                f"Cancelled {n}",
                by=by,
                rationale=f"Stopped, number {n}.",
                at=now - timedelta(days=n, hours=3),
                status=Status.CANCELLED,
            )
        client = client_for(viewer)

        with django_assert_max_num_queries(NOT_DOING_PAGE_QUERIES):
            response = client.get("/w/acme/not-doing/")

        assert response.status_code == 200
        text = text_of(response)
        shown = min(2 * size, NOT_DOING_PER_PAGE)
        assert len(entry_titles(response.content.decode())) == shown + min(size, CANCELLED_PREVIEW)
        assert text.count("Second no, number") == shown // 2
        assert "First no" not in text
        assert f"{size} declined initiatives" in text
        assert f"{size} declined ideas" in text
        assert f"{size} cancelled" in text
        # Due: the odd initiatives (yesterday), and the idea whose revisit date is today
        assert f"{size // 2 + 1} due for a second look" in text
