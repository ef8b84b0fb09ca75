"""The audit trail: who did what and when (UTC), written with the change it records,
read by admins in the browser with filters, changed by nobody."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.audit import audit_record
from accounts.models import AuditAction, AuditEvent, Membership, Role, Workspace
from accounts.services import api_token_create, api_token_revoke, member_add
from initiatives.services import TransitionRefused, initiative_delete, initiative_transition
from strategy.services import objective_delete
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.conftest import token_client
from tests.initiatives.factories import InitiativeFactory
from tests.strategy.factories import ObjectiveFactory

AUDIT = "/w/acme/audit/"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
class TestWhatIsRecorded:
    def test_a_sign_in_with_its_address(self, admin: Membership) -> None:
        Client().post(
            "/accounts/login/",
            {"username": admin.user.email, "password": PASSWORD},
            REMOTE_ADDR="203.0.113.5",
        )
        (event,) = events(AuditAction.LOGIN)
        assert event.actor == admin.user
        assert event.ip == "203.0.113.5"
        assert event.workspace is None
        assert event.created_at.tzinfo is not None
        assert event.created_at.utcoffset() == timedelta(0)

    def test_failed_sign_ins_of_known_and_unknown_accounts(self, admin: Membership) -> None:
        client = Client()
        for email in (admin.user.email, "nobody@example.com"):
            client.post(
                "/accounts/login/",
                {"username": email, "password": "wrong-password-1"},
                REMOTE_ADDR="198.51.100.9",
            )
        known, unknown = events(AuditAction.LOGIN_FAILED)
        assert (known.actor, known.actor_label, known.ip) == (
            admin.user,
            admin.user.email,
            "198.51.100.9",
        )
        assert (unknown.actor, unknown.actor_label) == (None, "nobody@example.com")
        assert not events(AuditAction.LOGIN)

    def test_the_lockout(self, admin: Membership, settings: object) -> None:
        client = Client()
        for _ in range(5):
            client.post(
                "/accounts/login/",
                {"username": admin.user.email, "password": "wrong-password-1"},
                REMOTE_ADDR="198.51.100.10",
            )
        (event,) = events(AuditAction.LOCKED_OUT)
        assert event.actor == admin.user
        assert event.details == {"minutes": 15}

    def test_a_refusal_of_the_api(self, viewer: Membership) -> None:
        response = token_client(viewer).post(
            "/api/v1/workspaces/acme/teams/", {"name": "Growth"}, format="json"
        )
        assert response.status_code == 403
        (event,) = events(AuditAction.ACCESS_DENIED)
        assert event.workspace == viewer.workspace
        assert event.actor == viewer.user
        assert event.target_label == "POST /api/v1/workspaces/acme/teams/"
        assert event.details["reason"] == (
            "Your role in this workspace is viewer; this needs an editor or admin."
        )

    def test_a_refusal_of_the_browser(self, viewer: Membership) -> None:
        client = Client()
        client.force_login(viewer.user)
        response = client.get(AUDIT, REMOTE_ADDR="192.0.2.44")
        assert response.status_code == 403
        (event,) = events(AuditAction.ACCESS_DENIED)
        assert (event.workspace, event.actor, event.ip) == (
            viewer.workspace,
            viewer.user,
            "192.0.2.44",
        )
        assert event.target_label == f"GET {AUDIT}"

    def test_members_added_and_their_role_changed(self, workspace: Workspace) -> None:
        member_add(workspace=workspace, email="pm@example.com", role="viewer")
        member_add(workspace=workspace, email="pm@example.com", role="editor")
        (added,) = events(AuditAction.MEMBER_ADDED)
        (changed,) = events(AuditAction.ROLE_CHANGED)
        assert (added.target_label, added.details) == ("pm@example.com", {"role": "viewer"})
        assert changed.details == {"from": "viewer", "to": "editor"}

    def test_tokens_created_and_revoked(self, editor: Membership) -> None:
        token, _ = api_token_create(membership=editor, name="CI")
        api_token_revoke(token=token)
        api_token_revoke(token=token)  # again: nothing new
        (created,) = events(AuditAction.TOKEN_CREATED)
        (revoked,) = events(AuditAction.TOKEN_REVOKED)
        assert created.target_id == revoked.target_id == token.pk
        assert created.details["member"] == editor.user.email
        assert created.workspace_id == editor.workspace_id

    def test_a_transition_and_not_a_refused_one(self, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=editor.workspace, title="Checkout")
        initiative_transition(initiative=initiative, to="discovery", by=editor.user)
        with pytest.raises(TransitionRefused):
            initiative_transition(initiative=initiative, to="released", by=editor.user)

        (event,) = events(AuditAction.TRANSITION)
        assert (event.actor, event.target_label, event.target_id) == (
            editor.user,
            "Checkout",
            initiative.pk,
        )
        assert event.details == {"from": "proposed", "to": "discovery", "rationale": ""}

    def test_a_deletion_and_not_a_refused_one(self, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=editor.workspace, title="Old idea")
        parent = ObjectiveFactory.create(workspace=editor.workspace, title="Grow")
        ObjectiveFactory.create(workspace=editor.workspace, parent=parent)

        initiative_delete(initiative=initiative, by=editor.user)
        with pytest.raises(Exception, match="sub-objectives"):
            objective_delete(objective=parent)

        (event,) = events(AuditAction.DELETED)
        assert (event.target_type, event.target_label, event.actor) == (
            "initiative",
            "Old idea",
            editor.user,
        )

    def test_a_deletion_through_the_api_names_the_token_user(self, editor: Membership) -> None:
        initiative = InitiativeFactory.create(workspace=editor.workspace, title="Drop me")
        response = token_client(editor).delete(
            f"/api/v1/workspaces/acme/initiatives/{initiative.pk}/"
        )
        assert response.status_code == 204
        (event,) = events(AuditAction.DELETED)
        assert event.actor == editor.user


def _fill(workspace: Workspace, actor: Membership, n: int) -> None:
    base = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            workspace=workspace,
            actor=actor.user,
            actor_label=actor.user.email,
            action=AuditAction.DELETED,
            target_type="initiative",
            target_id=i,
            target_label=f"Initiative {i}",
            created_at=base - timedelta(hours=i),
        )
        for i in range(n)
    )


@pytest.mark.django_db
class TestAuditPage:
    def test_admins_read_their_workspace_and_their_members_sign_ins(
        self, admin: Membership, other_workspace: Workspace, outsider: Membership
    ) -> None:
        audit_record(action=AuditAction.LOGIN, actor=admin.user)
        audit_record(action=AuditAction.LOGIN, actor=outsider.user)
        audit_record(
            action=AuditAction.DELETED, workspace=other_workspace, target_label="Globex secret"
        )
        client = Client()
        client.force_login(admin.user)

        page = client.get(AUDIT).content.decode()

        # (force_login signs in too: that sign-in is the admin's and is listed as well)
        own = AuditEvent.objects.filter(actor=admin.user).count()
        assert own == 2
        assert page.count('data-testid="audit-row"') == own
        assert admin.user.email in page
        assert outsider.user.email not in page
        assert "Globex secret" not in page

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_editors_and_viewers_get_403(self, workspace: Workspace, role: str) -> None:
        member = MembershipFactory.create(workspace=workspace, role=role)
        client = Client()
        client.force_login(member.user)

        response = client.get(AUDIT)

        assert response.status_code == 403
        assert (
            "Only admins of this workspace manage its members and read its audit log."
            in response.content.decode()
        )

    def test_filters_by_action_actor_and_days(
        self, admin: Membership, editor: Membership, workspace: Workspace
    ) -> None:
        day = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        for actor, action, when, label in [
            (admin, AuditAction.DELETED, day, "A"),
            (editor, AuditAction.DELETED, day, "B"),
            (editor, AuditAction.TRANSITION, day, "C"),
            (editor, AuditAction.DELETED, day + timedelta(days=2), "D"),
        ]:
            event = audit_record(
                action=action, workspace=workspace, actor=actor.user, target_label=label
            )
            AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
        client = Client()
        client.force_login(admin.user)

        page = client.get(
            AUDIT,
            {
                "action": "deleted",
                "actor": str(editor.user.pk),
                "date_from": "2026-03-10",
                "date_to": "2026-03-10",
            },
        ).content.decode()

        rows = page.split('data-testid="audit-row"')[1:]
        assert len(rows) == 1
        assert ">B<" in rows[0]

    def test_a_reversed_date_range_is_said_in_words(self, admin: Membership) -> None:
        client = Client()
        client.force_login(admin.user)
        page = client.get(AUDIT, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
        assert "The “From” day comes after the “To” day." in page.content.decode()

    def test_pages_of_fifty_newest_first(self, admin: Membership, workspace: Workspace) -> None:
        _fill(workspace, admin, 120)
        client = Client()
        client.force_login(admin.user)

        first = client.get(AUDIT).content.decode()
        third = client.get(AUDIT, {"page": 3}).content.decode()

        assert first.count('data-testid="audit-row"') == 50
        assert first.index(">Initiative 0 <") < first.index(">Initiative 1 <")
        # 120 events and the admin's own sign-in (force_login)
        assert third.count('data-testid="audit-row"') == 21
        assert "Page 3 of 3 · 121 in all" in third

    def test_the_same_queries_at_5_and_200_events(
        self, admin: Membership, workspace: Workspace
    ) -> None:
        client = Client()
        client.force_login(admin.user)
        counts = []
        for n in (5, 200):
            AuditEvent.objects.all().delete()
            _fill(workspace, admin, n)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(AUDIT).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]
        assert counts[0] <= 8

    def test_nothing_changes_or_deletes_an_event(
        self, admin: Membership, workspace: Workspace
    ) -> None:
        event = audit_record(action=AuditAction.DELETED, workspace=workspace, target_label="x")
        client = Client()
        client.force_login(admin.user)

        assert client.post(AUDIT, {"action": "deleted"}).status_code == 405
        assert client.delete(AUDIT).status_code == 405
        model_admin = site._registry[AuditEvent]
        request = RequestFactory().get("/")
        request.user = admin.user
        admin.user.is_superuser = True
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, event)
        assert not model_admin.has_delete_permission(request, event)
        assert AuditEvent.objects.filter(pk=event.pk, target_label="x").exists()

    def test_the_django_admin_refuses_to_delete_an_event(
        self, admin: Membership, workspace: Workspace
    ) -> None:
        event = audit_record(action=AuditAction.DELETED, workspace=workspace, target_label="x")
        admin.user.is_staff = admin.user.is_superuser = True
        admin.user.save()
        client = Client()
        client.force_login(admin.user)

        response = client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"})

        assert response.status_code == 403
        assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_members_page_changes_a_role_and_keeps_the_last_admin(
    admin: Membership, viewer: Membership
) -> None:
    client = Client()
    client.force_login(admin.user)

    promoted = client.post(
        f"/w/acme/members/{viewer.pk}/role/", {"role": "editor"}, follow=True
    ).content.decode()
    refused = client.post(
        f"/w/acme/members/{admin.pk}/role/", {"role": "viewer"}, follow=True
    ).content.decode()

    viewer.refresh_from_db()
    admin.refresh_from_db()
    assert viewer.role == "editor"
    assert f"{viewer.user.email} is now Editor." in promoted
    assert admin.role == "admin"
    assert "is the only admin of this workspace; make someone else admin first." in refused
    (event,) = events(AuditAction.ROLE_CHANGED)
    assert (event.actor, event.target_label) == (admin.user, viewer.user.email)


@pytest.mark.django_db
def test_members_page_removes_a_member(admin: Membership, viewer: Membership) -> None:
    client = Client()
    client.force_login(admin.user)

    client.post(f"/w/acme/members/{viewer.pk}/remove/")

    assert not Membership.objects.filter(pk=viewer.pk).exists()
    (event,) = events(AuditAction.MEMBER_REMOVED)
    assert (event.actor, event.target_label) == (admin.user, viewer.user.email)


@pytest.mark.django_db
def test_an_editor_cannot_change_roles(editor: Membership, viewer: Membership) -> None:
    client = APIClient()
    client.force_login(editor.user)
    response = client.post(f"/w/acme/members/{viewer.pk}/role/", {"role": "admin"})
    assert response.status_code == 403
    viewer.refresh_from_db()
    assert viewer.role == "viewer"
