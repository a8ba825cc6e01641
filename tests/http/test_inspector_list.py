"""The inspector's list: newest first, filters, and pages that never count the whole table."""

import re

from app.domain.types import Role
from app.models import Appeal
from app.services import intake
from tests.conftest import GOOD_APPEAL, login, make_staff, unique

NUMBER = re.compile(r'href="/staff/appeals/(MS\d{8}-\d{6})"')


async def test_pages_follow_each_other_without_overlap(database, rules, new_client):
    for _ in range(55):
        await intake.submit(rules, intake.validate({**GOOD_APPEAL, "title": unique("翻页"),
                                                    "region": "990221"},
                                                   rules))
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    first = await inspector.get("/staff/appeals")
    assert "下一页" in first.text and "page=2" in first.text
    second = await inspector.get("/staff/appeals", params={"page": "2"})
    one, two = NUMBER.findall(first.text), NUMBER.findall(second.text)
    assert len(one) == 50 and two and not set(one) & set(two)


async def test_filters_by_type_department_and_overdue(database, rules, new_client):
    title = unique("筛选")
    appeal = (await intake.submit(rules, intake.validate(
        {**GOOD_APPEAL, "title": title, "type": "suggestion", "region": "990221"}, rules))).appeal
    await Appeal.filter(id=appeal.id).update(reply_due_at=appeal.submitted_at)
    department = (await Appeal.get(id=appeal.id).prefetch_related("department")).department
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    params = {"type": "suggestion", "department": department.code, "overdue": "1"}
    found = await inspector.get("/staff/appeals", params=params)
    assert appeal.tracking_number in found.text and "超期" in found.text
    other = await inspector.get("/staff/appeals", params={**params, "type": "complaint"})
    assert appeal.tracking_number not in other.text
