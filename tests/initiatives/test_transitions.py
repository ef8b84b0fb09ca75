"""The initiative lifecycle: every transition, allowed and refused, with the guard's words."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from accounts.models import Membership, Workspace
from initiatives.models import Decision, Initiative
from initiatives.services import TRANSITIONS, TransitionRefused, initiative_transition
from strategy.services import workspace_today
from tests.initiatives.factories import AlignmentFactory, ExpectedImpactFactory, InitiativeFactory

WHY = "Customers told us twice."
ALL = [
    "proposed",
    "discovery",
    "committed",
    "in_delivery",
    "released",
    "measured",
    "declined",
    "cancelled",
]


def ready_to_commit(workspace: Workspace, status: str = "proposed") -> Initiative:
    initiative = InitiativeFactory.create(workspace=workspace, status=status)
    ExpectedImpactFactory.create(initiative=initiative)
    AlignmentFactory.create(initiative=initiative, objective__status="active")
    return initiative


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "to", "kind"),
    [(start, to, kind) for start, targets in TRANSITIONS.items() for to, kind in targets.items()],
)
def test_every_allowed_transition_moves_and_writes_its_decision(
    workspace: Workspace, editor: Membership, start: str, to: str, kind: str
) -> None:
    initiative = ready_to_commit(workspace, start)
    if start == "released":
        initiative.released_on = workspace_today(workspace) - timedelta(days=90)
        initiative.save()
    moved = initiative_transition(initiative=initiative, to=to, rationale=WHY, by=editor.user)
    assert moved.status == to
    assert Initiative.objects.get(pk=initiative.pk).status == to
    decision = Decision.objects.get(initiative=initiative)
    assert (decision.kind, decision.from_status, decision.to_status) == (kind, start, to)
    assert decision.decided_by == editor.user
    assert decision.rationale == WHY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "to"),
    [(s, t) for s in ALL for t in ALL if t not in TRANSITIONS.get(s, {})],
)
def test_every_other_transition_is_refused_and_writes_nothing(
    workspace: Workspace, editor: Membership, start: str, to: str
) -> None:
    initiative = ready_to_commit(workspace, start)
    with pytest.raises(TransitionRefused) as exc:
        initiative_transition(initiative=initiative, to=to, rationale=WHY, by=editor.user)
    if start == "measured":
        assert exc.value.detail == "A measured initiative does not change status any more."
    else:
        assert f"initiative cannot become {to.replace('_', ' ')}; it can become" in exc.value.detail
    assert Initiative.objects.get(pk=initiative.pk).status == start
    assert not Decision.objects.exists()


@pytest.mark.django_db
class TestGuards:
    def test_committing_needs_an_expected_impact_and_an_active_alignment(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        with pytest.raises(TransitionRefused) as exc:
            initiative_transition(initiative=initiative, to="committed", by=editor.user)
        assert exc.value.detail == (
            "Needs an expected impact and an alignment to an active objective before it can be "
            "committed (or mark it tactical and say why)."
        )
        ExpectedImpactFactory.create(initiative=initiative)
        AlignmentFactory.create(initiative=initiative, objective__status="draft")
        with pytest.raises(TransitionRefused) as exc:
            initiative_transition(initiative=initiative, to="committed", by=editor.user)
        assert exc.value.detail.startswith("Needs an alignment to an active objective")
        AlignmentFactory.create(initiative=initiative, objective__status="active")
        assert (
            initiative_transition(initiative=initiative, to="committed", by=editor.user).status
            == "committed"
        )

    def test_tactical_work_commits_with_a_rationale_instead(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        initiative = InitiativeFactory.create(
            workspace=workspace, kind="tactical", tactical_rationale="Contractual obligation."
        )
        assert (
            initiative_transition(initiative=initiative, to="committed", by=editor.user).status
            == "committed"
        )

    @pytest.mark.parametrize(
        ("start", "to"),
        [
            ("proposed", "declined"),
            ("committed", "cancelled"),
            ("committed", "discovery"),
            ("declined", "proposed"),
        ],
    )
    def test_declines_cancels_pivots_and_reopens_need_ten_characters_of_why(
        self, workspace: Workspace, editor: Membership, start: str, to: str
    ) -> None:
        initiative = InitiativeFactory.create(workspace=workspace, status=start)
        with pytest.raises(TransitionRefused, match="a rationale of at least 10 characters"):
            initiative_transition(
                initiative=initiative, to=to, rationale="   too short   ", by=editor.user
            )
        assert not Decision.objects.exists()

    def test_release_sets_today_unless_given_and_never_the_future(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        today = workspace_today(workspace)
        a = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        assert (
            initiative_transition(initiative=a, to="released", by=editor.user).released_on == today
        )
        b = InitiativeFactory.create(workspace=workspace, status="in_delivery")
        with pytest.raises(TransitionRefused, match="is in the future"):
            initiative_transition(
                initiative=b, to="released", by=editor.user, released_on=today + timedelta(days=1)
            )
        moved = initiative_transition(
            initiative=b, to="released", by=editor.user, released_on=date(2026, 1, 15)
        )
        assert moved.released_on == date(2026, 1, 15)

    def test_measuring_waits_for_the_end_of_the_window(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        today = workspace_today(workspace)
        initiative = InitiativeFactory.create(
            workspace=workspace,
            status="released",
            released_on=today - timedelta(days=89),
            measurement_window_days=90,
        )
        with pytest.raises(TransitionRefused) as exc:
            initiative_transition(initiative=initiative, to="measured", by=editor.user)
        ends = (today + timedelta(days=1)).isoformat()
        assert exc.value.detail == (
            f"It can be measured from {ends}, when its 90-day measurement window ends."
        )

    def test_an_unknown_status_is_refused(self, workspace: Workspace, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=workspace)
        with pytest.raises(TransitionRefused, match="“done” is not a status"):
            initiative_transition(initiative=initiative, to="done", by=editor.user)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_cannot_both_win(
    workspace: Workspace, editor: Membership
) -> None:
    # given a committed initiative, one PM starts delivery while another pivots it
    initiative = ready_to_commit(workspace, "committed")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def move(to: str) -> None:
        try:
            barrier.wait()
            initiative_transition(initiative=initiative, to=to, rationale=WHY, by=editor.user)
            outcomes.append(f"won {to}")
        except TransitionRefused as exc:
            outcomes.append(f"refused: {exc.detail}")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(to,)) for to in ("in_delivery", "discovery")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # then exactly one won, the other was judged on the status the winner left
    assert sum(o.startswith("won") for o in outcomes) == 1
    assert sum(o.startswith("refused") for o in outcomes) == 1
    assert Decision.objects.filter(initiative=initiative).count() == 1
    final = Initiative.objects.get(pk=initiative.pk).status
    assert f"won {final}" in outcomes
