"""Mail end to end with a real SMTP server (aiosmtpd on loopback): what arrives, what waits
during an outage, and that every notice arrives exactly once — across a worker restart and
with two workers on PostgreSQL. Each test works on its own recipients and outbox rows."""

import asyncio
import email
import logging
import socket
import threading
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from tortoise.transactions import in_transaction

from app.domain.types import Role
from app.models import Account, Appeal, OutboxAttempt, OutboxMessage
from app.notify import notices
from app.notify.outbox import enqueue, now_utc
from app.notify.worker import OutboxWorker
from app.schemas import staff
from app.schemas.base import parse
from app.services import handling, intake
from app.services.errors import Conflict
from app.services.workflow import Actor
from app.worker import run_worker
from tests.conftest import (
    GOOD_APPEAL,
    USE_PG,
    login,
    make_staff,
    post_form,
    submit_appeal,
    unique,
)
from tests.conftest import test_settings as settings_for

# --- a real SMTP server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """aiosmtpd in its own thread; keeps every message it accepted, raw and parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                 or envelope.content)))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def raw_to(self, address: str) -> list[bytes]:
        with self.lock:
            return [raw for rcpts, raw in self.received if address in rcpts]

    def to(self, address: str) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=default_policy)
                for raw in self.raw_to(address)]


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_settings(database, smtp):
    return settings_for(database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                        SMTP_TLS="none", SMTP_FROM="民声平台 <noreply@minsheng.example>")


class Clock:
    def __init__(self) -> None:
        self.now = now_utc()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def address(tag: str = "r") -> str:
    return f"{unique(tag)}@example.test"


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def header(message: EmailMessage, name: str) -> str:
    return str(make_header(decode_header(message[name])))


async def rows_to(to: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(to_address=to).order_by("id")


async def queue(to: str, subject: str = "【民声】测试通知", kind: str = "test") -> int:
    async with in_transaction():
        await enqueue(kind=kind, to=to, subject=subject, text=f"您好，{to}。",
                      html=f"<p>您好，{to}。</p>")
    return (await OutboxMessage.filter(to_address=to).order_by("-id").first()).id


# --- resident notices through the app --------------------------------------------------


async def test_receipt_mail_has_the_tracking_number_and_never_the_password(
        database, client, mail_settings, smtp):
    to = address("receipt")
    receipt = await submit_appeal(client, contact_email=to)
    [row] = await rows_to(to)
    assert row.kind == "receipt" and row.status == "pending"

    result = await OutboxWorker(mail_settings, only_ids=[row.id]).drain()
    assert result.sent == 1

    [raw] = smtp.raw_to(to)
    [message] = smtp.to(to)
    text, html = parts(message)
    for body in (text, html):
        assert receipt["number"] in body
        assert "/track" in body
    assert receipt["password"] not in raw.decode("ascii", "replace")
    assert receipt["password"] not in text and receipt["password"] not in html
    assert "不包含密码" in text
    assert header(message, "Subject") == f"【民声】您的诉求已收到（受理编号 {receipt['number']}）"
    row = await OutboxMessage.get(id=row.id)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)
    assert row.sent_at is not None
    assert [a.ok for a in await OutboxAttempt.filter(message_id=row.id)] == [True]


async def test_reply_notice_arrives_after_the_handler_replies(
        database, new_client, mail_settings, smtp):
    resident, handler = new_client(), new_client()
    to = address("reply")
    receipt = await submit_appeal(resident, region="990222", contact_email=to)
    number = receipt["number"]
    await login(handler, await make_staff(Role.HANDLER, "990222-zhujian"))
    page = f"/staff/appeals/{number}"
    assert (await post_form(handler, f"{page}/acknowledge", {}, page)).status_code == 303
    reply_text = "经核查，物业已于本周修复电梯，并承诺每月检修一次。"
    assert (await post_form(handler, f"{page}/reply", {"reply": reply_text}, page)) \
        .status_code == 303

    rows = await rows_to(to)
    assert [r.kind for r in rows] == ["receipt", "replied"]
    await OutboxWorker(mail_settings, only_ids=[r.id for r in rows]).drain()

    messages = {header(m, "Subject"): m for m in smtp.to(to)}
    assert len(messages) == 2
    replied = messages[f"【民声】您的诉求已有答复（受理编号 {number}）"]
    text, html = parts(replied)
    assert reply_text in text and reply_text in html
    assert "白石县住房和城乡建设局" in text
    assert receipt["password"] not in text


async def test_a_reply_that_fails_queues_no_notice(database, rules):
    to = address("conflict")
    sub = intake.validate({**GOOD_APPEAL, "title": unique("冲突"), "contact_email": to}, rules)
    appeal = (await intake.submit(rules, sub)).appeal
    actor = Actor.of(await Account.get(username=await make_staff(Role.HANDLER, "990100-zhujian")))
    await handling.acknowledge(appeal, actor)
    stale = await Appeal.get(id=appeal.id)
    await handling.reply(appeal, actor, parse(staff.Reply, {"reply": "这是第一份答复，内容足够长。"}))
    stale.status = "accepted"
    with pytest.raises(Conflict):
        await handling.reply(stale, actor, parse(staff.Reply, {"reply": "这是第二份答复，不应发出通知。"}))
    assert [r.kind for r in await rows_to(to)] == ["receipt", "replied"]


