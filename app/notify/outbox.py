"""The outbox: a notice is a row written in the transaction of the change that causes it.

`enqueue` inserts into whatever transaction the caller has open (`in_transaction()`), so
the notice exists if and only if the change committed. `render` turns a template into the
(subject, text, html) triple a notice carries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from tortoise.connection import get_connections

from app.domain.clock import to_local

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_MAX = 255
DEDUPE_KEY_MAX = 200
CHANNELS = ("mail", "sms")
_SPACES = re.compile(r"\s+")


def now_utc() -> datetime:
    return datetime.now(UTC)


def db_time(conn: Any, at: datetime) -> Any:
    """A time as this engine's raw SQL wants it, always in UTC.

    SQLite keeps times as text and compares them as text, so every time in the outbox is
    written in one fixed format (UTC, microseconds always present) to keep that order true.
    """
    at = at.astimezone(UTC)
    if conn.capabilities.dialect == "sqlite":
        return at.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return at


def placeholders(conn: Any, count: int, start: int = 1) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


def current_connection() -> Any:
    """The caller's transaction if one is open in this task, else the pool."""
    return get_connections().get("default")


def _local_time(at: datetime | None) -> str:
    return "" if at is None else to_local(at).strftime("%Y年%m月%d日 %H:%M")


def _local_date(at: Any) -> str:
    if at is None:
        return ""
    if isinstance(at, datetime):
        at = to_local(at).date()
    return f"{at.year}年{at.month}月{at.day}日"


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates ship with the code; no stat() per render
)
env.filters.update(local_time=_local_time, local_date=_local_date)


def _render_block(name: str, block: str, context: dict[str, Any]) -> str:
    template = env.get_template(name)
    return "".join(template.blocks[block](template.new_context(context)))


def render(template: str, **context: Any) -> tuple[str, str, str]:
    """(subject, plain text, HTML) for `templates/<template>.txt` and `.html`.

    The subject is the `subject` block of the text template, on one line (so no header
    can be smuggled in through a title). HTML is autoescaped; the text version is not.
    """
    subject = _SPACES.sub(" ", _render_block(f"{template}.txt", "subject", context)).strip()
    subject = subject[:SUBJECT_MAX]
    text = env.get_template(f"{template}.txt").render(subject=subject, **context)
    html = env.get_template(f"{template}.html").render(subject=subject, **context)
    return subject, text.strip() + "\n", html


class Batch:
    """Rows gathered by `batched()`, written in one statement per chunk when it closes."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.inserted = 0


_batch: ContextVar[Batch | None] = ContextVar("outbox_batch", default=None)
CHUNK = 500


@asynccontextmanager
async def batched(*, insert: bool = True) -> AsyncIterator[Batch]:
    """Gather every enqueue inside the block and insert them together at its end, still in
    the caller's transaction: the sweep queues thousands of notices at once. With
    `insert=False` the rows are only gathered: the caller writes them (`insert_statement`)
    as part of a statement of its own."""
    batch = Batch()
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
    if insert:
        for start in range(0, len(batch.rows), CHUNK):
            batch.inserted += await insert_rows(batch.rows[start:start + CHUNK])


def insert_statement(conn: Any, rows: list[list[Any]], first_mark: int = 1) -> tuple[str, list]:
    """The INSERT of gathered rows, its placeholders numbered from `first_mark`; a row whose
    dedupe key is already taken is skipped."""
    now = db_time(conn, now_utc())
    values, params = [], []
    for row in rows:
        marks = placeholders(conn, 9, start=first_mark + len(params))
        values.append(f"({', '.join(marks[:7])}, 'pending', 0, {marks[7]}, {marks[8]}, '')")
        params += [*row, now, now]
    sql = (
        "INSERT INTO outbox_message (kind, dedupe_key, to_address, subject, text_body, "  # noqa: S608
        "html_body, channel, status, attempts, next_attempt_at, created_at, last_error) "
        f"VALUES {', '.join(values)} ON CONFLICT (dedupe_key) DO NOTHING"
    )
    return sql, params


async def insert_rows(rows: list[list[Any]]) -> int:
    conn = current_connection()
    sql, params = insert_statement(conn, rows)
    return len(await conn.execute_query_dict(sql + " RETURNING id", params))


async def enqueue(*, kind: str, to: str, subject: str, text: str, html: str,
                  dedupe_key: str | None = None, channel: str = "mail") -> bool:
    """Queue one mail (or, with channel="sms", one text message to the mobile number `to`)
    in the caller's current transaction; True if a row was inserted.

    With a `dedupe_key`, a second enqueue with the same key (even from another transaction
    running at the same moment) inserts nothing and returns False. Inside `batched()` the
    row waits for the end of the block, and True means only that it was gathered.
    """
    to = to.strip()
    if not to or "\n" in to or "\r" in to:
        raise ValueError("enqueue: a single recipient address is required")
    if dedupe_key is not None and len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValueError(f"enqueue: dedupe_key longer than {DEDUPE_KEY_MAX}")
    if channel not in CHANNELS:
        raise ValueError(f"enqueue: unknown channel {channel!r}")
    row = [kind, dedupe_key, to, _SPACES.sub(" ", subject).strip()[:SUBJECT_MAX], text, html,
           channel]
    batch = _batch.get()
    if batch is not None:
        batch.rows.append(row)
        return True
    return await insert_rows([row]) == 1
