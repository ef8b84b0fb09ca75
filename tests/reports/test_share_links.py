"""Share links (issue 5, item 3): editors and admins create and revoke them; whoever holds
one sees the dashboard of its scope without a login, and nothing else — not another
scope, not another workspace, not once revoked or expired, not with the address altered."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.signing import Signer
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Team, Workspace
from initiatives.models import Initiative
from reports.models import ShareLink
from reports.selectors import Scope
from reports.services import (
    SHARE_LINK_SALT,
    ShareLinkRefused,
    share_link_create,
    share_link_record_use,
    share_link_resolve,
    share_link_revoke,
    share_link_token,
)
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, ObjectiveFactory
from tests.strategy.test_pages import client_for, text_of

pytestmark = pytest.mark.django_db

# Session, user, membership, the header's workspace switcher, and the links with their
# teams, objectives and people in one query: none grows with the number of links.
LIST_QUERIES = 5
# The link (with its workspace, team and objective), the visit's count, and the
# dashboard's own reads (about fifteen, reports/dashboard.py): none grows with the
# portfolio. No session, user or membership: the page is the same for everyone.
PUBLIC_QUERIES = 16


def link_of(membership: Membership, **kwargs: Any) -> ShareLink:
    kwargs.setdefault("scope", Scope())
    kwargs.setdefault("label", "Board deck")
    return share_link_create(workspace=membership.workspace, by=membership.user, **kwargs)


def public_url(link: ShareLink) -> str:
    return f"/s/{share_link_token(link=link)}/"


def links_url(workspace: Workspace) -> str:
    return f"/w/{workspace.slug}/dashboard/share-links/"


def assert_private(response: Any) -> None:
    """Not indexed, not cached, and its address never sent on as a Referer."""
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "no-referrer"
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


# --- services ------------------------------------------------------------------------------


class TestCreate:
    def test_a_link_of_a_team_with_an_expiry(self, workspace: Workspace, editor: Membership):
        team = TeamFactory.create(workspace=workspace, name="Growth")
        expires = timezone.now() + timedelta(days=30)

        link = link_of(
            editor, scope=Scope(team=team), label="  Board   deck Q3 ", expires_at=expires
        )

        link.refresh_from_db()
        assert (link.team, link.objective, link.label) == (team, None, "Board deck Q3")
        assert link.created_by == editor.user
        assert link.expires_at == expires
        assert (link.revoked_at, link.last_used_at, link.use_count) == (None, None, 0)

    def test_team_and_objective_together_narrow_the_scope(
        self, workspace: Workspace, editor: Membership
    ):
        team = TeamFactory.create(workspace=workspace)
        objective = ObjectiveFactory.create(workspace=workspace)

        link = link_of(editor, scope=Scope(team=team, objective=objective))

        assert (link.team, link.objective) == (team, objective)

    @pytest.mark.parametrize(
        ("label", "message"),
        [("   ", "Give the link a label"), ("x" * 121, "within 120 characters")],
    )
    def test_a_label_is_needed(self, editor: Membership, label: str, message: str):
        with pytest.raises(ValidationError) as refused:
            link_of(editor, label=label)

        assert message in refused.value.message_dict["label"][0]
        assert not ShareLink.objects.exists()

    def test_an_expiry_in_the_past_is_refused(self, editor: Membership):
        with pytest.raises(ValidationError) as refused:
            link_of(editor, expires_at=timezone.now() - timedelta(minutes=1))

        assert "has already passed" in refused.value.message_dict["expires_at"][0]
        assert not ShareLink.objects.exists()

    def test_a_team_or_objective_of_another_workspace_is_refused(
        self, editor: Membership, other_workspace: Workspace
    ):
        team = TeamFactory.create(workspace=other_workspace)
        objective = ObjectiveFactory.create(workspace=other_workspace)

        with pytest.raises(ValidationError) as refused:
            link_of(editor, scope=Scope(team=team, objective=objective))

        assert refused.value.message_dict == {
            "team": ["This team is not a team of this workspace."],
            "objective": ["This objective is not an objective of this workspace."],
        }
        assert not ShareLink.objects.exists()


class TestDatabaseConstraints:
    """What the services guarantee holds for any other writer too."""

    def _row(self, workspace: Workspace, **fields: Any) -> None:
        now = timezone.now()
        defaults: dict[str, Any] = {"label": "x", "nonce": "n" * 16, "created_at": now}
        with transaction.atomic():
            ShareLink.objects.create(workspace=workspace, **(defaults | fields))

    def test_a_blank_label(self, workspace: Workspace):
        with pytest.raises(IntegrityError):
            self._row(workspace, label="   ")

    def test_an_expiry_before_creation(self, workspace: Workspace):
        now = timezone.now()
        with pytest.raises(IntegrityError):
            self._row(workspace, created_at=now, expires_at=now - timedelta(seconds=1))

    def test_a_revoker_without_a_revocation(self, workspace: Workspace, editor: Membership):
        with pytest.raises(IntegrityError):
            self._row(workspace, revoked_by=editor.user)

    def test_the_same_nonce_twice(self, workspace: Workspace):
        self._row(workspace)
        with pytest.raises(IntegrityError):
            self._row(workspace)


class TestRevoke:
    def test_revoking_twice_keeps_the_first_revocation(self, editor: Membership, admin: Membership):
        link = link_of(editor)
        first = timezone.now()

        share_link_revoke(link=link, by=editor.user, now=first)
        share_link_revoke(link=link, by=admin.user, now=first + timedelta(hours=1))

        link.refresh_from_db()
        assert (link.revoked_at, link.revoked_by) == (first, editor.user)


class TestResolve:
    def test_the_token_opens_its_link(self, editor: Membership, django_assert_num_queries: Any):
        link = link_of(editor)
        token = share_link_token(link=link)

        with django_assert_num_queries(1):
            resolved = share_link_resolve(token=token)
            assert resolved.workspace.slug == "acme"

        assert resolved == link

    def test_a_revoked_link_says_when(self, workspace: Workspace, editor: Membership):
        link = link_of(editor, now=datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC")))
        share_link_revoke(
            link=link,
            by=editor.user,
            now=datetime(2026, 3, 3, 23, 30, tzinfo=ZoneInfo("UTC")),
        )

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=share_link_token(link=link))

        assert refused.value.reason == "revoked"
        # 23:30 UTC is already the 4th in Berlin, the workspace's time zone.
        assert "was revoked on 4 March 2026" in refused.value.detail

    def test_an_expired_link_says_until_when(self, workspace: Workspace, editor: Membership):
        berlin = ZoneInfo("Europe/Berlin")
        created = datetime(2026, 3, 1, 9, tzinfo=berlin)
        link = link_of(
            editor, now=created, expires_at=datetime(2026, 3, 10, tzinfo=berlin)
        )  # the end of 9 March

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=share_link_token(link=link))

        assert refused.value.reason == "expired"
        assert "has expired: it worked until 9 March 2026" in refused.value.detail
        assert (
            share_link_resolve(
                token=share_link_token(link=link), now=datetime(2026, 3, 9, 23, 59, tzinfo=berlin)
            )
            == link
        )

    @pytest.mark.parametrize(
        "alter",
        [
            pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature"),
            pytest.param(lambda t: ("9" if t[0] != "9" else "8") + t[1:], id="id"),
            pytest.param(lambda t: t[:-5], id="truncated"),
            pytest.param(lambda t: t.rsplit(".", 1)[0], id="unsigned"),
            pytest.param(lambda t: t.upper(), id="case"),
            pytest.param(lambda t: "garbage", id="garbage"),
            pytest.param(lambda t: "", id="empty"),
            pytest.param(lambda t: "..", id="separators"),
            pytest.param(lambda t: "ü.ö.ä", id="unicode"),
            pytest.param(lambda t: t + "x" * 500, id="very long"),
        ],
    )
    def test_an_altered_token_is_not_valid(self, editor: Membership, alter: Any):
        token = share_link_token(link=link_of(editor))

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=alter(token))

        assert refused.value.reason == "invalid"
        assert "is not valid" in refused.value.detail

    def test_a_value_signed_for_something_else_is_not_valid(self, editor: Membership):
        link = link_of(editor)
        value = f"{link.pk}.{link.nonce}"

        for signer in (Signer(sep="."), Signer(salt=SHARE_LINK_SALT + "x", sep=".")):
            with pytest.raises(ShareLinkRefused):
                share_link_resolve(token=signer.sign(value))

    def test_a_signed_id_with_another_nonce_is_not_valid(self, editor: Membership):
        """A link deleted and its id taken again (a restore) does not open the new one."""
        link = link_of(editor)
        forged = Signer(salt=SHARE_LINK_SALT, sep=".").sign(f"{link.pk}.AAAAAAAAAAAAAAAA")

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=forged)

        assert refused.value.reason == "invalid"

    def test_an_address_keeps_opening_its_link_after_a_restore_gave_it_a_new_id(
        self, editor: Membership
    ):
        link = link_of(editor)
        address = share_link_token(link=link)
        old_id, nonce = link.pk, link.nonce
        link.delete()  # what import_workspace writes: the same row, nonce kept, a new id
        ShareLink.objects.create(
            pk=old_id + 1000,
            workspace=editor.workspace,
            team=None,
            objective=None,
            label="Restored",
            nonce=nonce,
        )

        restored = share_link_resolve(token=address)

        assert (restored.pk, restored.label) == (old_id + 1000, "Restored")

    def test_a_scope_of_another_workspace_written_by_hand_opens_nothing(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ):
        link = link_of(editor)
        ShareLink.objects.filter(pk=link.pk).update(
            team=TeamFactory.create(workspace=other_workspace)
        )

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=share_link_token(link=link))

        assert refused.value.reason == "invalid"

    def test_a_deleted_scope_takes_its_links_with_it(
        self, workspace: Workspace, editor: Membership
    ):
        """Never a link that widens to the whole workspace because its team went away."""
        team = TeamFactory.create(workspace=workspace)
        token = share_link_token(link=link_of(editor, scope=Scope(team=team)))

        team.delete()

        with pytest.raises(ShareLinkRefused) as refused:
            share_link_resolve(token=token)
        assert refused.value.reason == "invalid"


# --- management pages ----------------------------------------------------------------------


class TestManagementAccess:
    @pytest.mark.parametrize("path", ["", "new/"])
    def test_editors_and_admins_manage_viewers_do_not(
        self,
        workspace: Workspace,
        editor: Membership,
        admin: Membership,
        viewer: Membership,
        path: str,
    ):
        url = links_url(workspace) + path
        assert client_for(editor).get(url).status_code == 200
        assert client_for(admin).get(url).status_code == 200
        assert client_for(viewer).get(url).status_code == 403

    def test_viewers_cannot_create_or_revoke(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ):
        link = link_of(editor)
        client = client_for(viewer)

        created = client.post(links_url(workspace) + "new/", {"label": "Mine"})
        revoked = client.post(links_url(workspace) + f"{link.pk}/revoke/")

        assert (created.status_code, revoked.status_code) == (403, 403)
        assert ShareLink.objects.count() == 1
        link.refresh_from_db()
        assert link.revoked_at is None

    def test_outsiders_get_404(
        self, workspace: Workspace, editor: Membership, outsider: Membership
    ):
        link = link_of(editor)
        client = client_for(outsider)

        for url in (links_url(workspace), links_url(workspace) + "new/"):
            assert client.get(url).status_code == 404
        assert client.post(links_url(workspace) + f"{link.pk}/revoke/").status_code == 404
        link.refresh_from_db()
        assert link.revoked_at is None

    def test_a_link_of_another_workspace_is_not_found(
        self, workspace: Workspace, other_workspace: Workspace, outsider: Membership
    ):
        """An admin of Globex revoking an Acme link through Globex's address."""
        acme_link = link_of(MembershipFactory.create(workspace=workspace))

        response = client_for(outsider).post(links_url(other_workspace) + f"{acme_link.pk}/revoke/")

        assert response.status_code == 404
        acme_link.refresh_from_db()
        assert acme_link.revoked_at is None

    def test_visitors_without_a_login_are_sent_to_log_in(self, workspace: Workspace):
        response = Client().get(links_url(workspace))

        assert response.status_code == 302
        assert "/login/" in response["Location"]


