"""Schemathesis fuzzes every operation of our own /api/schema/ on the live test server.

Positive and negative data for each operation the schema has when the test runs (a new
endpoint is fuzzed without touching this file), as an admin's API token, against a
workspace `acme` whose rows are created afresh before each operation, so that `{id}`
paths hit real rows as well as missing ones. The checks: no 5xx, every status code and
content type documented, every body conforms to its documented schema. The run is
reproducible (derandomized) and bounded: FUZZ_EXAMPLES per operation and phase.
"""

import os
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.db.models import Model
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from accounts.models import ApiToken, Membership, Role, Team, User, Workspace
from accounts.services import api_token_create
from initiatives.models import (
    Alignment,
    Decision,
    ExpectedImpact,
    Experiment,
    Idea,
    Initiative,
    Stakeholder,
)
from reports.models import ReportDefinition, ReportRun
from strategy.models import KeyResult, Measurement, Metric, Objective
from tests.accounts.factories import MembershipFactory, WorkspaceFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Examples per operation, positive and negative together: 20 keep the run of the 100
# operations within about three minutes on two busy cores. API_FUZZ_COVERAGE=1 adds
# schemathesis' coverage phase (each field's boundaries and wrong types, about 40 more
# requests per operation): for a deeper run than CI's.
FUZZ_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
COVERAGE = os.environ.get("API_FUZZ_COVERAGE", "") == "1"
SEED = 20260107

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The row a path parameter names, by the path segment before `{id}` or by its own name.
ROW_OF_SEGMENT: dict[str, type[Model]] = {
    "teams": Team,
    "objectives": Objective,
    "key-results": KeyResult,
    "metrics": Metric,
    "initiatives": Initiative,
    "alignments": Alignment,
    "expected-impacts": ExpectedImpact,
    "stakeholders": Stakeholder,
    "decisions": Decision,
    "experiments": Experiment,
    "ideas": Idea,
    "tokens": ApiToken,
    "reports": ReportDefinition,
    "report-runs": ReportRun,
    "webhooks": WebhookEndpoint,
    "deliveries": WebhookDelivery,
}
ROW_OF_PARAMETER: dict[str, type[Model]] = {
    "metric_id": Metric,
    "initiative_id": Initiative,
    "definition_id": ReportDefinition,
    "endpoint_id": WebhookEndpoint,
}
# Fields of request bodies that name a row of the workspace.
ROW_OF_BODY_FIELD: dict[str, type[Model]] = {
    "objective": Objective,
    "parent": Objective,
    "metric": Metric,
    "team": Team,
    "initiative": Initiative,
    "owner": User,
    "user": User,
}


def _hit(value: Any) -> bool:
    """Most generated values are swapped for a real one, the rest stay as generated (a
    missing row, another slug), chosen by the value itself so a run is reproducible."""
    return zlib.crc32(repr(value).encode()) % 5 != 0


@dataclass
class FuzzWorld:
    """The acme workspace, its admin's token, and one row of each kind made afresh when an
    operation starts (an earlier DELETE may have taken the last ones)."""

    workspace: Workspace
    admin: Membership
    key: str
    rows: dict[type[Model], Model] = field(default_factory=dict)
    operation: str = ""
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def prepare(self, case: Any) -> None:
        """Point path parameters and body references at real rows, mostly."""
        if case.operation.label != self.operation:
            self.operation = case.operation.label
            self.rows = _rows(self.workspace, self.admin.user)
        segments = case.operation.path.strip("/").split("/")
        for name, value in list((case.path_parameters or {}).items()):
            if not _hit(value):
                continue
            if name == "workspace_slug":
                case.path_parameters[name] = self.workspace.slug
                continue
            model = ROW_OF_PARAMETER.get(name)
            if name == "id":
                model = ROW_OF_SEGMENT.get(segments[segments.index("{id}") - 1])
            if model is not None:
                case.path_parameters[name] = self.rows[model].pk
        if isinstance(case.body, dict):
            for name, value in list(case.body.items()):
                model = ROW_OF_BODY_FIELD.get(name)
                if model is not None and isinstance(value, int) and _hit(value):
                    case.body[name] = self.rows[model].pk


