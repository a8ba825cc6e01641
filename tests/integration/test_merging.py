"""并单: members follow their main (department, status, deadline, reply), each resident is
told once and rates alone, an undo restores each member's own state, and a report is never
merged."""

from datetime import UTC, datetime

import pytest

from app.domain.rules import DetectorThresholds
from app.models import Appeal, AppealEvent, AppealReply, OutboxMessage
from app.schemas import appeals, staff
from app.schemas.base import parse
from app.services import clocks, detectors, handling, lists, merging, routing, stats, sweep, triage
from app.services.detectors import Scope
from app.services.errors import Conflict, ServiceError
from tests.conftest import unique
from tests.factories import OWN, REPLY, dispatcher, handler_of, make_appeal

OTHER = "990100-jiaotong"


def _mail() -> str:
    return f"{unique('m')}@example.cn"


async def _fresh(appeal: Appeal) -> Appeal:
    return await Appeal.get(id=appeal.id)


async def _kinds(appeal: Appeal) -> list[str]:
    return await AppealEvent.filter(appeal_id=appeal.id).order_by("id") \
        .values_list("kind", flat=True)


async def _group(rules, main_status: str = "accepted", member_states=("triage", "assigned"),
                 **fields):
    main = (await make_appeal(main_status, OWN, rules=rules, contact_email=_mail(),
                              **fields)).appeal
    members = [(await make_appeal(s, OTHER, rules=rules, contact_email=_mail())).appeal
               for s in member_states]
    return main, members


async def test_a_merged_member_takes_the_mains_department_status_and_clock(database, rules):
    main, members = await _group(rules)
    await merging.merge(main, members, await dispatcher())

    for member in members:
        stored = await _fresh(member)
        assert stored.merged_into_id == main.id
        assert stored.status == main.status == "accepted"
        assert stored.department_id == main.department_id
        assert stored.reply_due_at == main.reply_due_at
        event = await AppealEvent.filter(appeal_id=member.id, kind="merged").first()
        assert event.data["main"] == main.tracking_number
        assert event.data["own"]["status"] in ("triage", "assigned")
    assert "merge_main" in await _kinds(main)


async def test_the_reply_reaches_every_member_and_each_resident_once(database, rules):
    main, members = await _group(rules)
    await merging.merge(main, members, await dispatcher())
    handler = await handler_of(OWN)
    await handling.reply(main, handler, parse(staff.Reply, {"reply": REPLY}), rules.calendar)

    for one in [main, *members]:
        stored = await _fresh(one)
        assert stored.status == "replied" and stored.reply_text == REPLY
        reply = await AppealReply.get(appeal_id=one.id)
        assert reply.round == 1 and reply.text == REPLY
        mails = await OutboxMessage.filter(to_address=stored.contact_email, kind="replied")
        assert len(mails) == 1 and REPLY in mails[0].text_body
        assert stored.tracking_number in mails[0].subject
    # The trail pairs the member's reply event with its reply by round.
    event = await AppealEvent.get(appeal_id=members[0].id, kind="reply")
    assert event.data["round"] == 1 and event.data["main"] == main.tracking_number


async def test_each_resident_rates_alone_and_a_members_redo_leaves_the_group(database, rules):
    main, members = await _group(rules, member_states=("assigned", "assigned"))
    await merging.merge(main, members, await dispatcher())
    await handling.reply(main, await handler_of(OWN), parse(staff.Reply, {"reply": REPLY}),
                         rules.calendar)
    satisfied = parse(appeals.Rating, {"rating": "satisfied"})
    unsatisfied = parse(appeals.Rating, {"rating": "unsatisfied", "reason": "问题没有解决。"})

    await clocks.rate(rules, await _fresh(main), satisfied)
    await clocks.rate(rules, await _fresh(members[0]), unsatisfied)

    first, second = await _fresh(members[0]), await _fresh(members[1])
    assert (await _fresh(main)).status == "closed" and (await _fresh(main)).rating == "satisfied"
    assert first.status == "accepted" and first.merged_into_id is None  # its own redo
    assert second.status == "replied" and second.rating == "" and second.merged_into_id == main.id


async def test_the_main_moves_and_its_members_follow_each_step(database, rules):
    main, members = await _group(rules, main_status="assigned")
    await merging.merge(main, members, await dispatcher())
    await handling.acknowledge(main, await handler_of(OWN))
    assert {(await _fresh(m)).status for m in members} == {"accepted"}
    await clocks.ask_info(main, await handler_of(OWN),
                          parse(staff.AskInfo, {"question": "请张先生提供门牌号。"}))
    for member in members:
        stored = await _fresh(member)
        assert stored.status == "awaiting_info"
        event = await AppealEvent.filter(appeal_id=member.id, kind="ask_info").first()
        assert "张先生" not in event.note  # the main's question is not the member's to read
    # No notice to the members' residents for the main's question.
    for member in members:
        assert not await OutboxMessage.exists(to_address=member.contact_email,
                                              kind="info_requested")


