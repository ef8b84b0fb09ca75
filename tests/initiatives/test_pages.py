"""Browser pages of initiatives through Django's test client: the list with its filters,
sorting and pages, the board by status, the form and the delete confirmation, with who
may see and change what."""

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Membership, Workspace
from initiatives.models import Initiative, Status
from initiatives.services import initiative_transition
from strategy.services import workspace_today
from tests.accounts.factories import TeamFactory
from tests.initiatives.factories import (
    AlignmentFactory,
    ExpectedImpactFactory,
    InitiativeFactory,
)
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure
from tests.strategy.test_pages import assert_no_inline_script, client_for, text_of

pytestmark = pytest.mark.django_db

# Session, user, membership, the header's workspace switcher, and the page's own reads
# (count, page, impacts, the filters' teams, objectives and members): none grows.
LIST_QUERIES = 10
BOARD_QUERIES = 10


def priced(
    workspace: Workspace,
    title: str,
    *,
    effort: str | None = "4",
    change: str = "100",
    confidence: int = 50,
    value_per_unit: str | None = "10",
    **fields: Any,
) -> Initiative:
    """An initiative with one expected impact: risk-adjusted value = change × value per
    unit × confidence / 100; value density = that / effort."""
    initiative = InitiativeFactory.create(
        workspace=workspace,
        title=title,
        effort_weeks=None if effort is None else Decimal(effort),
        **fields,
    )
    metric = MetricFactory.create(
        workspace=workspace,
        value_per_unit=None if value_per_unit is None else Decimal(value_per_unit),
    )
    ExpectedImpactFactory.create(
        initiative=initiative,
        metric=metric,
        expected_change=Decimal(change),
        confidence=confidence,
    )
    return initiative


def rows_of(response: Any) -> list[str]:
    """The text of each initiative row of the list, in order."""
    html = response.content.decode()
    rows = re.findall(r'<tr data-testid="initiative-row">(.*?)</tr>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def titles_of(response: Any) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="table__title" href="[^"]+">([^<]+)</a>', html)


def initiative_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Guided onboarding",
        "summary": "A checklist that walks a new team to its first dashboard.",
        "problem": "Half of new teams never build a dashboard.",
        "hypothesis": "We believe a checklist will double activation; we will know when "
        "weekly active teams grow by 200.",
        "team": "",
        "owner": "",
        "kind": "strategic",
        "tactical_rationale": "",
        "horizon": "now",
        "effort_weeks": "6",
        "confidence": "70",
        "reach": "1200",
        "impact": "2",
        "start_on": "2026-01-05",
        "target_on": "2026-03-31",
        "measurement_window_days": "60",
    }
    return data | overrides


# --- the list ---------------------------------------------------------------------------------


