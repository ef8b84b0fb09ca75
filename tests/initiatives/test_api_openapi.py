"""The OpenAPI schema of the initiatives API: every route is there, refusals (409) are
documented where the services refuse, and the figures are nullable decimal strings.
(tests/test_api_schema.py checks that the whole schema validates and that every operation
documents 400, 401, 403, 404 and 429.)"""

from functools import cache
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

W = "/api/v1/workspaces/{workspace_slug}/"


@cache
def schema() -> dict[str, Any]:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    loaded: dict[str, Any] = yaml.safe_load(out.getvalue())
    return loaded


OPERATIONS = {
    "initiatives/": {"get", "post"},
    "initiatives/{id}/": {"get", "put", "patch", "delete"},
    "initiatives/{id}/transition/": {"post"},
    "initiatives/{id}/impact/": {"get"},
    "initiatives/{initiative_id}/alignments/": {"get", "post"},
    "initiatives/{initiative_id}/alignments/{id}/": {"get", "put", "patch", "delete"},
    "initiatives/{initiative_id}/expected-impacts/": {"get", "post"},
    "initiatives/{initiative_id}/expected-impacts/{id}/": {"get", "put", "patch", "delete"},
    "initiatives/{initiative_id}/stakeholders/": {"get", "post"},
    "initiatives/{initiative_id}/stakeholders/{id}/": {"get", "put", "patch", "delete"},
    "decisions/": {"get", "post"},
    "decisions/{id}/": {"get"},
    "experiments/": {"get", "post"},
    "experiments/{id}/": {"get", "put", "patch", "delete"},
    "ideas/": {"get", "post"},
    "ideas/{id}/": {"get", "put", "patch", "delete"},
    "ideas/{id}/vote/": {"post", "delete"},
    "ideas/{id}/promote/": {"post"},
    "ideas/{id}/decline/": {"post"},
}

REFUSALS = [
    ("initiatives/{id}/", "delete"),
    ("initiatives/{id}/transition/", "post"),
    ("ideas/{id}/", "patch"),
    ("ideas/{id}/", "delete"),
    ("ideas/{id}/vote/", "post"),
    ("ideas/{id}/vote/", "delete"),
    ("ideas/{id}/promote/", "post"),
    ("ideas/{id}/decline/", "post"),
]


@pytest.mark.parametrize(("path", "methods"), OPERATIONS.items())
def test_every_route_is_in_the_schema_with_its_methods(path: str, methods: set[str]) -> None:
    documented = schema()["paths"][W + path]
    assert set(documented) == methods


@pytest.mark.parametrize(("path", "method"), REFUSALS)
def test_a_refusal_is_documented_as_409_in_words(path: str, method: str) -> None:
    response = schema()["paths"][W + path][method]["responses"]["409"]
    assert response["description"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_nested_routes_document_the_initiative_id() -> None:
    for path in OPERATIONS:
        if "{initiative_id}" not in path:
            continue
        for operation in schema()["paths"][W + path].values():
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert "initiative_id" in names, path


def test_the_initiative_figures_are_read_only_nullable_decimal_strings() -> None:
    properties = schema()["components"]["schemas"]["Initiative"]["properties"]
    for name in (
        "expected_value",
        "risk_adjusted_value",
        "realized_value",
        "realization",
        "value_density",
        "rice",
    ):
        field = properties[name]
        assert (field["type"], field["format"], field["readOnly"], field["nullable"]) == (
            "string",
            "decimal",
            True,
            True,
        ), name
        assert field["description"], name
    assert properties["status"]["readOnly"] is True
    assert properties["released_on"]["readOnly"] is True
    request = schema()["components"]["schemas"]["InitiativeRequest"]["properties"]
    assert "status" not in request
    assert "released_on" not in request


def test_the_impact_report_has_the_fields_of_design_section_3() -> None:
    components = schema()["components"]["schemas"]
    per_impact = set(components["ImpactFigures"]["properties"])
    assert per_impact == {
        "id",
        "metric",
        "expected_change",
        "expected_value",
        "risk_adjusted_value",
        "realized_change",
        "realized_value",
        "realization",
        "status",
        "window_start",
        "release_date",
        "window_end",
    }
    assert set(components["ImpactReport"]["properties"]) == {
        "as_of",
        "currency",
        "impacts",
        "expected_value",
        "risk_adjusted_value",
        "realized_value",
        "realization",
    }
    assert components["ImpactStatusEnum"]["enum"] == [
        "not_started",
        "measuring",
        "measured",
        "no_data",
    ]


def test_list_filters_are_documented() -> None:
    parameters = schema()["paths"][W + "initiatives/"]["get"]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    assert {"status", "team", "objective", "kind", "owner", "horizon", "q", "ordering"} <= set(
        by_name
    )
    assert by_name["status"]["schema"]["type"] == "array"
    assert "value_density" in by_name["ordering"]["schema"]["enum"]
    assert all(by_name[name].get("description") for name in ("team", "owner", "objective", "q"))
