"""An appeal's life ends: 不予受理 with a reason, 评价期满自动办结 once, a second 不满意 as
what it is, and every reply kept."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.states import Event
from app.models import Appeal, AppealEvent, AppealReply, OutboxMessage
from app.schemas import appeals, staff
from app.schemas.base import parse
from app.services import clocks, handling, triage
from app.services import sweep as sla
from app.services.errors import ServiceError
from tests.conftest import USE_PG, unique
from tests.factories import OWN, REPLY, SECOND_REPLY, dispatcher, handler_of, make_appeal


def _mail() -> str:
    return f"{unique('r')}@example.cn"


async def _kinds(appeal: Appeal) -> list[str]:
    return await AppealEvent.filter(appeal_id=appeal.id).order_by("id") \
        .values_list("kind", flat=True)


# --- 不予受理 -------------------------------------------------------------------------------

async def test_dispatcher_rejects_from_triage_with_a_reason_the_resident_is_mailed(
        database, rules):
    email = _mail()
    appeal = (await make_appeal("triage", rules=rules, contact_email=email)).appeal
    await triage.reject(appeal, await dispatcher(), parse(staff.Reject, {
        "reason": "other_channel", "explanation": "该纠纷已由法院立案审理。"}))

    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "rejected" and stored.closed_at is not None
    event = await AppealEvent.get(appeal_id=appeal.id, kind="reject")
    assert event.public and event.data == {"reason": "other_channel",
                                           "explanation": "该纠纷已由法院立案审理。"}
    found = await triage.rejection(stored)
    assert found["label"] == triage.REJECT_REASONS["other_channel"]
    assert found["explanation"] == "该纠纷已由法院立案审理。"
    mail = await OutboxMessage.get(to_address=email, kind="rejected")
    assert "不予受理" in mail.subject
    assert triage.REJECT_REASONS["other_channel"] in mail.text_body
    assert "该纠纷已由法院立案审理。" in mail.text_body


@pytest.mark.parametrize(("reason", "explanation", "field"), [
    ("", "", "reason"),
    ("spam", "", "reason"),
    ("other", "", "explanation"),
    ("other", "不行", "explanation"),
    ("duplicate", "长" * 2001, "explanation"),
])
async def test_a_rejection_without_a_proper_reason_is_refused_and_changes_nothing(
        database, rules, reason, explanation, field):
    appeal = (await make_appeal("triage", rules=rules)).appeal
    before = await _kinds(appeal)
    with pytest.raises(ServiceError) as caught:
        await triage.reject(appeal, await dispatcher(),
                            parse(staff.Reject, {"reason": reason, "explanation": explanation}))
    assert caught.value.field == field
    assert (await Appeal.get(id=appeal.id)).status == "triage"
    assert await _kinds(appeal) == before


async def test_only_an_appeal_in_triage_can_be_rejected(database, rules):
    appeal = (await make_appeal("accepted", OWN, rules=rules)).appeal
    with pytest.raises(ServiceError) as caught:
        await triage.reject(appeal, await dispatcher(),
            parse(staff.Reject, {"reason": "out_of_scope"}))
    assert "不能执行" in caught.value.message
    assert (await Appeal.get(id=appeal.id)).status == "accepted"


# --- 评价期满自动办结 ---------------------------------------------------------------------------

async def test_an_unrated_reply_closes_when_its_window_ends_and_not_a_second_before(
        database, rules):
    appeal = (await make_appeal("replied", OWN, rules=rules)).appeal
    closes = clocks.rating_closes_at(appeal.replied_at, rules.policies.rating_window_days)
    assert closes - appeal.replied_at > timedelta(days=7)
    assert closes - appeal.replied_at <= timedelta(days=8)

    await sla.sweep(now=closes - timedelta(seconds=1), policies=rules.policies)
    assert (await Appeal.get(id=appeal.id)).status == "replied"

    report = await sla.sweep(now=closes, policies=rules.policies)
    assert report.lapsed >= 1
    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "closed" and stored.closed_at == closes and stored.rating == ""
    lapse = await AppealEvent.get(appeal_id=appeal.id, kind="lapse")
    assert (lapse.from_status, lapse.to_status, lapse.actor_label) == ("replied", "closed",
                                                                       "系统")

    again = await sla.sweep(now=closes + timedelta(days=1), policies=rules.policies)
    assert again.lapsed == 0
    assert (await _kinds(appeal)).count("lapse") == 1


async def test_two_sweeps_at_once_close_each_lapsed_appeal_once(database, rules):
    appeals = [(await make_appeal("replied", OWN, rules=rules)).appeal for _ in range(3)]
    at = max(clocks.rating_closes_at(a.replied_at, 7) for a in appeals)
    reports = await asyncio.gather(sla.sweep(now=at), sla.sweep(now=at))
    for appeal in appeals:
        assert (await _kinds(appeal)).count("lapse") == 1
        assert (await Appeal.get(id=appeal.id)).status == "closed"
    assert sum(r.lapsed for r in reports) >= len(appeals)


@pytest.mark.skipif(not USE_PG, reason="two machines against one PostgreSQL")
async def test_two_machines_close_each_lapsed_appeal_once(database, rules):
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from app.db import tortoise_config

    appeals = [(await make_appeal("replied", OWN, rules=rules)).appeal for _ in range(3)]
    at = max(clocks.rating_closes_at(a.replied_at, 7) for a in appeals)

    async def other_machine():
        async with TortoiseContext():
            await Tortoise.init(config=tortoise_config(database))
            return await sla.sweep(now=at)

    await asyncio.gather(sla.sweep(now=at), other_machine(), sla.sweep(now=at))
    for appeal in appeals:
        assert (await _kinds(appeal)).count("lapse") == 1


async def test_a_rated_appeal_is_not_touched_by_the_lapse(database, rules):
    appeal = (await make_appeal("closed", OWN, rules=rules)).appeal
    before = await _kinds(appeal)
    await sla.sweep(now=appeal.replied_at + timedelta(days=30), policies=rules.policies)
    assert await _kinds(appeal) == before
    assert (await Appeal.get(id=appeal.id)).rating == "satisfied"


async def test_the_window_comes_from_the_rules(database, rules):
    import dataclasses

    from app.domain.sla_policy import Policies

    longer = Policies({p.type: p for p in rules.policies}, rules.policies.ack_days, 10)
    appeal = (await make_appeal("replied", OWN,
                                rules=dataclasses.replace(rules, policies=longer))).appeal
    seven = clocks.rating_closes_at(appeal.replied_at, 7)
    await sla.sweep(now=seven, policies=longer)
    assert (await Appeal.get(id=appeal.id)).status == "replied"
    await sla.sweep(now=clocks.rating_closes_at(appeal.replied_at, 10), policies=longer)
    assert (await Appeal.get(id=appeal.id)).status == "closed"


# --- the second 不满意 and every reply ------------------------------------------------------

async def _redone_and_replied_again(rules, email: str = "") -> Appeal:
    made = await make_appeal("redo", OWN, rules=rules, **({"contact_email": email}
                                                          if email else {}))
    await handling.reply(made.appeal, await handler_of(OWN),
        parse(staff.Reply, {"reply": SECOND_REPLY}))
    return await Appeal.get(id=made.appeal.id)


async def test_a_redo_keeps_both_replies_in_rounds(database, rules):
    appeal = await _redone_and_replied_again(rules)
    replies = await AppealReply.filter(appeal_id=appeal.id).order_by("round")
    assert [(r.round, r.text) for r in replies] == [(1, REPLY), (2, SECOND_REPLY)]
    assert all(r.department_id == appeal.department_id and r.actor_id for r in replies)
    assert appeal.reply_text == SECOND_REPLY
    reply_events = await AppealEvent.filter(appeal_id=appeal.id, kind="reply").order_by("id")
    assert [e.data for e in reply_events] == [{"round": 1}, {"round": 2}]


async def test_the_second_unsatisfied_closes_the_appeal_as_what_it_is(database, rules):
    appeal = await _redone_and_replied_again(rules)
    await clocks.rate(rules, appeal, parse(appeals.Rating, {
        "rating": "unsatisfied", "reason": "电梯还是经常停运，问题没有解决。"}))
    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "closed" and stored.rating == "unsatisfied"
    kinds = await _kinds(appeal)
    assert kinds[-1] == Event.RATE_UNSATISFIED_FINAL.value
    assert "rate_ok" not in kinds
    assert kinds.count("rate_unsatisfied") == 1


async def test_the_mail_of_a_redone_reply_promises_no_second_redo(database, rules):
    email = _mail()
    await _redone_and_replied_again(rules, email)
    first, second = await OutboxMessage.filter(to_address=email, kind="replied").order_by("id")
    assert "重新办理一次" in first.text_body and "重新办理一次" in first.html_body
    assert "重新办理一次" not in second.text_body
    assert "重新办理一次" not in second.html_body
    assert "就此办结" in second.text_body


# --- the rating of the current reply, and the window's end ------------------------------------

async def test_a_redo_clears_the_rating_and_each_round_keeps_its_own_in_its_event(
        database, rules):
    appeal = (await make_appeal("redo", OWN, rules=rules)).appeal
    assert (await Appeal.get(id=appeal.id)).rating == ""
    redo = await AppealEvent.get(appeal_id=appeal.id, kind="rate_unsatisfied")
    assert redo.data == {"rating": "unsatisfied"}

    await handling.reply(appeal, await handler_of(OWN),
                         parse(staff.Reply, {"reply": SECOND_REPLY}))
    stored = await Appeal.get(id=appeal.id)
    await clocks.rate(rules, stored, parse(appeals.Rating, {"rating": "basically_satisfied"}))
    stored = await Appeal.get(id=appeal.id)
    assert stored.rating == "basically_satisfied"
    ratings = await AppealEvent.filter(appeal_id=appeal.id, kind__in=["rate_unsatisfied",
                                                                      "rate_ok"]) \
        .order_by("id").values_list("data", flat=True)
    assert ratings == [{"rating": "unsatisfied"}, {"rating": "basically_satisfied"}]


async def test_a_redone_reply_left_unrated_lapses_with_no_rating(database, rules):
    appeal = await _redone_and_replied_again(rules)
    closes = clocks.rating_closes_at(appeal.replied_at, rules.policies.rating_window_days)
    await sla.sweep(now=closes, policies=rules.policies)
    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "closed" and stored.rating == ""


@pytest.mark.parametrize("replied", [
    datetime(2026, 3, 2, 2, 0, tzinfo=UTC),  # 10:00 in Shanghai
    datetime(2026, 3, 2, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai
    datetime(2026, 3, 2, 16, 0, tzinfo=UTC),  # the next local day begins
])
def test_a_rating_is_refused_from_the_instant_the_sweep_may_close(replied):
    closes = clocks.rating_closes_at(replied, 7)
    assert not clocks.rating_window_over(replied, closes - timedelta(seconds=1), 7)
    assert clocks.rating_window_over(replied, closes, 7)


async def test_a_rating_after_the_window_is_refused_and_the_sweep_closes_the_appeal(
        database, rules):
    appeal = (await make_appeal("replied", OWN, rules=rules)).appeal
    late = clocks.now_utc() - timedelta(days=rules.policies.rating_window_days + 1)
    await Appeal.filter(id=appeal.id).update(replied_at=late)
    with pytest.raises(ServiceError) as caught:
        await clocks.rate(rules, await Appeal.get(id=appeal.id),
                          parse(appeals.Rating, {"rating": "satisfied"}))
    assert (caught.value.field, caught.value.code) == ("rating", "illegal_transition")
    assert caught.value.message == "评价期已过，该诉求已自动办结。"
    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "replied" and stored.rating == ""

    await sla.sweep(policies=rules.policies)
    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "closed" and stored.rating == ""
    assert (await _kinds(appeal)).count("lapse") == 1
