"""Browser forms of accounts."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone

from accounts.models import AuditAction, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an e-mail address; says in words what went wrong."""

    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": "The e-mail address or the password is not right. Please try again.",
        "inactive": "This account is deactivated. Ask an admin of your workspace.",
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class PasswordResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        error_messages={
            "required": "Enter the e-mail address you log in with.",
            "invalid": "Enter a whole e-mail address, like name@example.com.",
        },
    )

    def get_users(self, email: str) -> Iterator[Any]:
        """Every active account with this address, also one made without a password
        (`add_member` without `--password`): the link is how its owner sets one. Django
        leaves those out for accounts that sign in elsewhere (LDAP); ours never do."""
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if user.email.lower() == email.strip().lower()
        )


class InvitationForm(forms.Form):
    """Who to invite, with which role; the service checks the address and says why not."""

    email = forms.CharField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
        error_messages={"required": "Enter the e-mail address to invite."},
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class JoinForm(forms.Form):
    """The account an invited person creates: a name and a password, typed twice."""

    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Choose a password."},
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Type the password again."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = (
            f"At least {settings.PASSWORD_MIN_LENGTH} characters, not a common password and "
            "not only digits."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are not the same.")
        return data


EXPIRY_CHOICES = [
    ("", "Never (until revoked)"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="What it is for, e.g. “BI export”.",
    )
    read_only = forms.BooleanField(
        required=False, label="Read-only", help_text="It can read but never change anything."
    )
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Expires",
    )

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AuditFilterForm(forms.Form):
    """The filters of the audit page; every field is optional."""

    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    actor = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Who")
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone"), *members]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” day comes after the “To” day.")
        return cleaned
