from datetime import UTC, datetime
from typing import Any

from tortoise import fields


class UtcDatetimeField(fields.DatetimeField):
    """Stores and compares every time in UTC.

    SQLite keeps times as text and compares them as text, so a deadline written with
    +08:00 and a query made with +00:00 would compare wrongly; one offset for all avoids it.
    """

    def to_db_value(self, value: Any, instance: Any) -> Any:
        value = super().to_db_value(value, instance)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value


class GramsField(fields.TextField):
    """Search lexemes (app.domain.search_text.grams), written as space-separated text: a
    tsvector on PostgreSQL, which its GIN index answers and a row checks without parsing;
    plain text on SQLite, which searches with LIKE instead."""

    class _db_postgres:
        SQL_TYPE = "TSVECTOR"
