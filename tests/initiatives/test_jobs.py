"""The periodic jobs: initiatives measured when their window ends, with one e-mail to the
owner, and "Time to revisit" reminders, each exactly once, also with two workers at once
and through a real Celery worker."""

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from smtplib import SMTPException
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts.models import Membership, User, Workspace
from initiatives import jobs
from initiatives.jobs import JobFailed, decisions_remind_due, initiatives_measure_due
from initiatives.models import Decision, Idea, Initiative
from initiatives.services import (
    decision_record,
    idea_decline,
    idea_submit,
    idea_vote,
    initiative_transition,
)
from pm_value.celery import app as celery_app
from strategy.models import Metric
from strategy.services import workspace_today
from tests.accounts.factories import MembershipFactory, WorkspaceFactory
from tests.concurrency import at_once
from tests.initiatives.factories import ExpectedImpactFactory, InitiativeFactory
from tests.strategy.factories import MetricFactory, measure

WINDOW = 90
Capture = Callable[..., Any]  # django_capture_on_commit_callbacks


def html_of(message: Any) -> str:
    assert isinstance(message, EmailMultiAlternatives)
    (content, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return str(content)


def released(
    workspace: Workspace,
    *,
    owner: User | None,
    window_ends_in_days: int,
    title: str = "Churn-risk alerts",
    window: int = WINDOW,
) -> Initiative:
    """A released initiative whose window ends `window_ends_in_days` from the workspace's
    today (negative: it ended that many days ago)."""
    ends = workspace_today(workspace) + timedelta(days=window_ends_in_days)
    return InitiativeFactory.create(
        workspace=workspace,
        title=title,
        owner=owner,
        status="released",
        released_on=ends - timedelta(days=window),
        measurement_window_days=window,
    )


def mrr(workspace: Workspace) -> Metric:
    return MetricFactory.create(
        workspace=workspace,
        key="mrr",
        name="Monthly recurring revenue",
        unit="EUR",
        aggregation="last",
        direction="increase",
        value_per_unit=Decimal("12"),
    )


def with_realized_figures(initiative: Initiative, metric: Metric) -> None:
    """MRR 100 at the release, 150 at the window's end: a realized change of +50 EUR
    (600 EUR at 12 per unit) against +40 expected (480 EUR): 125%."""
    assert initiative.released_on is not None
    ends = initiative.released_on + timedelta(days=initiative.measurement_window_days)
    measure(
        metric,
        {
            initiative.released_on - timedelta(days=10): "90",
            initiative.released_on: "100",
            ends: "150",
        },
    )
    ExpectedImpactFactory.create(
        initiative=initiative, metric=metric, expected_change=Decimal("40"), attribution=100
    )


def run_measure(capture: Capture) -> int:
    with capture(execute=True):
        return initiatives_measure_due()


def run_remind(capture: Capture, today: date | None = None) -> int:
    with capture(execute=True):
        return decisions_remind_due(today=today)


# --- measuring ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestMeasureDue:
    def test_a_window_that_ended_yesterday_is_measured_and_the_owner_gets_the_figures(
        self,
        workspace: Workspace,
        editor: Membership,
        django_capture_on_commit_callbacks: Capture,
        settings: Any,
    ) -> None:
        # Given an initiative whose 90-day window ended yesterday, with a realized impact,
        # in an app people reach at pm.example.com
        settings.SITE_URL = "https://pm.example.com/"
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)
        with_realized_figures(initiative, mrr(workspace))
        ends = workspace_today(workspace) - timedelta(days=1)

        # When the hourly job runs
        moved = run_measure(django_capture_on_commit_callbacks)

        # Then it is measured, by the system, with the window in the rationale
        assert moved == 1
        initiative.refresh_from_db()
        assert initiative.status == "measured"
        decision = Decision.objects.get(initiative=initiative)
        assert (decision.kind, decision.from_status, decision.to_status) == (
            "progress",
            "released",
            "measured",
        )
        assert decision.decided_by is None
        assert decision.rationale == f"The 90-day measurement window ended on {ends.isoformat()}."
        # and its owner, and only the owner, gets one e-mail with expected vs realized
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [editor.user.email]
        assert (
            message.subject == "Measured: “Churn-risk alerts” realized 600 EUR of 480 EUR expected"
        )
        body = message.body
        assert f"Hello {editor.user.display_name}," in body
        assert (
            f"The 90-day measurement window of “Churn-risk alerts” ended on "
            f"{ends.day} {ends:%B %Y}" in body
        )
        assert "Expected value: 480 EUR" in body
        assert "Realized value: 600 EUR" in body
        assert "Realization:    125% of what was expected" in body
        assert (
            "- Monthly recurring revenue: expected +40 EUR (480 EUR), "
            "realized +50 EUR (600 EUR), 125% of expected" in body
        )
        # with a link that works from a mail client: the full address of the initiative
        link = f"https://pm.example.com/w/acme/initiatives/{initiative.pk}/"
        assert f"See the initiative: {link}\n" in body
        html = html_of(message)
        assert f'<a href="{link}">See the initiative</a>' in html
        assert "600 EUR" in html
        assert "480 EUR" in html
        assert "125%" in html

    def test_markup_in_a_title_is_shown_as_text_in_the_mail(
        self,
        workspace: Workspace,
        editor: Membership,
        django_capture_on_commit_callbacks: Capture,
    ) -> None:
        # Given an initiative whose title holds markup
        title = "<script>alert(1)</script> & <b>bold</b> checkout"
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1, title=title)
        with_realized_figures(initiative, mrr(workspace))

        # When it is measured and its owner mailed
        assert run_measure(django_capture_on_commit_callbacks) == 1

        # Then the HTML of the mail shows the title as text, and runs nothing
        html = html_of(mail.outbox[0])
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; checkout"
        assert escaped in html
        assert "<script>" not in html
        assert "<b>bold</b>" not in html

    def test_a_window_that_ends_today_is_due_today(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        initiative = released(workspace, owner=editor.user, window_ends_in_days=0)

        assert run_measure(django_capture_on_commit_callbacks) == 1

        assert Initiative.objects.get(pk=initiative.pk).status == "measured"
        assert len(mail.outbox) == 1

    def test_a_window_that_ends_tomorrow_is_left_alone(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        initiative = released(workspace, owner=editor.user, window_ends_in_days=1)

        assert run_measure(django_capture_on_commit_callbacks) == 0

        assert Initiative.objects.get(pk=initiative.pk).status == "released"
        assert not Decision.objects.exists()
        assert mail.outbox == []

    def test_running_twice_measures_and_notifies_once(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)

        first = run_measure(django_capture_on_commit_callbacks)
        second = run_measure(django_capture_on_commit_callbacks)

        assert (first, second) == (1, 0)
        assert Decision.objects.filter(initiative=initiative).count() == 1
        assert len(mail.outbox) == 1

    def test_a_run_that_finds_its_initiative_measured_by_another_skips_it_quietly(
        self,
        workspace: Workspace,
        editor: Membership,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        django_capture_on_commit_callbacks: Capture,
    ) -> None:
        # Given a run that selected the initiative, and another run that measured it first
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)
        selected_before = jobs._due_for_measurement(None)
        assert run_measure(django_capture_on_commit_callbacks) == 1
        monkeypatch.setattr(jobs, "_due_for_measurement", lambda today: selected_before)

        # When the slower run reaches it
        with caplog.at_level(logging.DEBUG, logger="initiatives.jobs"):
            moved = run_measure(django_capture_on_commit_callbacks)

        # Then it is refused under the lock and skipped: no error, no second decision or mail
        assert moved == 0
        assert caplog.records == []
        assert Decision.objects.filter(initiative=initiative).count() == 1
        assert len(mail.outbox) == 1

    def test_an_initiative_without_owner_is_measured_and_nobody_is_mailed(
        self, workspace: Workspace, django_capture_on_commit_callbacks: Capture
    ) -> None:
        initiative = released(workspace, owner=None, window_ends_in_days=-3)

        assert run_measure(django_capture_on_commit_callbacks) == 1

        assert Initiative.objects.get(pk=initiative.pk).status == "measured"
        assert Decision.objects.filter(initiative=initiative, to_status="measured").count() == 1
        assert mail.outbox == []

    def test_without_money_or_data_the_mail_says_so_in_words(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        # Given an impact on a metric without a value per unit and without any measurement
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)
        metric = MetricFactory.create(
            workspace=workspace, name="Weekly active teams", unit="teams", value_per_unit=None
        )
        ExpectedImpactFactory.create(
            initiative=initiative, metric=metric, expected_change=Decimal("25")
        )

        run_measure(django_capture_on_commit_callbacks)

        (message,) = mail.outbox
        assert message.subject == "Measured: “Churn-risk alerts”"
        assert "None of its metrics puts a value in money on it." in message.body
        assert (
            "- Weekly active teams: expected +25 teams, realized not known: a measurement "
            "before or after the release is missing" in message.body
        )

    def test_the_mail_leaves_only_after_the_commit(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)

        with django_capture_on_commit_callbacks() as callbacks:
            initiatives_measure_due()
            # the status is changed in the transaction, the e-mail waits for its commit
            assert Initiative.objects.get(pk=initiative.pk).status == "measured"
            assert mail.outbox == []
        assert len(callbacks) == 1
        callbacks[0]()
        assert len(mail.outbox) == 1

    def test_each_workspace_is_measured_on_its_own_today(
        self, django_capture_on_commit_callbacks: Capture
    ) -> None:
        # Kiritimati (UTC+14) is always at least a day ahead of Pago Pago (UTC−11).
        ahead = WorkspaceFactory.create(slug="ahead", timezone="Pacific/Kiritimati")
        behind = WorkspaceFactory.create(slug="behind", timezone="Pacific/Pago_Pago")
        ends = workspace_today(ahead)  # today in Kiritimati, still the future in Pago Pago
        assert workspace_today(behind) < ends
        first = InitiativeFactory.create(
            workspace=ahead, status="released", released_on=ends - timedelta(days=WINDOW)
        )
        second = InitiativeFactory.create(
            workspace=behind, status="released", released_on=ends - timedelta(days=WINDOW)
        )

        assert run_measure(django_capture_on_commit_callbacks) == 1

        assert Initiative.objects.get(pk=first.pk).status == "measured"
        assert Initiative.objects.get(pk=second.pk).status == "released"

    def test_one_initiative_failing_does_not_stop_the_others_and_is_not_hidden(
        self,
        workspace: Workspace,
        editor: Membership,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        django_capture_on_commit_callbacks: Capture,
    ) -> None:
        # Given three due initiatives, the second of which breaks on the way
        due = [
            released(workspace, owner=editor.user, window_ends_in_days=-days, title=f"I{days}")
            for days in (3, 2, 1)
        ]
        broken = due[1]
        real_transition = jobs.initiative_transition

        def transition(*, initiative: Initiative, **kwargs: Any) -> Initiative:
            if initiative.pk == broken.pk:
                raise RuntimeError("disk full")
            return real_transition(initiative=initiative, **kwargs)

        monkeypatch.setattr(jobs, "initiative_transition", transition)

        # When the job runs, it measures the others and then fails, naming the broken one
        with (
            caplog.at_level(logging.ERROR, logger="initiatives.jobs"),
            pytest.raises(JobFailed, match=rf"1 failed \(initiative {broken.pk}\), 2 done"),
        ):
            run_measure(django_capture_on_commit_callbacks)

        statuses = {i.title: Initiative.objects.get(pk=i.pk).status for i in due}
        assert statuses == {"I3": "measured", "I2": "released", "I1": "measured"}
        assert len(mail.outbox) == 2
        assert not Decision.objects.filter(initiative=broken).exists()
        (record,) = caplog.records
        assert record.getMessage() == f"initiatives_measure_due: initiative {broken.pk} failed"
        assert record.exc_info is not None
        assert "disk full" in str(record.exc_info[1])

    def test_a_run_with_nothing_due_costs_two_queries_whatever_the_workspaces(
        self, django_assert_num_queries: Callable[..., Any]
    ) -> None:
        # Given twelve workspaces in five time zones, each with work still measuring
        zones = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Kolkata"]
        for n in range(12):
            ws = WorkspaceFactory.create(slug=f"ws-{n}", timezone=zones[n % len(zones)])
            released(ws, owner=None, window_ends_in_days=5)
            released(ws, owner=None, window_ends_in_days=40, window=60)

        # Then the run reads the (time zone, window) pairs and runs one filtered query
        with django_assert_num_queries(2):
            assert initiatives_measure_due() == 0


@pytest.mark.django_db
def test_the_tasks_run_the_jobs(
    workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
) -> None:
    from initiatives.tasks import measure_due, remind_revisits

    initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)

    with django_capture_on_commit_callbacks(execute=True):
        result = measure_due.apply()
    assert result.get() == 1
    assert Initiative.objects.get(pk=initiative.pk).status == "measured"
    assert len(mail.outbox) == 1
    assert remind_revisits.apply().get() == 0


