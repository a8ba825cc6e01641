"""The dispatcher's hotline desk (issue 11): phone intake, why triage waits, pending
extension requests, department pickers by name, flash messages and refusals in place."""

from __future__ import annotations

import dataclasses
import html
import re

from app.domain.types import Role
from app.models import Appeal, AppealEvent, Department
from app.schemas import staff as staff_forms
from app.schemas.base import parse
from app.services import intake, routing
from tests.conftest import GOOD_APPEAL, login, make_staff, post_form, unique
from tests.factories import OWN, UNSURE_BODY, handler_of, make_appeal

RENSHE = "990100-renshe"
NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next">')


async def _dispatcher(new_client):
    client = new_client()
    await login(client, await make_staff(Role.DISPATCHER))
    return client


async def _all_pages(client, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    texts = [response.text]
    base = url.split("?")[0]
    while (found := NEXT_PAGE.search(response.text)) and len(texts) < 200:
        response = await client.get(base + html.unescape(found.group(1)))
        assert response.status_code == 200
        texts.append(response.text)
    return "\n".join(texts)


def _credentials(page: str) -> dict[str, str]:
    return {key: re.search(rf'id="tracking-{key}">([^<]+)<', page).group(1)
            for key in ("number", "username", "password")}


def _call(**overrides) -> dict:
    return {**GOOD_APPEAL, "title": unique("来电反映电梯"), "department": "",
            "named_unit_name": "", **overrides}


async def _name(code: str) -> str:
    return (await Department.get(code=code)).name


# --- Phone intake ---------------------------------------------------------------------

async def test_a_phone_intake_is_stored_as_phone_routed_like_any_other_and_can_be_tracked(
        app, database, new_client):
    desk = await _dispatcher(new_client)
    form = await desk.get("/staff/intake")
    assert form.status_code == 200 and 'list="department-list"' in form.text
    taken = await post_form(desk, "/staff/intake", {**_call(), "step": "submit"},
                            "/staff/intake")
    assert taken.status_code == 200, taken.text
    assert "请向来电人宣读" in taken.text and "字母" in taken.text  # spelled out
    found = _credentials(taken.text)
    appeal = await Appeal.get(tracking_number=found["number"]).prefetch_related("department")
    rules = app.state.rules
    web = await intake.submit(rules, intake.validate(
        {**GOOD_APPEAL, "title": unique("网上反映电梯")}, rules))
    assert appeal.channel == "phone" and web.appeal.channel == "web"
    assert (appeal.status, appeal.department.code) == ("assigned", OWN)
    assert (appeal.status, appeal.department_id) == (web.appeal.status, web.appeal.department_id)
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id") \
        .values_list("kind", flat=True)
    assert kinds == ["submitted", "route_confident", "note"]  # the note: who took the call

    resident = new_client()
    tracked = await post_form(resident, "/track", {"username": found["username"],
                                                   "password": found["password"]}, "/track")
    assert tracked.status_code == 303 and tracked.headers["location"] == "/track/appeal"
    assert appeal.title in (await resident.get("/track/appeal")).text

    staff_page = await desk.get(f"/staff/appeals/{appeal.tracking_number}")
    assert '来源：<span id="channel">电话</span>' in staff_page.text
    assert "（电话）提交" in staff_page.text  # on the trail's first event


async def test_the_dispatcher_previews_the_proposal_and_may_pick_another_department(
        database, new_client):
    desk = await _dispatcher(new_client)
    call = _call(title=unique("来电反映电梯预判"))
    before = await Appeal.filter(title=call["title"]).count()
    preview = await post_form(desk, "/staff/intake", {**call, "step": "preview"},
                              "/staff/intake")
    assert preview.status_code == 200
    assert "系统建议分派至" in preview.text
    own_name = await _name(OWN)
    assert f'id="department" name="department" list="department-list" maxlength="80" ' \
           f'value="{own_name}"' in preview.text  # the proposal, ready to confirm
    assert html.escape(call["body"]) in preview.text  # what was typed is kept
    assert await Appeal.filter(title=call["title"]).count() == before  # nothing stored

    other = await _name(RENSHE)
    taken = await post_form(desk, "/staff/intake",
                            {**call, "department": other, "step": "submit"}, "/staff/intake")
    assert taken.status_code == 200, taken.text
    assert other in taken.text
    appeal = await Appeal.get(title=call["title"]).prefetch_related("department")
    assert appeal.department.code == RENSHE and appeal.status == "assigned"
    manual = await AppealEvent.get(appeal_id=appeal.id, kind="route_manual")
    assert manual.actor_id is not None and "人工分派" in manual.note


async def test_a_refused_intake_says_why_beside_each_field_and_keeps_what_was_typed(
        database, new_client):
    desk = await _dispatcher(new_client)
    call = _call(title=unique("来电"), body="太短", contact_phone="",
                 department="没有这个局")
    before = await Appeal.all().count()
    refused = await post_form(desk, "/staff/intake", {**call, "step": "submit"},
                              "/staff/intake")
    assert refused.status_code == 400
    assert "请把情况写清楚，内容至少" in refused.text
    assert "请至少留下电话或电子邮箱" in refused.text
    assert "没有名为“没有这个局”的部门，请从列表中选择。" in refused.text
    assert f'value="{call["title"]}"' in refused.text and 'value="没有这个局"' in refused.text
    assert await Appeal.all().count() == before


async def test_a_phone_report_is_never_given_to_the_unit_it_names(database, new_client):
    desk = await _dispatcher(new_client)
    unit = await _name(OWN)
    call = _call(type="report", title=unique("来电举报"), named_unit_name=unit,
                 department=unit)
    refused = await post_form(desk, "/staff/intake", {**call, "step": "submit"},
                              "/staff/intake")
    assert refused.status_code == 400
    assert "举报件不能交给被举报单位办理" in refused.text
    assert not await Appeal.exists(title=call["title"])
    taken = await post_form(desk, "/staff/intake",
                            {**call, "department": "", "step": "submit"}, "/staff/intake")
    assert taken.status_code == 200, taken.text
    appeal = await Appeal.get(title=call["title"]).prefetch_related("department", "named_unit")
    assert appeal.named_unit.code == OWN and appeal.department.code == "990100-jiwei"


# --- Why triage waits ---------------------------------------------------------------

async def _unsure(rules) -> Appeal:
    strict = dataclasses.replace(rules, routing=dataclasses.replace(
        rules.routing, confidence_threshold=1.0))
    form = {**GOOD_APPEAL, "title": unique("拿不准"), "category": "", "body": UNSURE_BODY}
    return (await intake.submit(strict, intake.validate(form, rules))).appeal


async def _conflict(rules) -> Appeal:
    """A provincial report naming the province's own discipline body: nobody else to take it."""
    form = {**GOOD_APPEAL, "type": "report", "region": "990000", "named_unit": "990000-jiwei",
            "title": unique("举报省纪委")}
    return (await intake.submit(rules, intake.validate(form, rules))).appeal


async def test_the_triage_list_says_why_each_appeal_waits_and_filters_by_it(
        app, database, new_client):
    rules = app.state.rules
    returned = (await make_appeal("assigned", OWN, title=unique("被退回"))).appeal
    await routing.return_to_triage(returned, await handler_of(OWN), parse(
        staff_forms.Return, {"reason": "该事项属于人社部门职责"}))
    unsure, conflict = await _unsure(rules), await _conflict(rules)
    assert (unsure.status, conflict.status) == ("triage", "triage")
    desk = await _dispatcher(new_client)

    everything = await _all_pages(desk, "/staff/triage")
    own = await _name(OWN)
    assert f"被{own}退回：该事项属于人社部门职责" in everything
    assert re.search(r"分类把握不足：最可能为“[^”]+”，把握 \d+%", everything)
    assert "举报须回避云海省纪委监委" in everything
    for reason, shown, hidden in (("returned", returned, (unsure, conflict)),
                                  ("unsure", unsure, (returned, conflict)),
                                  ("conflict", conflict, (returned, unsure))):
        page = await _all_pages(desk, f"/staff/triage?reason={reason}")
        assert shown.tracking_number in page, reason
        assert all(a.tracking_number not in page for a in hidden), reason
    bad = await desk.get("/staff/triage?reason=whatever")
    assert bad.status_code == 200 and "没有这个待分派原因" in bad.text


# --- Pending extension requests --------------------------------------------------------

async def test_pending_extension_requests_are_listed_oldest_first_for_who_decides(
        database, new_client):
    first = await make_appeal("extension_requested", OWN, title=unique("先申请延期"))
    second = await make_appeal("extension_requested", OWN, title=unique("后申请延期"))
    desk = await _dispatcher(new_client)
    page = await _all_pages(desk, "/staff/extensions")
    assert page.index(first.number) < page.index(second.number)
    assert "需要会同城管部门现场勘查" in page  # the reason asked

    head_own, head_other, handler = new_client(), new_client(), new_client()
    await login(head_own, await make_staff(Role.HEAD, OWN))
    await login(head_other, await make_staff(Role.HEAD, "990100-jiaoyu"))
    await login(handler, await make_staff(Role.HANDLER, OWN))
    assert first.number in await _all_pages(head_own, "/staff/extensions")
    assert first.number not in await _all_pages(head_other, "/staff/extensions")
    assert (await handler.get("/staff/extensions")).status_code == 404

    decided = await post_form(desk, f"/staff/appeals/{first.number}/extension/decision",
                              {"decision": "grant"}, f"/staff/appeals/{first.number}")
    assert decided.status_code == 303
    after = await _all_pages(desk, "/staff/extensions")
    assert first.number not in after and second.number in after
    assert "已批准延期" in after  # the flash, on the next page


# --- Pickers by name, flash messages, refusals in place ---------------------------------

async def test_the_route_picker_takes_a_name_and_the_flash_is_shown_once(
        database, new_client):
    made = await make_appeal("triage", OWN, title=unique("按名称分派"))
    desk = await _dispatcher(new_client)
    page = f"/staff/appeals/{made.number}"
    detail = await desk.get(page)
    renshe = await _name(RENSHE)
    assert f'<option value="{renshe}">' in detail.text and 'list="route-departments"' in detail.text

    unknown = await post_form(desk, f"{page}/route", {"department": "人社", "note": "改派说明"},
                              page)
    assert unknown.status_code == 400
    assert "没有名为“人社”的部门，请从列表中选择。" in unknown.text
    assert 'value="人社"' in unknown.text and 'value="改派说明"' in unknown.text
    assert (await Appeal.get(id=made.appeal.id)).status == "triage"

    routed = await post_form(desk, f"{page}/route", {"department": renshe}, page)
    assert routed.status_code == 303
    shown = await desk.get(routed.headers["location"])
    assert f'id="flash">已分派至{renshe}<' in shown.text
    assert 'id="flash"' not in (await desk.get(page)).text  # once
    appeal = await Appeal.get(id=made.appeal.id).prefetch_related("department")
    assert appeal.department.code == RENSHE


async def test_a_handler_action_flashes_and_a_refused_one_stays_on_the_page(
        database, new_client):
    made = await make_appeal("assigned", OWN, title=unique("签收提示"))
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    page = f"/staff/appeals/{made.number}"
    acknowledged = await post_form(handler, f"{page}/acknowledge", {}, page)
    assert acknowledged.status_code == 303
    assert 'id="flash">已签收<' in (await handler.get(page)).text
    assert 'id="flash"' not in (await handler.get(page)).text

    again = await post_form(handler, f"{page}/acknowledge", {}, page)  # already done
    assert again.status_code == 409
    assert 'id="refused"' in again.text and "不能执行“签收”" in again.text
    assert 'id="trail"' in again.text  # the appeal's page, not a bare error page

    short = await post_form(handler, f"{page}/reply", {"reply": "太短了"}, page)
    assert short.status_code == 400
    assert ">太短了</textarea>" in short.text and "答复内容至少" in short.text

    returned = await post_form(handler, f"{page}/return", {"reason": "不属于本部门职责"}, page)
    assert returned.status_code == 303 and returned.headers["location"] == "/staff/queue"
    assert "已退回至分派中心" in (await handler.get("/staff/queue")).text


async def test_the_intake_is_rate_limited_per_dispatcher(database, rules):
    from app.web.app import create_app
    from tests.conftest import make_client, test_settings

    limited = create_app(test_settings(database, MINSHENG_RATE_LIMIT="1"), rules,
                         manage_db=False)
    async with make_client(limited) as desk:
        await login(desk, await make_staff(Role.DISPATCHER))
        call = {**_call(), "body": "太短"}  # refused: nothing stored either way
        first = await post_form(desk, "/staff/intake", call, "/staff/intake")
        second = await post_form(desk, "/staff/intake", call, "/staff/intake")
    assert first.status_code == 400
    assert second.status_code == 429 and "操作过于频繁" in second.text
