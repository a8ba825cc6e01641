"""/staff/detectors: every figure links to a list of exactly that many appeals."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from app.domain.types import Role
from app.models import Appeal
from app.schemas import staff
from app.schemas.base import parse
from app.services import routing
from tests.conftest import login, make_staff
from tests.factories import dispatcher, handler_of, make_appeal

OWN, OTHER = "990100-zhujian", "990100-jiaoyu"
DAY = "2019-02-11"
AT = datetime(2019, 2, 11, 3, tzinfo=UTC)
FIGURE = re.compile(r'<a class="figure" href="([^"]+)">(\d+)</a>')
NUMBER = re.compile(r'href="/staff/appeals/(MS\d{8}-\d{6})"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
TOTAL = re.compile(r'id="detector-total">(\d+)<')


async def _returned_twice(rules, code: str) -> None:
    appeal = (await make_appeal("assigned", code, at=AT)).appeal
    for _ in range(2):
        await routing.return_to_triage(appeal, await handler_of(code),
                                       parse(staff.Return, {"reason": "不属于本部门职责。"}))
        await routing.route_manual(rules, appeal, await dispatcher(),
                                   parse(staff.Route, {"department": code}))


async def _listed(client, href: str) -> tuple[int, list[str]]:
    response = await client.get(href)
    assert response.status_code == 200
    total, numbers = int(TOTAL.search(response.text).group(1)), NUMBER.findall(response.text)
    while found := NEXT.search(response.text):
        response = await client.get("/staff/detectors/list" + html.unescape(found.group(1)))
        numbers += NUMBER.findall(response.text)
    return total, numbers


async def test_each_figure_lists_exactly_that_many_appeals(database, rules, new_client):
    for _ in range(2):
        await _returned_twice(rules, OWN)
    await _returned_twice(rules, OTHER)
    for _ in range(3):
        await make_appeal("closed", OWN, at=AT)
    replied = (await make_appeal("replied", OTHER, at=AT)).appeal
    await Appeal.filter(id=replied.id).update(replied_at=replied.reply_due_at
                                              - timedelta(hours=3))
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/detectors", params={"from": DAY, "to": DAY})

    assert page.status_code == 200
    figures = [(html.unescape(href), int(n)) for href, n in FIGURE.findall(page.text)]
    assert ("/staff/detectors/list?detector=ping-pong&from=2019-02-11&to=2019-02-11", 3) \
        in figures
    assert sum(1 for href, n in figures if "no-contact" in href and n == 3) == 2  # row, total
    # The three closed appeals were replied too (long after their deadline).
    assert "被部门退回 2 次及以上" in page.text and "全市：1 / 4，比例 25.0%" in page.text
    for href, figure in figures:
        total, numbers = await _listed(inspector, href)
        assert total == figure == len(numbers) == len(set(numbers)), href


async def test_department_filter_and_bad_input_are_said_in_chinese(database, new_client):
    dispatcher_client = new_client()
    await login(dispatcher_client, await make_staff(Role.DISPATCHER))

    page = await dispatcher_client.get("/staff/detectors", params={
        "from": "2019-13-01", "to": DAY, "department": "nosuch"})
    listed = await dispatcher_client.get("/staff/detectors/list", params={
        "detector": "ping-pong", "after": "abc", "from": "2019-02-12", "to": "2019-02-01"})
    unknown = await dispatcher_client.get("/staff/detectors/list", params={"detector": "x"})

    assert page.status_code == 200 and listed.status_code == 200
    assert "起始日期应为 YYYY-MM-DD 格式的日期。" in page.text
    assert "没有这个部门，已显示全部部门。" in page.text
    assert "翻页参数无效，已回到第一页。" in listed.text
    assert "截止日期不能早于起始日期。" in listed.text
    assert unknown.status_code == 404


async def test_a_department_filter_keeps_the_city_share(database, rules, new_client):
    at = AT + timedelta(days=1)
    for code, hours_before_due in ((OTHER, 3), (OTHER, 3), (OWN, 30)):
        appeal = (await make_appeal("replied", code, at=at)).appeal
        await Appeal.filter(id=appeal.id).update(
            replied_at=appeal.reply_due_at - timedelta(hours=hours_before_due))
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/detectors", params={
        "from": "2019-02-12", "to": "2019-02-12", "department": OWN})

    figures = [html.unescape(href) for href, _ in FIGURE.findall(page.text)]
    assert figures and all(f"department={OWN}" in href for href in figures)
    section = page.text.split('id="detector-last-day"')[1].split("</section>")[0]
    assert "0.0%" in section and "全市：2 / 3，比例 66.7%" in section
    listed = await inspector.get(figures[0])
    assert "云州市住房和城乡建设局，共" in listed.text
