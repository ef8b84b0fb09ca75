"""NUL bytes in measurements, as JSON or as a CSV file: PostgreSQL stores no NUL in text,
so the API refuses them in words (they were a 500)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from strategy.models import Measurement, Metric
from tests.conftest import token_client
from tests.strategy.factories import MetricFactory


@pytest.fixture
def metric(workspace: Workspace) -> Metric:
    return MetricFactory.create(workspace=workspace, key="signups")


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["note", "source"])
def test_a_nul_byte_in_a_measurement_is_refused_in_words(
    editor: Membership, metric: Metric, field: str
) -> None:
    client: APIClient = token_client(editor)
    points = [
        {"observed_on": "2026-01-01", "value": "1"},
        {"observed_on": "2026-01-02", "value": "2", field: "from\x00the warehouse"},
    ]

    response = client.post(
        f"/api/v1/workspaces/acme/metrics/{metric.pk}/measurements/", points, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "points": [f"Item 1: {field} contains a NUL character (\\x00); remove it."]
    }
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_a_nul_byte_in_a_csv_import_is_refused_in_words(editor: Membership, metric: Metric) -> None:
    client: APIClient = token_client(editor)
    body = b"metric,observed_on,value,source\nsignups,2026-01-01,1,a\nsign\x00ups,2026-01-02,2,b\n"

    response = client.post(
        "/api/v1/workspaces/acme/measurements/import/", data=body, content_type="text/csv"
    )

    assert response.status_code == 400
    assert response.json() == {
        "file": ["Line 3 contains a NUL character (\\x00): this is not a CSV file."]
    }
    assert not Measurement.objects.exists()
