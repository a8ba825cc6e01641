"""督办 and 催办 through the pages: the inspector issues from the appeal's page, the order is
pinned at the top of the department's queue, the department answers, the inspector closes or
re-issues; lists by department; refusals in Chinese; CSRF."""

from __future__ import annotations

from app.domain.types import Role
from app.models import AppealEvent, OutboxMessage, SupervisionOrder
from tests.conftest import login, make_staff, post_form, unique
from tests.factories import make_appeal

OWN = "990121-shengtai"  # few other tests use it: its queue stays one page
OTHER = "990121-jiaotong"
ORDER = {"reason": "群众多次来电反映，请加快办理并说明进展。", "days": "3"}
ANSWER = {"answer": "已约谈物业公司负责人，电梯维修方案已确定，本周内修复。"}


async def _kinds(appeal) -> list[str]:
    return list(await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
                .values_list("kind", flat=True))


async def _people(new_client):
    inspector, handler, other = new_client(), new_client(), new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    await login(handler, await make_staff(Role.HANDLER, OWN))
    await login(other, await make_staff(Role.HANDLER, OTHER))
    return inspector, handler, other


async def test_an_order_lives_from_the_appeal_page_to_its_close(app, database, new_client):
    inspector, handler, other = await _people(new_client)
    made = await make_appeal("accepted", OWN, rules=app.state.rules, title=unique("督办页面"))
    page = f"/staff/appeals/{made.number}"

    detail = await inspector.get(page)
    assert f'action="{page}/supervise"' in detail.text
    issued = await post_form(inspector, f"{page}/supervise", ORDER, page)
    assert issued.status_code == 303 and issued.headers["location"] == page
    assert "待部门反馈" in (await inspector.get(page)).text

    queue = (await handler.get("/staff/queue")).text
    pinned = queue[queue.index('id="pinned"'):queue.index("</table>", queue.index('id="pinned"'))]
    assert made.number in pinned and "督办" in pinned and ORDER["reason"] in pinned
    row = queue[queue.index("</table>", queue.index('id="pinned"')):]
    row = row[:row.index(made.number)].rsplit("<tr", 1)[1]
    assert "mark-supervision" in row  # marked in the queue below too
    assert made.number not in (await other.get("/staff/supervision")).text
    assert made.number in (await handler.get("/staff/supervision?status=issued")).text

    answered = await post_form(handler, f"{page}/supervision/answer", ANSWER, page)
    assert answered.status_code == 303
    assert made.number not in (await handler.get("/staff/queue")).text.split("</h1>", 1)[1] \
        .split('class="card filters"', 1)[0]  # no longer pinned
    detail = (await inspector.get(page)).text
    assert ANSWER["answer"] in detail and f'action="{page}/supervision/close"' in detail

    closed = await post_form(inspector, f"{page}/supervision/close", {"note": ""}, page)
    assert closed.status_code == 303
    order = await SupervisionOrder.get(appeal_id=made.appeal.id)
    assert order.status == "closed"
    assert (await _kinds(made.appeal))[-3:] == ["supervise", "supervision_answer",
                                                "supervision_close"]
    listed = (await inspector.get("/staff/supervision?status=closed")).text
    assert made.number in listed and "已结束" in listed
    trail = (await inspector.get(page)).text
    assert "督办反馈" in trail and "结束督办" in trail


async def test_reissue_from_the_page_starts_a_second_round(app, database, new_client):
    inspector, handler, _ = await _people(new_client)
    made = await make_appeal("assigned", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    await post_form(inspector, f"{page}/supervise", ORDER, page)
    await post_form(handler, f"{page}/supervision/answer", ANSWER, page)
    again = {"reason": "反馈没有说明修复的具体日期，请补充。", "days": "2"}
    response = await post_form(inspector, f"{page}/supervision/reissue", again, page)
    assert response.status_code == 303
    order = await SupervisionOrder.get(appeal_id=made.appeal.id)
    assert (order.status, order.round, order.reason, order.days) == \
        ("issued", 2, again["reason"], 2)
    assert "第 2 次督办" in (await handler.get(page)).text
    assert made.number in (await handler.get("/staff/queue")).text


async def test_bad_order_input_is_refused_beside_its_field(app, database, new_client):
    inspector, _, _ = await _people(new_client)
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    response = await post_form(inspector, f"{page}/supervise",
                               {"reason": "太慢", "days": "99"}, page)
    assert response.status_code == 400
    assert "督办事由至少 5 个字。" in response.text
    assert "反馈期限须在 1 到 30 个工作日之间。" in response.text
    response = await post_form(inspector, f"{page}/supervise",
                               {"reason": ORDER["reason"], "days": "三天"}, page)
    assert response.status_code == 400 and "请填写反馈期限（工作日）。" in response.text
    assert not await SupervisionOrder.exists(appeal_id=made.appeal.id)


async def test_a_second_open_order_and_an_answer_without_order_are_refused(app, database,
                                                                         new_client):
    inspector, handler, _ = await _people(new_client)
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    early = await post_form(handler, f"{page}/supervision/answer", ANSWER, page)
    assert early.status_code == 409 and "没有未结束的督办" in early.text
    await post_form(inspector, f"{page}/supervise", ORDER, page)
    twice = await post_form(inspector, f"{page}/supervise", ORDER, page)
    assert twice.status_code == 409 and "已有未结束的督办" in twice.text
    assert await SupervisionOrder.filter(appeal_id=made.appeal.id).count() == 1


async def test_order_forms_need_the_csrf_token(app, database, new_client):
    inspector, _, _ = await _people(new_client)
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    response = await inspector.post(f"/staff/appeals/{made.number}/supervise", data=ORDER)
    assert response.status_code == 403
    response = await inspector.post(f"/staff/appeals/{made.number}/remind", data={})
    assert response.status_code == 403
    assert "supervise" not in await _kinds(made.appeal)
    assert "remind" not in await _kinds(made.appeal)


async def test_a_dispatcher_reminds_the_department(app, database, new_client):
    dispatcher = new_client()
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    assert f'action="{page}/remind"' in (await dispatcher.get(page)).text
    response = await post_form(dispatcher, f"{page}/remind", {"note": "请于本周内答复。"}, page)
    assert response.status_code == 303
    assert (await _kinds(made.appeal))[-1] == "remind"
    mails = await OutboxMessage.filter(kind="reminder", text_body__contains=made.number)
    assert mails and all("请于本周内答复。" in m.text_body for m in mails)
    for mail in mails:
        assert "13812345678" not in mail.text_body + mail.html_body
        assert "李阿姨" not in mail.text_body + mail.html_body
    too_long = await post_form(dispatcher, f"{page}/remind", {"note": "催" * 501}, page)
    assert too_long.status_code == 400 and "催办说明不能超过 500 个字。" in too_long.text


async def test_no_reminder_once_the_department_has_replied(app, database, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    made = await make_appeal("replied", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    assert f'action="{page}/remind"' not in (await inspector.get(page)).text
    response = await post_form(inspector, f"{page}/remind", {}, page)
    assert response.status_code == 409 and "不能执行“催办”" in response.text


async def test_supervision_list_pages_by_id(app, database, new_client):
    inspector, _, _ = await _people(new_client)
    response = await inspector.get("/staff/supervision?after=abc")
    assert response.status_code == 200 and "页码无效，请回到第一页。" in response.text
    response = await inspector.get("/staff/supervision?status=nonsense")
    assert response.status_code == 200 and "请选择有效的督办状态。" in response.text
