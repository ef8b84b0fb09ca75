"""The tables of the tenant isolation matrix (tests/test_tenant_matrix.py): how to fill the
URL keywords of every route, which pages a viewer reads, which bodies carry an id of
another workspace. A route or keyword missing here makes the matrix fail by name."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from accounts.models import ApiToken, Invitation, Membership, Team
from initiatives.models import (
    Alignment,
    Decision,
    ExpectedImpact,
    Experiment,
    Idea,
    Initiative,
    Stakeholder,
)
from reports.models import ReportDefinition, ReportDelivery, ReportRun, ShareLink
from strategy.models import KeyResult, Measurement, Metric, Objective
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Every model the matrix builds one row of, in each workspace. A detail route (`pk`) is
# filled with the row of its viewset's model; a route whose model is not here fails.
MODELS: tuple[type[Model], ...] = (
    Team,
    Objective,
    Metric,
    Measurement,
    KeyResult,
    Initiative,
    Alignment,
    ExpectedImpact,
    Stakeholder,
    Decision,
    Experiment,
    Idea,
    ShareLink,
    Membership,
    ApiToken,
    WebhookEndpoint,
    WebhookDelivery,
    ReportDefinition,
    ReportRun,
    ReportDelivery,
    Invitation,
)

# URL keywords other than `workspace_slug` and `pk`, and the model whose row fills them.
KWARG_MODELS: dict[str, type[Model]] = {
    "metric_id": Metric,
    "initiative_id": Initiative,
    "objective_id": Objective,
    "key_result_id": KeyResult,
    "stakeholder_id": Stakeholder,
    "alignment_id": Alignment,
    "impact_id": ExpectedImpact,
    "experiment_id": Experiment,
    "idea_id": Idea,
    "link_id": ShareLink,
    "member_id": Membership,
    "token_id": ApiToken,
    "endpoint_id": WebhookEndpoint,
    "delivery_id": WebhookDelivery,
    "definition_id": ReportDefinition,
    "report_delivery_id": ReportDelivery,
    "invitation_id": Invitation,
}

# Browser pages whose `pk` is not a viewset's: the model whose row fills it.
PAGE_PK_MODELS: dict[str, type[Model]] = {
    "value_reports:run": ReportRun,
    "value_reports:run-status": ReportRun,
    "value_reports:run-retry": ReportRun,
    "value_reports:delivery-resend": ReportRun,
}

# API routes outside a workspace: what any signed-in user may call (anonymous: 401).
USER_API_ROUTES = {"api-me"}

# A body the route parses when the JSON `{}` sent to every other write would not reach
# the view (content type, parser). Keyed by URL name: (content type, body).
BODIES: dict[str, tuple[str, bytes]] = {
    "api-measurements-import": ("text/csv", b"metric,observed_on,value,source\n"),
}

# Browser pages under /w/<slug>/ that a viewer reads (GET → 200). Every other page of a
# workspace is a form or an action of editors: a viewer's GET is refused (403) or the
# page takes only POST (405); never a 200 and never the other workspace's data.
VIEWER_PAGES = {
    "accounts:workspace-home",
    "strategy:strategy",
    "strategy:metrics",
    "strategy:metric",
    "initiatives:list",
    "initiatives:board",
    "initiatives:detail",
    "ideas:list",
    "ideas:not-doing",
    "reports:dashboard",
    "accounts:tokens",
    "value_reports:list",
    "value_reports:definition",
    "value_reports:run",
    "value_reports:run-status",
}


@dataclass(frozen=True)
class ForeignBody:
    """A write of the acme workspace whose body names a row of globex."""

    name: str  # test id
    url_name: str
    kwargs: dict[str, type[Model]]  # URL keywords filled with acme rows
    method: str
    model: type[Model]  # the rows that must not change in number
    field: str  # the field the 400 names
    body: dict[str, Any]  # "@Model": the id of that globex row; "@@Model": of acme's
    # The same body with acme's rows is accepted, which shows the 400 is the foreign id's;
    # False where acme's row cannot be named twice (unique pairs, an objective's own parent).
    control: bool = True


FOREIGN_BODIES = [
    ForeignBody(
        "impact-metric",
        "initiative-expected-impact-list",
        {"initiative_id": Initiative},
        "post",
        ExpectedImpact,
        "metric",
        {"metric": "@Metric", "expected_change": "10", "confidence": 50, "attribution": 100},
        control=False,
    ),
    ForeignBody(
        "impact-metric-update",
        "initiative-expected-impact-detail",
        {"initiative_id": Initiative, "pk": ExpectedImpact},
        "patch",
        ExpectedImpact,
        "metric",
        {"metric": "@Metric"},
    ),
    ForeignBody(
        "objective-parent",
        "objective-list",
        {},
        "post",
        Objective,
        "parent",
        {
            "title": "Child",
            "parent": "@Objective",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "status": "active",
        },
    ),
    ForeignBody(
        "objective-parent-update",
        "objective-detail",
        {"pk": Objective},
        "patch",
        Objective,
        "parent",
        {"parent": "@Objective"},
        control=False,
    ),
    ForeignBody(
        "objective-owner",
        "objective-list",
        {},
        "post",
        Objective,
        "owner",
        {
            "title": "Owned",
            "owner": "@User",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    ),
    ForeignBody(
        "key-result-metric",
        "key-result-list",
        {},
        "post",
        KeyResult,
        "metric",
        {
            "objective": "@@Objective",
            "metric": "@Metric",
            "baseline": "0",
            "target": "10",
            "start_on": "2026-01-01",
            "due_on": "2026-06-30",
        },
    ),
    ForeignBody(
        "key-result-objective",
        "key-result-list",
        {},
        "post",
        KeyResult,
        "objective",
        {
            "objective": "@Objective",
            "metric": "@@Metric",
            "baseline": "0",
            "target": "10",
            "start_on": "2026-01-01",
            "due_on": "2026-06-30",
        },
    ),
    ForeignBody(
        "initiative-team",
        "initiative-list",
        {},
        "post",
        Initiative,
        "team",
        {"title": "Teamed", "team": "@Team", "effort_weeks": "2", "confidence": 50},
    ),
    ForeignBody(
        "initiative-team-update",
        "initiative-detail",
        {"pk": Initiative},
        "patch",
        Initiative,
        "team",
        {"team": "@Team"},
    ),
    ForeignBody(
        "initiative-owner",
        "initiative-list",
        {},
        "post",
        Initiative,
        "owner",
        {"title": "Owned", "owner": "@User", "effort_weeks": "2", "confidence": 50},
    ),
    ForeignBody(
        "alignment-objective",
        "initiative-alignment-list",
        {"initiative_id": Initiative},
        "post",
        Alignment,
        "objective",
        {"objective": "@Objective", "weight": 10},
        control=False,
    ),
    ForeignBody(
        "stakeholder-user",
        "initiative-stakeholder-list",
        {"initiative_id": Initiative},
        "post",
        Stakeholder,
        "user",
        {"user": "@User", "role": "informed"},
    ),
    ForeignBody(
        "decision-initiative",
        "decision-list",
        {},
        "post",
        Decision,
        "initiative",
        {"initiative": "@Initiative", "kind": "other", "rationale": "Recorded by hand."},
    ),
    ForeignBody(
        "experiment-initiative",
        "experiment-list",
        {},
        "post",
        Experiment,
        "initiative",
        {"initiative": "@Initiative", "hypothesis": "It works.", "method": "interview"},
    ),
    ForeignBody(
        "experiment-metric",
        "experiment-list",
        {},
        "post",
        Experiment,
        "metric",
        {
            "initiative": "@@Initiative",
            "metric": "@Metric",
            "hypothesis": "It works.",
            "method": "interview",
        },
    ),
]

FOREIGN_BODIES += [
    ForeignBody(
        f"report-{field}",
        "report-definition-list",
        {},
        "post",
        ReportDefinition,
        field,
        {
            "name": f"Report of a {field}",
            "formats": ["html"],
            "recipient_emails": ["cfo@example.com"],
            field: f"@{model.__name__}",
        },
    )
    for field, model in (("team", Team), ("objective", Objective))
] + [
    ForeignBody(
        f"report-{field}-update",
        "report-definition-detail",
        {"pk": ReportDefinition},
        "patch",
        ReportDefinition,
        field,
        {field: f"@{model.__name__}"},
    )
    for field, model in (("team", Team), ("objective", Objective))
]

# Pages a viewer may POST to (the "contribute" scope: ideas and votes); every other
# action page answers a viewer's POST with 403 (or 405 where it takes no POST).
VIEWER_POSTS = {"ideas:vote"}
