"""Detectors: each finds exactly the appeals that trip it, counted per department in SQL.

Every test submits its appeals on a day of its own, long ago, and looks at that day only,
so appeals the other tests leave in the session's database never enter its figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.domain.clock import to_local
from app.domain.rules import DetectorThresholds
from app.models import Appeal, AppealEvent, AppealReply, Department
from app.schemas import appeals as resident_forms
from app.schemas import staff
from app.schemas.base import parse
from app.services import clocks, detectors, handling, routing
from tests.factories import REPLY, SECOND_REPLY, dispatcher, handler_of, make_appeal

OWN, OTHER, THIRD = "990100-zhujian", "990100-jiaoyu", "990100-renshe"
T = DetectorThresholds()
SHORT = "已处理，谢谢您的反映。"  # fewer than 30 characters
LONG = REPLY + SECOND_REPLY       # 50 characters or more


def _day(n: int) -> tuple[datetime, detectors.Scope]:
    day = date(2019, 1, 1) + timedelta(days=n)
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC), detectors.Scope(day, day)


async def _ids(*codes: str) -> list[int]:
    return [(await Department.get(code=code)).id for code in codes]


async def _found(key: str, scope: detectors.Scope) -> tuple[dict, set[int]]:
    detector = detectors.BY_KEY[key]
    rows = await detectors.counts(detector, scope, T)
    page = await detectors.listing(detector, scope, T, size=1000)
    assert page.total == len(page.appeals) == sum(r.count for r in rows)
    return {r.department_id: r.count for r in rows}, {a.id for a in page.appeals}


async def _return(appeal: Appeal) -> None:
    code = (await appeal.department).code
    await routing.return_to_triage(appeal, await handler_of(code),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))


async def _route(rules, appeal: Appeal, code: str) -> None:
    await routing.route_manual(rules, appeal, await dispatcher(),
                               parse(staff.Route, {"department": code}))


async def test_ping_pong_counts_two_returns_or_three_departments(database, rules):
    at, scope = _day(0)
    twice = (await make_appeal("assigned", OWN, at=at)).appeal
    await _return(twice)
    await _route(rules, twice, OTHER)
    await _return(twice)
    await _route(rules, twice, OWN)
    three = (await make_appeal("assigned", OWN, at=at)).appeal
    await _route(rules, three, OTHER)
    await _route(rules, three, THIRD)
    in_triage = (await make_appeal("assigned", OWN, at=at)).appeal
    await _return(in_triage)
    await _route(rules, in_triage, OWN)
    await _return(in_triage)
    once = (await make_appeal("assigned", OWN, at=at)).appeal
    await _return(once)
    await _route(rules, once, OTHER)
    await make_appeal("assigned", OWN, at=at)

    by_department, members = await _found("ping-pong", scope)

    own, third = await _ids(OWN, THIRD)
    assert members == {twice.id, three.id, in_triage.id}
    assert by_department == {own: 1, third: 1, None: 1}


async def test_last_day_replies_compare_local_dates_and_give_shares(database, rules):
    at, scope = _day(1)

    async def replied(code: str, when) -> Appeal:
        appeal = (await make_appeal("replied", code, at=at)).appeal
        due = to_local(appeal.reply_due_at)
        await Appeal.filter(id=appeal.id).update(replied_at=when(due))
        return appeal

    on_due_day = await replied(OWN, lambda due: due.replace(hour=10, minute=0))
    await replied(OWN, lambda due: due.replace(hour=10) - timedelta(days=1))
    # 00:30 in Beijing is still the day before in UTC: the local date must decide.
    just_after_midnight = await replied(OTHER, lambda due: due.replace(hour=0, minute=30))
    await replied(OTHER, lambda due: due - timedelta(days=5))
    await replied(OTHER, lambda due: due - timedelta(days=6))
    await make_appeal("accepted", OTHER, at=at)

    detector = detectors.BY_KEY["last-day"]
    rows = {r.department_id: (r.count, r.base) for r in await detectors.counts(detector, scope, T)}
    page = await detectors.listing(detector, scope, T)

    own, other = await _ids(OWN, OTHER)
    assert rows == {own: (1, 2), other: (1, 3)}
    assert {a.id for a in page.appeals} == {on_due_day.id, just_after_midnight.id}
    city = detectors.total(await detectors.counts(detector, scope, T))
    assert (city.count, city.base, city.share) == (2, 5, 0.4)


async def test_perfunctory_replies_are_short_and_soon_after_acknowledgement(database, rules):
    at, scope = _day(2)
    assert len(SHORT) < T.perfunctory_chars <= len(LONG)

    async def answered(code: str, text: str, acknowledged_hours_before: int = 0) -> Appeal:
        appeal = (await make_appeal("accepted", code, at=at)).appeal
        await handling.reply(appeal, await handler_of(code), parse(staff.Reply, {"reply": text}))
        reply_at = (await AppealReply.get(appeal_id=appeal.id)).at
        await Appeal.filter(id=appeal.id).update(
            acknowledged_at=reply_at - timedelta(hours=acknowledged_hours_before))
        return appeal

    quick_short = await answered(OWN, SHORT, 1)
    await answered(OWN, SHORT, T.perfunctory_hours + 6)
    await answered(OTHER, LONG, 1)
    other_quick_short = await answered(OTHER, SHORT, T.perfunctory_hours - 1)
    await make_appeal("accepted", OTHER, at=at)

    by_department, members = await _found("perfunctory", scope)

    own, other = await _ids(OWN, OTHER)
    assert members == {quick_short.id, other_quick_short.id}
    assert by_department == {own: 1, other: 1}


async def test_repeated_unsatisfied_needs_both_ratings(database, rules):
    at, scope = _day(3)
    unsatisfied = parse(resident_forms.Rating, {"rating": "unsatisfied", "reason": "没有解决。"})
    twice = (await make_appeal("redo", OTHER, at=at)).appeal
    await handling.reply(twice, await handler_of(OTHER), parse(staff.Reply, {"reply": LONG}))
    await clocks.rate(rules, twice, unsatisfied)
    await make_appeal("redo", OTHER, at=at)
    await make_appeal("closed", OWN, at=at)

    by_department, members = await _found("repeated-unsatisfied", scope)

    assert twice.status == "closed"
    assert members == {twice.id}
    assert by_department == {(await _ids(OTHER))[0]: 1}


async def test_extension_on_the_due_day_uses_the_deadline_standing_when_asked(database, rules):
    at, scope = _day(4)

    async def asked(code: str, before_due: timedelta, grant: bool = False) -> Appeal:
        appeal = (await make_appeal("extension_requested", code, at=at)).appeal
        due = appeal.reply_due_at
        if grant:
            await clocks.decide_extension(rules, appeal, await dispatcher(),
                                          parse(staff.ExtensionDecision, {"decision": "grant"}))
            assert appeal.reply_due_at > due
        await AppealEvent.filter(appeal_id=appeal.id, kind="extension_request") \
            .update(at=due - before_due)
        return appeal

    on_due_day = await asked(OWN, timedelta(hours=2))
    await asked(OWN, timedelta(days=3))
    granted_on_due_day = await asked(OTHER, timedelta(hours=5), grant=True)
    await asked(OTHER, timedelta(days=2), grant=True)

    by_department, members = await _found("extension-due-day", scope)

    own, other = await _ids(OWN, OTHER)
    assert members == {on_due_day.id, granted_on_due_day.id}
    assert by_department == {own: 1, other: 1}


async def test_closed_without_contact_means_no_question_and_a_short_reply(database, rules):
    at, scope = _day(5)
    assert len(REPLY) < T.no_contact_reply_chars <= len(LONG)
    satisfied = parse(resident_forms.Rating, {"rating": "satisfied"})
    silent = (await make_appeal("closed", OWN, at=at)).appeal
    asked = (await make_appeal("awaiting_info", OWN, at=at)).appeal
    await clocks.supply_info(rules, asked, parse(resident_forms.InfoSupplied,
                                                 {"text": "三号楼二单元。"}))
    await handling.reply(asked, await handler_of(OWN), parse(staff.Reply, {"reply": REPLY}))
    await clocks.rate(rules, asked, satisfied)
    thorough = (await make_appeal("accepted", OTHER, at=at)).appeal
    await handling.reply(thorough, await handler_of(OTHER), parse(staff.Reply, {"reply": LONG}))
    await clocks.rate(rules, thorough, satisfied)
    await make_appeal("replied", OTHER, at=at)

    by_department, members = await _found("no-contact", scope)

    assert asked.status == "closed"
    assert members == {silent.id}
    assert by_department == {(await _ids(OWN))[0]: 1}


async def test_department_filter_and_key_paging_walk_each_appeal_once(database, rules):
    at, scope = _day(6)
    made = [(await make_appeal("closed", OWN, at=at)).appeal.id for _ in range(5)]
    await make_appeal("closed", OTHER, at=at)
    own = detectors.Scope(scope.start, scope.end, (await _ids(OWN))[0])
    detector = detectors.BY_KEY["no-contact"]

    seen, after = [], None
    while True:
        page = await detectors.listing(detector, own, T, after=after, size=2)
        assert page.total == 5
        seen += [a.id for a in page.appeals]
        if page.next_after is None:
            break
        after = page.next_after

    assert seen == sorted(made, reverse=True)
    assert [(r.department_id, r.count) for r in await detectors.counts(detector, own, T)] \
        == [(own.department_id, 5)]
