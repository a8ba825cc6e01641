"""The sweep warns before a deadline and escalates after it, each notice exactly once."""

import asyncio
from datetime import timedelta

import pytest

from app.domain.clock import to_local
from app.domain.types import Role
from app.models import Appeal, AppealEvent, OutboxMessage
from app.services import sweep as sla
from app.services.accounts import create_account
from app.services.workflow import Actor
from tests.conftest import USE_PG, unique
from tests.factories import make_appeal, make_staff

DEPT = "990121-jiaoyu"  # 清河县教育局


async def _appeal_with_handler(rules) -> tuple[Appeal, str]:
    email = f"{unique('h')}@gov.example.cn"
    handler = await make_staff(Role.HANDLER, DEPT, email=email)
    made = await make_appeal("accepted", DEPT, rules=rules, by=Actor.of(handler),
                             region="990121", type="consultation",
                             body="孩子所在学校周末强制补课还收费，家长很有意见，请教育局查一查。")
    return await Appeal.get(id=made.appeal.id), email


def _mine(appeal: Appeal, prefix: str):
    return OutboxMessage.filter(dedupe_key__startswith=f"{prefix}:{appeal.id}:")


async def test_warning_comes_one_second_after_its_time_and_only_once(database, rules):
    appeal, email = await _appeal_with_handler(rules)
    await sla.sweep(now=appeal.warn_at - timedelta(seconds=1))
    assert await _mine(appeal, "warn").count() == 0
    assert (await Appeal.get(id=appeal.id)).sla_state == "ok"

    await sla.sweep(now=appeal.warn_at + timedelta(seconds=1))
    rows = await _mine(appeal, "warn").values_list("to_address", flat=True)
    assert {email, "jiaoyu.990121@gov.example.cn"} <= set(rows)  # handlers and the head
    assert len(rows) == len(set(rows))
    assert (await Appeal.get(id=appeal.id)).sla_state == "warning"

    await sla.sweep(now=appeal.warn_at + timedelta(seconds=2))
    assert await _mine(appeal, "warn").count() == len(rows)
    assert await AppealEvent.filter(appeal_id=appeal.id, kind="sla_warning").count() == 1


async def test_overdue_reaches_the_inspectors_once(database, rules):
    inspector_mail = f"{unique('i')}@jiwei.example.cn"
    await create_account(unique("inspector"), "correct-horse-battery", Role.INSPECTOR,
                         email=inspector_mail)
    appeal, email = await _appeal_with_handler(rules)
    late = appeal.reply_due_at + timedelta(seconds=1)
    await sla.sweep(now=late)
    await sla.sweep(now=late + timedelta(minutes=5))
    rows = await _mine(appeal, "late").values_list("to_address", flat=True)
    assert {email, inspector_mail, "jiaoyu.990121@gov.example.cn"} <= set(rows)
    assert len(rows) == len(set(rows))
    assert (await Appeal.get(id=appeal.id)).sla_state == "overdue"
    assert await AppealEvent.filter(appeal_id=appeal.id, kind="sla_overdue").count() == 1


async def test_late_acknowledgement_is_reported_once(database, rules):
    appeal, email = await _appeal_with_handler(rules)
    await Appeal.filter(id=appeal.id).update(status="assigned", acknowledged_at=None)
    appeal = await Appeal.get(id=appeal.id)
    await sla.sweep(now=appeal.ack_due_at + timedelta(seconds=1))
    await sla.sweep(now=appeal.ack_due_at + timedelta(seconds=2))
    assert await _mine(appeal, "ack").filter(to_address=email).count() == 1
    assert (await Appeal.get(id=appeal.id)).ack_late


async def test_two_sweeps_at_once_queue_each_notice_once(database, rules):
    appeals = [await _appeal_with_handler(rules) for _ in range(5)]
    late = max(a.reply_due_at for a, _ in appeals) + timedelta(seconds=1)
    await asyncio.gather(sla.sweep(now=late), sla.sweep(now=late))
    for appeal, email in appeals:
        assert await _mine(appeal, "late").filter(to_address=email).count() == 1
        assert await AppealEvent.filter(appeal_id=appeal.id, kind="sla_overdue").count() == 1


async def test_daily_digest_is_queued_once_a_day(database, rules):
    appeal, _ = await _appeal_with_handler(rules)
    at = appeal.warn_at + timedelta(hours=9)  # 09:00 local on the warning day
    await sla.sweep(now=at)
    await sla.sweep(now=at + timedelta(minutes=1))
    day = to_local(at).date().isoformat()
    department = await appeal.department
    digests = OutboxMessage.filter(dedupe_key__startswith=f"digest:{department.id}:{day}")
    assert await digests.count() == 1


@pytest.mark.skipif(not USE_PG, reason="two machines against one PostgreSQL")
async def test_two_sweeps_on_separate_connections_split_the_work(database, rules):
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from app.db import tortoise_config

    appeals = [await _appeal_with_handler(rules) for _ in range(3)]
    late = max(a.reply_due_at for a, _ in appeals) + timedelta(seconds=1)

    async def other_machine():
        async with TortoiseContext():
            await Tortoise.init(config=tortoise_config(database))
            return await sla.sweep(now=late)

    await asyncio.gather(sla.sweep(now=late), other_machine())
    for appeal, email in appeals:
        assert await _mine(appeal, "late").filter(to_address=email).count() == 1


async def test_the_worker_runs_the_sweep(database, rules):
    from app.notify.worker import OutboxWorker
    from app.worker import periodic_jobs, run_worker
    from tests.conftest import test_settings

    appeal, _ = await _appeal_with_handler(rules)
    await Appeal.filter(id=appeal.id).update(reply_due_at=appeal.submitted_at,
                                             warn_at=appeal.submitted_at)
    settings = test_settings(database)
    quiet_outbox = OutboxWorker(settings, only_ids=[])  # sends nothing of other tests
    await run_worker(settings, asyncio.Event(), periodic_jobs(settings, rules), once=True,
                     outbox=quiet_outbox)
    assert (await Appeal.get(id=appeal.id)).sla_state == "overdue"
    assert await _mine(appeal, "late").count() >= 2