def _rows(workspace: Workspace, admin: User) -> dict[type[Model], Model]:
    n = Team.objects.count()  # names and keys are unique in a workspace
    team = Team.objects.create(workspace=workspace, name=f"Growth {n}")
    objective = Objective.objects.create(
        workspace=workspace,
        title="Grow revenue",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        status="active",
        owner=admin,
    )
    metric = Metric.objects.create(
        workspace=workspace,
        key=f"signups-{n}",
        name="Sign-ups",
        unit="users",
        category="acquisition",
        direction="increase",
        aggregation="sum",
        value_per_unit=Decimal("10"),
    )
    Measurement.objects.create(metric=metric, observed_on=date(2026, 1, 5), value=Decimal("7"))
    key_result = KeyResult.objects.create(
        workspace=workspace,
        objective=objective,
        metric=metric,
        baseline=Decimal("0"),
        target=Decimal("100"),
        start_on=date(2026, 1, 1),
        due_on=date(2026, 6, 30),
    )
    initiative = Initiative.objects.create(
        workspace=workspace,
        title="Faster onboarding",
        team=team,
        owner=admin,
        effort_weeks=Decimal("4"),
        confidence=60,
    )
    alignment = Alignment.objects.create(initiative=initiative, objective=objective, weight=50)
    impact = ExpectedImpact.objects.create(
        initiative=initiative, metric=metric, expected_change=Decimal("50"), confidence=50
    )
    stakeholder = Stakeholder.objects.create(initiative=initiative, user=admin, role="informed")
    decision = Decision.objects.create(
        workspace=workspace,
        initiative=initiative,
        kind="other",
        rationale="Because",
        decided_by=admin,
        decided_at=timezone.now(),
    )
    experiment = Experiment.objects.create(
        initiative=initiative, hypothesis="People finish faster", method="interview"
    )
    idea = Idea.objects.create(workspace=workspace, title="Dark mode", submitted_by=admin)
    # Another token of the admin: the fuzzed one revoked would end the run.
    token, _ = api_token_create(membership=admin.memberships.get(workspace=workspace))
    definition = ReportDefinition.objects.create(
        workspace=workspace, name=f"Monthly {n}", formats=["csv"], created_by=admin
    )
    run = ReportRun.objects.create(
        workspace=workspace,
        definition=definition,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        as_of=date(2026, 1, 31),
        trigger="manual",
        requested_by=admin,
    )
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="http://localhost:9/hook",
        events=["initiative.created"],
        secret="fuzz",
        created_by=admin,
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="initiative.created", event_id=uuid.uuid4(), payload={}
    )
    rows: list[Model] = [
        token,
        definition,
        run,
        endpoint,
        delivery,
        admin,
        team,
        objective,
        metric,
        key_result,
        initiative,
        alignment,
        impact,
        stakeholder,
        decision,
        experiment,
        idea,
    ]
    return {type(row): row for row in rows}


class _AnyScope(dict[str, str]):
    """Throttle rates for every scope, including ones added after this test was written."""

    def __missing__(self, scope: str) -> str:
        return "1000000/minute"


@pytest.fixture
def unthrottled() -> Iterator[None]:
    """Thousands of requests from one token within minutes would meet the throttles, and a
    run of 429s fuzzes nothing. DRF binds the rates to the throttle classes at import, so
    the settings override alone would not reach them."""
    rates = _AnyScope()
    rest_framework = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    with pytest.MonkeyPatch.context() as patch, override_settings(REST_FRAMEWORK=rest_framework):
        patch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
        yield


@pytest.fixture
def fuzz_world(request: pytest.FixtureRequest, transactional_db: None) -> Iterator[FuzzWorld]:
    workspace = WorkspaceFactory.create(slug="acme", name="Acme")
    WorkspaceFactory.create(slug="globex", name="Globex")
    admin = MembershipFactory.create(workspace=workspace, role=Role.ADMIN)
    _, key = api_token_create(membership=admin, name="fuzz")
    world = FuzzWorld(workspace=workspace, admin=admin, key=key)
    yield world
    _report(request, world.statuses)


def _report(request: pytest.FixtureRequest, statuses: dict[str, Counter[int]]) -> None:
    """The figures of the run: operations fuzzed, requests sent, statuses answered."""
    total: Counter[int] = sum(statuses.values(), Counter())
    write: Callable[[str], None] = request.config.get_terminal_writer().line
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        write("")
        write(
            f"API fuzz: {len(statuses)} operations, {total.total()} requests, "
            f"statuses {dict(sorted(total.items()))}"
        )
        for label, counter in sorted(statuses.items()):
            write(f"  {label}: {dict(sorted(counter.items()))}")


@pytest.fixture
def api_schema(
    request: pytest.FixtureRequest, live_server: Any, fuzz_world: FuzzWorld, unthrottled: None
) -> Any:
    """Our own /api/schema/, as the live server serves it when the test runs: a new
    endpoint is fuzzed without touching this file."""
    # schemathesis 4.32 renames the pytest node through `_nodeid`, which pytest 9 no longer
    # has; give it one so its per-operation subtests can run.
    request.node._nodeid = request.node.nodeid
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "database": "none"},
            # Links between operations are not documented: each is fuzzed on its own.
            # A 405 for an undocumented method is the framework's answer; the budget goes
            # to the documented ones.
            "phases": {
                "stateful": {"enabled": False},
                "coverage": {"enabled": COVERAGE, "unexpected-methods": []},
            },
        }
    )
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/?format=json",
        config=config,
        headers={"Authorization": f"Token {fuzz_world.key}"},
        timeout=60,
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(900)
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # Each example is an HTTP request to a server backed by a database: slow by design,
    # and the function-scoped world is meant to be shared by all examples of the run.
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_api(case: Any, live_server: Any, fuzz_world: FuzzWorld) -> None:
    fuzz_world.prepare(case)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_world.key}"}, checks=CHECKS
    )
    fuzz_world.statuses[case.operation.label][response.status_code] += 1