def test_beat_runs_both_jobs_every_hour() -> None:
    import initiatives.tasks  # noqa: F401 - registers the tasks, as the worker's autodiscovery does

    schedule = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if str(entry["task"]).startswith("initiatives.")
    }
    tasks = {entry["task"] for entry in schedule.values()}
    assert tasks == {"initiatives.tasks.measure_due", "initiatives.tasks.remind_revisits"}
    assert tasks <= set(celery_app.tasks)
    for entry in schedule.values():
        # every hour, at one fixed minute
        assert entry["schedule"].hour == set(range(24))  # type: ignore[attr-defined]
        assert len(entry["schedule"].minute) == 1  # type: ignore[attr-defined]
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_beat_runs_every_periodic_task_that_exists() -> None:
    import initiatives.tasks  # noqa: F401
    import reports.tasks  # noqa: F401
    import webhooks.tasks  # noqa: F401

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "initiatives.tasks.measure_due",
        "initiatives.tasks.remind_revisits",
        "reports.tasks.schedule_due",
        "webhooks.tasks.deliver_due",
    }
    assert tasks <= set(celery_app.tasks)


# --- reminders ----------------------------------------------------------------------------------

WHY_NOT = "Only two customers asked, and both are on the legacy plan."


def declined_with_revisit(
    workspace: Workspace, owner: User | None, decided_by: User, days: int = 30
) -> Decision:
    initiative = InitiativeFactory.create(workspace=workspace, title="EU data residency")
    if owner is not None:
        Initiative.objects.filter(pk=initiative.pk).update(owner=owner)
    initiative_transition(
        initiative=initiative,
        to="declined",
        rationale=WHY_NOT,
        by=decided_by,
        revisit_on=workspace_today(workspace) + timedelta(days=days),
    )
    return Decision.objects.get(initiative=initiative)


