"""load_scale_metrics: the reference scale for benchmarks, loaded fast and only once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min

from accounts.models import Workspace
from strategy.models import KeyResult, Measurement, Metric, Objective
from strategy.selectors import key_results_with_figures
from strategy.services import workspace_today

SMALL = ("--metrics", "5", "--measurements", "2000", "--objectives", "20")


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_scale_metrics", *args, stdout=out)
    return out.getvalue()


def counts(slug: str) -> tuple[int, int, int]:
    return (
        Metric.objects.filter(workspace__slug=slug).count(),
        Measurement.objects.filter(metric__workspace__slug=slug).count(),
        Objective.objects.filter(workspace__slug=slug).count(),
    )


@pytest.mark.django_db
def test_loads_exactly_the_numbers_asked_for() -> None:
    # When the scale is loaded into a workspace that does not exist yet
    out = load("--workspace", "bench", *SMALL)

    # Then the workspace holds exactly those numbers, with timings printed
    assert counts("bench") == (5, 2000, 20)
    assert "Measurements: 2,000 in" in out
    assert "Loaded 5 metrics, 2,000 measurements and 20 objectives" in out
    # Every metric has its share: consecutive days ending today, one value a day
    workspace = Workspace.objects.get(slug="bench")
    today = workspace_today(workspace)
    per_metric = Measurement.objects.filter(metric__workspace=workspace).values("metric")
    spans = per_metric.annotate(n=Count("id"), first=Min("observed_on"), last=Max("observed_on"))
    assert [row["n"] for row in spans] == [400] * 5
    assert all(row["last"] == today for row in spans)
    assert all(row["first"] == today - timedelta(days=399) for row in spans)
    # Product objectives sit under company objectives, with key results the selectors read
    assert Objective.objects.filter(workspace=workspace, parent=None).count() == 2
    assert KeyResult.objects.filter(workspace=workspace).count() == 18 * 3
    rows = key_results_with_figures(workspace=workspace, today=today)
    assert all(figures.progress is not None for _, figures in rows)


@pytest.mark.django_db
def test_refuses_a_second_load_in_words_and_writes_nothing() -> None:
    # Given a loaded workspace
    load("--workspace", "bench", *SMALL)

    # When it is loaded again without --replace
    with pytest.raises(CommandError) as refused:
        load("--workspace", "bench", "--metrics", "7", "--measurements", "700")

    # Then the refusal says what is there and how to go on, and nothing changed
    assert str(refused.value) == (
        "The workspace “bench” already holds 5 metrics, 2,000 measurements and 20 objectives, "
        "so nothing was loaded. Run again with --replace to delete them and load anew, or use "
        "another workspace."
    )
    assert counts("bench") == (5, 2000, 20)


@pytest.mark.django_db
def test_replace_wipes_only_that_workspace_and_loads_anew() -> None:
    # Given two loaded workspaces
    load("--workspace", "bench", *SMALL)
    load("--workspace", "other", "--metrics", "2", "--measurements", "10", "--objectives", "3")

    # When the first is loaded again with --replace and other numbers
    load("--workspace", "bench", "--metrics", "3", "--measurements", "300", "--replace")

    # Then it holds the new numbers, and the other workspace is untouched
    assert counts("bench") == (3, 300, 200)
    assert counts("other") == (2, 10, 3)


@pytest.mark.django_db
def test_skip_if_loaded_leaves_a_loaded_workspace_alone() -> None:
    load("--workspace", "bench", *SMALL)

    out = load("--workspace", "bench", "--skip-if-loaded")

    assert "already holds 5 metrics, 2,000 measurements and 20 objectives" in out
    assert "left as it is" in out
    assert counts("bench") == (5, 2000, 20)
