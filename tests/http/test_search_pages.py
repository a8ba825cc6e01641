"""Search, history and the queues' filters through HTTP: what each page shows and to whom,
masked contacts, and bad input said beside its field."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from app.domain.types import Role
from app.models import Appeal, Department, SupervisionOrder
from tests.conftest import login
from tests.factories import OWN, make_appeal, make_staff
from tests.integration.test_search import phrase

BODY = "的问题一直没有解决，请有关部门尽快处理。"


async def browser(new_client, role: Role, department: str | None = None):
    client = new_client()
    await login(client, (await make_staff(role, department)).username)
    return client


def phone() -> str:
    return f"137{random.randrange(10**8):08d}"


async def test_results_show_the_phone_masked_and_find_it_only_in_full(database, rules,
                                                                       new_client):
    number, word = phone(), phrase(3)
    written = phone()
    made = await make_appeal("accepted", OWN, rules=rules, contact_phone=number,
                             title=f"{word}请回电{written}", body=f"{word}{BODY}")
    inspector = await browser(new_client, Role.INSPECTOR)
    for q in (word, number, f"+86 {number[:3]} {number[3:7]} {number[7:]}"):
        page = await inspector.get("/staff/search", params={"q": q})
        assert page.status_code == 200 and made.number in page.text
        assert number not in page.text.replace(f'value="{number}"', "")
        assert f"{number[:3]}****{number[-4:]}" in page.text
        assert written not in page.text  # a number written in the title is masked too
    for part in (number[:7], number[-4:], number[:-1]):
        page = await inspector.get("/staff/search", params={"q": part})
        assert page.status_code == 200 and made.number not in page.text


async def test_a_department_never_finds_a_report_naming_it_nor_another_departments_appeal(
        database, rules, new_client):
    word = phrase(3)
    mine = await make_appeal("accepted", OWN, rules=rules, body=f"{word}{BODY}")
    other = await make_appeal("accepted", "990100-jiaoyu", rules=rules, body=f"{word}{BODY}")
    report = await make_appeal("assigned", None, rules=rules, type="report", named_unit=OWN,
                               body=f"举报{word}的负责人收受好处费，请纪检部门查处。",
                               contact_phone=phone())
    handling = (await report.appeal.department).code
    own, elsewhere = (await browser(new_client, Role.HANDLER, OWN),
                      await browser(new_client, Role.HANDLER, "990100-jiaoyu"))
    page = (await own.get("/staff/search", params={"q": word})).text
    assert mine.number in page and other.number not in page and report.number not in page
    assert report.appeal.title not in page
    page = (await elsewhere.get("/staff/search", params={"q": word})).text
    assert other.number in page and mine.number not in page
    # The department handling the report finds it, without the reporter's contact.
    handler = await browser(new_client, Role.HANDLER, handling)
    page = (await handler.get("/staff/search", params={"q": word})).text
    assert report.number in page and "（不显示）" in page
    assert report.appeal.contact_phone[-4:] not in page


async def test_bad_input_is_said_beside_its_field(database, new_client):
    dispatcher = await browser(new_client, Role.DISPATCHER)
    page = await dispatcher.get("/staff/search", params={"q": "路" * 101})
    assert page.status_code == 200
    assert re.search(r'id="f-q"[^>]*aria-invalid="true"[^>]*>'
                     r'<p class="error" id="e-q" role="alert">搜索内容不能超过 100 个字', page.text)
    page = await dispatcher.get("/staff/search", params={
        "q": "电梯", "submitted_from": "2026-02-30", "submitted_to": "明天", "region": "nowhere"})
    assert page.status_code == 200
    assert re.search(r'name="submitted_from"[^>]*><p class="error"[^>]*>提交日期起应为', page.text)
    assert re.search(r'name="submitted_to"[^>]*><p class="error"[^>]*>提交日期止应为', page.text)
    assert "没有这个地区" in page.text
    page = await dispatcher.get("/staff/search", params={"q": "电"})
    assert page.status_code == 200 and "请输入至少两个字" in page.text
    page = await dispatcher.get("/staff/search", params={"q": "电梯", "after": "!!"})
    assert page.status_code == 200 and "翻页参数无效" in page.text


async def test_history_lists_answered_and_closed_appeals_of_the_department(
        database, rules, new_client):
    department = "990102-renshe"
    at = datetime.now(UTC) - timedelta(hours=5)
    closed = await make_appeal("closed", department, rules=rules, at=at)
    replied = await make_appeal("replied", department, rules=rules, at=at + timedelta(hours=1))
    waiting = await make_appeal("accepted", department, rules=rules)
    foreign = await make_appeal("replied", "990102-jiaoyu", rules=rules)
    handler = await browser(new_client, Role.HANDLER, department)
    page = (await handler.get("/staff/history")).text
    assert page.index(replied.number) < page.index(closed.number)
    assert waiting.number not in page and foreign.number not in page
    page = (await handler.get("/staff/history", params={"status": "closed"})).text
    assert closed.number in page and replied.number not in page
    head = await browser(new_client, Role.HEAD, department)
    assert replied.number in (await head.get("/staff/history")).text


async def test_the_handlers_queue_filters_by_status_type_overdue_and_supervision(
        database, rules, new_client):
    code = "990121-renshe"
    department = await Department.get(code=code)
    accepted = await make_appeal("accepted", code, rules=rules, type="consultation")
    assigned = await make_appeal("assigned", code, rules=rules, type="complaint")
    late = await make_appeal("accepted", code, rules=rules, type="complaint")
    now = datetime.now(UTC)
    await Appeal.filter(id=late.appeal.id).update(reply_due_at=now - timedelta(days=1))
    await SupervisionOrder.create(appeal_id=assigned.appeal.id, department_id=department.id,
                                  status="issued", reason="群众反映强烈。", days=3,
                                  issued_at=now, due_at=now + timedelta(days=3))
    handler = await browser(new_client, Role.HANDLER, code)

    async def listed(**params: str) -> set[str]:
        page = await handler.get("/staff/queue", params=params)
        assert page.status_code == 200
        rows = page.text.split("<tbody>")[-1]  # the queue, not the pinned 督办 card
        return {m.number for m in (accepted, assigned, late) if m.number in rows}

    assert await listed() == {accepted.number, assigned.number, late.number}
    assert await listed(status="assigned") == {assigned.number}
    assert await listed(type="complaint") == {assigned.number, late.number}
    assert await listed(overdue="1") == {late.number}
    assert await listed(supervised="1") == {assigned.number}
    assert await listed(supervised="1", type="consultation") == set()
    page = await handler.get("/staff/queue", params={"supervised": "1"})
    assert 'name="supervised" value="1" checked' in page.text


async def test_the_triage_queue_filters_by_type_overdue_and_supervision(database, rules,
                                                                        new_client):
    help_ = await make_appeal("triage", rules=rules, type="help")
    late = await make_appeal("triage", rules=rules, type="suggestion")
    await Appeal.filter(id=late.appeal.id).update(
        reply_due_at=datetime.now(UTC) - timedelta(days=400))
    dispatcher = await browser(new_client, Role.DISPATCHER)
    page = (await dispatcher.get("/staff/triage", params={"type": "help"})).text
    assert help_.number in page and late.number not in page
    page = (await dispatcher.get("/staff/triage", params={"overdue": "1",
                                                          "type": "suggestion"})).text
    assert late.number in page and help_.number not in page
    page = (await dispatcher.get("/staff/triage", params={"supervised": "1"})).text
    assert help_.number not in page and late.number not in page
