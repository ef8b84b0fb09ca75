"""API rate limits: one budget per API token, another per signed-in browser user.

A token's budget is its own: an integration that loops does not use up its owner's other
tokens or their browser session. Rates come from API_THROTTLE_TOKEN and
API_THROTTLE_USER (DEFAULT_THROTTLE_RATES "token" and "user"); a refusal is a 429 with
Retry-After and {"detail": "…"} in words.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Counts the requests of each API token (keyed on the token's id)."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Counts the requests of each signed-in user of the browser session (not tokens)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
