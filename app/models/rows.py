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


def new_row(model: type[Model], **given: Any) -> dict[str, Any]:
    """Column name → database value of a new row from field values, defaults for the rest,
    without building a model instance (a fifth of a submission's own time went into those)."""
    meta = model._meta
    unknown = set(given) - set(meta.fields_db_projection)
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    row = {}
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.pk and field.generated:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise TypeError(f"{model.__name__}.{name} is filled on save; build an instance")
        if name in given:
            value = given[name]
        else:
            value = field.default() if callable(field.default) else field.default
        row[column] = field.to_db_value(value, None)
    return row
