"""SMS end to end through a real gateway on loopback: Kannel's bearerbox and smsbox with the
fake SMSC of kannel-extras (tests/sms_gateway.py). What reaches the SMSC, what waits while
the gateway is down, and that every text arrives exactly once after it returns — across a
worker restart (a fresh worker loop, and a new worker process) and with two workers on
PostgreSQL. Each test works on its own phone numbers and outbox rows."""

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from app.models import OutboxAttempt, OutboxMessage
from app.notify import notices
from app.notify.outbox import enqueue, now_utc
from app.notify.worker import OutboxWorker
from app.schemas import staff
from app.schemas.appeals import InfoSupplied
from app.schemas.base import parse
from app.services import clocks, handling, intake
from app.settings import ROOT
from app.worker import run_worker
from tests.conftest import GOOD_APPEAL, USE_PG, submit_appeal, unique
from tests.conftest import test_settings as settings_for
from tests.factories import handler_of
from tests.sms_gateway import SENDER, KannelGateway, missing


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    if reason := missing():
        pytest.skip(reason)
    kannel = KannelGateway(tmp_path_factory.mktemp("kannel"))
    kannel.start()
    yield kannel
    kannel.stop()


@pytest.fixture
def gateway_up(gateway):
    """The gateway running at the start and at the end of the test (whatever it stopped)."""
    if not gateway.processes:
        gateway.start()
    yield gateway
    if not gateway.processes:
        gateway.start()


@pytest.fixture
def sms_settings(database, gateway, tmp_path):
    return settings_for(database, MINSHENG_VAR_DIR=str(tmp_path), **gateway.settings_env())


class Clock:
    def __init__(self) -> None:
        self.now = now_utc()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def ours(caplog) -> list[logging.LogRecord]:
    """Our log lines and the HTTP client's (the ORM's debug lines show query parameters)."""
    return [r for r in caplog.records if r.name.split(".")[0] in {"minsheng", "httpx", "httpcore"}]


def mobile() -> str:
    return f"13{secrets.randbelow(10 ** 9):09d}"


