"""Raw inserts that keep Tortoise's conversions, for the few statements written by hand."""

from __future__ import annotations

from typing import Any

from tortoise.models import Model


def insert_values(instance: Model) -> dict[str, Any]:
    """Column name → database value of an unsaved row, converted by each field as Tortoise's
    own INSERT converts it (JSON to text, times to UTC, auto_now filled in)."""
    meta = instance._meta
    values = {}
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.pk and field.generated:
            continue
        values[column] = field.to_db_value(getattr(instance, name), instance)
    return values


def mark_saved(instance: Model, pk: Any) -> None:
    """The row now exists: a later save() updates it instead of inserting it again."""
    instance.pk = pk
    instance._saved_in_db = True
