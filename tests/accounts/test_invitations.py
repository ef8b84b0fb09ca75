"""Invitations: an admin invites an address with a role from the members page; the link of
the e-mail lets that person — and only that person — join, creating their account or
logging in to the one they have. Bad input is refused by field with nothing written; a
link used, withdrawn, replaced or expired says so in words; one link makes one membership."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.invitations import (
    InvitationRefused,
    invitation_accept,
    invitation_create,
    invitation_resolve,
)
from accounts.models import AuditAction, AuditEvent, Invitation, Membership, Role, User
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.concurrency import at_once
from tests.strategy.test_pages import assert_no_inline_script, client_for, text_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-new-passphrase-42"
LINK = re.compile(r"^http://testserver(/invitations/[A-Za-z0-9_-]+/)$", re.M)


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


def members_url(membership: Membership, rest: str = "") -> str:
    return f"/w/{membership.workspace.slug}/members/{rest}"


def invite(admin: Membership, email: str = "new.person@example.com", role: str = "editor") -> str:
    """Invites through the service; the path of the link in the e-mail."""
    invited = invitation_create(workspace=admin.workspace, by=admin.user, email=email, role=role)
    assert invited.emailed
    return f"/invitations/{invited.key}/"


def link_in(message: Any) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match[1]


# --- inviting ------------------------------------------------------------------------------------


def test_an_admin_invites_from_the_members_page_and_sees_the_link_once(admin: Membership) -> None:
    client = client_for(admin)

    page = client.get(members_url(admin))
    posted = client.post(
        members_url(admin, "invite/"), {"email": "  New.Person@Example.com ", "role": "editor"}
    )
    response = client.get(posted["Location"])  # after the redirect: a reload invites nobody

    assert page.status_code == 200
    assert "Invite someone" in text_of(page)
    assert_no_inline_script(page.content.decode())
    assert (posted.status_code, posted["Location"]) == (302, members_url(admin))
    assert response.status_code == 200
    text = text_of(response)
    assert "new.person@example.com is invited: the link is on its way by e-mail." in text
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.person@example.com",
        Role.EDITOR,
        admin.user,
    )
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    # The e-mail: who invited, to what, as what, and the link
    (message,) = mail.outbox
    assert message.to == ["new.person@example.com"]
    assert message.subject == f"{admin.user.display_name} invited you to Acme on PM Value"
    assert "to join Acme on PM Value, as an editor (create and change initiatives" in message.body
    assert "The link works for 7 days, for new.person@example.com only:" in message.body
    link = link_in(message)
    # The page shows the same link, this once; only its hash is stored
    assert f"http://testserver{link}" in response.content.decode()
    key = link.split("/")[2]
    assert key not in str(Invitation.objects.values_list().get())
    assert key not in client.get(members_url(admin)).content.decode()
    # Listed as waiting, and audited
    listed = text_of(client.get(members_url(admin)))
    assert "Invited, not joined yet" in listed
    assert "new.person@example.com Editor" in listed
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_INVITED)
    assert (event.actor, event.target_label, event.details) == (
        admin.user,
        "new.person@example.com",
        {"role": "editor", "replaces": 0},
    )


@pytest.mark.parametrize(
    ("email", "role", "field", "error"),
    [
        ("", "editor", "email", "Enter the e-mail address to invite."),
        ("not-an-address", "editor", "email", "Enter a whole e-mail address, like name@example"),
        ("a\x00b@example.com", "editor", "email", "Null characters are not allowed."),
        ("x" * 250 + "@example.com", "editor", "email", "Ensure this value has at most 254"),
        ("pat@example.com", "owner", "role", "Select a valid choice. owner is not one of"),
        ("pat@example.com", "", "role", "This field is required."),
    ],
)
def test_bad_input_is_refused_in_words_and_nothing_is_written(
    admin: Membership, email: str, role: str, field: str, error: str
) -> None:
    response = client_for(admin).post(members_url(admin, "invite/"), {"email": email, "role": role})

    assert response.status_code == 400
    assert error in text_of(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_member_already_is_not_invited(admin: Membership, editor: Membership) -> None:
    response = client_for(admin).post(
        members_url(admin, "invite/"), {"email": editor.user.email.upper(), "role": "viewer"}
    )

    assert response.status_code == 400
    assert f"{editor.user.email} is a member of this workspace already." in text_of(response)
    assert not Invitation.objects.exists()


def test_the_service_refuses_by_field(admin: Membership) -> None:
    with pytest.raises(ValidationError) as refused:
        invitation_create(workspace=admin.workspace, by=admin.user, email="nope", role="boss")

    assert refused.value.message_dict == {
        "email": ["Enter a whole e-mail address, like name@example.com."],
        "role": ["Choose a role: admin, editor, viewer."],
    }


def test_inviting_again_replaces_the_open_invitation(admin: Membership) -> None:
    first = invite(admin, role="viewer")
    second = invite(admin, role="editor")

    (open_one,) = Invitation.objects.filter(revoked_at__isnull=True)
    assert open_one.role == Role.EDITOR
    refused = Client().get(first)
    assert refused.status_code == 410
    assert "This invitation to Acme was withdrawn." in text_of(refused)
    assert Client().get(second).status_code == 200


def test_editors_and_viewers_cannot_invite_or_withdraw(
    admin: Membership, editor: Membership, viewer: Membership
) -> None:
    invite(admin)
    invitation = Invitation.objects.get()
    for membership in (editor, viewer):
        client = client_for(membership)
        invited = client.post(members_url(admin, "invite/"), {"email": "x@example.com"})
        assert invited.status_code == 403
        withdraw = members_url(admin, f"invitations/{invitation.pk}/withdraw/")
        assert client.post(withdraw).status_code == 403
    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    assert len(mail.outbox) == 1


def test_an_admin_withdraws_an_invitation_and_its_link_stops_working(admin: Membership) -> None:
    link = invite(admin)
    invitation = Invitation.objects.get()

    response = client_for(admin).post(
        members_url(admin, f"invitations/{invitation.pk}/withdraw/"), follow=True
    )
    again = client_for(admin).post(
        members_url(admin, f"invitations/{invitation.pk}/withdraw/"), follow=True
    )

    assert "The invitation of new.person@example.com is withdrawn" in text_of(response)
    assert "was accepted or withdrawn already" in text_of(again)
    assert 'data-testid="invitation-row"' not in response.content.decode()
    assert Client().get(link).status_code == 410
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_REVOKED).count() == 1


def test_an_invitation_of_another_workspace_is_not_found(
    admin: Membership, outsider: Membership
) -> None:
    outsider.role = Role.ADMIN
    outsider.save()
    invite(outsider, email="theirs@example.com")
    theirs = Invitation.objects.get()

    response = client_for(admin).post(members_url(admin, f"invitations/{theirs.pk}/withdraw/"))

    assert response.status_code == 404
    assert Invitation.objects.get().revoked_at is None


def test_a_refused_e_mail_leaves_the_invitation_and_shows_the_link_to_pass_on(
    admin: Membership, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.reports.mail_backends.DownBackend"

    response = client_for(admin).post(
        members_url(admin, "invite/"),
        {"email": "new.person@example.com", "role": "viewer"},
        follow=True,
    )

    text = text_of(response)
    assert "is invited, but the mail server did not take the e-mail." in text
    assert re.search(r"http://testserver/invitations/[A-Za-z0-9_-]{43}/", text)
    assert Invitation.objects.filter(email="new.person@example.com").exists()


def test_the_members_page_reads_the_same_queries_for_1_or_20_invitations(
    admin: Membership,
) -> None:
    client = client_for(admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(members_url(admin)).status_code == 200
        return len(captured)

    invite(admin, email="one@example.com")
    one = queries()
    for n in range(19):
        invite(admin, email=f"more-{n}@example.com")
        MembershipFactory.create(workspace=admin.workspace)

    assert queries() == one


# --- joining -------------------------------------------------------------------------------------


def test_someone_new_creates_an_account_with_the_link_and_is_in(admin: Membership) -> None:
    invite(admin)
    link = link_in(mail.outbox[0])
    client = Client()

    page = client.get(link)
    weak = client.post(
        link, {"full_name": "New Person", "password1": "short", "password2": "short"}
    )
    mismatch = client.post(
        link, {"full_name": "New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}
    )
    joined = client.post(
        link,
        {"full_name": "  New   Person ", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )

    assert page.status_code == 200
    assert f"{admin.user.display_name} invited new.person@example.com to Acme on PM Value" in (
        text_of(page)
    )
    assert_no_inline_script(page.content.decode())
    assert weak.status_code == 400
    assert "This password is too short. It must contain at least 12 characters." in text_of(weak)
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in text_of(mismatch)
    assert joined.redirect_chain[-1][0] == "/w/acme/"
    assert "Welcome to Acme: you are editor here." in text_of(joined)
    user = User.objects.get(email="new.person@example.com")
    assert user.full_name == "New Person"
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=user).role == Role.EDITOR
    invitation = Invitation.objects.get()
    assert (invitation.accepted_by, invitation.revoked_at) == (user, None)
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_ADDED, actor=user).count() == 1
    # Used: the link says so, and joins nobody again
    again = Client().get(link)
    assert again.status_code == 410
    assert "This invitation to Acme has been accepted already." in text_of(again)
    assert User.objects.filter(email="new.person@example.com").count() == 1


def test_someone_with_an_account_logs_in_and_joins(admin: Membership) -> None:
    pat = UserFactory.create(email="pat@example.com")
    link = invite(admin, email="PAT@example.com", role="viewer")

    anonymous = Client().get(link)
    client = Client()
    client.force_login(pat)
    page = client.get(link)
    joined = client.post(link)

    assert "An account with pat@example.com exists: log in with it to accept." in (
        text_of(anonymous)
    )
    assert f'href="/accounts/login/?next=%2Finvitations%2F{link.split("/")[2]}%2F"' in (
        anonymous.content.decode()
    )
    assert "Join Acme" in text_of(page)
    assert joined.status_code == 302
    assert Membership.objects.get(user=pat, workspace=admin.workspace).role == Role.VIEWER


def test_another_account_cannot_use_the_link(admin: Membership, outsider: Membership) -> None:
    link = invite(admin)
    client = client_for(outsider)

    page = client.get(link)
    response = client.post(link)

    assert f"You are logged in as {outsider.user.email}, and this invitation is for " in (
        text_of(page)
    )
    assert response.status_code == 403
    assert "This invitation is for new.person@example.com" in text_of(response)
    assert not Membership.objects.filter(workspace=admin.workspace, user=outsider.user).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_account_made_meanwhile_must_log_in_instead(admin: Membership) -> None:
    link = invite(admin)
    client = Client()
    client.get(link)
    UserFactory.create(email="new.person@example.com")

    response = client.post(
        link, {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    # The page now asks to log in: the password of the account is not replaced
    assert "log in with it to accept" in text_of(response)
    assert User.objects.get(email="new.person@example.com").check_password(PASSWORD)


@pytest.mark.parametrize(
    "key",
    ["not-a-key", "x" * 43, "x" * 500, "%00", "ü" * 10],
    ids=["short", "43", "long", "nul", "ü"],
)
def test_a_link_that_is_not_ours_is_404_in_words(key: str) -> None:
    response = Client().get(f"/invitations/{key}/")

    assert response.status_code == 404
    assert "This invitation link is not valid." in text_of(response)


def test_an_expired_invitation_says_so(admin: Membership) -> None:
    link = invite(admin)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    response = Client().post(
        link, {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 410
    assert "has expired (invitations work for 7 days). Ask an admin" in text_of(response)
    assert not User.objects.filter(email="new.person@example.com").exists()
    listed = client_for(admin).get(members_url(admin))
    assert "Expired on" in text_of(listed)


def test_resolve_and_accept_refuse_in_words(admin: Membership) -> None:
    key = invite(admin).split("/")[2]
    user = UserFactory.create(email="new.person@example.com")

    membership = invitation_accept(key=key, user=user)

    assert membership.role == Role.EDITOR
    with pytest.raises(InvitationRefused) as refused:
        invitation_resolve(key=key)
    assert refused.value.reason == "accepted"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_make_one_account_and_one_membership(admin: Membership) -> None:
    link = invite(admin)

    def join() -> int:
        response = Client().post(
            link, {"full_name": "N", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        return response.status_code

    codes = at_once(join)

    assert 302 in codes
    assert all(code in (302, 400, 409, 410) for code in codes), codes
    assert User.objects.filter(email="new.person@example.com").count() == 1
    assert Membership.objects.filter(user__email="new.person@example.com").count() == 1
