"""Tenant isolation matrix: every API route and browser page, generated from the URL
configuration, for every role, answers what its scope says, and nothing of another
workspace is seen or reachable (DESIGN.md §2 accounts, §4).

A route the matrix cannot fill (a new URL keyword, a detail route of a model without a
row here) fails by name: add its row to tests/tenant_matrix_data.py.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, Role, Team, User, Workspace
from accounts.permissions import scopes_for
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
from reports.models import ReportDefinition, ReportDelivery, ReportRun, ShareLink
from strategy.models import KeyResult, Measurement, Metric, Objective
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.tenant_matrix_data import (
    BODIES,
    FOREIGN_BODIES,
    KWARG_MODELS,
    MODELS,
    PAGE_PK_MODELS,
    USER_API_ROUTES,
    VIEWER_PAGES,
    VIEWER_POSTS,
    ForeignBody,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint

MARK = "GLOBEX-ONLY"  # in every text of the other workspace: never in an acme answer
METHODS = ("get", "post", "put", "patch", "delete")
ROLES = ("admin", "editor", "viewer", "read_only_token", "outsider", "anonymous")


# --- the routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    path: str  # the pattern, for messages
    name: str  # the URL name with its namespace, "" when unnamed
    callback: Any
    kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path} ({self.name or 'unnamed'})"


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: str, kwargs: tuple[str, ...]
) -> Iterator[Route]:
    for pattern in patterns:
        text = str(pattern.pattern).lstrip("^").rstrip("$")
        names = kwargs + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, prefix + text, inner, names)
        else:
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield Route(prefix + text, name, pattern.callback, names)


ROUTES = list(_walk(get_resolver().url_patterns, "", "", ()))
API_ROUTES = [r for r in ROUTES if r.path.startswith("api/v1/")]
PAGES = [r for r in ROUTES if r.path.startswith("w/<slug:workspace_slug>/")]


def _methods(route: Route) -> dict[str, str | None]:
    """method → DRF action (None for an APIView) the route answers. (HEAD answers as GET;
    DRF adds it to a viewset's actions at its first request.)"""
    actions = getattr(route.callback, "actions", None)
    if actions is not None:
        return {m: action for m, action in actions.items() if m in METHODS}
    view_class = route.callback.view_class
    return {m: None for m in METHODS if hasattr(view_class, m)}


API_CELLS = [
    pytest.param(route, method, role, id=f"{route.name or route.path}-{method}-{role}")
    for route in API_ROUTES
    for method in _methods(route)
    for role in ROLES
]


def required_scope(route: Route, method: str) -> str:
    """The scope the view itself asks for (its scope_map): no expectation is hard-coded."""
    view_class = route.callback.cls
    if not hasattr(view_class, "required_scope"):
        pytest.fail(f"{route}: a workspace route whose view is not a WorkspaceScopedMixin")
    view = view_class(**getattr(route.callback, "initkwargs", {}))
    view.action = _methods(route)[method]
    scope: str = view.required_scope(SimpleNamespace(method=method.upper()))
    return scope


# --- the world: one row of everything in each workspace, built once for the module -------------


@dataclass
class World:
    acme: Workspace
    globex: Workspace
    members: dict[str, Membership]
    outsider: Membership
    editor_key: str
    read_only_key: str
    rows: dict[type[Model], Model] = field(default_factory=dict)  # acme
    foreign: dict[type[Model], Model] = field(default_factory=dict)  # globex

    def row(self, model: type[Model], *, foreign: bool = False) -> Model:
        return (self.foreign if foreign else self.rows)[model]


def _rows(workspace: Workspace, admin: User, member: User, text: str) -> dict[type[Model], Model]:
    team = Team.objects.create(workspace=workspace, name=f"{text} team")
    objective = Objective.objects.create(
        workspace=workspace,
        title=f"{text} objective",
        description=text,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        status="active",
        owner=admin,
    )
    metric = Metric.objects.create(
        workspace=workspace,
        key=f"{text.lower()}-signups",
        name=f"{text} sign-ups",
        description=text,
        unit="users",
        category="acquisition",
        direction="increase",
        aggregation="sum",
        value_per_unit=Decimal("10"),
    )
    measurement = Measurement.objects.create(
        metric=metric, observed_on=date(2026, 1, 5), value=Decimal("7"), source=text, note=text
    )
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
        title=f"{text} initiative",
        summary=text,
        team=team,
        owner=admin,
        effort_weeks=Decimal("4"),
        confidence=60,
    )
    alignment = Alignment.objects.create(
        initiative=initiative, objective=objective, weight=50, rationale=text
    )
    impact = ExpectedImpact.objects.create(
        initiative=initiative, metric=metric, expected_change=Decimal("50"), confidence=50
    )
    stakeholder = Stakeholder.objects.create(
        initiative=initiative, user=member, role="informed", expectation=text
    )
    decision = Decision.objects.create(
        workspace=workspace,
        initiative=initiative,
        kind="other",
        rationale=text,
        decided_by=admin,
        decided_at=timezone.now(),
    )
    experiment = Experiment.objects.create(
        initiative=initiative, hypothesis=text, method="interview", metric=metric
    )
    # Submitted by the viewer, so the viewer may change it (IdeaViewSet's owner rule).
    idea = Idea.objects.create(
        workspace=workspace, title=f"{text} idea", description=text, submitted_by=member
    )
    link = ShareLink.objects.create(
        workspace=workspace, label=f"{text} link", nonce=f"{text[:6]}-nonce", created_by=admin
    )
    # The member pages act on the viewer's membership; the token is the admin's, so a
    # viewer's revoke is refused like any other editor action.
    membership = Membership.objects.get(workspace=workspace, user=member)
    token, _ = api_token_create(
        membership=Membership.objects.get(workspace=workspace, user=admin), name=f"{text} token"
    )
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=f"https://{workspace.slug}.example.com/hooks",
        description=text,
        events=["*"],
        secret=f"{text[:6]}-secret",
        created_by=admin,
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="ping",
        event_id=uuid.uuid4(),
        payload={"note": text},
        status="failed",
        error=text,
    )
    # A run of January 2026, still queued: its files are not there yet (409).
    report = ReportDefinition.objects.create(
        workspace=workspace, name=f"{text} report", formats=["html", "pdf"], created_by=admin
    )
    report.recipients.create(email=f"{workspace.slug}@example.com")
    run = ReportRun.objects.create(
        workspace=workspace,
        definition=report,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        as_of=date(2026, 1, 31),
        trigger="manual",
        requested_by=admin,
    )
    # An address the mail server refused three times: the run page offers "Send again".
    report_delivery = ReportDelivery.objects.create(
        run=run, email=f"{workspace.slug}@example.com", status="failed", attempts=3, last_error=text
    )
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=f"invited-{workspace.slug}@example.com",
        role="viewer",
        key_hash=f"{workspace.slug}-{text[:20]}-invitation",
        invited_by=admin,
        expires_at=timezone.now() + timedelta(days=7),
    )
    rows: list[Model] = [
        team,
        objective,
        metric,
        measurement,
        key_result,
        initiative,
        alignment,
        impact,
        stakeholder,
        decision,
        experiment,
        idea,
        link,
        membership,
        token,
        endpoint,
        delivery,
        report,
        run,
        report_delivery,
        invitation,
    ]
    by_model = {type(row): row for row in rows}
    assert set(by_model) == set(MODELS)
    return by_model


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once in a transaction that the end of the module rolls back; every test runs
    in a savepoint inside it (pytest-django), so a DELETE of one cell is gone for the next."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            acme = WorkspaceFactory.create(slug="acme", name="Acme")
            globex = WorkspaceFactory.create(slug="globex", name=f"Globex {MARK}")
            members: dict[str, Membership] = {
                str(role): MembershipFactory.create(workspace=acme, role=role)
                for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER)
            }
            outsider = MembershipFactory.create(
                workspace=globex, role=Role.ADMIN, user=UserFactory.create(full_name=MARK)
            )
            globex_viewer = MembershipFactory.create(workspace=globex, role=Role.VIEWER)
            _, editor_key = api_token_create(membership=members[Role.EDITOR])
            _, read_only_key = api_token_create(membership=members[Role.EDITOR], read_only=True)
            world = World(
                acme=acme,
                globex=globex,
                members=members,
                outsider=outsider,
                editor_key=editor_key,
                read_only_key=read_only_key,
                rows=_rows(acme, members[Role.ADMIN].user, members[Role.VIEWER].user, "Acme"),
                foreign=_rows(globex, outsider.user, globex_viewer.user, MARK),
            )
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _client(world: World, role: str) -> APIClient:
    client = APIClient()
    if role in ("admin", "viewer"):
        client.force_login(world.members[role].user)  # the browser's session
    elif role == "editor":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.editor_key}")
    elif role == "read_only_token":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.read_only_key}")
    elif role == "outsider":
        client.force_login(world.outsider.user)
    return client