class TestList:
    def test_a_viewer_reads_every_figure_of_a_row_in_words(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        # Given a committed initiative of a team: 150 × 40 USD expected at 80 % confidence
        # = 4,800 USD risk-adjusted over 6 weeks = 800 USD/wk; RICE 1,000 × 2 × 70 % / 6
        workspace.currency = "USD"
        workspace.save()
        team = TeamFactory.create(workspace=workspace, name="Growth")
        initiative = InitiativeFactory.create(
            workspace=workspace,
            title="Guided onboarding",
            summary="A checklist to the first dashboard.",
            team=team,
            owner=viewer.user,
            horizon="now",
            effort_weeks=Decimal("6"),
            confidence=70,
            reach=1000,
            impact=Decimal("2"),
        )
        metric = MetricFactory.create(workspace=workspace, value_per_unit=Decimal("40"))
        ExpectedImpactFactory.create(
            initiative=initiative, metric=metric, expected_change=Decimal("150"), confidence=80
        )
        AlignmentFactory.create(initiative=initiative)
        initiative_transition(initiative=initiative, to=Status.COMMITTED, by=None)

        response = client_for(viewer).get("/w/acme/initiatives/")

        assert response.status_code == 200
        [row] = rows_of(response)
        assert row == (
            f"Guided onboarding A checklist to the first dashboard. Committed Growth "
            f"{viewer.user.display_name} Strategic Now 6 wk 70% 4,800 USD — 800 USD/wk 233.33"
        )
        page = text_of(response)
        assert "1–1 of 1 initiative · sorted by value density, highest first" in page
        assert "New initiative" not in page  # a viewer adds nothing
        assert_no_inline_script(response.content.decode())

    def test_realized_value_shows_once_released(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        # Given a level metric from 100 to 130 over the release, 10 EUR per unit, claimed
        # in full: realized 30 × 10 = 300 EUR
        today = workspace_today(workspace)
        initiative = priced(workspace, "Faster checkout", change="50")
        metric = initiative.expected_impacts.get().metric
        metric.aggregation = "last"
        metric.save()
        release = today - timedelta(days=30)
        measure(metric, {release - timedelta(days=1): "100", release + timedelta(days=5): "130"})
        AlignmentFactory.create(initiative=initiative)
        for to in (Status.COMMITTED, Status.IN_DELIVERY):
            initiative_transition(initiative=initiative, to=to, by=None)
        initiative_transition(
            initiative=initiative, to=Status.RELEASED, by=None, released_on=release
        )

        [row] = rows_of(client_for(viewer).get("/w/acme/initiatives/"))

        assert "Released" in row
        assert "250 EUR 300 EUR 62.50 EUR/wk" in row  # risk-adjusted, realized, density

    def test_value_density_first_unknown_last_and_other_sorts(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        # density: A 500/5 = 100, B 2,400/12 = 200, C no effort (unknown)
        priced(workspace, "A", effort="5", change="100", confidence=50)
        priced(workspace, "B", effort="12", change="300", confidence=80)
        priced(workspace, "C", effort=None)
        client = client_for(viewer)

        assert titles_of(client.get("/w/acme/initiatives/")) == ["B", "A", "C"]
        assert titles_of(client.get("/w/acme/initiatives/?sort=-value_density")) == [
            "A",
            "B",
            "C",
        ]
        assert titles_of(client.get("/w/acme/initiatives/?sort=-title")) == ["C", "B", "A"]
        response = client.get("/w/acme/initiatives/?sort=effort_weeks")
        assert titles_of(response)[:2] == ["A", "B"]
        assert "sorted by effort, smallest first" in text_of(response)

    def test_rice_sort(self, workspace: Workspace, viewer: Membership) -> None:
        # RICE: low 1,000 × 2 × 50 % / 4 = 250; high 100 × 3 × 100 % / 1 = 300; none unknown
        InitiativeFactory.create(
            workspace=workspace,
            title="low",
            reach=1000,
            impact=Decimal("2"),
            confidence=50,
            effort_weeks=Decimal("4"),
        )
        InitiativeFactory.create(
            workspace=workspace,
            title="high",
            reach=100,
            impact=Decimal("3"),
            confidence=100,
            effort_weeks=Decimal("1"),
        )
        InitiativeFactory.create(workspace=workspace, title="none")

        response = client_for(viewer).get("/w/acme/initiatives/?sort=rice")

        assert titles_of(response) == ["high", "low", "none"]
        assert [row.split()[-1] for row in rows_of(response)] == ["300", "250", "—"]

    def test_the_column_header_sorts_and_a_second_click_reverses(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        InitiativeFactory.create(workspace=workspace, title="Alpha")
        html = client_for(viewer).get("/w/acme/initiatives/?sort=title").content.decode()

        assert 'aria-sort="ascending"' in html
        assert 'href="?sort=-title"' in html
        assert 'href="?sort=rice"' in html

    def test_filters_narrow_the_list(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        growth = TeamFactory.create(workspace=workspace, name="Growth")
        objective = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        aligned = InitiativeFactory.create(
            workspace=workspace, title="Aligned work", team=growth, owner=editor.user
        )
        AlignmentFactory.create(initiative=aligned, objective=objective)
        InitiativeFactory.create(
            workspace=workspace,
            title="Keep the lights on",
            kind="tactical",
            problem="Certificates expire every quarter.",
        )
        declined = InitiativeFactory.create(workspace=workspace, title="Dark mode")
        initiative_transition(
            initiative=declined,
            to=Status.DECLINED,
            rationale="Nobody asked for it this year.",
            by=None,
        )
        client = client_for(viewer)

        def titles(query: str) -> list[str]:
            return sorted(titles_of(client.get(f"/w/acme/initiatives/?{query}")))

        assert titles(f"team={growth.pk}") == ["Aligned work"]
        assert titles(f"objective={objective.pk}") == ["Aligned work"]
        assert titles(f"owner={editor.user_id}") == ["Aligned work"]
        assert titles("kind=tactical") == ["Keep the lights on"]
        assert titles("status=declined") == ["Dark mode"]
        assert titles("q=certificates") == ["Keep the lights on"]  # words of the problem
        assert titles("q=DARK") == ["Dark mode"]
        assert titles("") == ["Aligned work", "Dark mode", "Keep the lights on"]

    def test_a_bad_filter_is_named_in_words_and_left_out(
        self, workspace: Workspace, viewer: Membership, other_workspace: Workspace
    ) -> None:
        InitiativeFactory.create(workspace=workspace, title="Still listed")
        foreign_team = TeamFactory.create(workspace=other_workspace)

        response = client_for(viewer).get(
            f"/w/acme/initiatives/?team={foreign_team.pk}&status=shipped&sort=drop%20table"
        )

        assert response.status_code == 200
        page = text_of(response)
        assert (
            "Team: Select a valid choice. That choice is not one of the available choices." in page
        )
        assert "Status: Select a valid choice. shipped is not one of the available choices." in page
        assert titles_of(response) == ["Still listed"]

    def test_pages_of_fifty(self, workspace: Workspace, viewer: Membership) -> None:
        InitiativeFactory.create_batch(120, workspace=workspace)
        client = client_for(viewer)

        first = client.get("/w/acme/initiatives/?sort=title")
        assert "1–50 of 120 initiatives" in text_of(first)
        assert len(rows_of(first)) == 50
        assert "Page 1 of 3" in text_of(first)
        assert 'href="?sort=title&amp;page=2"' in first.content.decode()

        third = client.get("/w/acme/initiatives/?sort=title&page=3")
        assert "101–120 of 120 initiatives" in text_of(third)
        assert len(rows_of(third)) == 20
        # The pages do not overlap and miss nothing.
        seen = set()
        for number in (1, 2, 3):
            seen |= set(titles_of(client.get(f"/w/acme/initiatives/?sort=title&page={number}")))
        assert len(seen) == 120

        # A page that is not a number or past the end is the nearest real one.
        assert "1–50 of 120" in text_of(client.get("/w/acme/initiatives/?page=abc"))
        assert "101–120 of 120" in text_of(client.get("/w/acme/initiatives/?page=99"))

    def test_thousands_are_grouped(self, workspace: Workspace, viewer: Membership) -> None:
        Initiative.objects.bulk_create(
            Initiative(workspace=workspace, title=f"Bet {n}") for n in range(1234)
        )
        assert "1–50 of 1,234 initiatives" in text_of(
            client_for(viewer).get("/w/acme/initiatives/")
        )

    def test_an_empty_list_tells_a_pm_what_to_do(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        page = text_of(client_for(editor).get("/w/acme/initiatives/"))
        assert "No initiatives yet — log the first bet" in page
        assert "Log the first initiative" in page
        viewer_page = text_of(client_for(viewer).get("/w/acme/initiatives/"))
        assert "Log the first initiative" not in viewer_page
        assert "An editor of this workspace logs them" in viewer_page

    def test_no_match_offers_to_clear_the_filters(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        InitiativeFactory.create(workspace=workspace, title="Onboarding")
        page = text_of(client_for(viewer).get("/w/acme/initiatives/?q=pricing"))
        assert "No initiative matches these filters" in page
        assert "Clear filters" in page

    def test_htmx_swaps_only_the_results(self, workspace: Workspace, viewer: Membership) -> None:
        InitiativeFactory.create(workspace=workspace, title="Onboarding")
        response = client_for(viewer).get(
            "/w/acme/initiatives/?q=onboard",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="initiative-results",
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="initiative-results"')
        assert "<html" not in html
        assert titles_of(response) == ["Onboarding"]

    def test_an_editor_sees_the_new_initiative_button(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        InitiativeFactory.create(workspace=workspace)
        html = client_for(editor).get("/w/acme/initiatives/").content.decode()
        assert 'href="/w/acme/initiatives/new/"' in html

    def test_an_outsider_gets_404_and_a_visitor_the_login(
        self, workspace: Workspace, outsider: Membership, client: Client
    ) -> None:
        assert client_for(outsider).get("/w/acme/initiatives/").status_code == 404
        assert client_for(outsider).get("/w/acme/initiatives/board/").status_code == 404
        response = client.get("/w/acme/initiatives/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_initiatives_of_another_workspace_are_not_listed(
        self, workspace: Workspace, other_workspace: Workspace, viewer: Membership
    ) -> None:
        InitiativeFactory.create(workspace=other_workspace, title="Globex secret")
        InitiativeFactory.create(workspace=workspace, title="Ours")
        assert titles_of(client_for(viewer).get("/w/acme/initiatives/")) == ["Ours"]

    @pytest.mark.parametrize("size", [10, 130])
    def test_the_list_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        # Given `size` initiatives with teams, owners, an impact each, half of them aligned
        team = TeamFactory.create(workspace=workspace)
        for n in range(size):
            initiative = priced(workspace, f"Bet {n}", team=team, owner=viewer.user)
            if n % 2:
                AlignmentFactory.create(initiative=initiative)
        client = client_for(viewer)

        with django_assert_max_num_queries(LIST_QUERIES):
            response = client.get("/w/acme/initiatives/")

        assert len(rows_of(response)) == min(size, 50)
        assert text_of(response).count("125 EUR/wk") == min(size, 50)


# --- the board ----------------------------------------------------------------------------------


class TestBoard:
    def test_a_column_per_status_with_value_on_each_card(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        today = workspace_today(workspace)
        priced(workspace, "Proposal", change="200")  # 200 × 10 × 50 % = 1,000 EUR
        shipped = priced(workspace, "Shipped", change="50")
        metric = shipped.expected_impacts.get().metric
        metric.aggregation = "last"
        metric.save()
        release = today - timedelta(days=10)
        measure(metric, {release: "10", release + timedelta(days=2): "30"})
        AlignmentFactory.create(initiative=shipped)
        for to in (Status.COMMITTED, Status.IN_DELIVERY):
            initiative_transition(initiative=shipped, to=to, by=None)
        initiative_transition(initiative=shipped, to=Status.RELEASED, by=None, released_on=release)
        declined = InitiativeFactory.create(workspace=workspace, title="Dark mode")
        initiative_transition(
            initiative=declined, to=Status.DECLINED, rationale="Not this year, sorry.", by=None
        )

        response = client_for(viewer).get("/w/acme/initiatives/board/")

        assert response.status_code == 200
        html = response.content.decode()
        columns = re.findall(r'data-testid="column-([a-z_]+)"', html)
        assert columns == [
            "proposed",
            "discovery",
            "committed",
            "in_delivery",
            "released",
            "measured",
        ]
        proposed = _column(html, "proposed")
        assert "Proposal" in proposed
        assert "1,000 EUR" in proposed
        assert "250 EUR/wk" in proposed
        released = _column(html, "released")
        assert "Shipped" in released
        assert "Realized 200 EUR" in text_of_html(released)  # (30 − 10) × 10 EUR
        page = text_of(response)
        assert "Not on the board: 1 declined and 0 cancelled" in page
        assert "Dark mode" not in page
        assert 'href="/w/acme/initiatives/?status=declined"' in html

    def test_a_full_column_links_to_the_rest(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        team = TeamFactory.create(workspace=workspace)
        InitiativeFactory.create_batch(55, workspace=workspace, team=team)

        response = client_for(viewer).get(f"/w/acme/initiatives/board/?team={team.pk}")

        proposed = _column(response.content.decode(), "proposed")
        assert proposed.count('data-testid="card"') == 50
        assert "and 5 more in the list" in proposed
        assert f'href="/w/acme/initiatives/?team={team.pk}&amp;status=proposed"' in proposed

    def test_cards_are_ordered_by_value_density(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        priced(workspace, "A", effort="5", change="100", confidence=50)  # 100/wk
        priced(workspace, "B", effort="12", change="300", confidence=80)  # 200/wk
        priced(workspace, "C", effort=None)
        proposed = _column(
            client_for(viewer).get("/w/acme/initiatives/board/").content.decode(), "proposed"
        )
        assert re.findall(r'class="board__title" href="[^"]+">([^<]+)<', proposed) == [
            "B",
            "A",
            "C",
        ]

    def test_an_empty_board_tells_a_pm_what_to_do(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        page = text_of(client_for(editor).get("/w/acme/initiatives/board/"))
        assert "No initiatives yet — log the first bet" in page

    @pytest.mark.parametrize("size", [10, 130])
    def test_the_board_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        team = TeamFactory.create(workspace=workspace)
        statuses = [Status.PROPOSED, Status.DISCOVERY, Status.COMMITTED]
        for n in range(size):
            initiative = priced(workspace, f"Bet {n}", team=team, owner=viewer.user)
            Initiative.objects.filter(pk=initiative.pk).update(status=statuses[n % 3])
        client = client_for(viewer)

        with django_assert_max_num_queries(BOARD_QUERIES):
            response = client.get("/w/acme/initiatives/board/")

        assert response.content.decode().count('data-testid="card"') == min(size, 150)


def _column(html: str, status: str) -> str:
    match = re.search(rf'data-testid="column-{status}">(.*?)</section>', html, flags=re.S)
    assert match is not None
    return re.sub(r"\s+", " ", match.group(1))


# --- the form -------------------------------------------------------------------------------------


class TestInitiativeForm:
    def test_an_editor_logs_an_initiative(self, workspace: Workspace, editor: Membership) -> None:
        team = TeamFactory.create(workspace=workspace, name="Growth")
        client = client_for(editor)
        form_page = client.get("/w/acme/initiatives/new/")
        assert form_page.status_code == 200
        assert "We believe … will …; we will know when …" in text_of(form_page)

        response = client.post(
            "/w/acme/initiatives/new/",
            initiative_post(team=str(team.pk), owner=str(editor.user_id)),
            follow=True,
        )

        initiative = Initiative.objects.get(title="Guided onboarding")
        assert response.redirect_chain[-1][0] == f"/w/acme/initiatives/{initiative.pk}/"
        assert initiative.status == Status.PROPOSED
        assert initiative.team == team
        assert initiative.owner == editor.user
        assert initiative.effort_weeks == Decimal("6")
        assert initiative.impact == Decimal("2")
        assert initiative.reach == 1200
        assert initiative.start_on == date(2026, 1, 5)
        assert initiative.measurement_window_days == 60
        assert initiative.history.get().history_user == editor.user
        page = text_of(response)
        assert "Initiative “Guided onboarding” logged as proposed." in page
        assert "We believe a checklist will double activation" in page

    def test_the_owner_defaults_to_who_logs_it(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        html = client_for(editor).get("/w/acme/initiatives/new/").content.decode()
        assert f'<option value="{editor.user_id}" selected>' in html

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("title", "  ", "This field is required."),
            ("confidence", "150", "Ensure this value is less than or equal to 100."),
            ("effort_weeks", "-1", "Ensure this value is greater than or equal to 0."),
            ("effort_weeks", "lots", "Enter a number."),
            ("measurement_window_days", "0", "Ensure this value is greater than or equal to 1."),
            ("impact", "0.7", "Select a valid choice. 0.7 is not one of the available choices."),
            (
                "kind",
                "urgent",
                "Select a valid choice. urgent is not one of the available choices.",
            ),
            ("target_on", "2025-12-31", "The target date must be on or after the start date."),
            ("start_on", "5 January", "Enter a valid date."),
        ],
    )
    def test_bad_input_is_a_field_error_and_writes_nothing(
        self, workspace: Workspace, editor: Membership, field: str, value: str, message: str
    ) -> None:
        response = client_for(editor).post(
            "/w/acme/initiatives/new/", initiative_post(**{field: value})
        )

        assert response.status_code == 400
        html = response.content.decode()
        error = re.search(
            rf'<div class="field field--error[^"]*">\s*<label for="id_{field}">.*?</div>',
            html,
            flags=re.S,
        )
        assert error is not None, f"no error on {field}"
        assert message in text_of_html(error.group(0))
        assert not Initiative.objects.exists()

    def test_an_owner_or_team_of_another_workspace_is_refused(
        self,
        workspace: Workspace,
        editor: Membership,
        outsider: Membership,
        other_workspace: Workspace,
    ) -> None:
        foreign_team = TeamFactory.create(workspace=other_workspace)

        response = client_for(editor).post(
            "/w/acme/initiatives/new/",
            initiative_post(team=str(foreign_team.pk), owner=str(outsider.user_id)),
        )

        assert response.status_code == 400
        assert text_of(response).count("That choice is not one of the available choices.") == 2
        assert not Initiative.objects.exists()

    def test_an_editor_edits_it_and_the_history_says_so(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(
            workspace=workspace, title="Onboarding", impact=Decimal("0.5")
        )
        client = client_for(editor)
        html = client.get(f"/w/acme/initiatives/{initiative.pk}/edit/").content.decode()
        assert 'value="Onboarding"' in html
        assert '<option value="0.5" selected>' in html  # 0.50 from the database

        response = client.post(
            f"/w/acme/initiatives/{initiative.pk}/edit/",
            initiative_post(title="Guided onboarding", impact="0.5"),
            follow=True,
        )

        initiative.refresh_from_db()
        assert initiative.title == "Guided onboarding"
        assert initiative.status == Status.PROPOSED
        page = text_of(response)
        assert "Initiative “Guided onboarding” saved." in page
        assert f"{editor.user.display_name} changed it" in page
        assert "Title: Onboarding → Guided onboarding" in page

    def test_a_bad_edit_keeps_the_saved_values(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Onboarding")
        response = client_for(editor).post(
            f"/w/acme/initiatives/{initiative.pk}/edit/",
            initiative_post(title="Renamed", confidence="-5"),
        )
        assert response.status_code == 400
        assert "Ensure this value is greater than or equal to 0." in text_of(response)
        initiative.refresh_from_db()
        assert initiative.title == "Onboarding"

    def test_a_viewer_may_not_create_or_edit(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Onboarding")
        client = client_for(viewer)
        assert client.get("/w/acme/initiatives/new/").status_code == 403
        assert client.post("/w/acme/initiatives/new/", initiative_post()).status_code == 403
        edit = client.post(
            f"/w/acme/initiatives/{initiative.pk}/edit/", initiative_post(title="Hijacked")
        )
        assert edit.status_code == 403
        assert list(Initiative.objects.values_list("title", flat=True)) == ["Onboarding"]

    def test_an_initiative_of_another_workspace_is_not_found(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = InitiativeFactory.create(workspace=other_workspace, title="Globex plan")
        client = client_for(editor)
        for suffix in ("", "edit/", "delete/"):
            assert client.get(f"/w/acme/initiatives/{foreign.pk}/{suffix}").status_code == 404
        assert (
            client.post(
                f"/w/acme/initiatives/{foreign.pk}/edit/", initiative_post(title="Mine")
            ).status_code
            == 404
        )
        foreign.refresh_from_db()
        assert foreign.title == "Globex plan"


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- delete -------------------------------------------------------------------------------------


class TestDelete:
    def test_a_proposal_is_deleted_after_the_confirmation(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Dark mode")
        client = client_for(editor)
        confirm = client.get(f"/w/acme/initiatives/{initiative.pk}/delete/")
        assert "Delete the initiative “Dark mode” for good?" in text_of(confirm)
        assert Initiative.objects.exists()  # a GET deletes nothing

        response = client.post(f"/w/acme/initiatives/{initiative.pk}/delete/", follow=True)

        assert response.redirect_chain[-1][0] == "/w/acme/initiatives/"
        assert "Initiative “Dark mode” deleted." in text_of(response)
        assert not Initiative.objects.exists()

    def test_committed_work_cannot_be_deleted_and_the_page_says_why(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(
            workspace=workspace,
            title="Checkout",
            kind="tactical",
            tactical_rationale="Card rules change.",
        )
        initiative_transition(initiative=initiative, to=Status.COMMITTED, by=None)
        client = client_for(editor)

        confirm = client.get(f"/w/acme/initiatives/{initiative.pk}/delete/")
        assert "“Checkout” is committed: committed or shipped work is part of the record" in (
            text_of(confirm)
        )
        assert "Cancel it instead." in text_of(confirm)
        assert "Delete initiative</button>" not in confirm.content.decode()

        response = client.post(f"/w/acme/initiatives/{initiative.pk}/delete/")

        assert response.status_code == 409
        assert (
            "A committed initiative is part of the record and cannot be deleted; cancel it "
            "instead." in text_of(response)
        )
        assert Initiative.objects.filter(pk=initiative.pk).exists()

    def test_a_viewer_may_not_delete(self, workspace: Workspace, viewer: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        client = client_for(viewer)
        assert client.get(f"/w/acme/initiatives/{initiative.pk}/delete/").status_code == 403
        assert client.post(f"/w/acme/initiatives/{initiative.pk}/delete/").status_code == 403
        assert Initiative.objects.filter(pk=initiative.pk).exists()