class TestCreatePage:
    def test_an_editor_creates_a_team_link_and_sees_its_address(
        self, workspace: Workspace, editor: Membership
    ):
        team = TeamFactory.create(workspace=workspace, name="Growth")
        today = workspace_today(workspace)
        client = client_for(editor)

        response = client.post(
            links_url(workspace) + "new/",
            {
                "label": "Finance review",
                "team": team.pk,
                "objective": "",
                "expires_on": (today + timedelta(days=7)).isoformat(),
            },
            follow=True,
        )

        link = ShareLink.objects.get()
        assert (link.label, link.team, link.objective, link.created_by) == (
            "Finance review",
            team,
            None,
            editor.user,
        )
        # The link works through the whole of its last day, in the workspace's time zone.
        last_day = today + timedelta(days=7)
        assert link.expires_at == datetime.combine(
            last_day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo("Europe/Berlin")
        )
        text = text_of(response)
        assert "Share link “Finance review” created" in text
        assert "the dashboard of team Growth, read-only, until the end of" in text
        assert f"http://testserver/s/{share_link_token(link=link)}/" in response.content.decode()
        assert f"Until {last_day.day} {last_day:%B %Y}" in text

    def test_the_dashboard_filters_are_offered_as_the_scope(
        self, workspace: Workspace, editor: Membership
    ):
        team = TeamFactory.create(workspace=workspace)
        objective = ObjectiveFactory.create(workspace=workspace)

        response = client_for(editor).get(
            links_url(workspace) + f"new/?team={team.pk}&objective={objective.pk}"
        )

        html = response.content.decode()
        assert re.search(rf'<option value="{team.pk}" selected>', html)
        assert re.search(rf'<option value="{objective.pk}" selected>', html)

    def test_refusals_are_shown_on_the_form_and_nothing_is_written(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ):
        foreign_team = TeamFactory.create(workspace=other_workspace)
        foreign_objective = ObjectiveFactory.create(workspace=other_workspace)
        yesterday = workspace_today(workspace) - timedelta(days=1)

        response = client_for(editor).post(
            links_url(workspace) + "new/",
            {
                "label": " ",
                "team": foreign_team.pk,
                "objective": foreign_objective.pk,
                "expires_on": yesterday.isoformat(),
            },
        )

        assert response.status_code == 200
        text = text_of(response)
        assert "This field is required." in text  # the label
        assert "Select a valid choice" in text  # team and objective of Globex
        assert "This day has passed" in text
        assert not ShareLink.objects.exists()

    def test_an_expiry_beyond_ten_years_is_refused(self, workspace: Workspace, editor: Membership):
        response = client_for(editor).post(
            links_url(workspace) + "new/", {"label": "Forever", "expires_on": "9999-12-31"}
        )

        assert "Choose a day within ten years" in text_of(response)
        assert not ShareLink.objects.exists()

    def test_no_expiry_means_until_revoked(self, workspace: Workspace, editor: Membership):
        client_for(editor).post(links_url(workspace) + "new/", {"label": "Board"})

        assert ShareLink.objects.get().expires_at is None