def _membership(world: World, role: str) -> tuple[Membership, bool]:
    if role == "read_only_token":
        return world.members["editor"], True
    return world.members[role], False


def _fill(world: World, route: Route, *, foreign: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in route.kwargs:
        if name == "workspace_slug":
            values[name] = (world.globex if foreign else world.acme).slug
            continue
        if name == "pk":
            view_class = getattr(route.callback, "cls", None)
            queryset = getattr(view_class, "queryset", None)
            model = queryset.model if queryset is not None else PAGE_PK_MODELS.get(route.name)
        else:
            model = KWARG_MODELS.get(name)
        if model is None or model not in world.rows:
            pytest.fail(
                f"{route}: the matrix cannot fill the URL keyword {name!r}; add its model "
                "to tests/tenant_matrix_data.py (MODELS, KWARG_MODELS) and a row to the world",
                pytrace=False,
            )
        values[name] = world.row(model, foreign=foreign).pk
    return values


def _url(world: World, route: Route, *, foreign: bool = False) -> str:
    if not route.name:
        pytest.fail(f"{route}: an unnamed route; name it so the matrix can reverse it")
    return reverse(route.name, kwargs=_fill(world, route, foreign=foreign))


def _send(client: Client, method: str, url: str, route: Route) -> Any:
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    content_type, body = BODIES.get(route.name, ("application/json", b"{}"))
    return getattr(client, method)(url, data=body, content_type=content_type)


# --- the API matrix ------------------------------------------------------------------------------


def test_the_walk_finds_the_api() -> None:
    """Given the URL configuration, the walk sees every resource of DESIGN.md §4 (a
    broken walk would make an empty matrix pass)."""
    names = {route.name for route in API_ROUTES}
    for expected in (
        "api-me",
        "objective-list",
        "objective-detail",
        "metric-detail",
        "measurement-list",
        "initiative-transition",
        "initiative-expected-impact-detail",
        "idea-vote",
        "api-value-summary",
    ):
        assert expected in names
    assert len(API_CELLS) >= 6 * 50


@pytest.mark.parametrize(("route", "method", "role"), API_CELLS)
def test_api_cell(world: World, db: None, route: Route, method: str, role: str) -> None:
    """Given a route, a method and a role, the answer is what the view's scope says:
    401 anonymous, 404 for a member of another workspace, 403 without the scope, and
    otherwise a 2xx or a refusal in words (400, 409) — never a 404 for ids that exist, a
    405, or a 500."""
    client = _client(world, role)
    url = _url(world, route)

    response = _send(client, method, url, route)

    got = response.status_code
    cell = f"{method.upper()} {url} as {role}"
    if role == "anonymous":
        assert got == 401, f"{cell}: expected 401, got {got}"
        return
    if route.name in USER_API_ROUTES:
        assert 200 <= got < 300, f"{cell}: expected 2xx, got {got}"
        return
    if "workspace_slug" not in route.kwargs:
        pytest.fail(f"{route}: an API route outside a workspace; list it in USER_API_ROUTES")
    if role == "outsider":
        assert got == 404, f"{cell}: expected 404, got {got}"
        return
    scope = required_scope(route, method)
    membership, read_only = _membership(world, role)
    token = SimpleNamespace(read_only=True) if read_only else None
    if scope not in scopes_for(membership, token):  # type: ignore[arg-type]
        assert got == 403, f"{cell} (needs {scope!r}): expected 403, got {got}"
        return
    assert got in (400, 409) or 200 <= got < 300, (
        f"{cell} (needs {scope!r}): expected 2xx, 400 or 409, got {got}: {response.content[:300]!r}"
    )
    if method == "get":
        assert MARK not in response.content.decode(), f"{cell}: shows a row of globex"


@pytest.mark.parametrize(
    "route", [r for r in API_ROUTES if "pk" in r.kwargs or len(r.kwargs) > 1], ids=str
)
def test_api_foreign_ids_in_the_url_are_not_found(world: World, db: None, route: Route) -> None:
    """Given an acme admin, a URL of the acme workspace with the ids of globex rows answers
    404 for every method, and writes nothing."""
    client = _client(world, "admin")
    kwargs = _fill(world, route, foreign=True)
    kwargs["workspace_slug"] = world.acme.slug
    url = reverse(route.name, kwargs=kwargs)
    before = {model: model.objects.count() for model in MODELS}  # type: ignore[attr-defined]

    for method in _methods(route):
        response = _send(client, method, url, route)
        assert response.status_code == 404, f"{method.upper()} {url}: got {response.status_code}"

    assert {model: model.objects.count() for model in MODELS} == before  # type: ignore[attr-defined]


def _ids(payload: Any) -> Iterator[int]:
    """The ids of the list's own rows: not the ids nested in them, which are other models'
    (a report's last run) and could equal a foreign row's id by chance."""
    rows = payload.get("results", []) if isinstance(payload, dict) else payload
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("id"), int):
            yield row["id"]


