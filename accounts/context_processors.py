"""Puts the user's workspaces in every page, for the workspace switcher."""

from django.http import HttpRequest

from accounts.selectors import memberships_for_user


def workspaces(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: the query runs only on pages that render the switcher.
    return {"user_memberships": memberships_for_user(user=user)}
