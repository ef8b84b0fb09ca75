"""Browser forms of accounts."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm


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
