"""A report lists at most 50 objectives, the ones nearest the top of the tree, in tree
order, and says how many more there are."""

from datetime import date

import pytest

from accounts.models import Workspace
from reports.rendering import render_html
from reports.report_data import MAX_ROWS, report_data
from reports.selectors import Scope
from tests.strategy.factories import ObjectiveFactory


@pytest.mark.django_db
def test_the_objectives_nearest_the_top_are_listed_and_the_rest_counted(workspace: Workspace):
    tops = [ObjectiveFactory.create(workspace=workspace, title=f"Top {n:02}") for n in range(30)]
    for n in range(30):  # a child under each top-level objective
        ObjectiveFactory.create(workspace=workspace, parent=tops[n], title=f"Child {n:02}")
    deep = ObjectiveFactory.create(
        workspace=workspace, parent=tops[0], title="Child 00 sibling"
    )  # depth 1 too
    ObjectiveFactory.create(workspace=workspace, parent=deep, title="Grandchild")  # depth 2

    data = report_data(
        workspace=workspace,
        scope=Scope(),
        start=date(2026, 7, 1),
        end=date(2026, 9, 30),
        as_of=date(2026, 9, 30),
    )
    objectives = data["objectives"]

    titles = [row["title"] for row in objectives["rows"]]
    assert objectives["count"] == 62
    assert len(titles) == MAX_ROWS == 50
    assert "Grandchild" not in titles  # the deepest goes first
    assert all(f"Top {n:02}" in titles for n in range(30))  # every top-level objective
    # parents before their children, in the tree's order
    assert titles.index("Top 00") < titles.index("Child 00") < titles.index("Top 01")

    html = render_html(
        data={**data, "report": {"name": "Q3", "period_label": "Q3 2026"}}, title="Q3 review"
    )
    assert "And 12 more — the strategy page has every objective." in html


@pytest.mark.django_db
def test_sections_read_in_the_report_order_whatever_order_the_json_kept(workspace: Workspace):
    data = report_data(
        workspace=workspace,
        scope=Scope(),
        start=date(2026, 7, 1),
        end=date(2026, 9, 30),
        as_of=date(2026, 9, 30),
    )
    # as PostgreSQL's jsonb gives them back: shortest key first
    data["sections"] = dict(sorted(data["sections"].items(), key=lambda kv: len(kv[0])))
    html = render_html(
        data={**data, "report": {"name": "Q3", "period_label": "Q3 2026"}}, title="Q3 review"
    )
    titles = [
        "Headline value",
        "Objectives and key results",
        "Released and measured",
        "What comes next",
        "What we decided not to do",
        "Experiments and learnings",
        "Initiatives at risk",
    ]
    positions = [html.index(f">{title}<") for title in titles]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_a_run_of_a_day_before_1900_is_refused_in_words(workspace: Workspace):
    from django.core.exceptions import ValidationError

    from reports.models import ReportRun
    from reports.services import report_definition_create, report_run_request

    definition = report_definition_create(
        workspace=workspace,
        by=None,
        name="Monthly",
        formats=["html"],
        recipient_emails=["cfo@example.com"],
    )
    with pytest.raises(ValidationError) as refused:
        report_run_request(definition=definition, by=None, day=date(1, 1, 1))
    assert refused.value.message_dict == {
        "period": ["Choose a day from 1900-01-01 on: no work is older."]
    }
    assert not ReportRun.objects.exists()