class TestListPage:
    def test_every_link_with_scope_author_expiry_use_and_status(
        self, workspace: Workspace, editor: Membership, admin: Membership
    ):
        team = TeamFactory.create(workspace=workspace, name="Growth")
        objective = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        live = link_of(editor, label="Board", scope=Scope(objective=objective))
        revoked = link_of(admin, label="Old deck", scope=Scope(team=team))
        share_link_revoke(link=revoked, by=admin.user)
        past = timezone.now() - timedelta(days=10)
        expired = link_of(editor, label="Trial", now=past, expires_at=past + timedelta(days=1))
        share_link_record_use(link=live)

        response = client_for(editor).get(links_url(workspace))

        today = workspace_today(workspace)
        today_text = f"{today.day} {today:%B %Y}"
        rows = {
            row.group(1): text_of_html(row.group(2))
            for row in re.finditer(
                r'data-testid="share-link-row" data-status="(\w+)"[^>]*>(.*?)</tr>',
                response.content.decode(),
                flags=re.S,
            )
        }
        assert set(rows) == {"active", "revoked", "expired"}
        assert "“Win the mid-market” and its sub-objectives" in rows["active"]
        assert editor.user.display_name in rows["active"]
        assert "Never Never" not in rows["active"]  # no expiry, but used once
        assert "Team Growth" in rows["revoked"]
        assert f"Revoked on {today_text} by {admin.user.display_name}" in rows["revoked"]
        assert "Worked until" in rows["expired"]
        # Only the live link offers its address and a Revoke button.
        html = response.content.decode()
        assert share_link_token(link=live) in html
        assert share_link_token(link=revoked) not in html
        assert share_link_token(link=expired) not in html
        assert html.count(">Revoke</a>") == 1

    def test_queries_do_not_grow_with_the_links(
        self, workspace: Workspace, editor: Membership, django_assert_max_num_queries: Any
    ):
        teams = TeamFactory.create_batch(3, workspace=workspace)
        objectives = ObjectiveFactory.create_batch(3, workspace=workspace)
        for i in range(30):
            link = link_of(editor, scope=Scope(team=teams[i % 3], objective=objectives[i % 3]))
            if i % 2:
                share_link_revoke(link=link, by=editor.user)
        client = client_for(editor)

        with django_assert_max_num_queries(LIST_QUERIES):
            response = client.get(links_url(workspace))

        assert response.content.decode().count('data-testid="share-link-row"') == 30

    def test_an_empty_list_offers_the_first_link(self, workspace: Workspace, editor: Membership):
        response = client_for(editor).get(links_url(workspace))

        assert "No share links yet" in text_of(response)


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class TestRevokePage:
    def test_a_confirmation_then_the_link_stops(self, workspace: Workspace, editor: Membership):
        link = link_of(editor, label="Board")
        url = links_url(workspace) + f"{link.pk}/revoke/"
        client = client_for(editor)

        confirmation = client.get(url)
        link.refresh_from_db()
        assert link.revoked_at is None  # a GET writes nothing
        assert "Revoke the share link “Board”?" in text_of(confirmation)

        done = client.post(url, follow=True)

        link.refresh_from_db()
        assert link.revoked_at is not None
        assert link.revoked_by == editor.user
        assert "Share link “Board” revoked" in text_of(done)
        assert Client().get(public_url(link)).status_code == 410

    def test_revoking_again_says_so_and_changes_nothing(
        self, workspace: Workspace, editor: Membership, admin: Membership
    ):
        link = link_of(editor, label="Board")
        share_link_revoke(link=link, by=editor.user)
        revoked_at = ShareLink.objects.get().revoked_at
        url = links_url(workspace) + f"{link.pk}/revoke/"

        confirmation = client_for(admin).get(url)
        again = client_for(admin).post(url, follow=True)

        assert "was already revoked on" in text_of(confirmation)
        assert "Revoke link" not in text_of(confirmation)
        assert "was already revoked on" in text_of(again)
        link.refresh_from_db()
        assert (link.revoked_at, link.revoked_by) == (revoked_at, editor.user)

    def test_an_id_beyond_64_bits_is_not_found(self, workspace: Workspace, editor: Membership):
        response = client_for(editor).get(links_url(workspace) + f"{2**64}/revoke/")

        assert response.status_code == 404