async def test_a_member_is_not_worked_on_directly(database, rules):
    main, members = await _group(rules, member_states=("assigned",))
    await merging.merge(main, members, await dispatcher())
    member = await _fresh(members[0])
    with pytest.raises(Conflict):
        await routing.return_to_triage(member, await handler_of(OWN),
                                       parse(staff.Return, {"reason": "不属于本部门职责。"}))
    with pytest.raises(ServiceError):
        await clocks.request_extension(rules, member, await handler_of(OWN), parse(
            staff.ExtensionRequest, {"days": 2, "reason": "需要现场勘查。"}))
    assert (await _fresh(member)).status == "accepted"


async def test_undo_restores_each_members_own_state(database, rules):
    main, members = await _group(rules, member_states=("triage", "assigned"))
    before = {m.id: (m.status, m.department_id, m.reply_due_at) for m in members}
    await merging.merge(main, members, await dispatcher())
    await merging.unmerge(await _fresh(members[0]), await dispatcher(), "并错了，不是同一问题")

    undone = await _fresh(members[0])
    assert undone.merged_into_id is None
    assert (undone.status, undone.department_id, undone.reply_due_at) == before[undone.id]
    assert (await _kinds(undone))[-2:] == ["merged", "unmerged"]
    still = await _fresh(members[1])
    assert still.merged_into_id == main.id and still.status == main.status
    # The undone appeal no longer follows: the main's reply is not its reply.
    await handling.reply(main, await handler_of(OWN), parse(staff.Reply, {"reply": REPLY}),
                         rules.calendar)
    assert (await _fresh(undone)).status == "triage"
    assert (await _fresh(members[1])).status == "replied"


async def test_a_report_is_never_merged_in_either_role(database, rules):
    report = (await make_appeal("triage", rules=rules, type="report",
                                named_unit="990100-jiaotong")).appeal
    complaint = (await make_appeal("accepted", OWN, rules=rules)).appeal
    other = (await make_appeal("assigned", OTHER, rules=rules)).appeal
    with pytest.raises(ServiceError) as raised:
        await merging.merge(complaint, [report], await dispatcher())
    assert raised.value.message == merging.REPORT_REFUSED
    with pytest.raises(ServiceError):
        await merging.merge(report, [other], await dispatcher())
    assert (await _fresh(report)).merged_into_id is None
    assert (await _fresh(other)).merged_into_id is None
    assert "merged" not in await _kinds(other)


async def test_a_merge_is_all_or_nothing(database, rules):
    main = (await make_appeal("accepted", OWN, rules=rules)).appeal
    good = (await make_appeal("assigned", OTHER, rules=rules)).appeal
    answered = (await make_appeal("replied", OTHER, rules=rules)).appeal
    with pytest.raises(ServiceError):
        await merging.merge(main, [good, answered], await dispatcher())
    assert (await _fresh(good)).merged_into_id is None
    assert "merged" not in await _kinds(good)
    assert "merge_main" not in await _kinds(main)


async def test_merge_refuses_appeals_already_in_a_group(database, rules):
    main, members = await _group(rules, member_states=("assigned",))
    await merging.merge(main, members, await dispatcher())
    other = (await make_appeal("accepted", OTHER, rules=rules)).appeal
    with pytest.raises(ServiceError):  # a member cannot be merged again
        await merging.merge(other, [await _fresh(members[0])], await dispatcher())
    with pytest.raises(ServiceError):  # a main with members cannot become a member
        await merging.merge(other, [await _fresh(main)], await dispatcher())
    with pytest.raises(ServiceError):  # nor take members into a member
        await merging.merge(await _fresh(members[0]), [other], await dispatcher())


async def test_a_return_and_a_reroute_carry_the_members_along(database, rules):
    main, members = await _group(rules, main_status="assigned", member_states=("assigned",))
    await merging.merge(main, members, await dispatcher())
    await routing.return_to_triage(main, await handler_of(OWN),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))
    member = await _fresh(members[0])
    assert member.status == "triage" and member.department_id is None
    await routing.route_manual(rules, await _fresh(main), await dispatcher(),
                               parse(staff.Route, {"department": OTHER}))
    member = await _fresh(members[0])
    main = await _fresh(main)
    assert member.status == "assigned" and member.department_id == main.department_id
    assert member.ack_due_at == main.ack_due_at


