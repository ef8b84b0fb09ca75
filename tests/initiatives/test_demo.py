"""The demo portfolio that `make run` shows: every status, real figures, a believable
record, and created once."""

import re
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import Membership, User, Workspace
from initiatives.jobs import decisions_remind_due, initiatives_measure_due
from initiatives.models import (
    Alignment,
    Decision,
    ExpectedImpact,
    Experiment,
    Idea,
    Initiative,
    Stakeholder,
    Status,
    Vote,
)
from initiatives.selectors import list_rows
from initiatives.services import TRANSITIONS
from strategy.services import workspace_today

SUMMARY = re.compile(
    r"Created the demo initiatives: (?P<initiatives>\d+) initiatives \((?P<measured>\d+) "
    r"measured\), (?P<ideas>\d+) ideas, (?P<experiments>\d+) experiments, "
    r"(?P<decisions>\d+) decisions"
)


def demo_data() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def counts(workspace: Workspace) -> dict[str, int]:
    initiatives = Initiative.objects.filter(workspace=workspace)
    return {
        "users": User.objects.count(),
        "members": Membership.objects.filter(workspace=workspace).count(),
        "initiatives": initiatives.count(),
        "history": Initiative.history.filter(workspace=workspace).count(),
        "alignments": Alignment.objects.filter(initiative__workspace=workspace).count(),
        "impacts": ExpectedImpact.objects.filter(initiative__workspace=workspace).count(),
        "stakeholders": Stakeholder.objects.filter(initiative__workspace=workspace).count(),
        "experiments": Experiment.objects.filter(initiative__workspace=workspace).count(),
        "decisions": Decision.objects.filter(workspace=workspace).count(),
        "ideas": Idea.objects.filter(workspace=workspace).count(),
        "votes": Vote.objects.filter(idea__workspace=workspace).count(),
    }


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    """demo_data keeps the admin's password in VAR_DIR: not the checkout's var/ in tests."""
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_the_demo_portfolio_has_every_status_and_real_figures() -> None:
    # Given an empty database, when `make run` runs demo_data
    out = demo_data()

    # Then it announces the portfolio it created, and the database holds just that
    match = SUMMARY.search(out)
    assert match is not None, out
    printed = {name: int(value) for name, value in match.groupdict().items()}
    workspace = Workspace.objects.get(slug="acme")
    initiatives = list(Initiative.objects.filter(workspace=workspace))
    assert printed["initiatives"] == len(initiatives)
    assert printed["ideas"] == Idea.objects.filter(workspace=workspace).count() == 10
    assert printed["decisions"] == Decision.objects.filter(workspace=workspace).count()
    assert (
        printed["experiments"] == Experiment.objects.filter(initiative__workspace=workspace).count()
    )

    # about forty initiatives, in every status
    by_status = Counter(i.status for i in initiatives)
    assert 35 <= len(initiatives) <= 45
    assert set(by_status) == set(Status.values)
    assert printed["measured"] == by_status["measured"] >= 5
    assert by_status["committed"] >= 4
    assert by_status["in_delivery"] >= 4
    assert by_status["released"] >= 2

    rows = {
        row.initiative.title: row
        for row in list_rows(initiatives, today=workspace_today(workspace))
    }
    # measured work shows what it realized: most land near what was expected, some flop
    measured = [row for row in rows.values() if row.initiative.status == "measured"]
    realized = [row for row in measured if row.totals.realized_value is not None]
    assert len(realized) >= 3
    realizations = [
        row.totals.realization for row in measured if row.totals.realization is not None
    ]
    near = [r for r in realizations if Decimal("0.6") <= r <= Decimal("1.4")]
    flops = [r for r in realizations if r < Decimal("0.5")]
    assert len(near) >= 4, realizations
    assert 1 <= len(flops) <= 2, realizations
    # released work is measuring; the one whose window ends in two days is left to the job
    assert all(
        row.initiative.released_on is not None
        for row in rows.values()
        if row.initiative.status in ("released", "measured")
    )
    assert initiatives_measure_due() == 0

    # every committed and in-delivery initiative has a value density to rank it by
    planned = [
        row for row in rows.values() if row.initiative.status in ("committed", "in_delivery")
    ]
    assert planned
    assert all(row.value_density is not None for row in planned), [
        row.initiative.title for row in planned if row.value_density is None
    ]
    # and no initiative claims more than all of itself
    weights = Alignment.objects.filter(initiative__workspace=workspace).values("initiative")
    assert max(w["total"] for w in weights.annotate(total=Sum("weight"))) <= 100


