"""Browser pages of strategy through Django's test client: the objective tree, the forms,
the metric dictionary and the metric page, with who may see and change what."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Membership, Workspace
from strategy.models import KeyResult, Measurement, Metric, Objective
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import (
    KeyResultFactory,
    MetricFactory,
    ObjectiveFactory,
    measure,
)

pytestmark = pytest.mark.django_db

# Session, user, membership, the workspace switcher of the header, and the page's own
# reads: none of them grows with the data.
STRATEGY_PAGE_QUERIES = 6
METRIC_LIST_QUERIES = 5
METRIC_PAGE_QUERIES = 9


def client_for(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def text_of(response: Any) -> str:
    """The page as words: tags dropped, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<script\b[^>]*>.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_no_inline_script(html: str) -> None:
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    for attrs, body in scripts:
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        if "src=" in attrs:
            assert body.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def key_result_half_way(workspace: Workspace, *, value: str = "50", **kwargs: Any) -> KeyResult:
    """A key result from 0 to 100 users, half-way through its time; the metric's latest
    value (a level) is `value`."""
    today = workspace_today(workspace)
    metric = kwargs.pop("metric", None) or MetricFactory.create(
        workspace=workspace, name="Weekly active teams", unit="users", aggregation="last"
    )
    key_result = KeyResultFactory.create(
        objective=kwargs.pop("objective", None) or ObjectiveFactory.create(workspace=workspace),
        metric=metric,
        baseline=Decimal("0"),
        target=Decimal("100"),
        start_on=today - timedelta(days=50),
        due_on=today + timedelta(days=50),
        **kwargs,
    )
    if value:
        measure(metric, {today - timedelta(days=1): value})
    return key_result


def objective_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Grow self-serve revenue",
        "description": "Teams buy without talking to sales.",
        "parent": "",
        "owner": "",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "status": "active",
    }
    return data | overrides


def metric_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Monthly recurring revenue",
        "key": "mrr",
        "description": "Sum of active subscriptions, normalised to a month.",
        "unit": "EUR",
        "category": "revenue",
        "direction": "increase",
        "aggregation": "last",
        "value_per_unit": "1",
        "owner": "",
        "source": "Stripe",
    }
    return data | overrides


# --- the strategy page ---------------------------------------------------------------------


