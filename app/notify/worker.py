"""The outbox worker: claim due rows, send them (mail by SMTP, SMS to the gateway), mark them
sent or schedule a retry.

Claiming is one statement that moves rows from `pending` (due) — or from `sending` whose
claim expired because a worker died mid-send — to `sending`, stamped with this worker's id
and a claim deadline, and returns them:

- PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`, so any
  number of workers on any number of machines take disjoint rows without waiting.
- SQLite: the same conditional `UPDATE … RETURNING` without the lock clause; SQLite runs one
  writer at a time, so the statement is atomic.

A row already `sent` is never claimed. Before each send the worker makes sure it still holds
an unexpired claim (renewing it if it is getting short), so a slow batch cannot lose its
rows to another worker halfway. Every attempt is recorded in `outbox_attempt`. A failure is
retried after 1, 2, 4 … minutes (capped at an hour); after `max_attempts` the row is
`failed` (`minsheng mail retry` queues failed rows again).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from app.models import OutboxAttempt
from app.notify.mailer import build_message, open_transport, short_error
from app.notify.outbox import current_connection, db_time, now_utc
from app.notify.smsgateway import open_sms_transport
from app.settings import Settings

log = logging.getLogger("minsheng.mail")

RETURNED = "id, channel, kind, to_address, subject, text_body, html_body, attempts"


@dataclass
class Claimed:
    id: int
    channel: str
    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str
    attempts: int


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed

    def count(self, row: Claimed, outcome: str) -> None:
        self.ids.append(row.id)
        if outcome == "sent":
            self.sent += 1
        elif outcome == "failed":
            self.failed += 1
        else:
            self.retrying += 1

    def add(self, other: DrainResult) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.ids.extend(other.ids)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:80]


def backoff(attempts: int, base: float = 60.0, cap: float = 3600.0) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 1, 2, 4 … minutes, ≤ 1 h."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _sql(conn: Any, template: str) -> str:
    """Write queries with `?`; PostgreSQL gets $1, $2 …"""
    if conn.capabilities.dialect != "postgres":
        return template
    parts = template.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}{part}")
    return "".join(out)


class OutboxWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        worker_id: str | None = None,
        batch_size: int = 20,
        claim_seconds: float = 300.0,
        max_attempts: int = 24,
        base_delay: float = 60.0,
        max_delay: float = 3600.0,
        clock: Callable[[], datetime] = now_utc,
        only_ids: Collection[int] | None = None,
    ):
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.claim = timedelta(seconds=claim_seconds)
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self._held_until = clock()  # until when the current batch's claim is held
        # Restrict this worker to some rows (tests that share a database use it).
        self.only_ids = sorted(only_ids) if only_ids is not None else None

    # --- claiming ------------------------------------------------------------------------

    async def claim_batch(self) -> list[Claimed]:
        if self.only_ids is not None and not self.only_ids:
            return []
        conn = current_connection()
        now = self.clock()
        postgres = conn.capabilities.dialect == "postgres"
        params: list[Any] = [self.worker_id, db_time(conn, now + self.claim),
                             db_time(conn, now), db_time(conn, now)]
        scope = ""
        if self.only_ids is not None:
            if postgres:
                scope = " AND id = ANY(?::bigint[])"
                params.append(list(self.only_ids))
            else:
                scope = f" AND id IN ({', '.join('?' * len(self.only_ids))})"
                params.extend(self.only_ids)
        params.append(self.batch_size)
        lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
        sql = _sql(conn, (
            "UPDATE outbox_message SET status = 'sending', claimed_by = ?, "  # noqa: S608
            "claimed_until = ?, attempts = attempts + 1 "
            "WHERE id IN (SELECT id FROM outbox_message WHERE "
            "((status = 'pending' AND next_attempt_at <= ?) "
            "OR (status = 'sending' AND claimed_until < ?))"
            f"{scope} ORDER BY next_attempt_at, id LIMIT ?{lock}) "
            "AND status IN ('pending', 'sending') "
            f"RETURNING {RETURNED}"
        ))
        rows = await conn.execute_query_dict(sql, params)
        claimed = sorted((Claimed(**row) for row in rows), key=lambda c: c.id)
        return claimed

    async def _renew(self, ids: list[int]) -> set[int]:
        """Extend this worker's claim on `ids`; returns the ids it still holds."""
        conn = current_connection()
        now = self.clock()
        marks = ", ".join("?" * len(ids))
        sql = _sql(conn, (
            "UPDATE outbox_message SET claimed_until = ? "  # noqa: S608
            f"WHERE status = 'sending' AND claimed_by = ? AND claimed_until > ? "
            f"AND id IN ({marks}) RETURNING id"
        ))
        rows = await conn.execute_query_dict(
            sql, [db_time(conn, now + self.claim), self.worker_id, db_time(conn, now), *ids])
        return {row["id"] for row in rows}

    # --- outcomes -------------------------------------------------------------------------

    async def _mark_sent(self, row: Claimed) -> None:
        now = self.clock()
        async with in_transaction() as conn:
            sql = _sql(conn, (
                "UPDATE outbox_message SET status = 'sent', sent_at = ?, claimed_by = NULL, "
                "claimed_until = NULL, last_error = '' "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ? RETURNING id"
            ))
            rows = await conn.execute_query_dict(sql, [db_time(conn, now), row.id,
                                                       self.worker_id])
            await OutboxAttempt.create(message_id=row.id, at=now, ok=True)
        if not rows:
            log.warning("%s %s (%s) sent, but its claim had passed to another worker",
                        row.channel, row.id, row.kind)

    async def _mark_failed(self, row: Claimed, error: str) -> str:
        now = self.clock()
        final = row.attempts >= self.max_attempts
        status = "failed" if final else "pending"
        retry_at = now if final else now + backoff(row.attempts, self.base_delay,
                                                   self.max_delay)
        async with in_transaction() as conn:
            sql = _sql(conn, (
                "UPDATE outbox_message SET status = ?, next_attempt_at = ?, claimed_by = NULL, "
                "claimed_until = NULL, last_error = ? "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ?"
            ))
            await conn.execute_query(sql, [status, db_time(conn, retry_at), error, row.id,
                                           self.worker_id])
            await OutboxAttempt.create(message_id=row.id, at=now, ok=False, error=error)
        if final:
            log.error("%s %s (%s) failed for good after %s attempts: %s", row.channel, row.id,
                      row.kind, row.attempts, error)
        else:
            log.warning("%s %s (%s) attempt %s failed, retry at %s: %s", row.channel, row.id,
                        row.kind, row.attempts, retry_at.isoformat(timespec="seconds"), error)
        return status

    # --- the loop ----------------------------------------------------------------------------

    async def process_batch(self) -> DrainResult:
        """Claim one batch and deal with every row of it: its mail on one SMTP connection,
        its SMS on one gateway client. A channel that cannot be reached delays only its own
        rows."""
        result = DrainResult()
        batch = await self.claim_batch()
        if not batch:
            return result
        self._held_until = self.clock() + self.claim
        for channel in sorted({row.channel for row in batch}):
            await self._send_channel(channel, [r for r in batch if r.channel == channel],
                                     result)
        return result

    def _open(self, channel: str) -> Any:
        if channel == "mail":
            return open_transport(self.settings)
        if channel == "sms":
            return open_sms_transport(self.settings)
        raise ValueError(f"unknown outbox channel {channel!r}")

    async def _send_one(self, transport: Any, row: Claimed) -> None:
        if row.channel == "sms":
            await transport.send(row.to_address, row.text_body, row.id, row.kind)
        else:
            await transport.send(build_message(row, self.settings), row.id, row.kind)

    async def _send_channel(self, channel: str, pending: list[Claimed],
                            result: DrainResult) -> None:
        margin = self.claim / 2
        try:
            transport = self._open(channel)
            await transport.__aenter__()
        except Exception as exc:  # noqa: BLE001 - every reason to not reach the server
            error = short_error(exc)
            for row in pending:
                result.count(row, await self._mark_failed(row, error))
            return
        try:
            while pending:
                if self.clock() > self._held_until - margin:
                    held = await self._renew([r.id for r in pending])
                    pending = [r for r in pending if r.id in held]
                    self._held_until = self.clock() + self.claim
                    if not pending:
                        break
                row = pending.pop(0)
                try:
                    await self._send_one(transport, row)
                except Exception as exc:  # noqa: BLE001 - recorded, retried
                    result.count(row, await self._mark_failed(row, short_error(exc)))
                    continue
                await self._mark_sent(row)
                result.count(row, "sent")
        finally:
            await transport.__aexit__(None, None, None)

    async def drain(self, max_batches: int | None = None) -> DrainResult:
        """Process batches until nothing is due (or `max_batches` were taken)."""
        total = DrainResult()
        batches = 0
        while max_batches is None or batches < max_batches:
            result = await self.process_batch()
            batches += 1
            if not result.handled:
                break
            total.add(result)
        return total
