"""Sends the Content-Security-Policy header of settings.SECURE_CSP on every response.

Django 5.2 has no CSP of its own. The policy here is one fixed string (no inline script
anywhere, so no nonces), which a few lines send; django-csp would add a dependency for
nothing more. The setting has the shape of Django 6.0's SECURE_CSP (directive → sources),
so moving to Django's ContentSecurityPolicyMiddleware is deleting this file.
"""

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_text(policy: Mapping[str, Sequence[str]]) -> str:
    """{"default-src": ["'self'"], …} as the header's text: "default-src 'self'; …"."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds the header unless the view set its own (a page that needs a looser policy
    sets the whole header itself, so the exception is visible where it is made)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header_value = policy_text(settings.SECURE_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header_value:
            response.headers.setdefault(HEADER, self.header_value)
        return response
