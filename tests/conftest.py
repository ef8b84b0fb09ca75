"""Shared fixtures, and the rule for tests that need a real service.

A test marked `postgres`, `redis`, `worker` or `browser` needs that service. In CI
(CI=true) a missing service fails the test; on a laptop without it the test is skipped
with the reason.
"""

import os
import shutil
from functools import cache

import pytest
from django.conf import settings
from django.core.cache import cache as django_cache
from rest_framework.test import APIClient

from accounts.models import Membership, Role, Workspace
from accounts.services import api_token_create
from tests.accounts.factories import MembershipFactory, WorkspaceFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = "/usr/bin/chromium"


@cache
def _redis_problem() -> str | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        return "CELERY_BROKER_URL does not point at a Redis server"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} does not answer: {exc}"
    return None


@cache
def _service_problem(marker: str) -> str | None:
    """Why the service this marker needs is not usable here, or None when it is."""
    if marker == "postgres":
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            return "DATABASE_URL does not point at PostgreSQL"
        return None
    if marker in {"redis", "worker"}:
        return _redis_problem()
    if marker == "browser":
        if not os.path.exists(CHROMIUM):
            return f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "the playwright python package is not installed"
        return None
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "worker", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        problem = _service_problem(marker)
        if problem is None:
            continue
        if IN_CI:
            pytest.fail(f"CI needs this service: {problem}", pytrace=False)
        pytest.skip(problem)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the cache (Redis in CI): start every test at zero."""
    django_cache.clear()


@pytest.fixture
def workspace(db: None) -> Workspace:
    return WorkspaceFactory.create(slug="acme", name="Acme")


@pytest.fixture
def other_workspace(db: None) -> Workspace:
    return WorkspaceFactory.create(slug="globex", name="Globex")


@pytest.fixture
def admin(workspace: Workspace) -> Membership:
    return MembershipFactory.create(workspace=workspace, role=Role.ADMIN)


@pytest.fixture
def editor(workspace: Workspace) -> Membership:
    return MembershipFactory.create(workspace=workspace, role=Role.EDITOR)


@pytest.fixture
def viewer(workspace: Workspace) -> Membership:
    return MembershipFactory.create(workspace=workspace, role=Role.VIEWER)


@pytest.fixture
def outsider(other_workspace: Workspace) -> Membership:
    """An admin of another workspace."""
    return MembershipFactory.create(workspace=other_workspace, role=Role.ADMIN)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def token_client(membership: Membership, *, read_only: bool = False) -> APIClient:
    """An API client that authenticates with a fresh token of this membership."""
    _, key = api_token_create(membership=membership, read_only=read_only)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def chromium_path() -> str:
    return shutil.which("chromium") or CHROMIUM
