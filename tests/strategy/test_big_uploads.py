"""A 50 MB CSV is refused before it is read: 413 in words, nothing written."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from strategy.models import Measurement, Metric
from tests.conftest import token_client
from tests.strategy.factories import MetricFactory

ROW = b"signups,2026-01-01,1,segment\n"
FIFTY_MB = b"metric,observed_on,value,source\n" + ROW * (50 * 1024 * 1024 // len(ROW))
LIMIT = 5 * 1024 * 1024


@pytest.fixture
def metric(workspace: Workspace) -> Metric:
    return MetricFactory.create(workspace=workspace, key="signups")


@pytest.mark.django_db
def test_the_api_refuses_a_50_mb_csv(editor: Membership, metric: Metric) -> None:
    client: APIClient = token_client(editor)
    response = client.post(
        "/api/v1/workspaces/acme/measurements/import/", data=FIFTY_MB, content_type="text/csv"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body is {len(FIFTY_MB):,} bytes; the limit is {LIMIT:,} bytes."
    }
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_the_upload_form_refuses_a_50_mb_csv(editor: Membership, metric: Metric) -> None:
    client = Client()
    client.force_login(editor.user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.csv", FIFTY_MB, content_type="text/csv")
    response = client.post(f"/w/acme/metrics/{metric.pk}/measurements/import/", {"file": upload})
    assert response.status_code == 413
    page = response.content.decode()
    assert "The request body is 52,4" in page
    assert "the limit is 5,242,880 bytes. Nothing was saved." in page
    assert not Measurement.objects.exists()