@pytest.mark.django_db
class TestRemindDue:
    def test_a_due_decline_reminds_the_owner_once(
        self,
        workspace: Workspace,
        editor: Membership,
        admin: Membership,
        django_capture_on_commit_callbacks: Capture,
        settings: Any,
    ) -> None:
        # Given a decline by the admin of an initiative the editor owns, to revisit in 30 days
        settings.SITE_URL = "https://pm.example.com"
        decision = declined_with_revisit(workspace, editor.user, admin.user)
        revisit_day = decision.revisit_on
        assert revisit_day is not None

        # When the job runs on the revisit day
        sent = run_remind(django_capture_on_commit_callbacks, today=revisit_day)

        # Then the owner gets "Time to revisit" with the rationale and the Not doing page
        assert sent == 1
        (message,) = mail.outbox
        assert message.to == [editor.user.email]
        assert message.subject == "Time to revisit: EU data residency"
        decided_on = workspace_today(workspace)
        assert (
            f"On {decided_on.day} {decided_on:%B %Y}, {admin.user.display_name} declined "
            f"“EU data residency” and asked to look at it again on "
            f"{revisit_day.day} {revisit_day:%B %Y}." in message.body
        )
        assert f"The rationale then:\n{WHY_NOT}" in message.body
        assert "The Not doing page: https://pm.example.com/w/acme/not-doing/\n" in message.body
        assert '<a href="https://pm.example.com/w/acme/not-doing/">' in html_of(message)
        decision.refresh_from_db()
        assert decision.revisit_reminded_on == revisit_day

        # and a second run, on that day or later, sends nothing
        assert run_remind(django_capture_on_commit_callbacks, today=revisit_day) == 0
        later = revisit_day + timedelta(days=3)
        assert run_remind(django_capture_on_commit_callbacks, today=later) == 0
        assert len(mail.outbox) == 1
        decision.refresh_from_db()
        assert decision.revisit_reminded_on == revisit_day

    def test_a_revisit_not_yet_due_sends_nothing(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        decision = declined_with_revisit(workspace, editor.user, editor.user)
        assert decision.revisit_on is not None

        # with the workspace's own today, and with the day before the revisit date
        assert run_remind(django_capture_on_commit_callbacks) == 0
        day_before = decision.revisit_on - timedelta(days=1)
        assert run_remind(django_capture_on_commit_callbacks, today=day_before) == 0

        assert mail.outbox == []
        assert Decision.objects.get(pk=decision.pk).revisit_reminded_on is None

    def test_without_an_owner_the_one_who_decided_is_reminded(
        self, workspace: Workspace, admin: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        decision = declined_with_revisit(workspace, None, admin.user)
        assert decision.revisit_on is not None

        run_remind(django_capture_on_commit_callbacks, today=decision.revisit_on)

        (message,) = mail.outbox
        assert message.to == [admin.user.email]

    def test_a_decision_recorded_by_hand_reminds_who_recorded_it(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        revisit_on = workspace_today(workspace) + timedelta(days=60)
        decision = decision_record(
            workspace=workspace,
            by=editor.user,
            kind="defer",
            rationale="Defer the Salesforce connector until the partner program launches.",
            revisit_on=revisit_on,
        )

        assert run_remind(django_capture_on_commit_callbacks, today=revisit_on) == 1

        (message,) = mail.outbox
        assert message.to == [editor.user.email]
        assert message.subject == (
            "Time to revisit: Defer the Salesforce connector until the partner program…"
        )
        assert f"{editor.user.display_name} deferred this" in message.body
        assert Decision.objects.get(pk=decision.pk).revisit_reminded_on == revisit_on

    def test_a_declined_idea_reminds_who_declined_it(
        self,
        workspace: Workspace,
        editor: Membership,
        viewer: Membership,
        django_capture_on_commit_callbacks: Capture,
        settings: Any,
    ) -> None:
        settings.SITE_URL = "http://127.0.0.1:8000"
        idea = idea_submit(
            workspace=workspace, by=viewer.user, title="Dark mode", source="customer"
        )
        idea_vote(idea=idea, by=viewer.user)
        idea_vote(idea=idea, by=editor.user)
        revisit_on = workspace_today(workspace) + timedelta(days=90)
        idea_decline(
            idea=idea,
            by=editor.user,
            reason="Nice to have; no account churned over it.",
            revisit_on=revisit_on,
        )

        assert run_remind(django_capture_on_commit_callbacks, today=revisit_on) == 1
        assert run_remind(django_capture_on_commit_callbacks, today=revisit_on) == 0

        (message,) = mail.outbox
        assert message.to == [editor.user.email]
        assert message.subject == "Time to revisit: Dark mode (declined idea)"
        assert "declined the idea “Dark mode” (from customer, 2 votes)" in message.body
        assert "Nice to have; no account churned over it." in message.body
        assert "The Not doing page: http://127.0.0.1:8000/w/acme/not-doing/\n" in message.body
        assert Idea.objects.get(pk=idea.pk).revisit_reminded_on == revisit_on

    def test_a_decline_already_reopened_needs_no_reminder(
        self, workspace: Workspace, editor: Membership, django_capture_on_commit_callbacks: Capture
    ) -> None:
        decision = declined_with_revisit(workspace, editor.user, editor.user)
        assert decision.initiative is not None
        assert decision.revisit_on is not None
        initiative_transition(
            initiative=decision.initiative,
            to="proposed",
            rationale="A second enterprise deal depends on it.",
            by=editor.user,
        )

        assert run_remind(django_capture_on_commit_callbacks, today=decision.revisit_on) == 0
        assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_reminder_that_could_not_be_sent_is_tried_again_by_the_next_run(
    workspace: Workspace,
    editor: Membership,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a due reminder and a mail server that refuses (outside a test transaction the
    # e-mail goes at the commit, inside the run)
    decision = declined_with_revisit(workspace, editor.user, editor.user)
    assert decision.revisit_on is not None
    real_send = EmailMultiAlternatives.send

    def refuse(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        raise SMTPException("451 try again later")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)

    # When the job runs, it fails visibly and gives the claim back
    with (
        caplog.at_level(logging.ERROR, logger="initiatives.jobs"),
        pytest.raises(JobFailed, match=rf"reminder of decision {decision.pk}"),
    ):
        decisions_remind_due(today=decision.revisit_on)
    assert Decision.objects.get(pk=decision.pk).revisit_reminded_on is None
    assert mail.outbox == []
    assert "451 try again later" in caplog.text

    # Then the next run, with the mail server back, sends it
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert decisions_remind_due(today=decision.revisit_on) == 1
    assert len(mail.outbox) == 1
    assert Decision.objects.get(pk=decision.pk).revisit_reminded_on == decision.revisit_on


# --- two workers at once ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_measure_and_notify_each_initiative_once(
    workspace: Workspace,
) -> None:
    # Given eight due initiatives, each with its own owner
    owners = [MembershipFactory.create(workspace=workspace).user for _ in range(8)]
    due = [
        released(workspace, owner=owner, window_ends_in_days=-1 - n, title=f"Initiative {n}")
        for n, owner in enumerate(owners)
    ]

    # When two workers run the job at the same moment
    results = at_once(initiatives_measure_due)

    # Then between them they moved each one once: one Decision and one e-mail each
    assert sum(results) == 8
    assert all(Initiative.objects.get(pk=i.pk).status == "measured" for i in due)
    for initiative in due:
        assert Decision.objects.filter(initiative=initiative).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_once(workspace: Workspace) -> None:
    owners = [MembershipFactory.create(workspace=workspace).user for _ in range(8)]
    decisions = [declined_with_revisit(workspace, owner, owner, days=10) for owner in owners]
    day = workspace_today(workspace) + timedelta(days=10)

    results = at_once(lambda: decisions_remind_due(today=day))

    assert sum(results) == 8
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert all(Decision.objects.get(pk=d.pk).revisit_reminded_on == day for d in decisions)


# --- a real worker ------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_measures_and_reminds_from_the_queue(
    workspace: Workspace, editor: Membership
) -> None:
    from celery.contrib.testing.worker import start_worker

    from initiatives.tasks import measure_due, remind_revisits

    # Given a due initiative and a decline whose revisit date is today (set on the row:
    # the services only take revisit dates in the future)
    initiative = released(workspace, owner=editor.user, window_ends_in_days=-1)
    decision = declined_with_revisit(workspace, editor.user, editor.user)
    today = workspace_today(workspace)
    Decision.objects.filter(pk=decision.pk).update(revisit_on=today)

    assert celery_app.conf.task_always_eager is False
    celery_app.control.purge()  # nothing left over from an earlier run
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # When both tasks go through the broker, twice (a beat tick and a redelivery)
        sent = [measure_due.delay(), remind_revisits.delay()]
        sent += [measure_due.delay(), remind_revisits.delay()]

        # Then the worker, in its own thread and database connection, did each thing once
        if celery_app.conf.result_backend:
            # one queue, one solo worker: first come, first served
            assert [result.get(timeout=30) for result in sent] == [1, 1, 0, 0]
        else:
            assert wait_for(
                lambda: (
                    Initiative.objects.filter(pk=initiative.pk, status="measured").exists()
                    and Decision.objects.filter(pk=decision.pk, revisit_reminded_on=today).exists()
                )
            )
    assert Initiative.objects.get(pk=initiative.pk).status == "measured"
    assert Decision.objects.filter(initiative=initiative, to_status="measured").count() == 1
    assert Decision.objects.get(pk=decision.pk).revisit_reminded_on == today
