"""Which changes emit which events: one measurement.ingested per batch, report runs."""

import json
from datetime import date, timedelta
from typing import Any

import pytest

from accounts.models import Membership, Workspace
from reports import services as report_services
from strategy.services import measurements_ingest
from tests.strategy.factories import MetricFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint


def test_a_batch_of_1000_points_is_one_event(
    workspace: Workspace, endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    metric = MetricFactory.create(workspace=workspace, key="signups")
    start = date(2023, 1, 1)
    points = [
        {"observed_on": (start + timedelta(days=i)).isoformat(), "value": str(i)}
        for i in range(1000)
    ]
    measurements_ingest(metric=metric, points=points[:10])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = measurements_ingest(metric=metric, points=points)

    assert result == {"created": 990, "updated": 10}
    assert len(queued) == 1
    latest = WebhookDelivery.objects.filter(event="measurement.ingested").order_by("-id")
    assert latest.count() == 2  # the first batch and this one
    assert latest[0].payload["data"] == {
        "metric": {"id": metric.pk, "key": "signups"},
        "created": 990,
        "updated": 10,
    }


def test_a_refused_batch_emits_nothing(workspace: Workspace, endpoint: WebhookEndpoint) -> None:
    metric = MetricFactory.create(workspace=workspace)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the ValidationError of the service
        measurements_ingest(metric=metric, points=[{"observed_on": "nope", "value": "1"}])
    assert not WebhookDelivery.objects.exists()


@pytest.fixture
def definition(workspace: Workspace, admin: Membership) -> Any:
    return report_services.report_definition_create(
        workspace=workspace,
        by=admin.user,
        name="Monthly value",
        formats=["html"],
        recipient_emails=["cfo@example.com"],
    )


def test_a_report_run_that_succeeds_emits_report_run_succeeded(
    workspace: Workspace,
    admin: Membership,
    endpoint: WebhookEndpoint,
    definition: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(
        report_services, "_render", lambda run, data: {"html_file": ("r.html", b"<p>r</p>")}
    )
    with django_capture_on_commit_callbacks(execute=False):
        run = report_services.report_run_request(definition=definition, by=admin.user)
        report_services.report_run_generate(run_id=run.pk)

    [delivery] = WebhookDelivery.objects.filter(event="report_run.succeeded")
    body = json.loads(json.dumps(delivery.payload))
    assert body["data"]["report_run"]["id"] == run.pk
    assert body["data"]["report_run"]["status"] == "succeeded"
    assert body["data"]["report_run"]["definition"] == definition.pk
    assert not WebhookDelivery.objects.filter(event="report_run.failed").exists()


def test_a_report_run_that_fails_for_good_emits_report_run_failed(
    workspace: Workspace,
    admin: Membership,
    endpoint: WebhookEndpoint,
    definition: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.REPORT_RUN_MAX_ATTEMPTS = 1

    def broken(run: Any, data: Any) -> Any:
        raise RuntimeError("the printer is on fire")

    monkeypatch.setattr(report_services, "_render", broken)
    with django_capture_on_commit_callbacks(execute=False):
        run = report_services.report_run_request(definition=definition, by=admin.user)
        report_services.report_run_generate(run_id=run.pk)

    [delivery] = WebhookDelivery.objects.filter(event="report_run.failed")
    assert delivery.payload["data"]["report_run"]["status"] == "failed"
    assert "the printer is on fire" in delivery.payload["data"]["report_run"]["error"]


def test_a_transition_emits_status_changed_and_decision_created(
    workspace: Workspace, admin: Membership, endpoint: WebhookEndpoint
) -> None:
    from initiatives.services import initiative_create, initiative_transition

    initiative = initiative_create(workspace=workspace, title="Churn alerts", by=admin.user)
    initiative_transition(initiative=initiative, to="discovery", by=admin.user)

    events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
    assert events == ["initiative.created", "initiative.status_changed", "decision.created"]
    changed = WebhookDelivery.objects.get(event="initiative.status_changed").payload["data"]
    assert (changed["from_status"], changed["to_status"]) == ("proposed", "discovery")
    assert changed["initiative"]["status"] == "discovery"
