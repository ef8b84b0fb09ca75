"""`Authorization: Token <key>` authentication for the API."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.services import TokenUnusable, api_token_authenticate

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Sets request.user to the token's user and request.auth to the ApiToken."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            parts = header.decode("ascii").split()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must contain only ASCII characters."
            ) from exc
        if not parts or parts[0].lower() != KEYWORD.lower():
            # Another scheme (Basic, Bearer …): not ours to judge, another class may be.
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected “Token <key>” with one key and no spaces."
            )
        try:
            token = api_token_authenticate(key=parts[1])
        except TokenUnusable as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if token is None:
            raise exceptions.AuthenticationFailed(
                "This API token is not valid: no token has this key."
            )
        if not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API token is deactivated.")
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create a key with `manage.py create_api_token`.",
        }
