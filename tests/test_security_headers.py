"""Browser security headers on every kind of page: the Content-Security-Policy, no
framing, no MIME sniffing, the referrer policy; in production HSTS and cookies that only
travel over HTTPS, out of reach of scripts and of other sites; a logout that ends the
session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.invitations import invitation_create
from accounts.models import Membership
from reports.selectors import Scope
from reports.services import (
    report_definition_create,
    report_run_generate,
    report_run_request,
    share_link_create,
    share_link_token,
)
from tests.accounts.factories import PASSWORD
from tests.reports.test_dashboard import hand_computed_portfolio
from tests.test_settings import production_env, settings_as_json
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    """ "default-src 'self'; img-src 'self' data:" → {"default-src": "'self'", …}."""
    parsed = {}
    for directive in header.split(";"):
        name, _, sources = directive.strip().partition(" ")
        assert name not in parsed, f"{name} twice"
        parsed[name] = sources
    return parsed


@pytest.fixture
def pages(admin: Membership, settings: Settings) -> dict[str, str]:
    """One address of each kind of page, with data on it."""
    workspace = admin.workspace
    portfolio = hand_computed_portfolio(workspace, owner=admin.user)
    initiative = portfolio["a"]
    metric = initiative.expected_impacts.get().metric
    link = share_link_create(workspace=workspace, by=admin.user, scope=Scope(), label="Board")
    definition = report_definition_create(
        workspace=workspace,
        by=admin.user,
        name="Monthly value review",
        formats=["html", "pdf", "csv"],
        recipient_emails=["cfo@example.com"],
    )
    run = report_run_request(definition=definition, by=admin.user)
    report_run_generate(run_id=run.pk)  # in this test's transaction: made here, not queued
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    hook = webhook_endpoint_create(
        workspace=workspace, by=admin.user, url="http://127.0.0.1:9/hook"
    )
    invited = invitation_create(
        workspace=workspace, by=admin.user, email="new@example.com", role="viewer"
    )
    w = f"/w/{workspace.slug}"
    api = f"/api/v1/workspaces/{workspace.slug}"
    return {
        "reports": f"{w}/reports/",
        "report": f"{w}/reports/{definition.pk}/",
        "report-form": f"{w}/reports/{definition.pk}/edit/",
        "report-run": f"{w}/reports/runs/{run.pk}/",
        "report-run-status": f"{w}/reports/runs/{run.pk}/status/",
        "report-pdf": f"{api}/report-runs/{run.pk}/pdf/",
        "report-html": f"{api}/report-runs/{run.pk}/html/",
        "webhooks": f"{w}/webhooks/",
        "webhook": f"{w}/webhooks/{hook.pk}/",
        "tokens": f"{w}/tokens/",
        "members": f"{w}/members/",
        "audit": f"{w}/audit/",
        "password": "/accounts/password/",
        "password-reset": "/accounts/password/reset/",
        "password-reset-sent": "/accounts/password/reset/sent/",
        "password-reset-link": "/accounts/password/reset/MQ/not-a-token/",
        "invitation": f"/invitations/{invited.key}/",
        "invitation-invalid": "/invitations/not-a-key/",
        "workspace": f"{w}/",
        "strategy": f"{w}/strategy/",
        "metric": f"{w}/metrics/{metric.pk}/",
        "metrics": f"{w}/metrics/",
        "initiatives": f"{w}/initiatives/",
        "initiative": f"{w}/initiatives/{initiative.pk}/",
        "ideas": f"{w}/ideas/",
        "not-doing": f"{w}/not-doing/",
        "dashboard": f"{w}/dashboard/",
        "share-link": f"/s/{share_link_token(link=link)}/",
        "api": f"/api/v1/workspaces/{workspace.slug}/initiatives/",
        "api-docs": "/api/docs/",
        "api-docs-script": "/api/docs/?script=",
        "api-schema": "/api/schema/",
        "healthz": "/healthz",
        "not-found": f"{w}/initiatives/999999999/",
        "not-found-anywhere": "/no/such/page/",
    }


EXPECTED_STATUS = {"not-found": 404, "not-found-anywhere": 404, "invitation-invalid": 404}


def assert_security_headers(
    response: Any, *, referrer: str = "same-origin", x_frame_options: bool = True
) -> None:
    policy = response["Content-Security-Policy"]
    parsed = directives(policy)
    assert {name: parsed.get(name) for name in POLICY} == POLICY
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    if x_frame_options:  # the older header of frame-ancestors, for older browsers
        assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == referrer
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_kind_of_page_sends_the_security_headers(
    client: Client, admin: Membership, pages: dict[str, str]
) -> None:
    # Given a member with a portfolio, signed in
    client.force_login(admin.user)

    for kind, url in pages.items():
        # When any page is opened
        response = client.get(url)

        # Then it answers as usual, with the policy and the other headers
        assert response.status_code == EXPECTED_STATUS.get(kind, 200), kind
        # (the share link is opened by people outside: their address stays out of sight)
        referrer = "no-referrer" if kind == "share-link" else "same-origin"
        assert_security_headers(response, referrer=referrer)


def test_the_policy_is_exactly_the_one_shipped(client: Client) -> None:
    # When the login page is opened by someone signed out
    response = client.get("/accounts/login/")

    # Then the policy allows only this site's files, no framing, no plug-ins, and
    # inline style attributes only for the seven values Plotly writes (by hash)
    assert response.status_code == 200
    assert_security_headers(response)
    policy = directives(response["Content-Security-Policy"])
    assert set(policy) == {*POLICY, "font-src", "style-src-attr"}
    assert policy["font-src"] == "'self'"
    sources = policy["style-src-attr"].split()
    assert sources[0] == "'unsafe-hashes'"
    assert len(sources) == 1 + len(settings.PLOTLY_TEXT_STYLES)
    assert all(source.startswith("'sha256-") for source in sources[1:])


def test_the_refusals_of_the_middleware_carry_the_policy_too(client: Client) -> None:
    # When a body is too large (refused before any view)
    response = client.post(
        "/accounts/login/",
        data=b"x",
        content_type="text/plain",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )

    # Then the refusal page is under the same policy (frame-ancestors; X-Frame-Options
    # comes from a middleware the refusal does not reach)
    assert response.status_code == 413
    assert_security_headers(response, x_frame_options=False)


def test_pages_use_no_inline_script_and_configure_htmx_not_to_eval(
    client: Client, admin: Membership, pages: dict[str, str]
) -> None:
    client.force_login(admin.user)
    for kind in ("workspace", "initiative", "metric", "dashboard", "ideas", "share-link"):
        html = client.get(pages[kind]).content.decode()
        # Every <script> has a src (json_script data is type="application/json")
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert 'src="' in opening or 'type="application/json"' in opening, (kind, opening)
        assert ' style="' not in html, kind
        for handler in (
            " onclick=",
            " onchange=",
            " onsubmit=",
            " onload=",
            "hx-on",
            "javascript:",
        ):
            assert handler not in html, (kind, handler)
        assert '"allowEval": false' in html, kind
        assert '"allowScriptTags": false' in html, kind


@pytest.fixture
def production(settings: Settings, tmp_path: Path) -> dict[str, object]:
    """This process runs with the security settings a production process reads."""
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
    ]
    values = settings_as_json(production_env(tmp_path), names)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return values


def test_production_sends_hsts_and_redirects_plain_http(
    client: Client, production: dict[str, object]
) -> None:
    # When the login page is asked for over plain HTTP, then over HTTPS (behind the proxy)
    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})

    # Then plain HTTP is sent to HTTPS, and HTTPS answers with a year of HSTS
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert_security_headers(secure)


def test_production_cookies_travel_only_over_https_and_stay_same_site(
    client: Client, admin: Membership, production: dict[str, object]
) -> None:
    https = {"x-forwarded-proto": "https"}

    # When a member opens the login page and logs in over HTTPS
    client.get("/accounts/login/", headers=https)
    response = client.post(
        "/accounts/login/",
        {"username": admin.user.email, "password": PASSWORD},
        headers=https,
    )

    # Then the session and CSRF cookies are Secure, SameSite=Lax, and out of scripts' reach
    # (htmx sends the CSRF token from the page, not from the cookie)
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_logout_ends_the_session(client: Client, admin: Membership) -> None:
    # Given a member who logged in
    assert client.login(username=admin.user.email, password=PASSWORD)
    key = client.session.session_key
    assert key is not None
    assert Session.objects.filter(session_key=key).exists()
    home = f"/w/{admin.workspace.slug}/"
    assert client.get(home).status_code == 200

    # When a link tries to log them out: refused (logout is a POST, with the CSRF token)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get(home).status_code == 200

    # When they log out
    response = client.post("/accounts/logout/")

    # Then they are at the login page, the session is gone from the database, and the old
    # session cookie opens nothing
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not Session.objects.filter(session_key=key).exists()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stale.get(home).status_code == 302
    assert stale.get(home)["Location"].startswith("/accounts/login/")