async def test_verification_reset_and_info_request_mails_arrive(database, rules, mail_settings,
                                                                smtp):
    to = address("acct")
    sub = intake.validate({**GOOD_APPEAL, "title": unique("补充"), "contact_email": to}, rules)
    appeal = (await intake.submit(rules, sub)).appeal
    verify = "https://minsheng.example/verify?token=abc123&u=7"
    reset = "https://minsheng.example/reset?token=def456"
    question = "请提供电梯停运期间的照片，以及物业的书面答复。"
    async with in_transaction():
        assert await notices.verification(to, verify, name="王五")
        assert await notices.password_reset(to, reset, tracking_number=appeal.tracking_number)
        assert await notices.info_requested(appeal, question)
    ids = [r.id for r in await rows_to(to)]
    assert (await OutboxWorker(mail_settings, only_ids=ids).drain()).sent == 4

    got = {header(m, "Subject"): parts(m) for m in smtp.to(to)}
    text, html = got["【民声】请验证您的电子邮箱"]
    assert verify in text and "王五" in text
    assert 'href="https://minsheng.example/verify?token=abc123&amp;u=7"' in html
    text, html = got["【民声】重置密码"]
    assert reset in text and appeal.tracking_number in text and reset in html
    text, html = got[f"【民声】办理部门请您补充材料（受理编号 {appeal.tracking_number}）"]
    assert question in text and question in html


# --- headers ---------------------------------------------------------------------------


async def test_headers_are_encoded_and_decode_to_chinese(database, mail_settings, smtp):
    to = address("hdr")
    subject = "【民声】您的诉求已有答复（受理编号 MS20260101-000001）"
    row_id = await queue(to, subject)
    await OutboxWorker(mail_settings, only_ids=[row_id]).drain()
    [raw] = smtp.raw_to(to)
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    head.decode("ascii")  # RFC 2047: no raw UTF-8 in the header block
    message = email.message_from_bytes(raw, policy=default_policy)
    assert header(message, "Subject") == subject
    assert header(message, "From") == "民声平台 <noreply@minsheng.example>"
    assert message["To"] == to
    assert message["Message-ID"] == f"<outbox-{row_id}@minsheng.example>"
    assert message.get_content_type() == "multipart/alternative"
    kinds = [(p.get_content_type(), p.get_content_charset()) for p in message.iter_parts()]
    assert kinds == [("text/plain", "utf-8"), ("text/html", "utf-8")]
    text, html = parts(message)
    assert f"您好，{to}。" in text and f"<p>您好，{to}。</p>" in html


# --- outages, retries, restarts ----------------------------------------------------------


async def test_outage_waits_with_backoff_then_each_arrives_exactly_once_after_restart(
        database, mail_settings, smtp):
    recipients = [address("outage") for _ in range(5)]
    ids = [await queue(to) for to in recipients]
    clock = Clock()
    smtp.stop()
    try:
        first = OutboxWorker(mail_settings, only_ids=ids, clock=clock, batch_size=2)
        result = await first.drain()
        assert (result.sent, result.retrying) == (0, 5)
        for row in await OutboxMessage.filter(id__in=ids):
            assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
            assert row.next_attempt_at == clock.now + timedelta(minutes=1)
            assert row.last_error.startswith("SMTPConnect")
            assert "您好" not in row.last_error
        assert (await first.drain()).handled == 0  # not due yet: nothing is hammered

        clock.advance(seconds=61)
        assert (await first.drain()).retrying == 5
        for row in await OutboxMessage.filter(id__in=ids):
            assert row.attempts == 2
            assert row.next_attempt_at == clock.now + timedelta(minutes=2)

        # A worker claims a batch and dies before sending: its rows stay `sending`.
        clock.advance(minutes=3)
        dying = OutboxWorker(mail_settings, only_ids=ids, clock=clock, batch_size=3)
        orphaned = {c.id for c in await dying.claim_batch()}
        assert len(orphaned) == 3
    finally:
        smtp.start()

    # A new worker (the restart). The orphans are still claimed: it takes the others only.
    second = OutboxWorker(mail_settings, only_ids=ids, clock=clock)
    assert second.worker_id != dying.worker_id
    result = await second.drain()
    assert set(result.ids) == set(ids) - orphaned
    clock.advance(minutes=6)  # the dead worker's claim expires
    result = await second.drain()
    assert set(result.ids) == orphaned and result.sent == 3
    clock.advance(days=2)
    assert (await second.drain()).handled == 0  # nothing is ever sent twice

    for to in recipients:
        assert len(smtp.raw_to(to)) == 1
    for row in await OutboxMessage.filter(id__in=ids):
        assert row.status == "sent" and row.last_error == ""
        attempts = await OutboxAttempt.filter(message_id=row.id).order_by("id")
        assert [a.ok for a in attempts] == [False, False, True]
        assert all(a.error.startswith("SMTPConnect") for a in attempts[:2])


