"""Password reset by e-mail: a link that works once and for a while, the same page whether
the address has an account or not, new passwords held to the same rules, a pause for an
address that asks too often, and an audit line for every password set."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client

from accounts.models import AuditAction, AuditEvent, Membership, User
from tests.accounts.factories import PASSWORD
from tests.accounts.test_signin import sign_in, signed_in
from tests.strategy.test_pages import assert_no_inline_script, text_of

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"
SENT = "/accounts/password/reset/sent/"
NEW_PASSWORD = "a-long-and-new-passphrase-42"
LINK = re.compile(r"^(http://testserver/accounts/password/reset/[^/\s]+/[^/\s]+/)$", re.M)


def ask(email: str, ip: str = "10.1.0.1", client: Client | None = None) -> Any:
    return (client or Client()).post(RESET, {"email": email}, REMOTE_ADDR=ip)


def link_in(message: Any) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match[1].removeprefix("http://testserver")


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


def test_the_sign_in_page_offers_a_reset_and_the_reset_page_explains_it() -> None:
    login = Client().get("/accounts/login/")
    page = Client().get(RESET)

    assert 'href="/accounts/password/reset/">Forgot your password?</a>' in login.content.decode()
    assert page.status_code == 200
    assert "Enter the e-mail address you log in with." in text_of(page)
    assert_no_inline_script(page.content.decode())


def test_a_member_resets_the_password_with_the_link_and_logs_in_with_the_new_one(
    admin: Membership,
) -> None:
    email = admin.user.email
    response = ask(email.upper())

    assert response.status_code == 302
    assert response["Location"] == SENT
    sent = Client().get(SENT)
    assert "a link to choose a new password is on its way. It works once, for 2 hours." in (
        text_of(sent)
    )
    assert [m.to for m in mail.outbox] == [[email]]
    message = mail.outbox[0]
    assert message.subject == "Reset your PM Value password"
    assert f"the password of your PM Value account {email}." in message.body
    assert "The link works once, for 2 hours:" in message.body

    client = Client()
    # Django swaps the token for a session key at once, so it leaves no Referer behind.
    opened = client.get(link_in(message), follow=True)
    form_url = opened.redirect_chain[-1][0]
    assert "Choose a new password" in text_of(opened)
    assert "At least 12 characters" in text_of(opened)
    done = client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert done.redirect_chain[-1][0] == "/accounts/login/"
    assert "Your new password is set. Log in with it." in text_of(done)
    assert signed_in(sign_in(email, NEW_PASSWORD, "10.1.0.2"))
    assert not signed_in(sign_in(email, PASSWORD, "10.1.0.3"))
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert (event.actor, event.details, event.workspace) == (
        admin.user,
        {"how": "reset link"},
        None,
    )
    # Used once: the same link opens nothing now.
    again = Client().get(link_in(message), follow=True)
    assert "This link does not work" in text_of(again)
    assert "Send a new link" in text_of(again)


def test_a_reset_lifts_the_lockout_of_the_account(admin: Membership) -> None:
    email = admin.user.email
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(email, "wrong-password-123", f"10.2.0.{n + 1}")
    assert sign_in(email, PASSWORD, "10.2.1.1").status_code == 429  # locked out

    ask(email, ip="10.2.1.1")
    client = Client()
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert signed_in(sign_in(email, NEW_PASSWORD, "10.2.1.2"))


def test_an_unknown_address_gets_the_same_page_and_no_e_mail(admin: Membership) -> None:
    known = ask(admin.user.email, ip="10.1.1.1")
    unknown = ask("nobody@example.com", ip="10.1.1.2")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m.to for m in mail.outbox] == [[admin.user.email]]


def test_an_account_made_without_a_password_gets_a_link_to_set_one(admin: Membership) -> None:
    """`add_member` without `--password` makes an account that cannot log in yet."""
    admin.user.set_unusable_password()
    admin.user.save()

    ask(admin.user.email)
    client = Client()
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    admin.user.refresh_from_db()
    assert admin.user.check_password(NEW_PASSWORD)


def test_a_deactivated_account_gets_no_link(admin: Membership) -> None:
    User.objects.filter(pk=admin.user.pk).update(is_active=False)

    assert ask(admin.user.email)["Location"] == SENT
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "Enter the e-mail address you log in with."),
        ("not-an-address", "Enter a whole e-mail address, like name@example.com."),
        ("a\x00b@example.com", "Null characters are not allowed."),
    ],
)
def test_a_missing_or_malformed_address_is_refused_in_words(
    admin: Membership, email: str, error: str
) -> None:
    response = ask(email)

    assert response.status_code == 200
    assert error in text_of(response)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        ("short-pw", "short-pw", "This password is too short. It must contain at least 12"),
        ("password1234", "password1234", "This password is too common."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two password fields didn’t match."),
    ],
)
def test_a_weak_or_mistyped_new_password_is_refused_and_the_old_one_stays(
    admin: Membership, first: str, second: str, error: str
) -> None:
    ask(admin.user.email)
    client = Client()
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": first, "new_password2": second})

    assert response.status_code == 200
    assert error in text_of(response)
    admin.user.refresh_from_db()
    assert admin.user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_an_expired_link_opens_nothing(admin: Membership, monkeypatch: pytest.MonkeyPatch) -> None:
    ask(admin.user.email)
    link = link_in(mail.outbox[0])
    later = PasswordResetTokenGenerator()._now() + timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 60
    )
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)

    response = Client().get(link, follow=True)

    assert "This link does not work" in text_of(response)
    assert "works once, for 2 hours" in text_of(response)


def test_a_link_stops_working_once_the_password_changed_another_way(admin: Membership) -> None:
    ask(admin.user.email)
    admin.user.set_password("changed-meanwhile-1234")
    admin.user.save()

    response = Client().get(link_in(mail.outbox[0]), follow=True)

    assert "This link does not work" in text_of(response)


def test_an_address_that_asks_too_often_is_paused_in_words(admin: Membership) -> None:
    limit = settings.PASSWORD_RESET_PER_HOUR
    answers = [ask(f"someone-{n}@example.com", ip="10.1.2.1") for n in range(limit)]

    paused = ask(admin.user.email, ip="10.1.2.1")

    assert {a.status_code for a in answers} == {302}
    assert paused.status_code == 429
    assert paused["Retry-After"] == "3600"
    assert "Too many password reset requests came from this address." in text_of(paused)
    assert mail.outbox == []  # the member's link was not sent from the paused address
    assert ask(admin.user.email, ip="10.1.2.2")["Location"] == SENT  # another address
    assert len(mail.outbox) == 1


def test_one_account_gets_at_most_the_hourly_number_of_links_and_the_page_says_nothing(
    admin: Membership,
) -> None:
    limit = settings.PASSWORD_RESET_PER_HOUR
    answers = [ask(admin.user.email, ip=f"10.1.3.{n}") for n in range(limit + 3)]

    assert {(a.status_code, a["Location"]) for a in answers} == {(302, SENT)}
    assert len(mail.outbox) == limit


def test_asking_reads_a_fixed_number_of_queries(
    admin: Membership, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):  # the user by address; the session (none)
        ask(admin.user.email)
    assert len(mail.outbox) == 1


def test_a_password_changed_in_the_form_is_audited_and_keeps_the_session(
    editor: Membership,
) -> None:
    client = Client()
    client.force_login(editor.user)

    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    assert "Your password is changed." in text_of(response)
    assert client.get("/").status_code == 302  # still signed in: to the workspace
    assert client.get("/").url.startswith("/w/")  # type: ignore[attr-defined]
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert (event.actor, event.details) == (editor.user, {"how": "password form"})