LIST_ROUTES = [
    r
    for r in API_ROUTES
    if "workspace_slug" in r.kwargs and "pk" not in r.kwargs and "get" in _methods(r)
]


@pytest.mark.parametrize("route", LIST_ROUTES, ids=str)
def test_api_lists_hold_no_foreign_row(world: World, db: None, route: Route) -> None:
    """Given rows in both workspaces, an acme list names none of globex's: not its id (for
    the list's own model), not its text."""
    client = _client(world, "admin")
    url = _url(world, route)

    response = client.get(url)

    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert MARK not in response.content.decode()
    view_class = getattr(route.callback, "cls", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None and queryset.model in world.foreign:
        found = set(_ids(response.json()))
        foreign_id = world.row(queryset.model, foreign=True).pk
        own_id = world.row(queryset.model).pk
        assert foreign_id not in found or foreign_id == own_id, f"{url} lists globex's row"
        assert own_id in found, f"{url} misses acme's own row: the check would prove nothing"


def _body(world: World, case: ForeignBody, *, foreign: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in case.body.items():
        if isinstance(value, str) and value.startswith("@"):
            own = value.startswith("@@") or not foreign
            name = value.lstrip("@")
            if name == "User":
                user = world.members["editor"].user if own else world.outsider.user
                body[key] = user.pk
                continue
            model = next(m for m in MODELS if m.__name__ == name)
            body[key] = world.row(model, foreign=not own).pk
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("case", FOREIGN_BODIES, ids=lambda case: case.name)
def test_api_foreign_ids_in_bodies_are_refused(world: World, db: None, case: ForeignBody) -> None:
    """Given an acme editor, a body naming a row of globex answers 400 on that field, and
    nothing is written; the same body with acme's row is accepted (so the 400 is the
    foreign id's)."""
    client = _client(world, "editor")
    kwargs = {name: world.row(model).pk for name, model in case.kwargs.items()}
    url = reverse(case.url_name, kwargs={"workspace_slug": world.acme.slug, **kwargs})
    manager = case.model.objects  # type: ignore[attr-defined]
    before = manager.count()
    target = world.row(case.kwargs["pk"]) if "pk" in case.kwargs else None
    state = _state(target)

    response = getattr(client, case.method)(
        url, data=_body(world, case, foreign=True), format="json"
    )

    assert response.status_code == 400, f"{url}: {response.status_code} {response.content!r}"
    assert case.field in response.json(), response.json()
    assert manager.count() == before
    assert _state(target) == state

    if not case.control:
        return
    with transaction.atomic():
        response = getattr(client, case.method)(
            url, data=_body(world, case, foreign=False), format="json"
        )
        assert 200 <= response.status_code < 300, f"control: {response.content!r}"
        transaction.set_rollback(True)


def _state(row: Model | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return type(row).objects.filter(pk=row.pk).values().get()  # type: ignore[attr-defined]


# --- browser pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", PAGES, ids=str)
def test_page_cell(world: World, db: None, route: Route) -> None:
    """Given a page of the acme workspace: an outsider gets what a workspace that does not
    exist gets, 404 (or 405 from a page that takes only POST, whatever the workspace),
    anonymous is sent to log in, a viewer reads the read pages and is refused the others
    (GET and POST, but for the contribute pages), an admin opens every GET page; none
    shows a row of globex."""
    url = _url(world, route)

    outsider = Client()
    outsider.force_login(world.outsider.user)
    nowhere = reverse(route.name, kwargs={**_fill(world, route), "workspace_slug": "nowhere"})
    for method in ("get", "post"):
        got = getattr(outsider, method)(url).status_code
        expected = getattr(outsider, method)(nowhere).status_code
        assert got == expected, f"{method.upper()} {url} as outsider: {got}, nowhere {expected}"
        assert got in (404, 405), f"{method.upper()} {url} as outsider: expected 404, got {got}"

    anonymous = Client().get(url)
    assert anonymous.status_code == 302, f"GET {url} anonymous: {anonymous.status_code}"
    assert anonymous["Location"].startswith(reverse("accounts:login"))

    viewer = Client()
    viewer.force_login(world.members["viewer"].user)
    response = viewer.get(url)
    if route.name in VIEWER_PAGES:
        assert response.status_code == 200, f"GET {url} as viewer: {response.status_code}"
        assert MARK not in response.content.decode(), f"GET {url} shows a row of globex"
    else:
        assert response.status_code in (403, 405), f"GET {url} as viewer: {response.status_code}"
        got = viewer.post(url).status_code
        if route.name in VIEWER_POSTS:
            assert got < 400, f"POST {url} as viewer: {got}"
        else:
            assert got in (403, 405), f"POST {url} as viewer: expected 403, got {got}"

    admin = Client()
    admin.force_login(world.members["admin"].user)
    response = admin.get(url)
    assert response.status_code in (200, 405), f"GET {url} as admin: {response.status_code}"
    assert MARK not in response.content.decode(), f"GET {url} shows a row of globex"


def test_the_walk_finds_the_pages() -> None:
    names = {route.name for route in PAGES}
    assert names >= VIEWER_PAGES, VIEWER_PAGES - names
    assert len(PAGES) >= 30


def test_a_route_the_matrix_cannot_fill_fails_by_name(world: World, db: None) -> None:
    """Given a new route with a URL keyword the tables do not know, the matrix fails and
    names it (rather than skipping the route)."""
    route = Route("api/v1/workspaces/<slug>/widgets/<widget_id>/", "widget", None, ("widget_id",))

    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        _fill(world, route)