# --- the public page: refusals ------------------------------------------------------------


class TestRefusedLinks:
    def test_a_revoked_link_shows_410_in_words_and_no_data(
        self, workspace: Workspace, editor: Membership
    ):
        link = link_of(editor)
        share_link_revoke(link=link, by=editor.user)

        response = Client().get(public_url(link))

        assert response.status_code == 410
        assert "This share link was revoked on" in text_of(response)
        assert "Acme" not in text_of(response)
        assert_private(response)
        assert ShareLink.objects.get().use_count == 0

    def test_an_expired_link_shows_410_in_words(self, workspace: Workspace, editor: Membership):
        past = timezone.now() - timedelta(days=3)
        link = link_of(editor, now=past, expires_at=past + timedelta(days=1))

        response = Client().get(public_url(link))

        assert response.status_code == 410
        assert "This share link has expired" in text_of(response)
        assert_private(response)

    @pytest.mark.parametrize(
        "token",
        ["x", "1.abc.def", "garbage-" * 30, "%C3%BC", "..", "1.AAAAAAAAAAAAAAAA.", "%00"],
    )
    def test_a_token_we_did_not_sign_shows_404_in_words(self, editor: Membership, token: str):
        link_of(editor)

        response = Client().get(f"/s/{token}/")

        assert response.status_code == 404
        assert "This share link is not valid" in text_of(response)
        assert_private(response)

    def test_one_character_changed_or_cut_is_not_valid(self, editor: Membership):
        token = share_link_token(link=link_of(editor))
        changed = token[:-3] + ("a" if token[-3] != "a" else "b") + token[-2:]

        for bad in (changed, token[:-1], token[: len(token) // 2]):
            response = Client().get(f"/s/{bad}/")
            assert response.status_code == 404, bad
            assert "is not valid" in text_of(response)

    def test_the_refusal_page_links_nowhere_into_the_app(
        self, workspace: Workspace, editor: Membership
    ):
        link = link_of(editor)
        share_link_revoke(link=link, by=editor.user)
        client = client_for(editor)  # even for a member who is logged in

        html = client.get(public_url(link)).content.decode()

        assert "/w/" not in html
        assert not re.search(r'<a\s[^>]*href="/', html.split("</header>", 1)[1])
        assert "Log out" not in html

    def test_only_get_and_head(self, editor: Membership):
        link = link_of(editor)

        assert Client().post(public_url(link)).status_code == 405


# --- the public page: the dashboard of the link's scope -----------------------------------


@pytest.fixture
def portfolio(workspace: Workspace, other_workspace: Workspace) -> dict[str, Any]:
    """Committed work in two teams of Acme, one of them aligned to an objective, and
    Globex's own. Pipeline (risk-adjusted expected value): Growth 100 × €200 × 60% =
    €12,000; Platform 100 × €300 × 100% = €30,000; all of Acme €42,000; Globex €70,000."""
    growth = TeamFactory.create(workspace=workspace, name="Growth")
    platform = TeamFactory.create(workspace=workspace, name="Platform")
    objective = ObjectiveFactory.create(workspace=workspace, title="Cut the cost to serve")
    other_objective = ObjectiveFactory.create(workspace=workspace, title="Grow self-serve")

    def bet(ws: Workspace, title: str, team: Team, per_unit: str, confidence: int) -> Initiative:
        initiative = InitiativeFactory.create(
            workspace=ws, title=title, team=team, status="committed", effort_weeks=Decimal("2")
        )
        ExpectedImpactFactory.create(
            initiative=initiative,
            metric=MetricFactory.create(workspace=ws, value_per_unit=Decimal(per_unit)),
            expected_change=Decimal("100"),
            confidence=confidence,
        )
        return initiative

    bet(workspace, "Growth onboarding bet", growth, "200", 60)
    platform_bet = bet(workspace, "Platform caching bet", platform, "300", 100)
    AlignmentFactory.create(initiative=platform_bet, objective=objective, weight=100)
    globex_team = TeamFactory.create(workspace=other_workspace, name="Globex skunkworks")
    bet(other_workspace, "Globex secret bet", globex_team, "700", 100)
    return {
        "growth": growth,
        "platform": platform,
        "objective": objective,
        "other_objective": other_objective,
        "globex_team": globex_team,
    }


def pipeline_of(response: Any) -> str:
    """The headline's pipeline figure: "€12k risk-adjusted in the pipeline"."""
    found = re.search(r"(\S+) risk-adjusted in the pipeline", text_of(response))
    assert found, text_of(response)[:2000]
    return found.group(1)


class TestSharedDashboard:
    def test_a_team_link_shows_that_teams_figures_without_a_login(
        self, editor: Membership, portfolio: dict[str, Any]
    ):
        link = link_of(editor, scope=Scope(team=portfolio["growth"]))

        response = Client().get(public_url(link))

        assert response.status_code == 200
        assert pipeline_of(response) == "€12k"
        text = text_of(response)
        assert "Shared view of team Growth — read-only" in text
        assert "Platform caching bet" not in text
        assert_private(response)

    def test_the_whole_workspace_and_an_objective(
        self, editor: Membership, portfolio: dict[str, Any]
    ):
        whole = link_of(editor)
        objective = link_of(editor, scope=Scope(objective=portfolio["objective"]))

        assert pipeline_of(Client().get(public_url(whole))) == "€42k"
        assert pipeline_of(Client().get(public_url(objective))) == "€30k"

    @pytest.mark.parametrize(
        "query",
        [
            "?team={platform}",
            "?objective={objective}",
            "?team={platform}&objective={objective}",
            "?team=&objective=",
            "?team={globex_team}",
            "?team=999999999999&objective=not-a-number",
            "?workspace=globex",
        ],
    )
    def test_no_query_parameter_reaches_another_scope(
        self, editor: Membership, portfolio: dict[str, Any], query: str
    ):
        link = link_of(editor, scope=Scope(team=portfolio["growth"]))
        ids = {name: getattr(value, "pk", "") for name, value in portfolio.items()}

        response = Client().get(public_url(link) + query.format(**ids))

        assert response.status_code == 200
        assert pipeline_of(response) == "€12k"
        text = text_of(response)
        assert "Shared view of team Growth" in text
        assert "Platform caching bet" not in text
        assert "Globex" not in text

    def test_a_link_of_one_workspace_shows_nothing_of_another(
        self, editor: Membership, outsider: Membership, portfolio: dict[str, Any]
    ):
        acme = link_of(editor)
        globex = link_of(outsider)

        acme_text = text_of(Client().get(public_url(acme)))
        globex_page = Client().get(public_url(globex))

        assert "Globex" not in acme_text
        assert pipeline_of(globex_page) == "€70k"
        assert "Acme" not in text_of(globex_page)
        assert "Growth onboarding bet" not in text_of(globex_page)

    def test_the_period_can_change_the_scope_cannot(
        self, editor: Membership, portfolio: dict[str, Any]
    ):
        link = link_of(editor, scope=Scope(team=portfolio["growth"]))

        all_time = Client().get(public_url(link) + "?period=all_time")
        unknown = Client().get(public_url(link) + "?period=forever")

        assert all_time.status_code == 200
        html = all_time.content.decode()
        assert re.search(r'<option value="all_time" selected>', html)
        assert pipeline_of(all_time) == "€12k"
        assert 'name="team"' not in html
        assert 'name="objective"' not in html
        assert unknown.status_code == 400
        assert "is not a period the dashboard knows" in text_of(unknown)

    def test_nothing_links_into_the_app_even_for_a_member(
        self, editor: Membership, portfolio: dict[str, Any]
    ):
        link = link_of(editor, scope=Scope(team=portfolio["growth"]))

        for client in (Client(), client_for(editor)):
            html = client.get(public_url(link)).content.decode()
            assert "/w/" not in html
            hrefs = re.findall(r'<a\s[^>]*href="([^"]*)"', html)
            assert all(h.startswith(("#", public_url(link))) for h in hrefs), hrefs
            assert "Log out" not in html
            assert "Share…" not in html
            assert "Workspace" not in html.split("</header>", 1)[0]  # no switcher

    def test_each_visit_is_counted(self, editor: Membership, portfolio: dict[str, Any]):
        link = link_of(editor)
        before = timezone.now()

        Client().get(public_url(link))
        Client().get(public_url(link) + "?period=this_year")
        # The period filter's partial update belongs to the visit before it.
        Client().get(
            public_url(link) + "?period=all_time",
            headers={"HX-Request": "true", "HX-Target": "dashboard-body"},
        )

        link.refresh_from_db()
        assert link.use_count == 2
        assert link.last_used_at is not None
        assert link.last_used_at >= before

    def test_queries_do_not_grow_with_the_portfolio(
        self,
        workspace: Workspace,
        editor: Membership,
        portfolio: dict[str, Any],
        django_assert_max_num_queries: Any,
    ):
        link = link_of(editor, scope=Scope(team=portfolio["platform"]))
        url = public_url(link)
        with CaptureQueriesContext(connection) as small:
            Client().get(url)
        for n in range(12):
            initiative = InitiativeFactory.create(
                workspace=workspace,
                team=portfolio["platform"],
                status=["committed", "in_delivery", "released", "proposed"][n % 4],
                released_on=workspace_today(workspace) - timedelta(days=30) if n % 4 == 2 else None,
            )
            ExpectedImpactFactory.create(initiative=initiative)
            AlignmentFactory.create(
                initiative=initiative,
                objective=portfolio["objective"] if n % 2 else portfolio["other_objective"],
                weight=50,
            )

        with django_assert_max_num_queries(PUBLIC_QUERIES):
            response = Client().get(url)

        assert response.status_code == 200
        assert len(small.captured_queries) <= PUBLIC_QUERIES


class TestShareButton:
    def test_editors_get_a_share_button_that_keeps_the_filters(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ):
        team = TeamFactory.create(workspace=workspace)
        url = f"/w/{workspace.slug}/dashboard/?team={team.pk}"

        editor_html = client_for(editor).get(url).content.decode()
        viewer_html = client_for(viewer).get(url).content.decode()

        assert f'href="{links_url(workspace)}new/?team={team.pk}"' in editor_html
        assert links_url(workspace) not in viewer_html
