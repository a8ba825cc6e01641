"""/staff/stats: golden figures computed by hand, every link lists exactly its figure, and a
handler sees their own department's row only."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.clock import WorkingCalendar, working_days_between
from app.domain.types import Role
from app.models import Appeal, AppealEvent, AppealReply, Department, SupervisionOrder
from app.schemas import staff
from app.schemas.base import parse
from app.schemas.followup import Followup
from app.services import followup, routing, stats
from app.services.detectors import Scope
from tests.conftest import login, make_staff
from tests.factories import dispatcher, handler_of, make_appeal

OWN, OTHER = "990100-zhujian", "990100-jiaoyu"
PERIOD = {"from": "2016-05-01", "to": "2016-05-31"}
AT = datetime(2016, 5, 10, 2, tzinfo=UTC)
FAR = datetime(2099, 1, 1, tzinfo=UTC)
FIGURE = re.compile(r'<a class="figure" href="([^"]+)">(\d+)</a>')
NUMBER = re.compile(r'href="/staff/appeals/(MS\d{8}-\d{6})"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
TOTAL = re.compile(r'id="stats-total">(\d+)<')


def days(n: float) -> datetime:
    return AT + timedelta(days=n)


async def _appeal(status: str, code: str, *, ack: float | None = 0.5, reply: float | None = None,
                  due: datetime | float = 5, rating: str = "") -> Appeal:
    """An appeal received at AT, assigned at AT with a day to acknowledge, acknowledged `ack`
    days and first replied `reply` days after AT, due `due` (days after AT, or an instant).
    The reply's facts on the row are moved as the reply service writes them (its own test is
    test_facts_are_written_with_the_events)."""
    appeal = (await make_appeal(status, code, at=AT)).appeal
    due_at = due if isinstance(due, datetime) else days(due)
    await Appeal.filter(id=appeal.id).update(
        assigned_at=AT, ack_due_at=days(1), acknowledged_at=days(ack) if ack is not None else None,
        reply_due_at=due_at, rating=rating)
    replies = AppealReply.filter(appeal_id=appeal.id)
    assert (await replies.count() > 0) == (reply is not None)
    if reply is not None:
        await replies.filter(round=1).update(at=days(reply))
        await Appeal.filter(id=appeal.id).update(
            first_reply_at=days(reply), first_reply_due_at=due_at,
            first_reply_days=working_days_between(AT, days(reply), WorkingCalendar()))
    return appeal


async def _supervise(appeal: Appeal, answered: float | None) -> None:
    await SupervisionOrder.create(
        appeal_id=appeal.id, department_id=appeal.department_id, status="answered",
        reason="请加快办理。", days=3, issued_at=days(2), due_at=days(5),
        answered_at=days(answered) if answered is not None else None)


async def _call(appeal: Appeal, solved: str) -> None:
    await followup.record(rules_for_test(), await Appeal.get(id=appeal.id), await dispatcher(),
                          parse(Followup, {"reached": "yes", "solved": solved,
                                           "satisfaction": "satisfied"}))


async def _golden() -> None:
    await _call(await _appeal("closed", OWN, reply=1, rating="satisfied"), "solved")
    await _appeal("closed", OWN, ack=2, reply=6, rating="basically_satisfied")  # late twice
    extended = await _appeal("replied", OWN, reply=8, due=10)  # on time, counting the grant
    await AppealEvent.create(appeal_id=extended.id, kind="extension_grant",
                             from_status="accepted", to_status="accepted",
                             actor_label="调度员", at=days(4), data={"days": 5})
    await Appeal.filter(id=extended.id).update(was_extended=True)
    await _appeal("redo", OWN, reply=2, rating="unsatisfied")  # open again: overdue now
    await _supervise(await _appeal("assigned", OWN, ack=None), answered=7)  # overdue, late
    await _supervise(await _appeal("accepted", OWN, due=FAR), answered=3)
    returned = (await make_appeal("assigned", OWN, at=AT)).appeal
    await routing.return_to_triage(returned, await handler_of(OWN),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))
    await routing.route_manual(rules_for_test(), returned, await dispatcher(),
                               parse(staff.Route, {"department": OWN}))
    await Appeal.filter(id=returned.id).update(assigned_at=AT, ack_due_at=days(1),
                                               acknowledged_at=None, reply_due_at=FAR)
    await _call(await _appeal("closed", OTHER, reply=3, rating="satisfied"), "partly")
    await _appeal("assigned", OTHER, ack=None, due=FAR)


def rules_for_test():
    from tests.factories import default_rules
    return default_rules()


# By hand, from the appeals above (in this order of figures).
KEYS = ("received", "assigned", "ack_on_time", "due", "reply_on_time", "reply_late", "overdue",
        "replied",
        "rated", "satisfied", "redone", "returned", "extended", "supervised",
        "supervised_on_time", "followed_up", "followup_reached", "followup_solved")
EXPECTED = {
    OWN: dict(zip(KEYS, (7, 7, 4, 5, 3, 1, 2, 4, 3, 2, 1, 1, 1, 2, 1, 1, 1, 1), strict=True)),
    OTHER: dict(zip(KEYS, (2, 2, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0), strict=True)),
}
TOTALS = {k: EXPECTED[OWN][k] + EXPECTED[OTHER][k] for k in KEYS}
# Working days from Tuesday 2016-05-10: replies on Wed 11th (1), Mon 16th (4), Wed 18th (6)
# and Thu 12th (2) for 住建; Fri 13th (3) for 教育.
DAYS = {OWN: (13 / 4, 3.0), OTHER: (3.0, 3.0), "": (16 / 5, 3.0)}  # mean, median


@pytest.fixture(scope="module")
async def golden(database):
    await _golden()


def _scope() -> Scope:
    return Scope(date(2016, 5, 1), date(2016, 5, 31))


async def test_every_figure_equals_the_value_computed_by_hand(golden):
    table = await stats.table(_scope(), datetime.now(UTC), "reply", 1)

    found = {row.code: row for row in table.rows}
    assert set(found) == {OWN, OTHER}
    for code in (OWN, OTHER):
        assert found[code].counts == EXPECTED[code], code
        assert found[code].mean_days == pytest.approx(DAYS[code][0])
        assert found[code].median_days == pytest.approx(DAYS[code][1])
    assert table.total.counts == TOTALS
    assert (table.total.mean_days, table.total.median_days) == pytest.approx(DAYS[""])
    assert found[OWN].rate("reply") == pytest.approx(3 / 5)
    assert found[OWN].rate("satisfaction") == pytest.approx(2 / 3)
    assert (found[OWN].rate("followup"), found[OTHER].rate("followup")) == (1.0, 0.0)
    # 按时答复率: 教育 1/1 ahead of 住建 3/5.
    assert (found[OTHER].rank, found[OWN].rank) == (1, 2)


async def test_a_department_below_the_minimum_volume_is_listed_but_not_ranked(golden):
    table = await stats.table(_scope(), datetime.now(UTC), "reply", 3)

    found = {row.code: row for row in table.rows}
    assert found[OWN].rank == 1 and not found[OTHER].ranked
    assert [row.code for row in table.rows] == [OWN, OTHER]


async def _listed(client, href: str) -> tuple[int, list[str]]:
    response = await client.get(href)
    assert response.status_code == 200, href
    total, numbers = int(TOTAL.search(response.text).group(1)), NUMBER.findall(response.text)
    while found := NEXT.search(response.text):
        response = await client.get("/staff/stats/list" + html.unescape(found.group(1)))
        numbers += NUMBER.findall(response.text)
    return total, numbers


async def test_each_figure_on_the_page_lists_exactly_that_many_appeals(golden, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/stats", params=PERIOD)

    assert page.status_code == 200
    assert "签收及时率" in page.text and "满意率：群众最终评价" in page.text
    assert "第一轮首次答复经过的工作日数" in page.text
    figures = [(html.unescape(href), int(n)) for href, n in FIGURE.findall(page.text)]
    assert len(figures) == 3 * 20 + 3  # two departments and the totals, and one month
    assert (f"/staff/stats/list?figure=received&from=2016-05-01&to=2016-05-31"
            f"&department={OWN}", 7) in figures
    assert ("/staff/stats/list?figure=received&from=2016-05-01&to=2016-05-31", 9) in figures
    assert "<title>16-05：9 件</title>" in page.text  # the month's bar in the chart
    own = await Department.get(code=OWN)
    assert f"<title>{own.name}：60.0%</title>" in page.text  # 3 of 5 on time
    for href, figure in figures:
        total, numbers = await _listed(inspector, href)
        assert total == figure == len(numbers) == len(set(numbers)), href


async def test_a_handler_sees_only_their_own_department_and_its_rank(golden, app, new_client):
    rules = app.state.rules
    app.state.rules = dataclasses.replace(
        rules, detectors=dataclasses.replace(rules.detectors, stats_min_volume=1))
    try:
        handler = new_client()
        await login(handler, await make_staff(Role.HANDLER, OWN))
        pages = [await handler.get("/staff/stats", params={**PERIOD, **extra})
                 for extra in ({}, {"department": OTHER}, {"department": "none"})]
        lists = [await handler.get("/staff/stats/list", params={
            **PERIOD, "figure": "received", **extra}) for extra in ({}, {"department": OTHER})]
    finally:
        app.state.rules = rules
    other = await Department.get(code=OTHER)
    for page in pages:
        assert page.status_code == 200
        assert other.name not in page.text
        assert '<td class="rank" data-label="排名">2</td>' in page.text
        assert f"department={OTHER}" not in page.text
    for listed in lists:
        assert TOTAL.search(listed.text).group(1) == "7"


async def test_a_period_shortcut_and_bad_input_are_said_in_chinese(golden, new_client):
    dispatcher_client = new_client()
    await login(dispatcher_client, await make_staff(Role.DISPATCHER))

    page = await dispatcher_client.get("/staff/stats", params={
        "period": "decade", "rank": "nosuch", "department": "nosuch"})
    month = await dispatcher_client.get("/staff/stats", params={"period": "last-month"})
    unknown = await dispatcher_client.get("/staff/stats/list", params={"figure": "x"})

    assert page.status_code == 200
    assert "时间段应为本月、上月、本季度或本年。" in page.text
    assert "排名依据无效" in page.text and "没有这个部门" in page.text
    first = datetime.now(UTC).date().replace(day=1)  # near a month's end the zone may differ
    assert month.status_code == 200 and (first - timedelta(days=1)).strftime("%Y-%m") in month.text
    assert unknown.status_code == 404


async def test_the_scope_narrows_by_region_type_and_category_and_the_links_keep_it(
        golden, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    region = await inspector.get("/staff/stats", params={**PERIOD, "region": "990100",
                                                         "type": "complaint"})
    other_type = await inspector.get("/staff/stats", params={**PERIOD, "type": "suggestion"})
    bad = await inspector.get("/staff/stats", params={**PERIOD, "region": "000000",
                                                      "category": "nosuch", "type": "x"})

    figures = dict((html.unescape(h), int(n)) for h, n in FIGURE.findall(region.text))
    assert figures["/staff/stats/list?figure=received&from=2016-05-01&to=2016-05-31"
                   "&region=990100&type=complaint"] == 9
    assert "本期没有诉求" in other_type.text
    assert "没有这个地区" in bad.text and "没有这个领域" in bad.text
    assert "没有这个诉求类型" in bad.text
    total, _ = await _listed(inspector, "/staff/stats/list?figure=received&from=2016-05-01"
                                        "&to=2016-05-31&type=suggestion")
    assert total == 0


async def test_the_trend_has_every_month_of_the_period_and_its_on_time_rate(golden):
    months = await stats.trend(Scope(date(2016, 4, 20), date(2016, 6, 3)), datetime.now(UTC))

    assert [(m.month, m.received, m.reply_on_time, m.due) for m in months] == [
        ("2016-04", 0, 0, 0), ("2016-05", 9, 4, 6), ("2016-06", 0, 0, 0)]
    assert (months[0].scope.start, months[2].scope.end) == (date(2016, 4, 20), date(2016, 6, 3))
    assert [b.height for b in stats.bars(months)] == [0, stats.CHART_HEIGHT, 0]
    # The table asked for its trend gives the same months; for one month, from its totals.
    table = await stats.table(Scope(date(2016, 4, 20), date(2016, 6, 3)), datetime.now(UTC),
                              "reply", 1, with_trend=True)
    assert table.months == months
    may = Scope(date(2016, 5, 1), date(2016, 5, 31))
    one = await stats.table(may, datetime.now(UTC), "reply", 1, with_trend=True)
    assert one.months == await stats.trend(may, datetime.now(UTC))
    assert (one.months[0].received, one.months[0].due) == (9, 6)


async def test_facts_are_written_with_the_events(database):
    """Round 1's first reply, its deadline and working days, returns, a granted extension and
    a redo are kept on the row by the services; a redo's reply leaves round 1's facts alone,
    so 按时答复率 judges round 1 against its own deadline, not the redo's."""
    from app.services import clocks, handling
    from tests.factories import REPLY, default_rules

    rules = default_rules()
    redone = (await make_appeal("redo", OWN)).appeal
    first = await Appeal.get(id=redone.id)
    assert first.first_reply_at is not None and first.first_reply_at == first.replied_at
    assert first.first_reply_due_at is not None and first.was_redone
    assert first.first_reply_days == working_days_between(first.submitted_at,
                                                          first.first_reply_at, rules.calendar)
    await handling.reply(first, await handler_of(OWN), parse(staff.Reply, {"reply": REPLY}),
                         rules.calendar)
    again = await Appeal.get(id=redone.id)
    assert again.replied_at > first.first_reply_at
    assert (again.first_reply_at, again.first_reply_due_at, again.first_reply_days) == (
        first.first_reply_at, first.first_reply_due_at, first.first_reply_days)
    # Round 1 was late against its own deadline; the redo's later deadline must not hide it.
    await Appeal.filter(id=redone.id).update(first_reply_due_at=first.first_reply_at
                                             - timedelta(hours=1), reply_due_at=FAR)
    scope = Scope(again.submitted_at.date() - timedelta(days=1),
                  again.submitted_at.date() + timedelta(days=1))
    late = await stats.listing(stats.BY_KEY["reply_on_time"], scope, datetime.now(UTC))
    due = await stats.listing(stats.BY_KEY["due"], scope, datetime.now(UTC))
    assert again.tracking_number not in [a.tracking_number for a in late.appeals]
    assert again.tracking_number in [a.tracking_number for a in due.appeals]

    returned = (await make_appeal("assigned", OWN)).appeal
    await routing.return_to_triage(returned, await handler_of(OWN),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))
    assert (await Appeal.get(id=returned.id)).return_count == 1

    asked = (await make_appeal("extension_requested", OWN)).appeal
    assert not (await Appeal.get(id=asked.id)).was_extended
    await clocks.decide_extension(rules, await Appeal.get(id=asked.id), await dispatcher(),
                                  parse(staff.ExtensionDecision, {"decision": "grant"}))
    assert (await Appeal.get(id=asked.id)).was_extended
