"""load_scale_initiatives: the initiatives of the reference scale, valid and loaded once."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from accounts.models import Workspace
from initiatives.models import Alignment, Decision, ExpectedImpact, Initiative, Status
from initiatives.selectors import impacts_for
from initiatives.services import TRANSITIONS
from strategy.models import Metric, Objective, ObjectiveStatus
from strategy.services import workspace_today

METRICS = ("--metrics", "6", "--measurements", "6000")  # 1,000 days of data per metric


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_scale_initiatives", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_loads_a_valid_portfolio_on_the_scale_metrics() -> None:
    # Given a workspace that holds metrics and 10 objectives, but no initiatives
    call_command(
        "load_scale_metrics",
        "--workspace",
        "bench",
        *METRICS,
        "--objectives",
        "10",
        stdout=StringIO(),
    )

    # When 50 initiatives are loaded with objectives topped up to 30
    out = load("--workspace", "bench", "--initiatives", "50", "--objectives", "30")

    # Then the counts are the ones asked for, with timings printed
    workspace = Workspace.objects.get(slug="bench")
    today = workspace_today(workspace)
    initiatives = list(Initiative.objects.filter(workspace=workspace))
    assert len(initiatives) == 50
    assert "Initiatives: 50 in" in out
    assert "Loaded 50 initiatives into “bench”" in out
    # … the objectives form a tree of 30: company objectives with product objectives under them
    assert Objective.objects.filter(workspace=workspace).count() == 30
    roots = Objective.objects.filter(workspace=workspace, parent=None)
    assert roots.exists()
    assert not Objective.objects.filter(workspace=workspace, parent__parent__isnull=False).exists()
    # … every status of the mix is there (50 × the shares, rounded)
    statuses = Counter(i.status for i in initiatives)
    assert statuses == {
        Status.PROPOSED: 9,
        Status.DISCOVERY: 6,
        Status.COMMITTED: 6,
        Status.IN_DELIVERY: 6,
        Status.RELEASED: 8,
        Status.MEASURED: 10,
        Status.DECLINED: 3,
        Status.CANCELLED: 2,
    }
    # … each has 1–3 expected impacts on scale metrics of the workspace
    impacts = ExpectedImpact.objects.filter(initiative__workspace=workspace)
    per_initiative = Counter(impacts.values_list("initiative_id", flat=True))
    assert set(per_initiative) == {i.pk for i in initiatives}
    assert set(per_initiative.values()) <= {1, 2, 3}
    assert all(key.startswith("scale-") for key in impacts.values_list("metric__key", flat=True))
    # … 1–2 alignments whose weights sum to at most 100, the first to an active objective
    weights = (
        Alignment.objects.filter(initiative__workspace=workspace)
        .values("initiative")
        .annotate(n=Count("id"), total=Sum("weight"))
    )
    assert len(weights) == 50
    assert all(1 <= row["n"] <= 2 and row["total"] <= 100 for row in weights)
    committed_statuses = (Status.COMMITTED, Status.IN_DELIVERY, Status.RELEASED, Status.MEASURED)
    for initiative in initiatives:
        if initiative.status in committed_statuses:
            assert initiative.alignments.filter(objective__status=ObjectiveStatus.ACTIVE).exists()
    # … released and measured ones, and only they, have a release date in the last two years;
    # a measured one's window has passed, a released one is still measuring
    for initiative in initiatives:
        if initiative.status not in (Status.RELEASED, Status.MEASURED):
            assert initiative.released_on is None
            continue
        assert initiative.released_on is not None
        assert today - timedelta(days=730) <= initiative.released_on < today
        ends = initiative.released_on + timedelta(days=initiative.measurement_window_days)
        assert (ends <= today) == (initiative.status == Status.MEASURED)


@pytest.mark.django_db
def test_decisions_tell_each_initiatives_way_as_the_transitions_write_them() -> None:
    load("--workspace", "bench", *METRICS, "--initiatives", "50", "--objectives", "20")

    for initiative in Initiative.objects.filter(workspace__slug="bench"):
        decisions = list(initiative.decisions.order_by("decided_at", "id"))
        # The chain starts at proposed and ends at the initiative's status
        status: str = Status.PROPOSED
        for decision in decisions:
            assert decision.from_status == status
            assert decision.kind == TRANSITIONS[decision.from_status][decision.to_status]
            assert decision.workspace_id == initiative.workspace_id
            assert decision.decided_by_id == initiative.owner_id
            status = decision.to_status
        assert status == initiative.status
        if initiative.status in (Status.RELEASED, Status.MEASURED):
            release = next(d for d in decisions if d.kind == "release")
            assert release.decided_at.date() == initiative.released_on
        # … and the rationale rule of the services holds
        for decision in decisions:
            if decision.kind in ("decline", "cancel", "pivot", "reopen"):
                assert len(decision.rationale.strip()) >= 10
    assert Decision.objects.filter(workspace__slug="bench", kind="release").count() == 18


@pytest.mark.django_db
def test_measured_initiatives_have_realized_figures() -> None:
    load("--workspace", "bench", *METRICS, "--initiatives", "50", "--objectives", "20")
    workspace = Workspace.objects.get(slug="bench")
    measured = list(Initiative.objects.filter(workspace=workspace, status=Status.MEASURED))

    figures = impacts_for(initiatives=measured, today=workspace_today(workspace))

    realized = [f for rows in figures.values() for _, f in rows if f.realized_value is not None]
    assert len(realized) >= len(measured) // 2
    assert all(f.status == "measured" for f in realized)
    assert all(f.expected_value is not None for f in realized)


@pytest.mark.django_db
def test_loads_once_refuses_in_words_and_skips_when_told() -> None:
    load("--workspace", "bench", *METRICS, "--initiatives", "20", "--objectives", "20")
    metrics = Metric.objects.filter(workspace__slug="bench").count()

    with pytest.raises(CommandError) as refused:
        load("--workspace", "bench", "--initiatives", "30")
    skipped = load("--workspace", "bench", "--initiatives", "30", "--skip-if-loaded")

    assert str(refused.value) == (
        "The workspace “bench” already holds 20 initiatives, so nothing was loaded. Run again "
        "with --replace to delete them and load anew, or use another workspace."
    )
    assert "already holds 20 initiatives: left as it is" in skipped
    assert Initiative.objects.filter(workspace__slug="bench").count() == 20
    assert Metric.objects.filter(workspace__slug="bench").count() == metrics


@pytest.mark.django_db
def test_replace_loads_anew() -> None:
    load("--workspace", "bench", *METRICS, "--initiatives", "20", "--objectives", "20")

    load("--workspace", "bench", "--initiatives", "30", "--replace")

    assert Initiative.objects.filter(workspace__slug="bench").count() == 30
    assert Decision.objects.filter(initiative__isnull=True, workspace__slug="bench").count() == 0