@pytest.mark.django_db
def test_the_demo_record_reads_like_a_year_of_decisions() -> None:
    demo_data()
    workspace = Workspace.objects.get(slug="acme")
    zone = ZoneInfo(workspace.timezone)
    today = workspace_today(workspace)
    decisions = Decision.objects.filter(workspace=workspace).select_related("initiative")

    # every status change wrote its Decision, dated on the day it happened
    for initiative in Initiative.objects.filter(workspace=workspace).exclude(status="proposed"):
        assert initiative.decisions.exists(), initiative.title
    for release in decisions.filter(kind="release"):
        assert release.initiative is not None
        assert release.decided_at.astimezone(zone).date() == release.initiative.released_on
    for measured in decisions.filter(to_status="measured"):
        assert measured.decided_by is None  # the system
        assert measured.rationale.startswith("The 90-day measurement window ended on ")
        assert measured.decided_at.astimezone(zone).date() < today
    assert min(d.decided_at for d in decisions).astimezone(zone).date() < today.replace(
        year=today.year - 1
    )

    # declines and the cancellation say why; some are to be revisited
    refusals = decisions.filter(kind__in=("decline", "cancel"))
    assert {d.kind for d in refusals} == {"decline", "cancel"}
    assert all(len(d.rationale) >= 10 for d in refusals)
    assert refusals.filter(revisit_on__gt=today).count() >= 2
    assert decisions.filter(kind="pivot").exists()
    assert decisions.filter(kind="defer", revisit_on__gt=today).exists()
    assert decisions_remind_due() == 0  # nothing is due on the day it is seeded

    # tactical work says why it is done anyway
    tactical = Initiative.objects.filter(workspace=workspace, kind="tactical")
    assert tactical.count() >= 2
    assert all(i.tactical_rationale for i in tactical)

    # stakeholders with expectations, experiments with learnings
    stakeholders = Stakeholder.objects.filter(initiative__workspace=workspace)
    assert stakeholders.count() >= 5
    assert all(s.expectation for s in stakeholders)
    experiments = Experiment.objects.filter(initiative__workspace=workspace)
    assert {e.result for e in experiments} >= {"validated", "invalidated", "inconclusive"}
    assert all(e.learnings for e in experiments if e.result != "pending")

    # ideas: voted, one promoted to an initiative, two declined with reasons
    ideas = Idea.objects.filter(workspace=workspace)
    assert Vote.objects.filter(idea__workspace=workspace).count() >= 4
    promoted = ideas.get(status="promoted")
    assert promoted.promoted_to is not None
    assert promoted.promoted_to.status == "proposed"
    declined = ideas.filter(status="declined")
    assert declined.count() == 2
    assert all(len(i.decline_reason) >= 10 for i in declined)
    assert declined.filter(revisit_on__gt=today).count() == 1


@pytest.mark.django_db
def test_the_demo_has_people_who_own_expect_and_vote() -> None:
    demo_data()
    workspace = Workspace.objects.get(slug="acme")

    # Given the admin and five colleagues: PMs and an engineering lead who edit, sales and
    # finance who read; only the admin can log in
    members = Membership.objects.filter(workspace=workspace).select_related("user")
    assert {(m.user.full_name, m.user.email, m.role) for m in members} == {
        ("Ada Admin", "admin@acme.example", "admin"),
        ("Priya Patel", "priya.patel@acme.example", "editor"),
        ("Marco Rossi", "marco.rossi@acme.example", "editor"),
        ("Jonas Berg", "jonas.berg@acme.example", "editor"),
        ("Sam Okafor", "sam.okafor@acme.example", "viewer"),
        ("Lena Fischer", "lena.fischer@acme.example", "viewer"),
    }
    assert [m.user.email for m in members if m.user.has_usable_password()] == ["admin@acme.example"]

    # the initiatives belong to the PMs, the engineering lead and the admin, several each,
    # measured ones too (so calibration by owner has owners to compare)
    initiatives = Initiative.objects.filter(workspace=workspace).select_related("owner")
    owners = Counter(i.owner.full_name for i in initiatives if i.owner is not None)
    assert set(owners) == {"Ada Admin", "Priya Patel", "Marco Rossi", "Jonas Berg"}
    assert min(owners.values()) >= 4, owners
    measured_owners = {i.owner_id for i in initiatives if i.status == Status.MEASURED}
    assert len(measured_owners) >= 3
    # and each owner made the decisions of their initiative's way (the system measures)
    for decision in Decision.objects.filter(workspace=workspace, initiative__isnull=False):
        assert decision.initiative is not None
        if decision.kind in TRANSITIONS.get(decision.from_status, {}).values():
            expected = None if decision.to_status == Status.MEASURED else decision.initiative.owner
            assert decision.decided_by == expected, decision.initiative.title

    # stakeholders are other people than the owner, sales and finance among them
    stakeholders = Stakeholder.objects.filter(initiative__workspace=workspace).select_related(
        "user", "initiative"
    )
    assert all(s.user_id != s.initiative.owner_id for s in stakeholders)
    by_person = Counter(s.user.full_name for s in stakeholders)
    assert by_person["Sam Okafor"] >= 5
    assert by_person["Lena Fischer"] >= 5
    assert {s.role for s in stakeholders} == {"sponsor", "consulted", "informed"}
    assert all(s.expectation for s in stakeholders)

    # ideas come from several people, with 0 to 4 votes each from several voters, and one
    # is under review
    ideas = Idea.objects.filter(workspace=workspace)
    assert len({i.submitted_by_id for i in ideas}) >= 4
    votes = Counter(Vote.objects.filter(idea__workspace=workspace).values_list("idea", flat=True))
    per_idea = [votes[i.pk] for i in ideas]
    assert min(per_idea) == 0
    assert max(per_idea) == 4
    voters = Vote.objects.filter(idea__workspace=workspace).values("user").distinct()
    assert voters.count() >= 5
    assert ideas.filter(status="under_review").count() == 1


@pytest.mark.django_db
def test_running_demo_data_again_creates_nothing() -> None:
    # Given demo_data ran once
    demo_data()
    workspace = Workspace.objects.get(slug="acme")
    before = counts(workspace)
    statuses = dict(Initiative.objects.values_list("title", "status"))
    expected = sorted(ExpectedImpact.objects.values_list("expected_change", flat=True))

    # When it runs again
    out = demo_data()

    # Then it announces nothing and nothing changed
    assert "Created" not in out
    assert counts(workspace) == before
    assert dict(Initiative.objects.values_list("title", "status")) == statuses
    assert sorted(ExpectedImpact.objects.values_list("expected_change", flat=True)) == expected
