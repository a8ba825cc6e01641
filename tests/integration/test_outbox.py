"""The outbox table: enqueue in the caller's transaction, dedupe keys (also under
concurrency), staff notices per recipient, claiming rules. Real database, no SMTP here."""

import asyncio
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from tortoise.transactions import in_transaction

from app.models import Department, OutboxMessage
from app.notify import notices
from app.notify.outbox import enqueue, now_utc, render
from app.notify.worker import OutboxWorker, backoff
from tests.conftest import test_settings as settings_for
from tests.conftest import unique


def addr(tag: str = "o") -> str:
    return f"{unique(tag)}@example.test"


async def _enqueue(to: str, key: str | None = None, kind: str = "test") -> bool:
    async with in_transaction():
        return await enqueue(kind=kind, to=to, subject="测试邮件", text="正文", html="<p>正文</p>",
                             dedupe_key=key)


async def test_enqueue_writes_in_the_callers_transaction(database):
    kept, dropped = addr(), addr()
    assert await _enqueue(kept)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with in_transaction():
            assert await enqueue(kind="test", to=dropped, subject="s", text="t", html="h")
            raise Boom()
    assert await OutboxMessage.filter(to_address=kept).count() == 1
    assert await OutboxMessage.filter(to_address=dropped).count() == 0
    row = await OutboxMessage.get(to_address=kept)
    assert (row.status, row.attempts, row.dedupe_key, row.sent_at) == ("pending", 0, None, None)
    assert row.next_attempt_at <= now_utc()


async def test_same_dedupe_key_twice_stores_one_row(database):
    to, key = addr(), unique("warn:1:")
    assert await _enqueue(to, key) is True
    assert await _enqueue(to, key) is False
    assert await OutboxMessage.filter(dedupe_key=key).count() == 1


async def test_same_dedupe_key_concurrently_stores_one_row(database):
    key = unique("late:2:")
    results = await asyncio.gather(*(_enqueue(addr(), key) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert await OutboxMessage.filter(dedupe_key=key).count() == 1


async def test_rows_without_a_key_never_collide(database):
    to = addr()
    assert await _enqueue(to) and await _enqueue(to)
    assert await OutboxMessage.filter(to_address=to).count() == 2


async def test_staff_notice_goes_once_to_each_distinct_recipient(database):
    department = await Department.get(code="990100-zhujian")
    appeal = SimpleNamespace(tracking_number=unique("MS"), title="楼道灯坏了", type="complaint")
    handler = SimpleNamespace(email=addr("h"))
    head, inspector = addr("head"), addr("insp")
    people = [handler, head, head.upper(), inspector, "", SimpleNamespace(email=None)]
    due = now_utc() + timedelta(days=1)
    key = f"warn:{appeal.tracking_number}:{due.isoformat()}"
    async with in_transaction():
        assert await notices.deadline_warning(appeal, department, people, due, key) == 3
    async with in_transaction():  # the sweep again: nothing more
        assert await notices.deadline_warning(appeal, department, people, due, key) == 0
    rows = await OutboxMessage.filter(dedupe_key__startswith=key)
    assert sorted(r.to_address for r in rows) == sorted([handler.email, head, inspector])
    assert all(appeal.tracking_number in r.subject and "临近" in r.subject for r in rows)
    assert all(department.name in r.text_body for r in rows)


async def test_daily_digest_is_queued_once_a_day(database):
    department = SimpleNamespace(id=0, name="测试局", email=addr("dept"))
    item = SimpleNamespace(tracking_number="MS20260101-000001", title="路灯不亮",
                           reply_due_at=now_utc())
    day = date(2030, 1, 2)
    key = unique("digest-test:")
    async with in_transaction():
        assert await notices.daily_digest(department, [item], [], day, dedupe_key=key) == 1
        assert await notices.daily_digest(department, [item], [], day, dedupe_key=key) == 0
    row = await OutboxMessage.get(to_address=department.email)
    assert "即将到期 1 件" in row.subject and "已超期 0 件" in row.subject
    assert "MS20260101-000001" in row.text_body and "路灯不亮" in row.html_body


def test_render_escapes_html_keeps_text_and_subject_on_one_line():
    subject, text, html = render(
        "replied", name="", tracking_number="MS1\r\nBcc: x@evil.test", title="t",
        department="住建局", reply="<script>alert(1)</script>", replied_at=now_utc(),
        track_url="http://x/track")
    assert "\n" not in subject and "\r" not in subject
    assert "<script>" in text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_backoff_doubles_from_one_minute_and_stops_at_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == \
        [60, 120, 240, 480, 960, 1920, 3600, 3600]


async def test_claim_takes_due_and_expired_rows_never_sent_ones(database):
    ids = []
    for _ in range(4):
        to = addr("c")
        await _enqueue(to)
        ids.append((await OutboxMessage.get(to_address=to)).id)
    due, claimed_live, claimed_dead, sent = ids
    now = now_utc()
    await OutboxMessage.filter(id=claimed_live).update(
        status="sending", claimed_by="other", claimed_until=now + timedelta(minutes=5))
    await OutboxMessage.filter(id=claimed_dead).update(
        status="sending", claimed_by="other", claimed_until=now - timedelta(seconds=1))
    await OutboxMessage.filter(id=sent).update(status="sent", sent_at=now,
                                               claimed_until=now - timedelta(hours=1))
    worker = OutboxWorker(settings_for(database), only_ids=ids)
    got = sorted(c.id for c in await worker.claim_batch())
    assert got == sorted([due, claimed_dead])
    assert await worker.claim_batch() == []
    for row in await OutboxMessage.filter(id__in=got):
        assert (row.status, row.claimed_by, row.attempts) == ("sending", worker.worker_id, 1)
    assert (await OutboxMessage.get(id=sent)).status == "sent"


async def test_a_row_not_yet_due_is_not_claimed(database):
    to = addr("later")
    await _enqueue(to)
    row = await OutboxMessage.get(to_address=to)
    await OutboxMessage.filter(id=row.id).update(next_attempt_at=now_utc() + timedelta(minutes=1))
    assert await OutboxWorker(settings_for(database), only_ids=[row.id]).claim_batch() == []


async def test_batched_enqueue_writes_once_per_key_at_the_end_of_the_block(database):
    from app.notify.outbox import batched

    to = f"{unique('batch')}@example.test"
    key = unique("batch-key")
    async with in_transaction():
        async with batched() as batch:
            for _ in range(3):
                await enqueue(kind="test", to=to, subject="批量", text="t", html="h",
                              dedupe_key=key)
            await enqueue(kind="test", to=to, subject="批量", text="t", html="h")
            assert await OutboxMessage.filter(to_address=to).count() == 0  # not yet
        assert batch.inserted == 2
    assert await OutboxMessage.filter(to_address=to).count() == 2
