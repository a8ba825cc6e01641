"""A form that is refused comes back with the Chinese message beside the field and what the
person typed still in it; nothing is changed."""

from __future__ import annotations

import html
import re

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.schemas import limits, staff
from app.schemas.base import parse
from app.services import clocks
from app.services.workflow import Actor
from tests import factories
from tests.conftest import PASSWORD, login, post_form, unique

DEPT = "990102-zhujian"


async def _handler_on_accepted_appeal(handler):
    staff = await factories.make_staff(Role.HANDLER, DEPT)
    made = await factories.make_appeal("accepted", DEPT, by=Actor.of(staff), type="consultation")
    await login(handler, staff.username)
    return made, f"/staff/appeals/{made.number}"


def _beside(page: str, field_html: str) -> str:
    """The error paragraph right after the field's own markup."""
    at = page.index(field_html)
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', page[at:])
    assert found, page[at:at + 400]
    return found.group(1)


async def _events(appeal: Appeal) -> int:
    return await AppealEvent.filter(appeal_id=appeal.id).count()


async def test_a_short_reply_comes_back_beside_the_field_with_the_text_kept(database, new_client):
    handler = new_client()
    made, page = await _handler_on_accepted_appeal(handler)
    before = await _events(made.appeal)
    response = await post_form(handler, f"{page}/reply", {"reply": "已处理<b>"}, page)
    assert response.status_code == 400
    assert _beside(response.text, 'id="reply-text"') == \
        f"答复内容至少 {limits.REPLY_MIN} 个字。"
    assert ">已处理&lt;b&gt;</textarea>" in response.text
    assert await _events(made.appeal) == before
    assert (await Appeal.get(id=made.appeal.id)).status == "accepted"


async def test_extension_days_that_are_not_a_number_keep_the_reason(database, new_client):
    handler = new_client()
    made, page = await _handler_on_accepted_appeal(handler)
    reason = "需要协调三个部门现场勘查"
    response = await post_form(handler, f"{page}/extension", {"days": "三", "reason": reason},
                               page)
    assert response.status_code == 400
    assert _beside(response.text, 'id="ext-days"') == "请填写延期的工作日天数。"
    assert f'value="{reason}"' in response.text
    assert (await Appeal.get(id=made.appeal.id)).extension_requested_days == 0


async def test_routing_to_an_unknown_unit_keeps_the_note(database, new_client):
    dispatcher = new_client()
    made = await factories.make_appeal("triage", None)
    await login(dispatcher, (await factories.make_staff(Role.DISPATCHER)).username)
    page = f"/staff/appeals/{made.number}"
    response = await post_form(dispatcher, f"{page}/route",
                               {"department": "000000-nobody", "note": "转住建"}, page)
    assert response.status_code == 400
    assert _beside(response.text, 'id="route-department"') == \
        "没有名为“000000-nobody”的部门，请从列表中选择。"
    assert 'value="转住建"' in response.text
    assert (await Appeal.get(id=made.appeal.id)).status == "triage"


async def test_information_too_short_comes_back_on_the_tracking_page(database, new_client):
    resident = new_client()
    made = await factories.make_appeal("accepted", DEPT, type="consultation")
    await clocks.ask_info(made.appeal, await factories.handler_of(DEPT),
        parse(staff.AskInfo, {"question": "请补充物业合同照片"}))
    tracked = await post_form(resident, "/track", {"username": made.username,
                                                   "password": made.password}, "/track")
    assert tracked.status_code == 303
    response = await post_form(resident, "/track/info", {"info": "短"}, "/track/appeal")
    assert response.status_code == 400
    assert f"至少 {limits.INFO_MIN} 个字" in _beside(response.text, 'id="info"')
    assert ">短</textarea>" in response.text
    assert (await Appeal.get(id=made.appeal.id)).status == "awaiting_info"


async def test_registration_names_each_wrong_field_and_keeps_what_was_typed(
        database, new_client):
    browser = new_client()
    response = await post_form(browser, "/account/register",
                               {"email": "not-mail", "phone": "call me", "name": "小王",
                                "password": "short"}, "/account/register")
    assert response.status_code == 400
    text = html.unescape(response.text)
    for message in ("请填写有效的电子邮箱。", "电话号码格式不正确。",
                    f"密码至少 {limits.PASSWORD_MIN} 位。"):
        assert message in text
    assert 'value="not-mail"' in response.text and 'value="call me"' in response.text


async def test_a_new_password_that_is_too_short_is_said_on_the_same_form(database, new_client):
    response = await post_form(new_client(), "/account/reset/confirm",
                               {"token": "whatever", "password": "short"},
                               "/account/reset/confirm")
    assert response.status_code == 400
    assert f"密码至少 {limits.PASSWORD_MIN} 位。" in response.text
    assert 'name="token" value="whatever"' in response.text


async def test_an_oversized_login_reads_like_wrong_credentials(database, new_client):
    staff = await factories.make_staff(Role.INSPECTOR)
    refused = await post_form(new_client(), "/login",
                              {"username": staff.username + "x" * 5000, "password": PASSWORD},
                              "/login")
    wrong = await post_form(new_client(), "/login",
                            {"username": unique("nobody"), "password": PASSWORD}, "/login")
    assert refused.status_code == wrong.status_code == 400
    assert "用户名或密码不正确。" in refused.text and "用户名或密码不正确。" in wrong.text
