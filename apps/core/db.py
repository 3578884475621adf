"""Database helpers shared by the services."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from apps.core.errors import Conflict


def save_or_conflict(instance: models.Model, *, create: bool, conflict: Conflict) -> None:
    """Saves `instance`; a unique-index violation (a concurrent duplicate that slipped past the
    service's own check) becomes `conflict` (409) instead of a 500."""
    try:
        with transaction.atomic():
            instance.save(force_insert=create) if create else instance.save()
    except IntegrityError:
        raise conflict from None