async def test_a_rejection_reaches_each_resident(database, rules):
    main, members = await _group(rules, main_status="triage", member_states=("triage",))
    await merging.merge(main, members, await dispatcher())
    await triage.reject(main, await dispatcher(), parse(staff.Reject, {"reason": "out_of_scope"}))
    member = await _fresh(members[0])
    assert member.status == "rejected"
    assert await OutboxMessage.filter(to_address=member.contact_email, kind="rejected").count() == 1
    assert (await triage.rejection(member))["reason"] == "out_of_scope"


async def test_queues_and_the_sweep_see_the_main_only(database, rules):
    main, members = await _group(rules, main_status="assigned", member_states=("triage",))
    await merging.merge(main, members, await dispatcher())
    queue = await lists.department_queue(main.department_id).values_list("id", flat=True)
    assert main.id in queue and members[0].id not in queue
    triaged = await lists.triage().values_list("id", flat=True)
    assert members[0].id not in triaged
    later = datetime(2100, 1, 1, tzinfo=UTC)
    await sweep.sweep(later, policies=rules.policies)
    assert "sla_overdue" in await _kinds(main)
    assert "sla_overdue" not in await _kinds(members[0])


async def test_merged_appeals_count_once_in_workload_and_each_in_satisfaction(database, rules):
    day = datetime(2012, 7, 3, 2, tzinfo=UTC)  # a day of its own: nothing else received then
    main = (await make_appeal("accepted", OWN, rules=rules, at=day)).appeal
    members = [(await make_appeal("assigned", OTHER, rules=rules, at=day)).appeal
               for _ in range(2)]
    await merging.merge(main, members, await dispatcher())
    await handling.reply(main, await handler_of(OWN), parse(staff.Reply, {"reply": REPLY}),
                         rules.calendar)
    for one in [main, *members]:
        await clocks.rate(rules, await _fresh(one), parse(appeals.Rating, {"rating": "satisfied"}))

    scope = Scope(day.date(), day.date(), main.department_id)
    now = datetime.now(UTC)
    table = await stats.table(scope, now, "reply", 1, only_department=main.department_id)
    counts = table.rows[0].counts
    assert (counts["received"], counts["assigned"], counts["replied"]) == (1, 1, 1)
    assert (counts["rated"], counts["satisfied"]) == (3, 3)
    received = await stats.listing(stats.BY_KEY["received"], scope, now)
    assert [a.id for a in received.appeals] == [main.id]
    rated = await stats.listing(stats.BY_KEY["rated"], scope, now)
    assert {a.id for a in rated.appeals} == {main.id, *(m.id for m in members)}
    assert "并单" in stats.MERGE_DEFINITION


async def test_a_groups_reply_may_not_name_any_of_its_residents(database, rules):
    main = (await make_appeal("accepted", OWN, rules=rules, contact_name="王建国",
                              contact_phone="13900001111")).appeal
    member = (await make_appeal("assigned", OTHER, rules=rules, contact_name="赵小红",
                                contact_phone="13900002222")).appeal
    await merging.merge(main, [member], await dispatcher())
    for text in ("王建国您好，电梯已修复。", "请联系 139 0000 2222 了解进度，电梯已修复。"):
        with pytest.raises(ServiceError) as refused:
            await handling.reply(main, await handler_of(OWN), parse(staff.Reply, {"reply": text}),
                                 rules.calendar)
        assert refused.value.field == "reply"
    assert (await _fresh(main)).status == "accepted"
    assert not await AppealReply.exists(appeal_id=member.id)


async def test_a_members_followed_returns_are_not_counted_again_by_the_detectors(database, rules):
    day = datetime(2012, 8, 7, 2, tzinfo=UTC)  # a day of its own
    main = (await make_appeal("assigned", OWN, rules=rules, at=day)).appeal
    member = (await make_appeal("assigned", OTHER, rules=rules, at=day)).appeal
    await merging.merge(main, [member], await dispatcher())
    back = parse(staff.Return, {"reason": "不属于本部门职责。"})
    for department in (OTHER, OWN):  # returned twice: 踢皮球
        main = await _fresh(main)
        await routing.return_to_triage(main, await handler_of(
            (await main.department).code), back)
        await routing.route_manual(rules, await _fresh(main), await dispatcher(),
                                   parse(staff.Route, {"department": department}))
    assert (await AppealEvent.filter(appeal_id=member.id, kind="return").count()) == 2
    ping_pong = detectors.BY_KEY["ping-pong"]
    page = await detectors.listing(ping_pong, Scope(day.date(), day.date()),
                                   DetectorThresholds(), size=100)
    assert [a.id for a in page.appeals] == [main.id]