class TestStrategyPage:
    def test_a_viewer_reads_the_vision_the_tree_and_each_key_results_figures(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        # Given a vision, a company objective and a product objective with a key result
        workspace.vision = "Every company decides with its own numbers."
        workspace.save()
        company = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        product = ObjectiveFactory.create(
            workspace=workspace, title="Activation in week one", parent=company, owner=viewer.user
        )
        key_result_half_way(workspace, objective=product, title="Teams active weekly")

        # When a viewer opens the strategy page
        response = client_for(viewer).get("/w/acme/strategy/")

        # Then they see the vision, both objectives (the product one indented under the
        # company one) and the key result at 50 %, on track, 50 of 100 users
        assert response.status_code == 200
        text = text_of(response)
        assert "Every company decides with its own numbers." in text
        assert text.index("Win the mid-market") < text.index("Activation in week one")
        html = response.content.decode()
        assert f'id="objective-{product.pk}" data-depth="1"' in html
        assert "Teams active weekly" in text
        assert "50%" in text
        assert "On track" in text
        assert "Now 50 users" in text
        assert "Target 100 users" in text
        assert "Expected by today 50%" in text
        assert viewer.user.display_name in text
        assert "Active" in text
        # And they see no edit control
        assert "New objective" not in text
        assert "Add key result" not in text
        assert "/edit/" not in html
        assert_no_inline_script(html)

    def test_progress_beyond_the_target_shows_its_real_number_on_a_full_bar(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        key_result_half_way(workspace, value="112")

        response = client_for(viewer).get("/w/acme/strategy/")

        text = text_of(response)
        assert "112%" in text
        assert "Achieved" in text
        assert 'data-testid="kr-bar"' in response.content.decode()
        assert re.search(r'width="100" data-testid="kr-bar"', response.content.decode())

    @pytest.mark.parametrize(
        ("value", "percent", "pace"),
        [("40", "40%", "At risk"), ("10", "10%", "Off track"), ("-20", "-20%", "Off track")],
    )
    def test_the_pace_is_a_word(
        self, workspace: Workspace, viewer: Membership, value: str, percent: str, pace: str
    ) -> None:
        key_result_half_way(workspace, value=value)

        text = text_of(client_for(viewer).get("/w/acme/strategy/"))

        assert percent in text
        assert pace in text

    def test_a_key_result_without_data_says_so(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        key_result_half_way(workspace, value="")

        text = text_of(client_for(viewer).get("/w/acme/strategy/"))

        assert "No data yet" in text
        assert "Now — " in text

    def test_an_empty_strategy_invites_an_editor_to_add_the_first_objective(
        self, workspace: Workspace, editor: Membership, viewer: Membership
    ) -> None:
        text = text_of(client_for(editor).get("/w/acme/strategy/"))
        assert "No objectives yet — add the first one" in text
        assert "Add the first objective" in text

        text = text_of(client_for(viewer).get("/w/acme/strategy/"))
        assert "No objectives yet — add the first one" in text
        assert "Add the first objective" not in text

    def test_an_editor_sees_the_edit_controls(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)

        response = client_for(editor).get("/w/acme/strategy/")

        html = response.content.decode()
        assert "New objective" in html
        assert f"/w/acme/strategy/objectives/{objective.pk}/edit/" in html
        assert f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/" in html

    def test_an_outsider_gets_404_and_a_visitor_the_login(
        self, workspace: Workspace, outsider: Membership, client: Client
    ) -> None:
        ObjectiveFactory.create(workspace=workspace)
        assert client_for(outsider).get("/w/acme/strategy/").status_code == 404
        assert client_for(outsider).get("/w/acme/metrics/").status_code == 404
        response = client.get("/w/acme/strategy/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_page_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        # Given a tree of `size` objectives, each with a key result on its own metric
        today = workspace_today(workspace)
        parent = None
        for i in range(size):
            objective = ObjectiveFactory.create(
                workspace=workspace, parent=parent if i % 3 else None, owner=viewer.user
            )
            parent = objective
            key_result = key_result_half_way(workspace, objective=objective)
            measure(key_result.metric, {today - timedelta(days=10): "20"})
        client = client_for(viewer)

        with django_assert_max_num_queries(STRATEGY_PAGE_QUERIES):
            response = client.get("/w/acme/strategy/")

        assert response.status_code == 200
        assert text_of(response).count("On track") == size + 1  # + the summary


# --- objective and key-result forms ----------------------------------------------------------


class TestObjectiveForm:
    def test_an_editor_creates_an_objective(self, workspace: Workspace, editor: Membership) -> None:
        parent = ObjectiveFactory.create(workspace=workspace, title="Win the mid-market")
        client = client_for(editor)
        assert client.get("/w/acme/strategy/objectives/new/").status_code == 200

        response = client.post(
            "/w/acme/strategy/objectives/new/",
            objective_post(parent=str(parent.pk), owner=str(editor.user_id)),
            follow=True,
        )

        objective = Objective.objects.get(title="Grow self-serve revenue")
        assert objective.parent == parent
        assert objective.owner == editor.user
        assert objective.period_end == date(2026, 6, 30)
        assert objective.status == "active"
        assert response.redirect_chain[-1][0] == f"/w/acme/strategy/#objective-{objective.pk}"
        assert "Objective “Grow self-serve revenue” created." in text_of(response)

    def test_an_editor_edits_an_objective(self, workspace: Workspace, editor: Membership) -> None:
        objective = ObjectiveFactory.create(workspace=workspace, title="Old title")
        client = client_for(editor)
        form = client.get(f"/w/acme/strategy/objectives/{objective.pk}/edit/")
        assert 'value="Old title"' in form.content.decode()

        response = client.post(
            f"/w/acme/strategy/objectives/{objective.pk}/edit/",
            objective_post(title="New title", status="achieved"),
        )

        assert response.status_code == 302
        objective.refresh_from_db()
        assert (objective.title, objective.status) == ("New title", "achieved")

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"title": ""}, "title", "This field is required."),
            (
                {"period_start": "2026-06-30", "period_end": "2026-01-01"},
                "period_end",
                "The period must end on or after the day it starts.",
            ),
            ({"period_start": "30/06/2026"}, "period_start", "Enter a valid date."),
            ({"status": "done"}, "status", "Select a valid choice."),
        ],
    )
    def test_bad_input_is_refused_in_words_and_writes_nothing(
        self,
        workspace: Workspace,
        editor: Membership,
        overrides: dict[str, str],
        field: str,
        message: str,
    ) -> None:
        response = client_for(editor).post(
            "/w/acme/strategy/objectives/new/", objective_post(**overrides)
        )

        assert response.status_code == 200
        assert message in text_of(response)
        assert response.context["form"].errors[field]
        assert not Objective.objects.exists()

    def test_an_objective_cannot_move_under_its_own_sub_objective(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        # Given company > product > team objectives
        company = ObjectiveFactory.create(workspace=workspace, title="Company")
        product = ObjectiveFactory.create(workspace=workspace, title="Product", parent=company)
        team = ObjectiveFactory.create(workspace=workspace, title="Team", parent=product)
        sibling = ObjectiveFactory.create(workspace=workspace, title="Sibling")
        client = client_for(editor)

        # The edit form of "company" offers neither itself nor its descendants as a parent
        form = client.get(f"/w/acme/strategy/objectives/{company.pk}/edit/").context["form"]
        offered = {value for value, _ in form.fields["parent"].choices}
        assert offered == {"", str(sibling.pk)}

        # And posting one by hand is a form error that changes nothing
        response = client.post(
            f"/w/acme/strategy/objectives/{company.pk}/edit/",
            objective_post(title="Company", parent=str(team.pk)),
        )
        assert response.status_code == 200
        assert "Select a valid choice." in text_of(response)
        company.refresh_from_db()
        assert company.parent is None

    def test_ids_of_another_workspace_are_refused(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = ObjectiveFactory.create(workspace=other_workspace)
        stranger = MembershipFactory.create(workspace=other_workspace)
        client = client_for(editor)

        response = client.post(
            "/w/acme/strategy/objectives/new/", objective_post(parent=str(foreign.pk))
        )
        assert response.status_code == 200
        assert "Select a valid choice." in text_of(response)

        response = client.post(
            "/w/acme/strategy/objectives/new/", objective_post(owner=str(stranger.user_id))
        )
        assert response.status_code == 200
        assert "Select a valid choice." in text_of(response)
        assert not Objective.objects.filter(workspace=workspace).exists()

        assert client.get(f"/w/acme/strategy/objectives/{foreign.pk}/edit/").status_code == 404
        response = client.post(
            f"/w/acme/strategy/objectives/{foreign.pk}/edit/", objective_post(title="Mine")
        )
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.title != "Mine"

    def test_a_viewer_may_not_create_or_edit(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace, title="Untouched")
        client = client_for(viewer)

        assert client.get("/w/acme/strategy/objectives/new/").status_code == 403
        assert client.post("/w/acme/strategy/objectives/new/", objective_post()).status_code == 403
        url = f"/w/acme/strategy/objectives/{objective.pk}/edit/"
        assert client.post(url, objective_post(title="Changed")).status_code == 403

        assert list(Objective.objects.values_list("title", flat=True)) == ["Untouched"]

    def test_every_form_carries_a_csrf_token(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor.user)
        page = client.get("/w/acme/strategy/objectives/new/").content.decode()
        assert 'name="csrfmiddlewaretoken"' in page

        response = client.post("/w/acme/strategy/objectives/new/", objective_post())

        assert response.status_code == 403
        assert not Objective.objects.exists()


class TestKeyResultForm:
    def kr_post(self, for_metric: Metric, **overrides: Any) -> dict[str, Any]:
        data = {
            "metric": str(for_metric.pk),
            "title": "",
            "baseline": "1000",
            "target": "1500",
            "start_on": "2026-01-01",
            "due_on": "2026-06-30",
        }
        return data | overrides

    def test_an_editor_adds_a_key_result_to_an_objective(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        metric = MetricFactory.create(workspace=workspace, name="Sign-ups")
        url = f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/"
        client = client_for(editor)
        form = client.get(url)
        assert "Sign-ups" in text_of(form)

        response = client.post(url, self.kr_post(metric))

        assert response.status_code == 302
        key_result = KeyResult.objects.get()
        assert key_result.objective == objective
        assert key_result.metric == metric
        assert key_result.workspace == workspace
        assert (key_result.baseline, key_result.target) == (Decimal("1000"), Decimal("1500"))

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"target": "1000"}, "The target must differ from the baseline."),
            ({"due_on": "2025-12-31"}, "The due date must come after the start date."),
            ({"baseline": "many"}, "Enter a number."),
            ({"metric": ""}, "This field is required."),
        ],
    )
    def test_bad_input_is_refused_in_words(
        self,
        workspace: Workspace,
        editor: Membership,
        overrides: dict[str, str],
        message: str,
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        metric = MetricFactory.create(workspace=workspace)

        response = client_for(editor).post(
            f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/",
            self.kr_post(metric, **overrides),
        )

        assert response.status_code == 200
        assert message in text_of(response)
        assert not KeyResult.objects.exists()

    def test_ids_of_another_workspace_are_refused(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        foreign_metric = MetricFactory.create(workspace=other_workspace)
        foreign_objective = ObjectiveFactory.create(workspace=other_workspace)
        metric = MetricFactory.create(workspace=workspace)
        client = client_for(editor)

        response = client.post(
            f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/",
            self.kr_post(foreign_metric),
        )
        assert response.status_code == 200
        assert "Select a valid choice." in text_of(response)

        response = client.post(
            f"/w/acme/strategy/objectives/{foreign_objective.pk}/key-results/new/",
            self.kr_post(metric),
        )
        assert response.status_code == 404
        assert not KeyResult.objects.exists()

    def test_a_viewer_may_not_add_one(self, workspace: Workspace, viewer: Membership) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)
        metric = MetricFactory.create(workspace=workspace)

        response = client_for(viewer).post(
            f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/", self.kr_post(metric)
        )

        assert response.status_code == 403
        assert not KeyResult.objects.exists()

    def test_without_metrics_the_form_says_to_define_one_first(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        objective = ObjectiveFactory.create(workspace=workspace)

        response = client_for(editor).get(
            f"/w/acme/strategy/objectives/{objective.pk}/key-results/new/"
        )

        assert "No metrics yet" in text_of(response)
        assert "Define a metric" in text_of(response)


# --- the metric dictionary and the metric form ----------------------------------------------


class TestMetricDictionary:
    def test_a_viewer_reads_every_metric_in_words(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        metric = MetricFactory.create(
            workspace=workspace,
            name="Trial sign-ups",
            key="signups",
            description="New trial accounts per day.",
            unit="users",
            category="acquisition",
            direction="increase",
            aggregation="sum",
            value_per_unit=Decimal("12.5"),
            owner=viewer.user,
            source="Product database",
        )
        MetricFactory.create(
            workspace=workspace, name="Cost to serve", direction="decrease", value_per_unit=None
        )
        measure(metric, {date(2026, 3, 1): "41", date(2026, 3, 2): "1234.5"})

        response = client_for(viewer).get("/w/acme/metrics/")

        assert response.status_code == 200
        text = text_of(response)
        for words in (
            "Trial sign-ups",
            "signups",
            "New trial accounts per day.",
            "Acquisition",
            "Higher is better",
            "Lower is better",
            "Sum",
            "12.5 EUR per users",
            viewer.user.display_name,
            "Product database",
            "1,234.5 users",
            "2 Mar 2026",
            "No data yet",
        ):
            assert words in text, words
        assert "New metric" not in text
        assert_no_inline_script(response.content.decode())

    def test_an_empty_dictionary_invites_an_editor(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        text = text_of(client_for(editor).get("/w/acme/metrics/"))
        assert "No metrics yet — define the first one" in text
        assert "Define the first metric" in text

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_dictionary_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        for _ in range(size):
            metric = MetricFactory.create(workspace=workspace, owner=viewer.user)
            measure(metric, {date(2026, 3, 1): "1", date(2026, 3, 2): "2"})
        client = client_for(viewer)

        with django_assert_max_num_queries(METRIC_LIST_QUERIES):
            response = client.get("/w/acme/metrics/")

        assert text_of(response).count("Higher is better") == size


class TestMetricForm:
    def test_an_editor_creates_and_edits_a_metric(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        client = client_for(editor)
        assert "Value per unit (EUR)" in text_of(client.get("/w/acme/metrics/new/"))

        response = client.post("/w/acme/metrics/new/", metric_post(owner=str(editor.user_id)))

        metric = Metric.objects.get(key="mrr")
        assert response["Location"] == f"/w/acme/metrics/{metric.pk}/"
        assert metric.owner == editor.user
        assert metric.value_per_unit == Decimal("1")

        response = client.post(
            f"/w/acme/metrics/{metric.pk}/edit/",
            metric_post(name="MRR", direction="decrease", value_per_unit=""),
        )
        assert response.status_code == 302
        metric.refresh_from_db()
        assert (metric.name, metric.direction, metric.value_per_unit) == ("MRR", "decrease", None)

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"key": "mrr"}, "Another metric of this workspace already uses the key “mrr”."),
            ({"key": "not a slug"}, "Enter a valid “slug”"),
            ({"value_per_unit": "-1"}, "Ensure this value is greater than or equal to 0."),
            ({"unit": ""}, "This field is required."),
            ({"direction": "up"}, "Select a valid choice."),
        ],
    )
    def test_bad_input_is_refused_in_words(
        self,
        workspace: Workspace,
        editor: Membership,
        overrides: dict[str, str],
        message: str,
    ) -> None:
        MetricFactory.create(workspace=workspace, key="mrr", name="Existing")

        response = client_for(editor).post("/w/acme/metrics/new/", metric_post(**overrides))

        assert response.status_code == 200
        assert message in text_of(response)
        assert Metric.objects.count() == 1

    def test_a_key_of_another_workspace_is_free_here(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        MetricFactory.create(workspace=other_workspace, key="mrr")

        response = client_for(editor).post("/w/acme/metrics/new/", metric_post())

        assert response.status_code == 302
        assert Metric.objects.filter(workspace=workspace, key="mrr").exists()

    def test_a_viewer_may_not_create_or_edit(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, name="Untouched")
        client = client_for(viewer)

        assert client.get("/w/acme/metrics/new/").status_code == 403
        assert client.post("/w/acme/metrics/new/", metric_post()).status_code == 403
        url = f"/w/acme/metrics/{metric.pk}/edit/"
        assert client.post(url, metric_post(name="Changed")).status_code == 403
        assert list(Metric.objects.values_list("name", flat=True)) == ["Untouched"]

    def test_a_metric_of_another_workspace_is_not_found(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = MetricFactory.create(workspace=other_workspace, name="Theirs")
        client = client_for(editor)

        assert client.get(f"/w/acme/metrics/{foreign.pk}/").status_code == 404
        assert client.get(f"/w/acme/metrics/{foreign.pk}/edit/").status_code == 404
        response = client.post(f"/w/acme/metrics/{foreign.pk}/edit/", metric_post(name="Mine"))
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.name == "Theirs"


# --- the metric page: trend, measurements and CSV import --------------------------------------


def chart_data(response: Any) -> dict[str, Any]:
    found = re.search(
        r'<script id="metric-chart-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        flags=re.S,
    )
    assert found, "no chart data on the page"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


class TestMetricPage:
    def test_a_viewer_reads_the_definition_trend_targets_and_latest_values(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        # Given a metric with a key result and measurements over three years
        key_result = key_result_half_way(workspace, value="")
        metric = key_result.metric
        metric.description = "Teams with at least one active user in the week."
        metric.save()
        today = workspace_today(workspace)
        measure(
            metric,
            {
                today - timedelta(days=1000): "5",
                today - timedelta(days=300): "30",
                today - timedelta(days=2): "48",
            },
        )

        # When a viewer opens the metric page
        response = client_for(viewer).get(f"/w/acme/metrics/{metric.pk}/")

        # Then the chart holds the last two years and the key result's target line
        assert response.status_code == 200
        data = chart_data(response)
        assert data["y"] == [30.0, 48.0]
        assert data["x"][-1] == (today - timedelta(days=2)).isoformat()
        assert [t["value"] for t in data["targets"]] == [100.0]
        assert data["targets"][0]["label"].startswith("Target 100 users by ")
        html = response.content.decode()
        assert "vendor/plotly.min.js" in html
        assert "js/charts.js" in html
        assert_no_inline_script(html)
        # And the definition, the key result's figures and the latest values in words
        text = text_of(response)
        assert "Teams with at least one active user in the week." in text
        assert "Higher is better" in text
        assert "48%" in text
        assert "48 users" in text
        # And no form to change anything
        assert 'data-testid="measurement-form"' not in html
        assert 'data-testid="csv-form"' not in html
        assert "Edit metric" not in text

    def test_the_range_comes_from_the_address(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        measure(metric, {date(2020, 1, 1): "1", date(2020, 6, 1): "2", date(2021, 1, 1): "3"})
        client = client_for(viewer)

        response = client.get(f"/w/acme/metrics/{metric.pk}/?from=2020-02-01&to=2020-12-31")
        assert chart_data(response)["y"] == [2.0]

        response = client.get(f"/w/acme/metrics/{metric.pk}/?from=2021-01-01&to=2020-01-01")
        assert response.status_code == 200
        assert "The range must end on or after the day it starts." in text_of(response)

        response = client.get(f"/w/acme/metrics/{metric.pk}/?from=yesterday")
        assert response.status_code == 200
        assert "Enter a valid date." in text_of(response)

    def test_a_metric_without_data_has_a_helpful_empty_chart(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)

        response = client_for(editor).get(f"/w/acme/metrics/{metric.pk}/")

        assert 'data-testid="chart-empty"' in response.content.decode()
        assert "upload a CSV file" in text_of(response)

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_page_reads_a_fixed_number_of_queries(
        self,
        workspace: Workspace,
        viewer: Membership,
        size: int,
        django_assert_max_num_queries: Any,
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, aggregation="last", owner=viewer.user)
        today = workspace_today(workspace)
        measure(metric, {today - timedelta(days=d): str(d) for d in range(size * 5)})
        for n in range(size):
            key_result_half_way(workspace, metric=metric, value="")
            shipped = InitiativeFactory.create(
                workspace=workspace, status="released", released_on=today - timedelta(days=n)
            )
            ExpectedImpactFactory.create(initiative=shipped, metric=metric)
        client = client_for(viewer)

        with django_assert_max_num_queries(METRIC_PAGE_QUERIES):
            response = client.get(f"/w/acme/metrics/{metric.pk}/")

        assert len(chart_data(response)["targets"]) == size
        assert len(chart_data(response)["releases"]) == size

    def test_releases_of_initiatives_that_claim_the_metric_are_marked(
        self, workspace: Workspace, viewer: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        other = MetricFactory.create(workspace=workspace)
        today = workspace_today(workspace)
        measure(metric, {today - timedelta(days=d): "10" for d in range(60)})
        shipped = InitiativeFactory.create(
            workspace=workspace,
            title="Guided onboarding",
            status="released",
            released_on=today - timedelta(days=30),
        )
        ExpectedImpactFactory.create(initiative=shipped, metric=metric)
        elsewhere = InitiativeFactory.create(
            workspace=workspace, status="released", released_on=today - timedelta(days=20)
        )
        ExpectedImpactFactory.create(initiative=elsewhere, metric=other)
        ExpectedImpactFactory.create(
            initiative=InitiativeFactory.create(workspace=workspace, title="Not shipped"),
            metric=metric,
        )

        response = client_for(viewer).get(f"/w/acme/metrics/{metric.pk}/")

        day = today - timedelta(days=30)
        assert chart_data(response)["releases"] == [
            {
                "day": day.isoformat(),
                "label": f"Guided onboarding released {day:%-d %b %Y}",
                "url": f"/w/acme/initiatives/{shipped.pk}/",
            }
        ]
        assert "Guided onboarding" in text_of(response)
        assert "Not shipped" not in text_of(response)


class TestMeasurementEntry:
    def test_an_editor_adds_a_value_and_the_same_day_again_replaces_it(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        url = f"/w/acme/metrics/{metric.pk}/measurements/"
        client = client_for(editor)
        day = (workspace_today(workspace) - timedelta(days=1)).isoformat()

        response = client.post(
            url, {"observed_on": day, "value": "42", "source": "manual", "note": ""}, follow=True
        )
        assert "Saved 1 measurement: 1 new, 0 updated." in text_of(response)

        response = client.post(url, {"observed_on": day, "value": "43"}, follow=True)
        assert "Saved 1 measurement: 0 new, 1 updated." in text_of(response)
        assert Measurement.objects.get(metric=metric).value == Decimal("43")

    def test_a_day_in_the_future_is_refused_in_words(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)
        day = workspace_today(workspace) + timedelta(days=5)

        response = client_for(editor).post(
            f"/w/acme/metrics/{metric.pk}/measurements/",
            {"observed_on": day.isoformat(), "value": "1"},
        )

        assert response.status_code == 200
        assert f"observed_on {day.isoformat()} is more than one day in the future." in text_of(
            response
        )
        assert not Measurement.objects.exists()

    def test_a_value_that_is_not_a_number_is_a_field_error(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace)

        response = client_for(editor).post(
            f"/w/acme/metrics/{metric.pk}/measurements/",
            {"observed_on": "2026-01-01", "value": "lots"},
        )

        assert response.status_code == 200
        assert "Enter a number." in text_of(response)
        assert not Measurement.objects.exists()

    def test_a_viewer_may_not_add_values(self, workspace: Workspace, viewer: Membership) -> None:
        metric = MetricFactory.create(workspace=workspace)
        client = client_for(viewer)

        response = client.post(
            f"/w/acme/metrics/{metric.pk}/measurements/",
            {"observed_on": "2026-01-01", "value": "1"},
        )
        assert response.status_code == 403
        csv = b"metric,observed_on,value\n" + metric.key.encode() + b",2026-01-01,1\n"
        response = client.post(
            f"/w/acme/metrics/{metric.pk}/measurements/import/", {"file": upload(csv)}
        )
        assert response.status_code == 403
        assert not Measurement.objects.exists()

    def test_values_for_a_metric_of_another_workspace_are_not_found(
        self, workspace: Workspace, other_workspace: Workspace, editor: Membership
    ) -> None:
        foreign = MetricFactory.create(workspace=other_workspace)
        client = client_for(editor)

        response = client.post(
            f"/w/acme/metrics/{foreign.pk}/measurements/",
            {"observed_on": "2026-01-01", "value": "1"},
        )
        assert response.status_code == 404
        response = client.post(
            f"/w/acme/metrics/{foreign.pk}/measurements/import/",
            {"file": upload(b"metric,observed_on,value\n")},
        )
        assert response.status_code == 404
        assert not Measurement.objects.exists()


def upload(content: bytes, name: str = "values.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


class TestCsvImport:
    def test_a_file_with_one_bad_row_names_it_and_writes_nothing(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, key="signups")
        measure(metric, {date(2026, 1, 1): "7"})
        content = (
            b"metric,observed_on,value,source\n"
            b"signups,2026-01-02,10,crm\n"
            b"signups,2026-01-03,abc,crm\n"
            b"signups,2026-01-04,12,crm\n"
            b"nosuch,2026-01-04,12,crm\n"
        )

        response = client_for(editor).post(
            f"/w/acme/metrics/{metric.pk}/measurements/import/", {"file": upload(content)}
        )

        assert response.status_code == 200
        text = text_of(response)
        assert "Nothing was imported." in text
        assert "Line 3: value “abc” is not a number." in text
        assert "Line 5: there is no metric with the key “nosuch” in this workspace." in text
        assert list(Measurement.objects.values_list("value", flat=True)) == [Decimal("7")]

    def test_a_good_file_says_how_many_were_created_and_updated(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, key="signups")
        other = MetricFactory.create(workspace=workspace, key="churn")
        measure(metric, {date(2026, 1, 1): "7"})
        content = (
            "\ufeffmetric,observed_on,value,source\n"
            "signups,2026-01-01,8,crm\n"
            "signups,2026-01-02,10,crm\n"
            "churn,2026-01-02,0.5,billing\n"
        ).encode()

        response = client_for(editor).post(
            f"/w/acme/metrics/{metric.pk}/measurements/import/",
            {"file": upload(content)},
            follow=True,
        )

        assert response.redirect_chain[-1][0] == f"/w/acme/metrics/{metric.pk}/"
        assert "Imported the file. Saved 3 measurements: 2 new, 1 updated." in text_of(response)
        assert Measurement.objects.filter(metric=metric).count() == 2
        assert Measurement.objects.get(metric=other).value == Decimal("0.5")

    def test_a_latin_1_file_is_refused_with_the_utf_8_advice(
        self, workspace: Workspace, editor: Membership
    ) -> None:
        metric = MetricFactory.create(workspace=workspace, key="signups")
        content = "metric,observed_on,value,source\nsignups,2026-01-02,10,Müller\n".encode(
            "latin-1"
        )

        response = client_for(editor).post(
            f"/w/acme/metrics/{metric.pk}/measurements/import/", {"file": upload(content)}
        )

        assert response.status_code == 200
        text = text_of(response)
        assert "The file is not UTF-8 text" in text
        assert "Save it as “CSV UTF-8” and try again." in text
        assert not Measurement.objects.exists()

    def test_no_file_is_a_field_error(self, workspace: Workspace, editor: Membership) -> None:
        metric = MetricFactory.create(workspace=workspace)

        response = client_for(editor).post(f"/w/acme/metrics/{metric.pk}/measurements/import/")

        assert response.status_code == 200
        assert "This field is required." in text_of(response)
