"""The demo strategy that `make run` shows: valid, complete, varied, and created once."""

import re
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts.models import Workspace
from accounts.services import member_add, workspace_create
from strategy.demo import seed_strategy
from strategy.models import KeyResult, Measurement, Metric, MetricCategory, Objective
from strategy.selectors import key_results_with_figures
from strategy.services import workspace_today

SUMMARY = re.compile(
    r"Created the demo strategy: (?P<metrics>[\d,]+) metrics, (?P<measurements>[\d,]+) "
    r"measurements, (?P<objectives>[\d,]+) objectives, (?P<key_results>[\d,]+) key results"
)


def demo_data() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def counts(workspace: Workspace) -> dict[str, int]:
    return {
        "metrics": Metric.objects.filter(workspace=workspace).count(),
        "measurements": Measurement.objects.filter(metric__workspace=workspace).count(),
        "objectives": Objective.objects.filter(workspace=workspace).count(),
        "key_results": KeyResult.objects.filter(workspace=workspace).count(),
    }


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    """demo_data keeps the admin's password in VAR_DIR: not the checkout's var/ in tests."""
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_demo_data_creates_the_strategy_it_announces() -> None:
    # Given an empty database
    assert not Workspace.objects.exists()

    # When `make run` runs demo_data
    out = demo_data()

    # Then it prints one summary line whose numbers are what the database holds
    match = SUMMARY.search(out)
    assert match is not None, out
    printed = {name: int(value.replace(",", "")) for name, value in match.groupdict().items()}
    workspace = Workspace.objects.get(slug="acme")
    assert counts(workspace) == printed
    assert 8 <= printed["metrics"] <= 12
    assert printed["measurements"] > 5_000
    assert printed["key_results"] >= 14


@pytest.mark.django_db
def test_the_demo_covers_every_category_and_reaches_today() -> None:
    demo_data()
    workspace = Workspace.objects.get(slug="acme")
    metrics = Metric.objects.filter(workspace=workspace)

    assert set(metrics.values_list("category", flat=True)) == set(MetricCategory.values)
    assert set(metrics.values_list("aggregation", flat=True)) == {"last", "sum", "mean"}
    assert set(metrics.values_list("direction", flat=True)) == {"increase", "decrease"}
    assert all(m.description and m.source and m.owner_id for m in metrics)
    today = workspace_today(workspace)
    for metric in metrics:
        days = Measurement.objects.filter(metric=metric).values_list("observed_on", flat=True)
        assert max(days) <= today
        assert (today - min(days)).days >= 700, metric.key


@pytest.mark.django_db
def test_every_key_result_has_progress_and_the_paces_vary() -> None:
    demo_data()
    workspace = Workspace.objects.get(slug="acme")

    rows = key_results_with_figures(workspace=workspace, today=workspace_today(workspace))

    assert rows
    assert all(figures.progress is not None for _, figures in rows)
    paces = {figures.pace for _, figures in rows}
    assert len(paces) >= 3, paces
    # Three company objectives, each with two or three product objectives.
    companies = Objective.objects.filter(workspace=workspace, parent=None)
    assert companies.count() == 3
    assert all(2 <= c.children.count() <= 3 for c in companies)
    assert all(o.status == "active" for o in Objective.objects.filter(workspace=workspace))


@pytest.mark.django_db
def test_running_demo_data_again_creates_nothing() -> None:
    # Given demo_data ran once
    demo_data()
    workspace = Workspace.objects.get(slug="acme")
    before = counts(workspace)
    values = list(
        Measurement.objects.order_by("metric__key", "observed_on").values_list("value", flat=True)
    )

    # When it runs again
    out = demo_data()

    # Then it announces nothing new and nothing changed
    assert "Created" not in out
    assert counts(workspace) == before
    assert (
        list(
            Measurement.objects.order_by("metric__key", "observed_on").values_list(
                "value", flat=True
            )
        )
        == values
    )


@pytest.mark.django_db
@pytest.mark.parametrize("today", [date(2026, 1, 4), date(2025, 6, 30), date(2024, 2, 29)])
def test_the_demo_shows_every_pace_whatever_the_day(today: date) -> None:
    # Given a workspace seeded on some day of the year
    workspace = workspace_create(slug="demo", name="Demo")
    owner = member_add(workspace=workspace, email="pm@demo.example", role="admin")[0].user

    seed_strategy(workspace=workspace, owner=owner, today=today)

    # Then on that day every pace shows, and every key result has a progress
    rows = key_results_with_figures(workspace=workspace, today=today)
    assert all(figures.progress is not None for _, figures in rows)
    assert {figures.pace for _, figures in rows} == {
        "achieved",
        "on_track",
        "at_risk",
        "off_track",
    }
