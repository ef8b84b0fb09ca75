"""Editing key results, archiving key results, objectives and metrics, and deleting an
objective, through the browser pages: what the user sees, and which rows change or not."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Workspace
from strategy.models import KeyResult, Measurement, Metric, Objective
from strategy.services import workspace_today
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory
from tests.strategy.test_pages import (
    METRIC_LIST_QUERIES,
    METRIC_PAGE_QUERIES,
    STRATEGY_PAGE_QUERIES,
    assert_no_inline_script,
    client_for,
    key_result_half_way,
    text_of,
)

pytestmark = pytest.mark.django_db


def kr_post(key_result: KeyResult, **overrides: Any) -> dict[str, Any]:
    data = {
        "metric": str(key_result.metric_id),
        "title": key_result.title,
        "baseline": str(key_result.baseline),
        "target": str(key_result.target),
        "start_on": key_result.start_on.isoformat(),
        "due_on": key_result.due_on.isoformat(),
    }
    return data | overrides


def snapshot() -> list[tuple[Any, ...]]:
    """Every strategy row that these pages may change, to compare before and after."""
    return [
        *Objective.objects.order_by("pk").values_list("pk", "title", "status", "parent_id"),
        *KeyResult.objects.order_by("pk").values_list(
            "pk", "title", "metric_id", "baseline", "target", "start_on", "due_on", "archived_at"
        ),
        *Metric.objects.order_by("pk").values_list("pk", "name", "archived_at"),
    ]


def follow_post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    response = client.post(url, data or {}, follow=True)
    assert response.redirect_chain, "expected a redirect after the write"
    assert response.status_code == 200
    return response


# --- editing a key result ------------------------------------------------------------------


class TestKeyResultEdit:
    def test_an_editor_changes_title_metric_baseline_target_and_dates(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given a key result on one metric and another metric of the workspace
        key_result = key_result_half_way(workspace, title="Teams active weekly")
        other = MetricFactory.create(workspace=workspace, name="Paying teams", unit="teams")
        url = f"/w/acme/strategy/key-results/{key_result.pk}/edit/"
        client = client_for(editor)

        # When the editor opens the form, it holds today's values
        form = client.get(url)
        assert form.status_code == 200
        html = form.content.decode()
        assert 'value="Teams active weekly"' in html
        assert "Edit key result" in text_of(form)
        assert 'name="csrfmiddlewaretoken"' in html
        assert_no_inline_script(html)

        # And they save new ones
        response = follow_post(
            client,
            url,
            kr_post(
                key_result,
                title="Paying teams",
                metric=str(other.pk),
                baseline="10",
                target="40",
                start_on="2026-01-01",
                due_on="2026-12-31",
            ),
        )

        # Then the strategy page says so and the row holds the new values
        assert "Key result “Paying teams” saved." in text_of(response)
        key_result.refresh_from_db()
        assert key_result.title == "Paying teams"
        assert key_result.metric == other
        assert (key_result.baseline, key_result.target) == (Decimal("10"), Decimal("40"))
        assert (key_result.start_on.isoformat(), key_result.due_on.isoformat()) == (
            "2026-01-01",
            "2026-12-31",
        )

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"target": "0"}, "The target must differ from the baseline."),
            (
                {"start_on": "2026-06-01", "due_on": "2026-05-01"},
                "The due date must come after the start date.",
            ),
            ({"due_on": "not a day"}, "Enter a valid date."),
            ({"target": ""}, "This field is required."),
        ],
    )
    def test_bad_input_is_refused_in_words_and_changes_nothing(
        self,
        workspace: Workspace,
        editor: Membership,
        overrides: dict[str, str],
        message: str,
    ) -> None:
        key_result = key_result_half_way(workspace)  # baseline 0, target 100
        before = snapshot()

        response = client_for(editor).post(
            f"/w/acme/strategy/key-results/{key_result.pk}/edit/", kr_post(key_result, **overrides)
        )

        assert response.status_code == 200
        assert message in text_of(response)
        assert 'class="field__error"' in response.content.decode()
        assert snapshot() == before

    def test_a_metric_of_another_workspace_is_not_a_choice(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace)
        foreign = MetricFactory.create(workspace=other_workspace)
        before = snapshot()

        response = client_for(editor).post(
            f"/w/acme/strategy/key-results/{key_result.pk}/edit/",
            kr_post(key_result, metric=str(foreign.pk)),
        )

        assert response.status_code == 200
        assert "Select a valid choice." in text_of(response)
        assert snapshot() == before

    def test_a_key_result_keeps_its_metric_after_the_metric_is_archived(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace)
        Metric.objects.filter(pk=key_result.metric_id).update(archived_at="2026-01-01T00:00Z")

        response = follow_post(
            client_for(editor),
            f"/w/acme/strategy/key-results/{key_result.pk}/edit/",
            kr_post(key_result, target="120"),
        )

        assert "saved" in text_of(response)
        key_result.refresh_from_db()
        assert key_result.target == Decimal("120")

    def test_the_strategy_page_links_each_key_result_to_its_form(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace)

        html = client_for(editor).get("/w/acme/strategy/").content.decode()

        assert f"/w/acme/strategy/key-results/{key_result.pk}/edit/" in html
        assert f"/w/acme/strategy/key-results/{key_result.pk}/archive/" in html


# --- archiving a key result ----------------------------------------------------------------


class TestKeyResultArchive:
    def test_an_archived_key_result_leaves_the_strategy_and_metric_pages(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given a key result shown on the strategy page and on its metric's page
        key_result = key_result_half_way(workspace, title="Teams active weekly")
        url = f"/w/acme/strategy/key-results/{key_result.pk}/archive/"
        client = client_for(editor)
        assert "Teams active weekly" in text_of(client.get("/w/acme/strategy/"))

        # When the editor asks to archive it, a page says what happens and asks to confirm
        confirm = client.get(url)
        assert confirm.status_code == 200
        assert "Archive the key result “Teams active weekly”" in text_of(confirm)
        assert "Archive key result" in text_of(confirm)
        assert_no_inline_script(confirm.content.decode())
        key_result.refresh_from_db()
        assert key_result.archived_at is None  # a GET writes nothing

        # And they confirm
        response = follow_post(client, url)

        # Then a message says so, and the key result is on neither page
        assert "Key result “Teams active weekly” archived." in text_of(response)
        assert "Teams active weekly" not in text_of(client.get("/w/acme/strategy/"))
        metric_page = client.get(f"/w/acme/metrics/{key_result.metric_id}/")
        assert "Teams active weekly" not in text_of(metric_page)
        assert "No key result measures this metric yet." in text_of(metric_page)
        key_result.refresh_from_db()
        assert key_result.archived_at is not None
        assert Measurement.objects.filter(metric_id=key_result.metric_id).exists()

    def test_an_archived_key_result_cannot_be_edited_or_archived_again(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace)
        client = client_for(editor)
        follow_post(client, f"/w/acme/strategy/key-results/{key_result.pk}/archive/")
        before = snapshot()

        edit = client.post(
            f"/w/acme/strategy/key-results/{key_result.pk}/edit/", kr_post(key_result, target="7")
        )
        again = client.post(f"/w/acme/strategy/key-results/{key_result.pk}/archive/")

        assert (edit.status_code, again.status_code) == (404, 404)
        assert snapshot() == before

    def test_show_archived_lists_it_greyed_and_an_editor_restores_it(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        key_result = key_result_half_way(workspace, title="Teams active weekly")
        KeyResultFactory.create(objective=key_result.objective, title="Still live")
        client = client_for(editor)
        follow_post(client, f"/w/acme/strategy/key-results/{key_result.pk}/archive/")
        restore = f"/w/acme/strategy/key-results/{key_result.pk}/restore/"

        listed = client.get("/w/acme/strategy/?archived=1")
        as_viewer = client_for(viewer).get("/w/acme/strategy/?archived=1")
        refused = client_for(viewer).post(restore)
        response = follow_post(client, restore)

        html = listed.content.decode()
        assert "Teams active weekly" in text_of(listed)
        assert html.count('data-archived="1"') == 1  # the key result; its objective is live
        assert restore in html
        # The summary counts live key results only
        assert "1 key result" in text_of(listed)
        assert "Teams active weekly" in text_of(as_viewer)
        assert restore not in as_viewer.content.decode()
        assert refused.status_code == 403
        assert "Key result “Teams active weekly” restored." in text_of(response)
        key_result.refresh_from_db()
        assert key_result.archived_at is None
        assert "Teams active weekly" in text_of(client.get("/w/acme/strategy/"))
        metric_page = client.get(f"/w/acme/metrics/{key_result.metric_id}/")
        assert "Teams active weekly" in text_of(metric_page)

    def test_a_key_result_restored_under_an_archived_objective_says_where_it_is(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace, title="Teams active weekly")
        KeyResult.objects.filter(pk=key_result.pk).update(archived_at=timezone.now())
        Objective.objects.filter(pk=key_result.objective_id).update(status="archived")

        response = follow_post(
            client_for(editor), f"/w/acme/strategy/key-results/{key_result.pk}/restore/"
        )

        assert response.redirect_chain[-1][0] == "/w/acme/strategy/?archived=1"
        assert "is archived, so both show only with “Show archived”" in text_of(response)
        assert "Teams active weekly" in text_of(response)

    def test_restoring_a_key_result_of_another_workspace_is_404(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = key_result_half_way(other_workspace)
        KeyResult.objects.filter(pk=foreign.pk).update(archived_at=timezone.now())

        response = client_for(editor).post(f"/w/acme/strategy/key-results/{foreign.pk}/restore/")

        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.archived_at is not None


# --- archiving and deleting an objective ---------------------------------------------------


class TestObjectiveArchive:
    def test_an_archived_objective_is_hidden_and_shown_greyed_on_request(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given two objectives
        kept = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        gone = ObjectiveFactory.create(workspace=workspace, title="Launch in Japan")
        client = client_for(editor)
        url = f"/w/acme/strategy/objectives/{gone.pk}/archive/"

        # When the editor archives one after the confirmation page
        confirm = client.get(url)
        assert "Archive the objective “Launch in Japan”?" in text_of(confirm)
        response = follow_post(client, url)

        # Then the strategy page says so and no longer lists it
        text = text_of(response)
        assert "Objective “Launch in Japan” archived." in text
        page = client.get("/w/acme/strategy/")
        assert "Launch in Japan" not in text_of(page)
        assert "Win the mid-market" in text_of(page)
        assert "Show archived" in text_of(page)
        gone.refresh_from_db()
        assert gone.status == "archived"

        # And "Show archived" lists it greyed, with its badge, next to the live one
        archived = client.get("/w/acme/strategy/?archived=1")
        html = archived.content.decode()
        assert "Launch in Japan" in text_of(archived)
        assert f'class="objective objective--archived" id="objective-{gone.pk}"' in html
        assert f'class="objective" id="objective-{kept.pk}"' in html
        assert 'status--archived">Archived</span>' in html
        assert "Hide archived" in text_of(archived)
        # An archived objective offers no second "Archive", nor new key results
        assert f"/w/acme/strategy/objectives/{gone.pk}/archive/" not in html
        assert f"/w/acme/strategy/objectives/{gone.pk}/key-results/new/" not in html
        assert f"/w/acme/strategy/objectives/{gone.pk}/edit/" in html  # its status restores it
        assert f"/w/acme/strategy/objectives/{kept.pk}/archive/" in html

    def test_a_viewer_may_show_archived_objectives_but_sees_no_buttons(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace, title="Old bet", status="archived")
        key_result_half_way(workspace, objective=objective, title="Old key result")

        response = client_for(viewer).get("/w/acme/strategy/?archived=1")

        html = response.content.decode()
        assert "Old bet" in text_of(response)
        assert "/archive/" not in html
        assert "/delete/" not in html
        assert "/edit/" not in html


class TestObjectiveDelete:
    def test_an_objective_without_sub_objectives_is_deleted_with_its_key_results(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given an objective with one key result
        key_result = key_result_half_way(workspace)
        objective = key_result.objective
        objective.title = "A wrong turn"
        objective.save()
        url = f"/w/acme/strategy/objectives/{objective.pk}/delete/"
        client = client_for(editor)

        # When the editor reads what deleting does and confirms
        confirm = client.get(url)
        assert "Its key result is deleted with it." in text_of(confirm)
        assert "Delete the objective “A wrong turn” for good?" in text_of(confirm)
        assert "Delete objective" in text_of(confirm)
        response = follow_post(client, url)

        # Then it is gone, with its key result; the metric and its values stay
        assert "Objective “A wrong turn” deleted." in text_of(response)
        assert "A wrong turn" not in text_of(client.get("/w/acme/strategy/?archived=1"))
        assert not Objective.objects.exists()
        assert not KeyResult.objects.exists()
        assert Metric.objects.filter(pk=key_result.metric_id).exists()
        assert Measurement.objects.exists()

    def test_an_objective_with_sub_objectives_is_refused_with_the_reason(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given a company objective with a product objective under it
        parent = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        ObjectiveFactory.create(workspace=workspace, title="Activation", parent=parent)
        url = f"/w/acme/strategy/objectives/{parent.pk}/delete/"
        client = client_for(editor)
        before = snapshot()

        # When the editor opens the delete page, it explains why it cannot delete it
        confirm = client.get(url)
        assert "has 1 sub-objective" in text_of(confirm)
        assert "Delete objective</button>" not in confirm.content.decode()
        # And the tree offers no "Delete" for it
        tree = client.get("/w/acme/strategy/").content.decode()
        assert f"/w/acme/strategy/objectives/{parent.pk}/delete/" not in tree

        # When a POST is sent anyway
        response = client.post(url)

        # Then the service's words say why, and nothing is deleted
        assert response.status_code == 200
        assert (
            "This objective has sub-objectives: move or delete them first, or archive it."
            in text_of(response)
        )
        assert snapshot() == before


# --- archiving a metric --------------------------------------------------------------------


class TestMetricArchive:
    def test_an_archived_metric_leaves_the_dictionary_and_takes_no_values(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given two metrics
        metric = MetricFactory.create(workspace=workspace, name="Fax orders")
        MetricFactory.create(workspace=workspace, name="Sign-ups")
        client = client_for(editor)
        url = f"/w/acme/metrics/{metric.pk}/archive/"
        metric_page = client.get(f"/w/acme/metrics/{metric.pk}/")
        assert url in metric_page.content.decode()
        assert 'data-testid="measurement-form"' in metric_page.content.decode()

        # When the editor archives one after the confirmation page
        confirm = client.get(url)
        assert "Archive the metric “Fax orders”?" in text_of(confirm)
        assert "No key result measures it." in text_of(confirm)
        response = follow_post(client, url)

        # Then its page says it is archived and offers no value entry or CSV upload
        text = text_of(response)
        assert "Metric “Fax orders” archived." in text
        assert "This metric is archived" in text
        html = response.content.decode()
        assert 'data-testid="measurement-form"' not in html
        assert 'data-testid="csv-form"' not in html
        assert url not in html
        assert_no_inline_script(html)
        metric.refresh_from_db()
        assert metric.archived_at is not None

        # And the dictionary hides it unless archived metrics are asked for
        dictionary = client.get("/w/acme/metrics/")
        assert "Fax orders" not in text_of(dictionary)
        assert "Sign-ups" in text_of(dictionary)
        assert "Show archived" in text_of(dictionary)
        with_archived = client.get("/w/acme/metrics/?archived=1")
        assert "Fax orders" in text_of(with_archived)
        assert "Archived" in text_of(with_archived)
        assert 'class="row--archived" data-archived="1"' in with_archived.content.decode()

        # And a value posted by hand is refused in words, writing nothing
        refused = client.post(
            f"/w/acme/metrics/{metric.pk}/measurements/",
            {"observed_on": workspace_today(workspace).isoformat(), "value": "3"},
        )
        assert "This metric is archived" in text_of(refused)
        assert not Measurement.objects.filter(metric=metric).exists()

    def test_an_editor_restores_an_archived_metric_and_it_takes_values_again(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, name="Fax orders")
        client = client_for(editor)
        follow_post(client, f"/w/acme/metrics/{metric.pk}/archive/")
        archived_page = client.get(f"/w/acme/metrics/{metric.pk}/").content.decode()

        response = follow_post(client, f"/w/acme/metrics/{metric.pk}/restore/")

        assert 'data-testid="metric-restore"' in archived_page
        text = text_of(response)
        assert "Metric “Fax orders” restored. It is back in the dictionary" in text
        assert "This metric is archived" not in text
        assert 'data-testid="measurement-form"' in response.content.decode()
        metric.refresh_from_db()
        assert metric.archived_at is None
        assert "Fax orders" in text_of(client.get("/w/acme/metrics/"))
        added = client.post(
            f"/w/acme/metrics/{metric.pk}/measurements/",
            {"observed_on": workspace_today(workspace).isoformat(), "value": "3"},
        )
        assert added.status_code == 302
        assert Measurement.objects.filter(metric=metric).count() == 1

    def test_restoring_is_for_editors_of_the_workspace_by_post(
        self,
        workspace: Workspace,
        other_workspace: Workspace,
        viewer: Membership,
        editor: Membership,
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        foreign = MetricFactory.create(workspace=other_workspace)
        Metric.objects.update(archived_at=timezone.now())

        as_viewer = client_for(viewer).post(f"/w/acme/metrics/{metric.pk}/restore/")
        by_get = client_for(editor).get(f"/w/acme/metrics/{metric.pk}/restore/")
        viewer_page = client_for(viewer).get(f"/w/acme/metrics/{metric.pk}/")
        elsewhere = client_for(editor).post(f"/w/acme/metrics/{foreign.pk}/restore/")

        assert (as_viewer.status_code, by_get.status_code, elsewhere.status_code) == (403, 405, 404)
        assert 'data-testid="metric-restore"' not in viewer_page.content.decode()
        assert not Metric.objects.filter(archived_at__isnull=True).exists()

    def test_the_confirmation_counts_the_key_results_that_measure_it(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        key_result = key_result_half_way(workspace)
        KeyResultFactory.create(objective=key_result.objective, metric=key_result.metric)

        confirm = client_for(editor).get(f"/w/acme/metrics/{key_result.metric_id}/archive/")

        assert "2 key results measure it; they keep their figures." in text_of(confirm)


# --- who may do it -------------------------------------------------------------------------

Urls = Callable[[KeyResult], tuple[str, dict[str, Any]]]

ACTIONS: dict[str, Urls] = {
    "edit key result": lambda kr: (
        f"/w/acme/strategy/key-results/{kr.pk}/edit/",
        kr_post(kr, target="55"),
    ),
    "archive key result": lambda kr: (f"/w/acme/strategy/key-results/{kr.pk}/archive/", {}),
    "archive objective": lambda kr: (
        f"/w/acme/strategy/objectives/{kr.objective_id}/archive/",
        {},
    ),
    "delete objective": lambda kr: (f"/w/acme/strategy/objectives/{kr.objective_id}/delete/", {}),
    "archive metric": lambda kr: (f"/w/acme/metrics/{kr.metric_id}/archive/", {}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
class TestWhoMay:
    def test_a_viewer_gets_403_and_nothing_changes(
        self, workspace: Workspace, viewer: Membership, action: str
    ) -> None:
        key_result = key_result_half_way(workspace)
        url, data = ACTIONS[action](key_result)
        before = snapshot()
        client = client_for(viewer)

        assert client.get(url).status_code == 403
        assert client.post(url, data).status_code == 403
        assert snapshot() == before

    def test_an_outsider_gets_404_and_nothing_changes(
        self, workspace: Workspace, outsider: Membership, action: str
    ) -> None:
        key_result = key_result_half_way(workspace)
        url, data = ACTIONS[action](key_result)
        before = snapshot()
        client = client_for(outsider)

        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
        assert snapshot() == before

    def test_an_editor_with_an_id_of_another_workspace_gets_404(
        self,
        workspace: Workspace,
        other_workspace: Workspace,
        editor: Membership,
        action: str,
    ) -> None:
        foreign = key_result_half_way(other_workspace)
        url, data = ACTIONS[action](foreign)
        before = snapshot()
        client = client_for(editor)

        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
        assert snapshot() == before

    def test_a_post_without_the_csrf_token_is_refused(
        self, workspace: Workspace, editor: Membership, action: str
    ) -> None:
        key_result = key_result_half_way(workspace)
        url, data = ACTIONS[action](key_result)
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor.user)
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="csrfmiddlewaretoken"' in page.content.decode()
        assert_no_inline_script(page.content.decode())
        before = snapshot()

        assert client.post(url, data).status_code == 403
        assert snapshot() == before


def test_a_viewer_sees_no_edit_archive_or_delete_buttons(
    workspace: Workspace, viewer: Membership
) -> None:
    key_result = key_result_half_way(workspace)
    client = client_for(viewer)

    for url in ("/w/acme/strategy/", f"/w/acme/metrics/{key_result.metric_id}/"):
        html = client.get(url).content.decode()
        assert "/archive/" not in html
        assert "/delete/" not in html
        assert "/edit/" not in html


# --- the pages stay within their query budgets with the new controls -----------------------


@pytest.mark.parametrize("size", [3, 30])
def test_the_strategy_page_with_archived_objectives_reads_a_fixed_number_of_queries(
    workspace: Workspace, editor: Membership, size: int, django_assert_max_num_queries: Any
) -> None:
    parent = None
    for i in range(size):
        objective = ObjectiveFactory.create(
            workspace=workspace,
            parent=parent if i % 3 else None,
            status="archived" if i % 2 else "active",
        )
        parent = objective
        key_result_half_way(workspace, objective=objective)
    client = client_for(editor)

    with django_assert_max_num_queries(STRATEGY_PAGE_QUERIES):
        response = client.get("/w/acme/strategy/?archived=1")

    assert response.status_code == 200
    assert response.content.decode().count("objective--archived") == size // 2


@pytest.mark.parametrize("size", [3, 30])
def test_the_dictionary_with_archived_metrics_reads_a_fixed_number_of_queries(
    workspace: Workspace, editor: Membership, size: int, django_assert_max_num_queries: Any
) -> None:
    for i in range(size):
        MetricFactory.create(
            workspace=workspace, archived_at="2026-01-01T00:00Z" if i % 2 else None
        )
    client = client_for(editor)

    with django_assert_max_num_queries(METRIC_LIST_QUERIES):
        response = client.get("/w/acme/metrics/?archived=1")

    assert response.content.decode().count('data-archived="1"') == size // 2


def test_the_page_of_an_archived_metric_reads_a_fixed_number_of_queries(
    workspace: Workspace, editor: Membership, django_assert_max_num_queries: Any
) -> None:
    key_result = key_result_half_way(workspace)
    Metric.objects.filter(pk=key_result.metric_id).update(archived_at="2026-01-01T00:00Z")
    client = client_for(editor)

    with django_assert_max_num_queries(METRIC_PAGE_QUERIES):
        response = client.get(f"/w/acme/metrics/{key_result.metric_id}/")

    assert "This metric is archived" in text_of(response)
