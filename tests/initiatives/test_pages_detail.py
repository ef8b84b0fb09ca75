"""The initiative page through Django's test client: the bet, alignment, expected vs
realized impact with its charts, experiments, the decision log and the history; the
lifecycle buttons that explain a refusal; and the small forms that hang off the page."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Membership, Workspace
from initiatives.models import (
    Alignment,
    Decision,
    ExpectedImpact,
    Experiment,
    Initiative,
    Stakeholder,
    Status,
)
from initiatives.services import (
    decision_record,
    experiment_create,
    initiative_transition,
    initiative_update,
    stakeholder_add,
)
from strategy.models import Metric
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.initiatives.factories import (
    AlignmentFactory,
    ExpectedImpactFactory,
    InitiativeFactory,
)
from tests.strategy.factories import MetricFactory, ObjectiveFactory, measure
from tests.strategy.test_pages import assert_no_inline_script, client_for, text_of

pytestmark = pytest.mark.django_db

# Session, user, membership, the initiative, impacts, alignments, the chart series of all
# its metrics, stakeholders, experiments, decisions and the history (its rows and the
# names they mention); an editor's page adds the choices of the add forms. None grows
# with the number of rows.
VIEWER_PAGE_QUERIES = 14
EDITOR_PAGE_QUERIES = 17

COMMIT_REFUSAL = (
    "Needs an expected impact and an alignment to an active objective before it can be "
    "committed (or mark it tactical and say why)."
)


def url(initiative: Initiative, suffix: str = "") -> str:
    return f"/w/acme/initiatives/{initiative.pk}/{suffix}"


def sign_ups(workspace: Workspace, **fields: Any) -> Metric:
    """A daily flow worth 40 EUR per sign-up."""
    return MetricFactory.create(
        workspace=workspace,
        key=fields.pop("key", "sign-ups"),
        name=fields.pop("name", "Self-serve sign-ups"),
        unit="sign-ups",
        aggregation="sum",
        direction="increase",
        value_per_unit=Decimal("40"),
        **fields,
    )


def released_initiative(workspace: Workspace, editor: Membership) -> tuple[Initiative, date]:
    """Released 100 days ago with a 90-day window, expecting +150 sign-ups at 80 %
    confidence and claiming 50 % of the movement. The metric: 10 a day in the 90 days
    before the release, 12 a day in the 90 after it, 50 a day since (outside the window).

    By hand: before Σ = 900, after Σ = 1,080, change = 180; realized change = 180 × 50 %
    = 90 sign-ups, realized value = 90 × 40 = 3,600 EUR; expected value = 150 × 40 =
    6,000 EUR, risk-adjusted = 6,000 × 80 % = 4,800 EUR; realization = 90 / 150 = 60 %."""
    today = workspace_today(workspace)
    release = today - timedelta(days=100)
    metric = sign_ups(workspace)
    values = {release - timedelta(days=d): "10" for d in range(0, 90)}
    values |= {release + timedelta(days=d): "12" for d in range(1, 91)}
    values |= {release + timedelta(days=d): "50" for d in range(91, 101)}
    values[release - timedelta(days=90)] = "999"  # the day before the window: left out
    measure(metric, values)
    initiative = InitiativeFactory.create(
        workspace=workspace,
        title="Guided onboarding",
        hypothesis="We believe a checklist will lift sign-ups; we will know when they grow.",
        problem="New visitors leave before signing up.",
        owner=editor.user,
        effort_weeks=Decimal("6"),
        measurement_window_days=90,
    )
    ExpectedImpactFactory.create(
        initiative=initiative,
        metric=metric,
        expected_change=Decimal("150"),
        confidence=80,
        attribution=50,
    )
    AlignmentFactory.create(
        initiative=initiative,
        objective=ObjectiveFactory.create(workspace=workspace, title="Grow self-serve"),
        weight=60,
    )
    for to in (Status.COMMITTED, Status.IN_DELIVERY):
        initiative_transition(initiative=initiative, to=to, by=editor.user)
    initiative_transition(
        initiative=initiative, to=Status.RELEASED, by=editor.user, released_on=release
    )
    initiative.refresh_from_db()
    return initiative, release


def impact_row(response: Any) -> dict[str, str]:
    html = response.content.decode()
    row = re.search(r'<tr data-testid="impact-row">(.*?)</tr>', html, flags=re.S)
    assert row is not None
    cells = re.findall(r'data-testid="([a-z-]+)">(.*?)</td>', row.group(1), flags=re.S)
    return {
        name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", value)).strip() for name, value in cells
    }


def chart_data(response: Any, impact: ExpectedImpact) -> dict[str, Any]:
    html = response.content.decode()
    match = re.search(
        rf'<script id="impact-chart-{impact.pk}" type="application/json">(.*?)</script>',
        html,
        flags=re.S,
    )
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def section(response: Any, testid: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<section[^>]*data-testid="{testid}">(.*?)</section>', html, flags=re.S)
    assert match is not None, testid
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


# --- reading the page ----------------------------------------------------------------------


class TestReading:
    def test_a_viewer_reads_expected_against_realized_impact_in_money(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        initiative, release = released_initiative(workspace, editor)

        response = client_for(viewer).get(url(initiative))

        assert response.status_code == 200
        assert impact_row(response) == {
            "expected-change": "150 sign-ups",
            "expected-value": "6,000 EUR",
            "risk-adjusted": "4,800 EUR",
            "realized-change": "90 sign-ups",
            "realized-value": "3,600 EUR",
            "realization": "60%",
            "impact-status": f"Measured — window ended {(release + timedelta(90)).isoformat()}",
        }
        totals = section(response, "impact")
        assert "Total 6,000 EUR 4,800 EUR 3,600 EUR 60%" in totals
        page = text_of(response)
        assert "Risk-adjusted value 4,800 EUR expected 6,000 EUR" in page
        assert "Realized value 3,600 EUR" in page
        assert "Value density 800 EUR/wk" in page  # 4,800 / 6 weeks

    def test_the_chart_shows_the_release_and_the_two_windows_it_compares(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        initiative, release = released_initiative(workspace, editor)
        impact = initiative.expected_impacts.get()

        response = client_for(viewer).get(url(initiative))

        data = chart_data(response, impact)
        assert data["release"] == release.isoformat()
        assert data["before"] == [(release - timedelta(90)).isoformat(), release.isoformat()]
        assert data["after"] == [release.isoformat(), (release + timedelta(90)).isoformat()]
        assert data["range"] == [
            (release - timedelta(90)).isoformat(),
            (release + timedelta(90)).isoformat(),
        ]
        # W days either side of the release: the 999 the day before is in the range shown
        assert data["x"][0] == (release - timedelta(90)).isoformat()
        assert data["y"][:2] == [999.0, 10.0]
        assert data["x"][-1] == (release + timedelta(90)).isoformat()
        assert len(data["x"]) == 181
        html = response.content.decode()
        assert f'data-impact-chart="impact-chart-{impact.pk}"' in html
        assert "/static/vendor/plotly.min.js" in html
        assert "/static/js/initiative_charts.js" in html
        assert_no_inline_script(html)

    def test_the_bet_the_facts_alignment_stakeholders_experiments_decisions_and_history(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        initiative, release = released_initiative(workspace, editor)
        team = TeamFactory.create(workspace=workspace, name="Growth")
        initiative_update(initiative=initiative, by=editor.user, team=team, reach=500)
        stakeholder_add(
            initiative=initiative,
            user=viewer.user,
            role="sponsor",
            expectation="More self-serve revenue by Q3.",
        )
        experiment_create(
            initiative=initiative,
            hypothesis="A checklist shortens time to first dashboard",
            method="ab_test",
            result="validated",
            learnings="Two steps were enough.",
            started_on=release - timedelta(days=40),
            ended_on=release - timedelta(days=20),
        )

        response = client_for(viewer).get(url(initiative))

        page = text_of(response)
        assert "We believe a checklist will lift sign-ups; we will know when they grow." in page
        assert "New visitors leave before signing up." in page
        facts = section(response, "stakeholders")
        assert f"{viewer.user.display_name} Sponsor “More self-serve revenue by Q3.”" in facts
        alignment = section(response, "alignment")
        assert "Grow self-serve Active 60%" in alignment
        assert "Weights: 60 of 100" in alignment
        experiments = section(response, "experiments")
        assert "A checklist shortens time to first dashboard Validated" in experiments
        assert "A/B test" in experiments
        assert "Learned: Two steps were enough." in experiments
        decisions = section(response, "decisions")
        assert decisions.index("Release In delivery → Released") < decisions.index(
            "Commit Proposed → Committed"
        )
        assert editor.user.display_name in decisions
        history = section(response, "history")
        assert f"{editor.user.display_name} changed it" in history
        assert "Team: — → Growth" in history
        assert "Status: In delivery → Released" in history
        assert f"Released on: — → {release.isoformat()}" in history
        assert "The system created it" in history  # the factory wrote no user
        assert "Growth · Strategic · Next" in page
        assert f"Released {release.isoformat()}" in page
        assert "Measured over 90 days, until" in page

    def test_a_viewer_sees_no_edit_controls(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        initiative, _ = released_initiative(workspace, editor)

        html = client_for(viewer).get(url(initiative)).content.decode()

        # The only form that posts is the header's log-out.
        assert re.findall(r'<form[^>]*method="post"[^>]*>', html) == [
            '<form method="post" action="/accounts/logout/">'
        ]
        assert 'data-testid="lifecycle"' not in html
        for words in (
            "Edit initiative",
            "Add an expected impact",
            "Align to an objective",
            "Add a stakeholder",
            "Add an experiment",
            "Record a decision",
            "Remove",
        ):
            assert words not in html

    @pytest.mark.parametrize(
        ("released_days_ago", "measured", "status"),
        [
            (None, False, "Not released yet"),
            (10, True, "Measuring — window ends {ends}"),
            (0, False, "Measuring — window ends {ends}; first figures tomorrow"),
            (10, False, "No data — needs measurements before and after the release"),
        ],
    )
    def test_the_status_of_an_impact_in_words(
        self,
        workspace: Workspace,
        editor: Membership,
        released_days_ago: int | None,
        measured: bool,
        status: str,
    ) -> None:
        today = workspace_today(workspace)
        initiative = InitiativeFactory.create(
            workspace=workspace, kind="tactical", tactical_rationale="Legal asks for it."
        )
        metric = sign_ups(workspace)
        ExpectedImpactFactory.create(initiative=initiative, metric=metric)
        if measured:
            measure(metric, {today - timedelta(days=d): "5" for d in range(0, 30)})
        ends = ""
        if released_days_ago is not None:
            for to in (Status.COMMITTED, Status.IN_DELIVERY):
                initiative_transition(initiative=initiative, to=to, by=None)
            release = today - timedelta(days=released_days_ago)
            initiative_transition(
                initiative=initiative, to=Status.RELEASED, by=None, released_on=release
            )
            ends = (release + timedelta(days=90)).isoformat()

        response = client_for(editor).get(url(initiative))

        assert impact_row(response)["impact-status"] == status.format(ends=ends)

    def test_a_level_without_data_says_what_it_needs(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative, _ = released_initiative(workspace, editor)
        mrr = MetricFactory.create(workspace=workspace, aggregation="last", name="MRR")
        ExpectedImpactFactory.create(initiative=initiative, metric=mrr)

        html = client_for(editor).get(url(initiative)).content.decode()

        assert "No data — needs a measurement on or before the release and one after it" in html
        assert "No measurements of this metric around the release." in html

    def test_an_initiative_without_impacts_or_alignment_says_what_to_add(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Bare")
        page = text_of(client_for(editor).get(url(initiative)))
        assert "No expected impact yet. Say which business metric this initiative will move" in (
            page
        )
        assert "Not aligned to any objective yet." in page
        assert "Risk-adjusted value — expected —" in page

    def test_an_initiative_of_another_workspace_is_not_found(
        self,
        workspace: Workspace,
        other_workspace: Workspace,
        outsider: Membership,
        editor: Membership,
    ) -> None:
        foreign = InitiativeFactory.create(workspace=other_workspace)
        assert client_for(editor).get(url(foreign)).status_code == 404
        ours = InitiativeFactory.create(workspace=workspace)
        assert client_for(outsider).get(url(ours)).status_code == 404

    @pytest.mark.parametrize("size", [1, 8])
    def test_the_page_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        editor: Membership,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        # Given an initiative with `size` impacts (each on a measured metric), alignments,
        # stakeholders, experiments, hand-recorded decisions and edits in its history
        today = workspace_today(workspace)
        initiative = InitiativeFactory.create(workspace=workspace, owner=editor.user)
        team = TeamFactory.create(workspace=workspace)
        for n in range(size):
            metric = sign_ups(workspace, key=f"m{n}", name=f"Metric {n}")
            measure(metric, {today - timedelta(days=d): str(n + d) for d in range(0, 40, 3)})
            ExpectedImpactFactory.create(initiative=initiative, metric=metric)
            AlignmentFactory.create(initiative=initiative, weight=10)
            stakeholder_add(
                initiative=initiative,
                user=MembershipFactory.create(workspace=workspace).user,
                role="informed",
            )
            experiment_create(initiative=initiative, hypothesis=f"Test {n}", method="survey")
            decision_record(
                workspace=workspace,
                initiative=initiative,
                by=editor.user,
                rationale=f"Deferred for reason {n}.",
            )
            initiative_update(
                initiative=initiative, by=editor.user, title=f"Renamed {n}", team=team
            )
        for to in (Status.COMMITTED, Status.IN_DELIVERY):
            initiative_transition(initiative=initiative, to=to, by=editor.user)
        initiative_transition(
            initiative=initiative,
            to=Status.RELEASED,
            by=editor.user,
            released_on=today - timedelta(days=20),
        )

        as_viewer, as_editor = client_for(viewer), client_for(editor)

        with django_assert_max_num_queries(VIEWER_PAGE_QUERIES):
            response = as_viewer.get(url(initiative))
        assert text_of(response).count("Measuring — window ends") == size
        with django_assert_max_num_queries(EDITOR_PAGE_QUERIES):
            response = as_editor.get(url(initiative))
        assert response.content.decode().count('data-testid="impact-chart"') == size


# --- the lifecycle buttons ---------------------------------------------------------------------


class TestLifecycle:
    def test_a_proposal_explains_why_it_cannot_be_committed_yet(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)

        response = client_for(editor).get(url(initiative))

        html = response.content.decode()
        commit = _control(html, "committed")
        assert "disabled" in commit
        assert COMMIT_REFUSAL in _words(commit)
        discovery = _control(html, "discovery")
        assert "disabled" not in discovery
        assert "Start discovery" in discovery
        decline = _control(html, "declined")
        assert "Decline…" in _words(decline)
        assert 'name="rationale"' in decline
        assert 'name="revisit_on"' in decline

    def test_once_aligned_and_with_an_impact_commit_is_a_button(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        ExpectedImpactFactory.create(initiative=initiative)
        AlignmentFactory.create(initiative=initiative)
        client = client_for(editor)
        assert "disabled" not in _control(client.get(url(initiative)).content.decode(), "committed")

        response = client.post(url(initiative, "transition/"), {"to": "committed"}, follow=True)

        initiative.refresh_from_db()
        assert initiative.status == Status.COMMITTED
        assert "“" + initiative.title + "” is now committed." in text_of(response)
        decision = Decision.objects.get(initiative=initiative)
        assert (decision.kind, decision.decided_by) == ("commit", editor.user)
        html = response.content.decode()
        assert "Start delivery" in _control(html, "in_delivery")
        assert 'name="rationale"' in _control(html, "discovery")  # a pivot says why
        assert 'name="rationale"' in _control(html, "cancelled")

    def test_a_refused_commit_is_a_409_with_the_reason_and_writes_nothing(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)

        response = client_for(editor).post(url(initiative, "transition/"), {"to": "committed"})

        assert response.status_code == 409
        assert COMMIT_REFUSAL in _words(_control(response.content.decode(), "committed"))
        initiative.refresh_from_db()
        assert initiative.status == Status.PROPOSED
        assert not Decision.objects.exists()

    def test_a_decline_needs_a_reason(self, workspace: Workspace, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, title="Dark mode")
        client = client_for(editor)

        refused = client.post(
            url(initiative, "transition/"), {"to": "declined", "rationale": " meh "}
        )

        assert refused.status_code == 409
        decline = _control(refused.content.decode(), "declined")
        assert '<details class="transition__details" open>' in decline
        assert "Say why (decline): a rationale of at least 10 characters." in _words(decline)
        assert 'id="declined_rationale">\n meh </textarea>' in decline  # typed text stays
        initiative.refresh_from_db()
        assert initiative.status == Status.PROPOSED
        assert not Decision.objects.exists()

        revisit = workspace_today(workspace) + timedelta(days=90)
        done = client.post(
            url(initiative, "transition/"),
            {
                "to": "declined",
                "rationale": "Few customers asked; the cost is high.",
                "revisit_on": revisit.isoformat(),
            },
            follow=True,
        )

        initiative.refresh_from_db()
        assert initiative.status == Status.DECLINED
        assert "“Dark mode” is declined; it shows on the Not doing list with your reason." in (
            text_of(done)
        )
        decision = Decision.objects.get()
        assert decision.rationale == "Few customers asked; the cost is high."
        assert decision.revisit_on == revisit
        assert f"Revisit on {revisit.isoformat()}" in section(done, "decisions")
        assert "Reopen…" in _words(_control(done.content.decode(), "proposed"))

    def test_a_release_in_the_future_is_refused(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(
            workspace=workspace, kind="tactical", tactical_rationale="Contract renewal."
        )
        for to in (Status.COMMITTED, Status.IN_DELIVERY):
            initiative_transition(initiative=initiative, to=to, by=None)
        tomorrow = workspace_today(workspace) + timedelta(days=1)
        client = client_for(editor)

        refused = client.post(
            url(initiative, "transition/"),
            {"to": "released", "released_on": tomorrow.isoformat()},
        )

        assert refused.status_code == 409
        assert (
            f"The release date {tomorrow.isoformat()} is in the future; release on the day it "
            "ships." in _words(_control(refused.content.decode(), "released"))
        )
        initiative.refresh_from_db()
        assert (initiative.status, initiative.released_on) == (Status.IN_DELIVERY, None)

        bad_date = client.post(
            url(initiative, "transition/"), {"to": "released", "released_on": "last week"}
        )
        assert bad_date.status_code == 400
        assert "Enter a valid date." in _words(_control(bad_date.content.decode(), "released"))

        release = workspace_today(workspace) - timedelta(days=3)
        done = client.post(
            url(initiative, "transition/"),
            {"to": "released", "released_on": release.isoformat()},
            follow=True,
        )
        initiative.refresh_from_db()
        assert (initiative.status, initiative.released_on) == (Status.RELEASED, release)
        assert f"released on {release.isoformat()}. Its impact is measured until" in text_of(done)
        measured = _control(done.content.decode(), "measured")
        assert "disabled" in measured
        ends = (release + timedelta(days=90)).isoformat()
        assert (
            f"It can be measured from {ends}, when its 90-day measurement window ends."
            in _words(measured)
        )

    def test_a_move_the_status_no_longer_allows_says_so_above_the_buttons(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)

        response = client_for(editor).post(url(initiative, "transition/"), {"to": "measured"})

        assert response.status_code == 409
        assert (
            "A proposed initiative cannot become measured; it can become discovery or "
            "committed or declined." in section(response, "lifecycle")
        )
        bad = client_for(editor).post(url(initiative, "transition/"), {"to": "shipped"})
        assert bad.status_code == 400
        assert "Select a valid choice. shipped is not one of the available choices." in section(
            bad, "lifecycle"
        )
        initiative.refresh_from_db()
        assert initiative.status == Status.PROPOSED

    def test_a_measured_initiative_has_no_next_step(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        Initiative.objects.filter(pk=initiative.pk).update(
            status=Status.MEASURED, released_on=date(2025, 1, 1)
        )
        page = text_of(client_for(editor).get(url(initiative)))
        assert "Measured: its figures are final and it moves no further." in page

    def test_a_viewer_may_not_move_it_and_an_outsider_does_not_find_it(
        self, workspace: Workspace, viewer: Membership, outsider: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        assert (
            client_for(viewer).post(url(initiative, "transition/"), {"to": "discovery"}).status_code
            == 403
        )
        assert (
            client_for(outsider)
            .post(url(initiative, "transition/"), {"to": "discovery"})
            .status_code
            == 404
        )
        initiative.refresh_from_db()
        assert initiative.status == Status.PROPOSED
        assert not Decision.objects.exists()


def _control(html: str, to: str) -> str:
    """The transition control for `to`: from its marker to the next one or the section end."""
    marker = '<div class="transition" data-testid="transition-'
    start = html.index(f'{marker}{to}"')
    ends = [html.find(mark, start + 1) for mark in (marker, "</section>")]
    return html[start : min(end for end in ends if end != -1)]


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- alignments, impacts, stakeholders, experiments, decisions -----------------------------------


class TestAlignments:
    def test_an_editor_aligns_it_and_weights_over_100_are_a_form_error(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        first = ObjectiveFactory.create(workspace=workspace, title="Grow self-serve")
        second = ObjectiveFactory.create(workspace=workspace, title="Cut support cost")
        client = client_for(editor)

        done = client.post(
            url(initiative, "alignments/"),
            {"objective": first.pk, "weight": "60", "rationale": "Sign-ups are self-serve."},
            follow=True,
        )
        assert "Alignment added." in text_of(done)
        assert "Grow self-serve Active Sign-ups are self-serve. 60%" in section(done, "alignment")
        # The next one is offered the 40 left.
        assert 'name="weight" value="40"' in done.content.decode()

        refused = client.post(
            url(initiative, "alignments/"), {"objective": second.pk, "weight": "50"}
        )

        assert refused.status_code == 400
        alignment = section(refused, "alignment")
        assert "The weights of this initiative would add up to 110; at most 100." in alignment
        assert list(Alignment.objects.values_list("objective__title", flat=True)) == [
            "Grow self-serve"
        ]
        assert '<details class="addform" open' in refused.content.decode()

    def test_an_objective_of_another_workspace_is_not_a_choice(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        foreign = ObjectiveFactory.create(workspace=other_workspace)

        response = client_for(editor).post(
            url(initiative, "alignments/"), {"objective": foreign.pk, "weight": "10"}
        )

        assert response.status_code == 400
        assert "Select a valid choice. That choice is not one of the available choices." in (
            section(response, "alignment")
        )
        assert not Alignment.objects.exists()

    def test_edit_a_weight_and_remove_an_alignment(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        alignment = AlignmentFactory.create(initiative=initiative, weight=30)
        AlignmentFactory.create(initiative=initiative, weight=60)
        client = client_for(editor)
        edit = url(initiative, f"alignments/{alignment.pk}/edit/")
        assert 'value="30"' in client.get(edit).content.decode()

        refused = client.post(edit, {"weight": "50"})
        assert refused.status_code == 400
        assert "The weights of this initiative would add up to 110; at most 100." in text_of(
            refused
        )
        alignment.refresh_from_db()
        assert alignment.weight == 30

        client.post(edit, {"weight": "40", "rationale": "Half of it."})
        alignment.refresh_from_db()
        assert (alignment.weight, alignment.rationale) == (40, "Half of it.")

        remove = url(initiative, f"alignments/{alignment.pk}/remove/")
        assert "Stop counting" in text_of(client.get(remove))
        assert Alignment.objects.filter(pk=alignment.pk).exists()
        client.post(remove)
        assert not Alignment.objects.filter(pk=alignment.pk).exists()

    def test_an_alignment_of_another_initiative_is_not_found(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        other = AlignmentFactory.create(initiative=InitiativeFactory.create(workspace=workspace))
        client = client_for(editor)
        assert client.post(url(initiative, f"alignments/{other.pk}/remove/")).status_code == 404
        assert (
            client.post(url(initiative, f"alignments/{other.pk}/edit/"), {"weight": "1"})
        ).status_code == 404
        assert Alignment.objects.filter(pk=other.pk, weight=100).exists()


class TestImpacts:
    def test_an_editor_adds_edits_and_removes_an_expected_impact(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        metric = sign_ups(workspace)
        client = client_for(editor)

        bad = client.post(
            url(initiative, "impacts/"),
            {
                "metric": metric.pk,
                "expected_change": "lots",
                "confidence": "120",
                "attribution": "100",
            },
        )
        assert bad.status_code == 400
        impact_section = section(bad, "impact")
        assert "Enter a number." in impact_section
        assert "Ensure this value is less than or equal to 100." in impact_section
        assert not ExpectedImpact.objects.exists()

        done = client.post(
            url(initiative, "impacts/"),
            {
                "metric": metric.pk,
                "expected_change": "150",
                "confidence": "80",
                "attribution": "50",
            },
            follow=True,
        )
        assert "Expected impact added." in text_of(done)
        assert impact_row(done)["risk-adjusted"] == "4,800 EUR"
        assert impact_row(done)["impact-status"] == "Not released yet"
        impact = ExpectedImpact.objects.get()

        edit = url(initiative, f"impacts/{impact.pk}/edit/")
        assert "Expected change (sign-ups)" in text_of(client.get(edit))
        client.post(edit, {"expected_change": "100", "confidence": "50", "attribution": "100"})
        impact.refresh_from_db()
        assert (impact.expected_change, impact.confidence) == (Decimal("100"), 50)

        client.post(url(initiative, f"impacts/{impact.pk}/remove/"))
        assert not ExpectedImpact.objects.exists()

    def test_a_metric_of_another_workspace_is_not_a_choice(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        foreign = MetricFactory.create(workspace=other_workspace)
        response = client_for(editor).post(
            url(initiative, "impacts/"),
            {
                "metric": foreign.pk,
                "expected_change": "1",
                "confidence": "50",
                "attribution": "100",
            },
        )
        assert response.status_code == 400
        assert not ExpectedImpact.objects.exists()


class TestStakeholders:
    def test_an_editor_adds_a_member_and_removes_them(
        self,
        workspace: Workspace,
        editor: Membership,
        viewer: Membership,
        outsider: Membership,
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        client = client_for(editor)

        foreign = client.post(
            url(initiative, "stakeholders/"), {"user": outsider.user_id, "role": "sponsor"}
        )
        assert foreign.status_code == 400
        assert "Select a valid choice." in section(foreign, "stakeholders")
        assert not Stakeholder.objects.exists()

        done = client.post(
            url(initiative, "stakeholders/"),
            {"user": viewer.user_id, "role": "sponsor", "expectation": "Revenue by Q3."},
            follow=True,
        )
        assert f"{viewer.user.display_name} Sponsor Remove “Revenue by Q3.”" in section(
            done, "stakeholders"
        )
        # Once a stakeholder, no longer offered.
        assert (
            f'<option value="{viewer.user_id}"'
            not in done.content.decode().split('data-testid="stakeholder-add"')[1]
        )

        stakeholder = Stakeholder.objects.get()
        remove = url(initiative, f"stakeholders/{stakeholder.pk}/remove/")
        assert f"Remove {viewer.user.display_name} (sponsor)" in text_of(client.get(remove))
        client.post(remove)
        assert not Stakeholder.objects.exists()


class TestExperiments:
    def test_an_editor_adds_edits_and_deletes_an_experiment(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        metric = sign_ups(workspace)
        client = client_for(editor)
        data = {
            "hypothesis": "A fake door shows demand",
            "method": "fake_door",
            "metric": metric.pk,
            "success_criteria": "5 % click",
            "started_on": "2026-03-10",
            "ended_on": "2026-03-01",
            "result": "pending",
            "learnings": "",
        }

        bad = client.post(url(initiative, "experiments/new/"), data)
        assert bad.status_code == 400
        assert "An experiment cannot end before it starts." in text_of(bad)
        assert not Experiment.objects.exists()

        done = client.post(
            url(initiative, "experiments/new/"), data | {"ended_on": "2026-03-20"}, follow=True
        )
        assert "Experiment added." in text_of(done)
        assert "A fake door shows demand Pending" in section(done, "experiments")
        experiment = Experiment.objects.get()

        client.post(
            url(initiative, f"experiments/{experiment.pk}/edit/"),
            data | {"ended_on": "2026-03-20", "result": "invalidated", "learnings": "1 % only."},
        )
        experiment.refresh_from_db()
        assert (experiment.result, experiment.learnings) == ("invalidated", "1 % only.")

        client.post(url(initiative, f"experiments/{experiment.pk}/delete/"))
        assert not Experiment.objects.exists()

    def test_a_viewer_may_not_add_one(self, workspace: Workspace, viewer: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        client = client_for(viewer)
        assert client.get(url(initiative, "experiments/new/")).status_code == 403
        response = client.post(
            url(initiative, "experiments/new/"), {"hypothesis": "x", "method": "survey"}
        )
        assert response.status_code == 403
        assert not Experiment.objects.exists()


class TestDecisions:
    def test_an_editor_records_a_decision_by_hand(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        client = client_for(editor)

        short = client.post(url(initiative, "decisions/"), {"kind": "defer", "rationale": "no"})
        assert short.status_code == 400
        assert "Say what was decided: at least 10 characters." in section(short, "decisions")
        assert not Decision.objects.exists()

        done = client.post(
            url(initiative, "decisions/"),
            {"kind": "defer", "rationale": "Wait for the pricing study."},
            follow=True,
        )
        decisions = section(done, "decisions")
        assert f"Defer {editor.user.display_name}, " in decisions
        assert "Wait for the pricing study." in decisions
        assert Decision.objects.get().decided_by == editor.user


class TestWritesNeedTheRole:
    @pytest.mark.parametrize(
        "suffix",
        ["stakeholders/", "alignments/", "impacts/", "decisions/", "experiments/new/"],
    )
    def test_a_viewer_post_is_403_and_an_outsider_404(
        self,
        workspace: Workspace,
        viewer: Membership,
        outsider: Membership,
        suffix: str,
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        assert client_for(viewer).post(url(initiative, suffix), {}).status_code == 403
        assert client_for(outsider).post(url(initiative, suffix), {}).status_code == 404
