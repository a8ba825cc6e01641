"""The inspector's list: newest first, filters, and pages by cursor that never count the
whole table."""

import html
import re

from app.domain.types import Role
from app.models import Appeal
from tests.conftest import login, make_staff, unique
from tests.factories import submit

NUMBER = re.compile(r'href="/staff/appeals/(MS\d{8}-\d{6})"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


async def test_pages_follow_each_other_without_overlap(database, rules, new_client):
    for _ in range(55):
        await submit(rules=rules, title=unique("翻页"), region="990221")
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    first = await inspector.get("/staff/appeals", params={"region": "990221"})
    assert "下一页" in first.text and "回到第一页" not in first.text
    second = await inspector.get("/staff/appeals" + _next(first.text))
    one, two = NUMBER.findall(first.text), NUMBER.findall(second.text)
    assert len(one) == 50 and two and not set(one) & set(two)
    assert "回到第一页" in second.text and "region=990221" in second.text


def _next(page: str) -> str:
    return html.unescape(NEXT.search(page).group(1))


async def test_a_garbage_cursor_or_filter_shows_the_first_page_with_a_message(
        database, rules, new_client):
    await submit(rules=rules, title=unique("游标"))
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    for params in ({"after": "!!garbage"}, {"after": "eyJ4IjoxfQ"}, {"page": "2"}):
        page = await inspector.get("/staff/appeals", params=params)
        assert page.status_code == 200 and NUMBER.findall(page.text)
    assert "翻页参数无效" in (await inspector.get("/staff/appeals?after=%00%FF")).text
    bad = await inspector.get("/staff/appeals", params={
        "status": "lost", "submitted_from": "2025-02-30", "department": "nowhere"})
    assert bad.status_code == 200 and NUMBER.findall(bad.text)
    for message in ("没有这个状态", "提交日期起应为 YYYY-MM-DD", "没有这个承办部门"):
        assert message in bad.text


async def test_filters_by_type_department_and_overdue(database, rules, new_client):
    title = unique("筛选")
    appeal = await submit(rules=rules, title=title, type="suggestion", region="990221")
    await Appeal.filter(id=appeal.id).update(reply_due_at=appeal.submitted_at)
    department = (await Appeal.get(id=appeal.id).prefetch_related("department")).department
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    params = {"type": "suggestion", "department": department.code, "overdue": "1"}
    found = await inspector.get("/staff/appeals", params=params)
    assert appeal.tracking_number in found.text and "超期" in found.text
    assert department.name in found.text
    other = await inspector.get("/staff/appeals", params={**params, "type": "complaint"})
    assert appeal.tracking_number not in other.text
