"""What each role may do: the one place where roles are turned into permissions.

A request acts with a set of scopes: its membership's role gives them, a read-only API
token keeps only "read". Views say which scope an operation needs; nothing else in the
code compares roles.
"""

from typing import Literal

from accounts.models import ApiToken, Membership, Role

Scope = Literal["read", "contribute", "write", "admin"]

# read: see everything in the workspace; contribute: submit and vote ideas;
# write: create and change strategy, metrics and initiatives; admin: members, tokens, settings.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({"read", "contribute", "write", "admin"}),
    Role.EDITOR: frozenset({"read", "contribute", "write"}),
    Role.VIEWER: frozenset({"read", "contribute"}),
}

# The scope an HTTP method needs unless a view says otherwise.
METHOD_SCOPES: dict[str, Scope] = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "POST": "write",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "write",
}


def scopes_for(membership: Membership, token: ApiToken | None = None) -> frozenset[str]:
    scopes = ROLE_SCOPES[membership.role]
    if token is not None and token.read_only:
        return scopes & {"read"}
    return scopes


def has_scope(membership: Membership, scope: str, token: ApiToken | None = None) -> bool:
    return scope in scopes_for(membership, token)
