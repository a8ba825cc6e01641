"""督办 with a frozen clock: issued, unanswered past its deadline escalated once, answered,
closed or re-issued; and 催办. Every time is passed explicitly, as the sweep takes it."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.clock import compute_deadline
from app.domain.types import Role
from app.models import Appeal, AppealEvent, OutboxMessage, SupervisionOrder
from app.schemas import staff
from app.schemas.base import parse
from app.services import supervision
from app.services import sweep as sla
from app.services.errors import ServiceError
from app.services.workflow import Actor
from tests.conftest import USE_PG, unique
from tests.factories import make_appeal, make_staff

DEPT = "990121-jiaoyu"  # 清河县教育局
DEPT_MAIL = "jiaoyu.990121@gov.example.cn"
# A Monday: three working days later is Thursday's end, local time.
AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ORDER = {"reason": "群众反映强烈，请加快办理并说明进展。", "days": 3}
ANSWER = {"answer": "已约谈学校负责人，周末补课已全部停止，收费将于本周内退还。"}


async def _supervised(rules, status: str = "accepted"):
    handler_mail = f"{unique('h')}@gov.example.cn"
    handler = await make_staff(Role.HANDLER, DEPT, email=handler_mail)
    inspector = await make_staff(Role.INSPECTOR, email=f"{unique('i')}@jiwei.example.cn")
    made = await make_appeal(status, DEPT, rules=rules, by=Actor.of(handler), region="990121",
                             type="consultation",
                             body="孩子所在学校周末强制补课还收费，家长很有意见，请教育局查一查。")
    appeal = await Appeal.get(id=made.appeal.id)
    order = await supervision.issue(rules, appeal, Actor.of(inspector),
                                    parse(staff.Supervise, ORDER), at=AT)
    return appeal, order, handler, inspector


def _kinds(appeal: Appeal):
    return AppealEvent.filter(appeal_id=appeal.id).order_by("id").values_list("kind", flat=True)


async def test_an_order_is_due_after_its_working_days_and_on_the_trail(database, rules):
    appeal, order, handler, _ = await _supervised(rules)
    assert order.status == "issued" and order.round == 1
    assert order.due_at == compute_deadline(AT, 3, rules.calendar).due_at
    assert (await _kinds(appeal))[-1] == "supervise"
    mails = await OutboxMessage.filter(dedupe_key__startswith=f"supervise:{order.id}:1") \
        .values_list("to_address", flat=True)
    assert {handler.email, DEPT_MAIL} <= set(mails)


async def test_unanswered_past_its_deadline_escalates_once(database, rules):
    appeal, order, handler, inspector = await _supervised(rules)
    await sla.sweep(now=order.due_at - timedelta(seconds=1))
    assert (await SupervisionOrder.get(id=order.id)).escalated_at is None

    late = order.due_at + timedelta(seconds=1)
    await sla.sweep(now=late)
    await sla.sweep(now=late + timedelta(hours=1))
    stored = await SupervisionOrder.get(id=order.id)
    assert stored.escalated_at == late and stored.status == "issued"
    assert (await _kinds(appeal)).count("supervision_escalate") == 1
    mails = await OutboxMessage.filter(dedupe_key__startswith=f"supervise-late:{order.id}:") \
        .values_list("to_address", flat=True)
    assert {handler.email, DEPT_MAIL, inspector.email} <= set(mails)
    assert len(mails) == len(set(mails))


async def test_answered_order_is_not_escalated_and_closes(database, rules):
    appeal, order, handler, inspector = await _supervised(rules)
    await supervision.answer(appeal, Actor.of(handler), parse(staff.SupervisionAnswer, ANSWER),
                             at=AT + timedelta(days=1))
    await sla.sweep(now=order.due_at + timedelta(days=1))
    stored = await SupervisionOrder.get(id=order.id)
    assert (stored.status, stored.escalated_at) == ("answered", None)
    assert stored.answer_text == ANSWER["answer"]

    await supervision.close(appeal, Actor.of(inspector), parse(staff.SupervisionClose, {}),
                            at=AT + timedelta(days=2))
    stored = await SupervisionOrder.get(id=order.id)
    assert stored.status == "closed" and stored.closed_at == AT + timedelta(days=2)
    assert (await _kinds(appeal))[-3:] == ["supervise", "supervision_answer",
                                            "supervision_close"]
    assert await supervision.open_order(appeal) is None


async def test_reissue_starts_a_new_round_that_escalates_again(database, rules):
    appeal, order, handler, inspector = await _supervised(rules)
    await sla.sweep(now=order.due_at + timedelta(seconds=1))  # round 1 escalates
    await supervision.answer(appeal, Actor.of(handler), parse(staff.SupervisionAnswer, ANSWER),
                             at=order.due_at + timedelta(hours=1))
    again = AT + timedelta(days=7)
    reissued = await supervision.reissue(
        rules, appeal, Actor.of(inspector),
        parse(staff.Supervise, {"reason": "反馈内容不具体，请说明退费的时间和金额。", "days": 2}),
        at=again)
    stored = await SupervisionOrder.get(id=order.id)
    assert (stored.status, stored.round, stored.escalated_at, stored.answer_text) == \
        ("issued", 2, None, "")
    assert stored.due_at == compute_deadline(again, 2, rules.calendar).due_at
    assert reissued.id == order.id
    await sla.sweep(now=stored.due_at + timedelta(seconds=1))
    assert (await _kinds(appeal)).count("supervision_escalate") == 2
    assert await OutboxMessage.filter(dedupe_key__startswith=f"supervise-late:{order.id}:2>",
                                      to_address=inspector.email).count() == 1


async def test_steps_out_of_order_are_refused_in_chinese(database, rules):
    appeal, order, handler, inspector = await _supervised(rules)
    with pytest.raises(ServiceError, match="已有未结束的督办"):
        await supervision.issue(rules, appeal, Actor.of(inspector),
                                parse(staff.Supervise, ORDER), at=AT)
    with pytest.raises(ServiceError, match="不能“结束督办”"):
        await supervision.close(appeal, Actor.of(inspector), parse(staff.SupervisionClose, {}))
    other = await make_staff(Role.HANDLER, "990121-weijian")
    with pytest.raises(ServiceError, match="不是交给本部门的"):
        await supervision.answer(appeal, Actor.of(other),
                                 parse(staff.SupervisionAnswer, ANSWER))
    assert (await SupervisionOrder.get(id=order.id)).status == "issued"


async def test_two_sweeps_at_once_escalate_once(database, rules):
    made = [await _supervised(rules) for _ in range(3)]
    late = max(order.due_at for _, order, _, _ in made) + timedelta(seconds=1)
    await asyncio.gather(sla.sweep(now=late), sla.sweep(now=late))
    for appeal, order, handler, _ in made:
        assert (await _kinds(appeal)).count("supervision_escalate") == 1
        assert await OutboxMessage.filter(dedupe_key__startswith=f"supervise-late:{order.id}:",
                                          to_address=handler.email).count() == 1


@pytest.mark.skipif(not USE_PG, reason="two machines against one PostgreSQL")
async def test_two_sweeps_on_separate_connections_escalate_once(database, rules):
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from app.db import tortoise_config

    made = [await _supervised(rules) for _ in range(3)]
    late = max(order.due_at for _, order, _, _ in made) + timedelta(seconds=1)

    async def other_machine():
        async with TortoiseContext():
            await Tortoise.init(config=tortoise_config(database))
            return await sla.sweep(now=late)

    reports = await asyncio.gather(sla.sweep(now=late), other_machine())
    assert sum(r.escalated for r in reports) >= len(made)
    for appeal, order, handler, _ in made:
        assert (await _kinds(appeal)).count("supervision_escalate") == 1
        assert await OutboxMessage.filter(dedupe_key__startswith=f"supervise-late:{order.id}:",
                                          to_address=handler.email).count() == 1


async def test_reminder_is_an_event_and_a_mail_without_the_residents_details(database, rules):
    handler_mail = f"{unique('h')}@gov.example.cn"
    handler = await make_staff(Role.HANDLER, DEPT, email=handler_mail)
    dispatcher = await make_staff(Role.DISPATCHER)
    made = await make_appeal("accepted", DEPT, rules=rules, by=Actor.of(handler),
                             region="990121", contact_name="李居民",
                             contact_phone="13900002222", contact_email="li.resident@example.cn")
    appeal = await Appeal.get(id=made.appeal.id)
    before = await OutboxMessage.all().order_by("-id").first()
    await supervision.remind(appeal, Actor.of(dispatcher),
                             parse(staff.Reminder, {"note": "请本周内答复。"}))
    assert (await _kinds(appeal))[-1] == "remind"
    mails = await OutboxMessage.filter(id__gt=before.id if before else 0, kind="reminder")
    assert {m.to_address for m in mails} >= {handler_mail, DEPT_MAIL}
    for mail in mails:
        body = mail.subject + mail.text_body + mail.html_body
        assert appeal.tracking_number in body and "请本周内答复。" in body
        for secret in ("李居民", "13900002222", "139****2222", "li.resident"):
            assert secret not in body


async def test_no_reminder_on_an_appeal_the_department_no_longer_holds(database, rules):
    made = await make_appeal("replied", DEPT, rules=rules, region="990121")
    with pytest.raises(ServiceError, match="不能执行“催办”"):
        await supervision.remind(made.appeal, Actor.of(await make_staff(Role.INSPECTOR)),
                                 parse(staff.Reminder, {}))


@pytest.mark.skipif(not USE_PG, reason="row locks are PostgreSQL's")
async def test_two_inspectors_issuing_at_once_make_one_order(database, rules):
    inspector = Actor.of(await make_staff(Role.INSPECTOR))
    made = await make_appeal("accepted", DEPT, rules=rules, region="990121")
    copies = [await Appeal.get(id=made.appeal.id) for _ in range(2)]
    form = parse(staff.Supervise, ORDER)
    results = await asyncio.gather(
        *[supervision.issue(rules, copy, inspector, form, at=AT) for copy in copies],
        return_exceptions=True)
    appeal = copies[0]
    assert sum(isinstance(r, SupervisionOrder) for r in results) == 1
    assert await SupervisionOrder.filter(appeal_id=appeal.id).count() == 1