async def sms_rows(to: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(to_address=to, channel="sms").order_by("id")


async def queue(to: str, kind: str = "test") -> int:
    async with in_transaction():
        await enqueue(kind=kind, to=to, subject="", text=f"【民声】测试短信 {unique('t')}",
                      html="", channel="sms")
    return (await OutboxMessage.filter(to_address=to).order_by("-id").first()).id


async def submitted(rules, phone: str, **fields) -> intake.Receipt:
    form = {**GOOD_APPEAL, "region": "990222", "title": unique("短信"), "contact_phone": phone,
            "contact_email": "", **fields}
    return await intake.submit(rules, intake.validate(form, rules))


# --- the three notices, through the gateway ----------------------------------------------


async def test_receipt_info_request_and_reply_reach_the_sms_centre(
        database, rules, client, gateway_up, sms_settings):
    phone = mobile()
    receipt = await submit_appeal(client, region="990222", contact_phone=f"+86 {phone}",
                                  contact_email="")
    number, track = receipt["number"], notices.track_url()
    [row] = await sms_rows(phone)
    assert (row.kind, row.status, row.subject, row.html_body) == ("receipt", "pending", "", "")

    assert (await OutboxWorker(sms_settings, only_ids=[row.id]).drain()).sent == 1
    [text] = await gateway_up.wait_for(phone, 1)
    assert text == (f"【民声】您的诉求已受理，受理编号{number}，查询用户名{receipt['username']}"
                    f"（密码不随短信发送）。查询进度：{track}")
    assert receipt["password"] not in text
    assert {p.sender for p in gateway_up.received() if p.to == phone} == {SENDER}
    row = await OutboxMessage.get(id=row.id)
    assert (row.status, row.attempts, row.claimed_by, row.last_error) == ("sent", 1, None, "")

    from app.models import Appeal

    appeal = await Appeal.get(tracking_number=number)
    actor = await handler_of("990222-zhujian")
    await handling.acknowledge(appeal, actor)
    question = "请提供电梯停运期间的照片，身份证号110101199003071234仅供核实。"
    await clocks.ask_info(appeal, actor, parse(staff.AskInfo, {"question": question}))
    await clocks.supply_info(rules, appeal, parse(InfoSupplied, {"text": "照片已经拍好，请查收。"}))
    await handling.reply(appeal, actor, parse(staff.Reply, {"reply": "经核查，电梯已修复。"}))
    rows = await sms_rows(phone)
    assert [r.kind for r in rows] == ["receipt", "info_requested", "replied"]

    assert (await OutboxWorker(sms_settings, only_ids=[r.id for r in rows]).drain()).sent == 2
    texts = await gateway_up.wait_for(phone, 3)
    assert texts[1:] == [f"【民声】诉求{number}需您补充材料，请登录查看：{track}",
                         f"【民声】诉求{number}已答复，查看及评价：{track}"]
    assert all("110101199003071234" not in t and "电梯" not in t for t in texts)


async def test_phone_and_mail_both_notified_landline_gets_no_sms(database, rules):
    phone, email = mobile(), f"{unique('both')}@example.test"
    await submitted(rules, phone, contact_email=email)
    assert [r.kind for r in await sms_rows(phone)] == ["receipt"]
    assert await OutboxMessage.filter(to_address=email, channel="mail").count() == 1

    landline = f"0571-{secrets.randbelow(10 ** 8):08d}"
    await submitted(rules, landline)
    assert await OutboxMessage.filter(to_address__contains=landline[-8:]).count() == 0


async def test_the_receipt_is_queued_once_per_appeal(database, rules):
    phone = mobile()
    made = await submitted(rules, phone)
    async with in_transaction():
        assert await notices.appeal_received(made.appeal) is False  # no mail address either
    assert len(await sms_rows(phone)) == 1


# --- outages, retries, restarts ------------------------------------------------------------


async def test_outage_waits_with_backoff_then_each_arrives_once_after_restart(
        database, rules, gateway_up, sms_settings):
    phones = [mobile() for _ in range(5)]
    for phone in phones:
        await submitted(rules, phone)
    ids = [r.id for phone in phones for r in await sms_rows(phone)]
    assert len(ids) == 5
    clock = Clock()
    gateway_up.stop()

    first = OutboxWorker(sms_settings, only_ids=ids, clock=clock, batch_size=2)
    result = await first.drain()
    assert (result.sent, result.retrying, result.failed) == (0, 5, 0)
    for row in await OutboxMessage.filter(id__in=ids):
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
        assert row.next_attempt_at == clock.now + timedelta(minutes=1)
        assert row.last_error.startswith("SmsGatewayError: ConnectError")
        assert row.to_address not in row.last_error
    assert (await first.drain()).handled == 0  # not due yet: the gateway is not hammered

    clock.advance(seconds=61)
    assert (await first.drain()).retrying == 5
    for row in await OutboxMessage.filter(id__in=ids):
        assert (row.status, row.attempts) == ("pending", 2)
        assert row.next_attempt_at == clock.now + timedelta(minutes=2)

    # A worker claims a batch and dies before sending: its rows stay `sending`.
    clock.advance(minutes=3)
    dying = OutboxWorker(sms_settings, only_ids=ids, clock=clock, batch_size=3)
    orphaned = {c.id for c in await dying.claim_batch()}
    assert len(orphaned) == 3

    gateway_up.start()
    second = OutboxWorker(sms_settings, only_ids=ids, clock=clock)  # the restarted worker
    result = await second.drain()
    assert set(result.ids) == set(ids) - orphaned
    clock.advance(minutes=6)  # the dead worker's claim expires
    result = await second.drain()
    assert set(result.ids) == orphaned and result.sent == 3
    clock.advance(days=2)
    assert (await second.drain()).handled == 0  # nothing is ever sent twice

    for phone in phones:
        assert len(await gateway_up.wait_for(phone, 1)) == 1
    await asyncio.sleep(1)  # anything sent twice would have arrived by now
    for phone in phones:
        assert len(gateway_up.texts_to(phone)) == 1
    for row in await OutboxMessage.filter(id__in=ids):
        attempts = await OutboxAttempt.filter(message_id=row.id).order_by("id")
        assert row.status == "sent"
        assert [a.ok for a in attempts] == [False, False, True]


async def test_worker_loop_restarted_during_an_outage_sends_each_once(
        database, gateway_up, sms_settings):
    phones = [mobile() for _ in range(3)]
    ids = [await queue(phone) for phone in phones]
    gateway_up.stop()

    async def loop_once_and_stop() -> None:
        stop = asyncio.Event()
        worker = OutboxWorker(sms_settings, only_ids=ids, base_delay=0.2, max_delay=0.2)
        task = asyncio.create_task(run_worker(sms_settings, stop, poll_seconds=0.05,
                                              outbox=worker))
        await asyncio.sleep(0.6)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    await loop_once_and_stop()  # the gateway is down the whole time
    rows = await OutboxMessage.filter(id__in=ids)
    assert all(r.status == "pending" and r.attempts >= 2 for r in rows)

    gateway_up.start()
    stop = asyncio.Event()
    fresh = OutboxWorker(sms_settings, only_ids=ids)
    task = asyncio.create_task(run_worker(sms_settings, stop, poll_seconds=0.05, outbox=fresh))
    for phone in phones:
        assert len(await gateway_up.wait_for(phone, 1)) == 1
    await asyncio.sleep(0.5)
    stop.set()
    result = await asyncio.wait_for(task, timeout=10)
    assert result.sent == 3
    assert all(len(gateway_up.texts_to(p)) == 1 for p in phones)
    assert await OutboxMessage.filter(id__in=ids, status="sent").count() == 3


DRAIN_IN_A_NEW_PROCESS = """
import asyncio, json, sys
from datetime import timedelta
from app import db
from app.notify.outbox import now_utc
from app.notify.worker import OutboxWorker
from app.settings import Settings

async def main(ids, ahead):
    settings = Settings.from_env()
    await db.connect(settings.database_url)
    try:
        worker = OutboxWorker(settings, only_ids=ids,
                              clock=lambda: now_utc() + timedelta(seconds=ahead))
        result = await worker.drain()
    finally:
        await db.disconnect()
    print(json.dumps({"sent": result.sent, "retrying": result.retrying, "ids": result.ids}))

asyncio.run(main(json.loads(sys.argv[1]), float(sys.argv[2])))
"""


def drain_in_a_new_process(settings, ids: list[int], ahead: float = 0.0) -> dict:
    env = {**os.environ, "MINSHENG_DEV": "1", "DATABASE_URL": settings.database_url,
           "MINSHENG_VAR_DIR": str(settings.var_dir), "SMS_KANNEL_URL": settings.sms_kannel_url,
           "SMS_USER": settings.sms_user, "SMS_PASSWORD": settings.sms_password,
           "SMS_FROM": settings.sms_from}
    done = subprocess.run([sys.executable, "-c", DRAIN_IN_A_NEW_PROCESS, json.dumps(ids),
                           str(ahead)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_a_new_worker_process_after_the_outage_sends_each_once(
        database, gateway_up, sms_settings):
    phones = [mobile() for _ in range(3)]
    ids = [await queue(phone) for phone in phones]
    gateway_up.stop()
    first = await asyncio.to_thread(drain_in_a_new_process, sms_settings, ids)
    assert (first["sent"], first["retrying"]) == (0, 3)
    gateway_up.start()
    # A process started now finds nothing due yet: the back-off is kept across processes.
    assert (await asyncio.to_thread(drain_in_a_new_process, sms_settings, ids))["ids"] == []
    second = await asyncio.to_thread(drain_in_a_new_process, sms_settings, ids, 61)
    assert sorted(second["ids"]) == sorted(ids) and second["sent"] == 3
    again = await asyncio.to_thread(drain_in_a_new_process, sms_settings, ids, 86400)
    assert again["ids"] == []
    for phone in phones:
        assert len(await gateway_up.wait_for(phone, 1)) == 1
    await asyncio.sleep(0.5)
    assert all(len(gateway_up.texts_to(p)) == 1 for p in phones)


async def test_a_refusing_gateway_is_retried_not_failed_early(database, gateway_up,
                                                              sms_settings):
    import dataclasses

    phone = mobile()
    row_id = await queue(phone)
    wrong = dataclasses.replace(sms_settings, sms_password="not-the-password")
    clock = Clock()
    worker = OutboxWorker(wrong, only_ids=[row_id], clock=clock, max_attempts=24)
    for _ in range(5):
        assert (await worker.drain()).retrying == 1
        clock.advance(hours=1)
    row = await OutboxMessage.get(id=row_id)
    assert (row.status, row.attempts) == ("pending", 5)
    assert row.last_error == "SmsGatewayError: HTTP 403: Authorization failed for sendsms"
    assert "not-the-password" not in row.last_error
    assert (await OutboxWorker(sms_settings, only_ids=[row_id], clock=clock).drain()).sent == 1
    assert len(await gateway_up.wait_for(phone, 1)) == 1


async def test_an_sms_outage_does_not_hold_back_mail(database, gateway_up, sms_settings):
    phone, email = mobile(), f"{unique('mix')}@example.test"
    sms_id = await queue(phone)
    async with in_transaction():
        await enqueue(kind="test", to=email, subject="【民声】测试", text="正文", html="<p>正文</p>")
    mail_id = (await OutboxMessage.get(to_address=email)).id
    gateway_up.stop()
    result = await OutboxWorker(sms_settings, only_ids=[sms_id, mail_id]).drain()
    assert (result.sent, result.retrying) == (1, 1)
    assert (await OutboxMessage.get(id=mail_id)).status == "sent"  # written to var/mail
    assert (await OutboxMessage.get(id=sms_id)).status == "pending"


async def test_no_gateway_writes_txt_files_and_logs_no_number(database, rules, tmp_path, caplog):
    settings = settings_for(database, MINSHENG_VAR_DIR=str(tmp_path), SMS_KANNEL_URL="")
    phone = mobile()
    made = await submitted(rules, phone)
    ids = [r.id for r in await sms_rows(phone)]
    with caplog.at_level(logging.DEBUG):
        assert (await OutboxWorker(settings, only_ids=ids).drain()).sent == 1
    records = ours(caplog)
    [path] = (tmp_path / "sms").glob("*.txt")
    written = path.read_text(encoding="utf-8")
    assert f"To: {phone}" in written and made.appeal.tracking_number in written
    assert made.password not in written
    assert records and all(phone not in r.getMessage() for r in records)
    assert all("民声" not in r.getMessage() for r in records)


async def test_gateway_logs_carry_no_number_or_text(database, gateway_up, sms_settings, caplog):
    phone = mobile()
    row_id = await queue(phone)
    with caplog.at_level(logging.DEBUG):
        assert (await OutboxWorker(sms_settings, only_ids=[row_id]).drain()).sent == 1
    records = ours(caplog)
    assert {r.name for r in records} >= {"minsheng.sms", "httpx"}
    for record in records:
        assert phone not in record.getMessage() and "测试短信" not in record.getMessage()


# --- PostgreSQL: many workers -------------------------------------------------------------

pg_only = pytest.mark.skipif(not USE_PG, reason="SKIP LOCKED claiming is PostgreSQL's")


@pg_only
async def test_two_workers_draining_at_once_send_each_text_once(database, gateway_up,
                                                                sms_settings):
    phones = [mobile() for _ in range(30)]
    ids = [await queue(phone) for phone in phones]
    workers = [OutboxWorker(sms_settings, only_ids=ids, batch_size=4) for _ in range(2)]
    results = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(r.sent for r in results) == 30
    assert set(results[0].ids).isdisjoint(results[1].ids)
    for phone in phones:
        assert len(await gateway_up.wait_for(phone, 1)) == 1
    await asyncio.sleep(0.5)
    assert all(len(gateway_up.texts_to(p)) == 1 for p in phones)
