"""The idempotency record is written with the appeal or not at all: a failed first attempt
leaves no record and its retry goes through; a retry that waits on a first attempt still
in flight replays it (or is refused, for another body) and stores nothing of its own; the
worker purges records older than 24 hours."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.models import Appeal, IdempotencyRecord, OutboxMessage
from app.notify import notices, outbox
from app.services import idempotency, intake
from app.services.workflow import now_utc
from tests.conftest import GOOD_APPEAL, USE_PG, unique


def _render(receipt: intake.Receipt, password: str | None) -> dict:
    return {"tracking_number": receipt.appeal.tracking_number, "password": password}


def _submission(rules, title: str, email: str = "") -> intake.Submission:
    return intake.validate({**GOOD_APPEAL, "title": title, "contact_email": email}, rules)


def _claim(key: str, body: str = "body") -> idempotency.Claim:
    return idempotency.Claim("api", key, idempotency.fingerprint({"b": body}))


async def test_a_failed_first_attempt_leaves_no_record_and_the_retry_goes_through(
        database, rules, monkeypatch):
    title, address, key = unique("首次失败"), f"{unique('r')}@example.cn", unique("k")
    kept = notices.appeal_received

    async def broken_receipt(appeal):
        # text_body is NOT NULL: the database refuses this row, after the appeal's own rows.
        return await outbox.enqueue(kind="receipt", to=address, subject=title, text=None,
                                    html="<p></p>")

    monkeypatch.setattr(notices, "appeal_received", broken_receipt)
    with pytest.raises(IntegrityError):
        await idempotency.submit(rules, _submission(rules, title, address), claim=_claim(key),
                                 render=_render)
    assert not await Appeal.filter(title=title).exists()
    assert not await IdempotencyRecord.filter(key=key).exists()
    monkeypatch.setattr(notices, "appeal_received", kept)
    answer = await idempotency.submit(rules, _submission(rules, title, address),
                                      claim=_claim(key), render=_render)
    assert not answer.replayed and answer.body["password"]
    stored = await Appeal.get(title=title)
    assert (await IdempotencyRecord.get(key=key)).appeal_id == stored.id
    assert await OutboxMessage.filter(to_address=address).count() == 1


async def _hold(url: str, key: str, fingerprint: str, response: dict):
    """Insert the key's record in a transaction left open (on PostgreSQL on a connection of
    its own); returns (commit, rollback)."""
    if USE_PG:
        conn = await asyncpg.connect(url)
        held = conn.transaction()
        await held.start()
        await conn.execute(
            "INSERT INTO idempotency_record (scope, key, fingerprint, status_code, response, "
            "created_at) VALUES ('api', $1, $2, 201, $3, now())", key, fingerprint,
            json.dumps(response))

        async def end(commit: bool) -> None:
            await (held.commit() if commit else held.rollback())
            await conn.close()
        return end
    ready, done = asyncio.Event(), asyncio.Event()
    decision: list[bool] = []

    class RolledBack(Exception):
        pass

    async def holder() -> None:
        try:
            async with in_transaction():
                await IdempotencyRecord.create(scope="api", key=key, fingerprint=fingerprint,
                                               response=response, created_at=now_utc())
                ready.set()
                await done.wait()
                if not decision[0]:
                    raise RolledBack
        except RolledBack:
            pass

    task = asyncio.create_task(holder())
    await ready.wait()

    async def end(commit: bool) -> None:
        decision.append(commit)
        done.set()
        await task
    return end


async def _until_waiting(url: str, task: asyncio.Task) -> None:
    """Until the submission is blocked on the held key (PostgreSQL) or on the connection
    (SQLite: one writer at a time)."""
    if not USE_PG:
        await asyncio.sleep(0.3)
        return
    conn = await asyncpg.connect(url)
    try:
        for _ in range(400):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND wait_event = 'transactionid'")
            if waiting:
                return
            assert not task.done(), task
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise AssertionError("the submission never waited on the held key")


@pytest.mark.parametrize("same_body", [True, False])
async def test_a_retry_that_waits_on_the_first_replays_it_and_stores_nothing(
        database, rules, same_body):
    title, key = unique("等待首次"), unique("k")
    first = {"tracking_number": "MS20250101-000001", "password": None}
    end = await _hold(database, key, _claim(key).fingerprint, first)
    claim = _claim(key, "body" if same_body else "another body")
    retry = asyncio.create_task(idempotency.submit(
        rules, _submission(rules, title), claim=claim, render=_render))
    try:
        await _until_waiting(database, retry)
        assert not retry.done()
    finally:
        await end(True)
    if same_body:
        answer = await retry
        assert answer == idempotency.Answer(first, 201, True)
    else:
        with pytest.raises(idempotency.KeyReused):
            await retry
    assert not await Appeal.filter(title=title).exists()


async def test_a_retry_that_waits_on_a_first_that_rolls_back_goes_through(database, rules):
    title, key = unique("首次回滚"), unique("k")
    end = await _hold(database, key, _claim(key).fingerprint, {"tracking_number": "none"})
    retry = asyncio.create_task(idempotency.submit(
        rules, _submission(rules, title), claim=_claim(key), render=_render))
    try:
        await _until_waiting(database, retry)
    finally:
        await end(False)
    answer = await retry
    assert not answer.replayed and answer.body["password"]
    stored = await Appeal.get(title=title)
    assert answer.body["tracking_number"] == stored.tracking_number
    record = await IdempotencyRecord.get(key=key)
    assert record.appeal_id == stored.id
    assert record.response == {"tracking_number": stored.tracking_number, "password": None}


async def test_the_worker_purges_records_older_than_24_hours(database, rules):
    from app.notify.worker import OutboxWorker
    from app.worker import periodic_jobs, run_worker
    from tests.conftest import test_settings

    now = now_utc()
    old, young = unique("old"), unique("young")
    await IdempotencyRecord.create(scope="api", key=old, fingerprint="f",
                                   created_at=now - idempotency.WINDOW - timedelta(minutes=1))
    await IdempotencyRecord.create(scope="api", key=young, fingerprint="f",
                                   created_at=now - idempotency.WINDOW + timedelta(minutes=5))
    settings = test_settings(database)
    jobs = periodic_jobs(settings, rules)
    assert (idempotency.PURGE_SECONDS, idempotency.purge) in jobs
    await run_worker(settings, asyncio.Event(), jobs, once=True,
                     outbox=OutboxWorker(settings, only_ids=[]))
    assert not await IdempotencyRecord.filter(key=old).exists()
    assert await IdempotencyRecord.filter(key=young).exists()
    assert await idempotency.purge(at=now + timedelta(hours=1)) >= 1
    assert not await IdempotencyRecord.filter(key=young).exists()
