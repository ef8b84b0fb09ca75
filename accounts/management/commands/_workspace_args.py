"""Argument helpers shared by the accounts management commands."""

from django.core.management.base import CommandError

from accounts.models import Workspace


def workspace_by_slug(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        known = ", ".join(Workspace.objects.values_list("slug", flat=True)[:10]) or "none yet"
        raise CommandError(
            f"No workspace with the slug “{slug}”. Known workspaces: {known}. "
            "Create one with: python manage.py create_workspace --slug … --name …"
        ) from None


def validation_message(exc: Exception) -> str:
    from django.core.exceptions import ValidationError

    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
