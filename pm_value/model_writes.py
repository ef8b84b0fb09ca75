"""How services write one model instance: only allowed fields, validated, refused in words."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model


def assign_fields(instance: Model, changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Sets the changed fields, refusing any field the caller may not change."""
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        setattr(instance, name, value)


def save_validated(instance: Model, *, exclude: Sequence[str] = ()) -> None:
    """Validates every field (lengths, choices, constraints) and saves; a constraint that
    a concurrent write broke after validation still answers in words."""
    instance.full_clean(exclude=list(exclude))
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(
            "This change conflicts with one made at the same moment; reload and try again."
        ) from exc