async def test_after_max_attempts_a_row_fails_and_says_why(database, mail_settings, smtp):
    to = address("fail")
    row_id = await queue(to)
    clock = Clock()
    smtp.stop()
    try:
        worker = OutboxWorker(mail_settings, only_ids=[row_id], clock=clock, max_attempts=3)
        outcomes = []
        for _ in range(3):
            result = await worker.drain()
            outcomes.append((result.retrying, result.failed))
            clock.advance(hours=2)
        assert outcomes == [(1, 0), (1, 0), (0, 1)]
        assert (await worker.drain()).handled == 0
    finally:
        smtp.start()
    row = await OutboxMessage.get(id=row_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert 0 < len(row.last_error) <= 300
    assert await OutboxAttempt.filter(message_id=row_id, ok=False).count() == 3
    assert smtp.raw_to(to) == []


async def test_no_smtp_host_writes_eml_files_and_logs_no_address(database, tmp_path, caplog):
    settings = settings_for(database, MINSHENG_VAR_DIR=str(tmp_path), SMTP_HOST="")
    to = address("file")
    row_id = await queue(to)
    with caplog.at_level(logging.INFO, logger="minsheng.mail"):
        assert (await OutboxWorker(settings, only_ids=[row_id]).drain()).sent == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["To"] == to and header(message, "Subject") == "【民声】测试通知"
    assert caplog.records and all(to not in r.getMessage() for r in caplog.records)
    assert all("您好" not in r.getMessage() for r in caplog.records)


async def test_run_worker_sends_runs_periodic_jobs_and_stops(database, mail_settings, smtp):
    to = address("loop")
    ids = [await queue(to)]
    calls: list[str] = []

    async def sweep():
        calls.append("sweep")

    async def broken():
        raise RuntimeError("a job that fails must not stop the worker")

    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(
        mail_settings, stop, [(0.05, sweep), (0.05, broken)], poll_seconds=0.01,
        outbox=OutboxWorker(mail_settings, only_ids=ids)))
    for _ in range(500):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    result = await asyncio.wait_for(task, timeout=5)
    assert len(calls) >= 3
    assert result.sent == 1 and len(smtp.raw_to(to)) == 1


# --- PostgreSQL: many workers -------------------------------------------------------------

pg_only = pytest.mark.skipif(not USE_PG, reason="SKIP LOCKED claiming is PostgreSQL's")


@pg_only
async def test_two_workers_draining_at_once_send_each_message_once(
        database, mail_settings, smtp):
    recipients = [address("pair") for _ in range(60)]
    ids = [await queue(to) for to in recipients]
    workers = [OutboxWorker(mail_settings, only_ids=ids, batch_size=4) for _ in range(2)]
    results = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(r.sent for r in results) == 60
    assert set(results[0].ids).isdisjoint(results[1].ids)
    for to in recipients:
        assert len(smtp.raw_to(to)) == 1
    assert await OutboxMessage.filter(id__in=ids, status="sent").count() == 60
    assert await OutboxAttempt.filter(message_id__in=ids).count() == 60


@pg_only
async def test_claim_skips_rows_another_worker_holds_locked(database, mail_settings):
    import asyncpg

    ids = [await queue(address("lock")) for _ in range(4)]
    held, free = ids[:2], ids[2:]
    other = await asyncpg.connect(database)
    try:
        async with other.transaction():
            await other.execute(
                "SELECT id FROM outbox_message WHERE id = ANY($1::bigint[]) FOR UPDATE", held)
            worker = OutboxWorker(mail_settings, only_ids=ids)
            claimed = await asyncio.wait_for(worker.claim_batch(), timeout=5)  # no waiting
            assert sorted(c.id for c in claimed) == free
    finally:
        await other.close()


async def test_sweep_during_a_mail_outage_loses_nothing(database, rules, mail_settings, smtp):
    from app.services import sweep as sla
    from tests.integration.test_sweep import _appeal_with_handler

    appeal, handler_mail = await _appeal_with_handler(rules)
    late = appeal.reply_due_at + timedelta(seconds=1)
    smtp.stop()
    try:
        await sla.sweep(now=late)
        ids = list(await OutboxMessage.filter(dedupe_key__startswith=f"late:{appeal.id}:")
                   .values_list("id", flat=True))
        assert ids
        clock = Clock()
        worker = OutboxWorker(mail_settings, only_ids=ids, clock=clock)
        assert (await worker.drain()).sent == 0
        await sla.sweep(now=late + timedelta(minutes=3))  # the next sweep, still down
    finally:
        smtp.start()
    clock.advance(minutes=2)
    assert (await worker.drain()).sent == len(ids)
    assert len(smtp.raw_to(handler_mail)) == 1
    assert await OutboxMessage.filter(dedupe_key__startswith=f"late:{appeal.id}:").count() \
        == len(ids)
