"""The OpenAPI schema and its docs: valid, complete about errors, served without a CDN."""

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership


def test_the_schema_is_valid_openapi_without_a_single_warning() -> None:
    out = StringIO()
    # --fail-on-warn turns any warning (an undocumented field, a guessed type) into an error
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/workspaces/{workspace_slug}/teams/" in schema["paths"]


def test_every_operation_documents_its_errors() -> None:
    out = StringIO()
    call_command("spectacular", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in {"post", "put", "patch"}:
                assert {"413", "415"} <= codes, (method, path)
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]


@pytest.mark.django_db
def test_the_docs_load_nothing_from_another_host(client: Client, admin: Membership) -> None:
    # (Redoc is not offered: its page loads fonts from Google.)
    client.force_login(admin.user)
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, "the docs page references its scripts"
    # (its start-up script comes from the page's own address: no inline script, for the CSP)
    assert all(source.startswith(("/static/", "/api/docs/?script")) for source in sources), sources
    assert client.get("/api/schema/").status_code == 200
