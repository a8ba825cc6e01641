"""Bad input gets a clear Chinese message and stores nothing; accepted markup stays text."""

from __future__ import annotations

import base64
import re

import pytest

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.services import accounts
from app.web.security import SESSION_COOKIE
from tests.conftest import (
    GOOD_APPEAL,
    PASSWORD,
    login,
    make_staff,
    post_form,
    submit_appeal,
    unique,
)
from tests.factories import make_appeal, make_resident
from tests.http.test_access import all_pages

DEPARTMENT = "990100-zhujian"

BAD_SUBMISSIONS = {
    "empty body": ({"body": ""}, "请把情况写清楚，内容至少 10 个字。"),
    "blank body": ({"body": "   \n  "}, "请把情况写清楚，内容至少 10 个字。"),
    "50,000-character body": ({"body": "噪" * 50_000}, "内容不能超过 5000 个字"),
    "unknown region": ({"region": "123456"}, "请选择所在地区。"),
    "no region": ({"region": ""}, "请选择所在地区。"),
    "unknown category": ({"category": "不存在的领域"}, "所选分类不存在"),
    "wrong type": ({"type": "bribe"}, "请选择诉求类型"),
    "no type": ({"type": ""}, "请选择诉求类型"),
    "report without named unit": ({"type": "report", "named_unit": ""},
                                  "举报须选择被举报的单位。"),
    "report naming an unknown unit": ({"type": "report", "named_unit": "000000-nobody"},
                                      "举报须选择被举报的单位。"),
    "missing contact": ({"contact_phone": "", "contact_email": ""},
                        "请至少留下电话或电子邮箱"),
    "bad phone": ({"contact_phone": "call me maybe"}, "电话号码格式不正确。"),
    "bad e-mail": ({"contact_email": "not-an-address"}, "电子邮箱格式不正确。"),
    "empty title": ({"title": ""}, "请填写标题。"),
    "title too long": ({"title": "长" * 101}, "标题不能超过 100 个字。"),
}


@pytest.mark.parametrize(("changes", "message"), BAD_SUBMISSIONS.values(),
                         ids=list(BAD_SUBMISSIONS))
async def test_bad_submission_gets_chinese_error_and_stores_nothing(
        database, client, changes, message):
    marker = unique("坏输入")
    data = {**GOOD_APPEAL, "title": marker, "contact_name": marker, **changes}
    response = await post_form(client, "/submit", data, "/submit")
    assert response.status_code == 400
    assert "提交未成功，请修改以下内容" in response.text
    assert message in response.text
    assert not await Appeal.filter(contact_name=marker).exists()
    # The form comes back filled in, so the resident does not retype everything.
    if changes.get("contact_phone") == "call me maybe":
        assert 'value="call me maybe"' in response.text


async def test_several_problems_are_all_named_at_once(database, client):
    marker = unique("多处错误")
    response = await post_form(client, "/submit",
                               {**GOOD_APPEAL, "title": marker, "body": "", "region": "x",
                                "type": "nonsense"}, "/submit")
    assert response.status_code == 400
    for message in ("请把情况写清楚", "请选择所在地区", "请选择诉求类型"):
        assert message in response.text
    assert not await Appeal.filter(title=marker).exists()


SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_script_in_title_is_stored_and_shown_as_text(database, new_client):
    resident, handler, inspector = new_client(), new_client(), new_client()
    title = f"{SCRIPT}{unique('施工扰民')}"
    # A quiet county, so the appeal is on the first page of its department's queue.
    response = await post_form(resident, "/submit",
                               {**GOOD_APPEAL, "title": title, "region": "990222"}, "/submit")
    assert response.status_code == 200
    assert SCRIPT not in response.text and "<script" not in response.text
    number = re.search(r'id="tracking-number">([^<]+)<', response.text).group(1)
    username = re.search(r'id="tracking-username">([^<]+)<', response.text).group(1)
    password = re.search(r'id="tracking-password">([^<]+)<', response.text).group(1)
    appeal = await Appeal.get(tracking_number=number).prefetch_related("department")
    assert appeal.title == title  # stored as the resident typed it
    assert appeal.department is not None

    tracked = await post_form(resident, "/track", {"username": username,
                                                   "password": password}, "/track")
    assert tracked.status_code == 303
    pages = {"tracking page": await resident.get("/track/appeal")}
    await login(handler, await make_staff(Role.HANDLER, appeal.department.code))
    queue = await handler.get("/staff/queue")
    assert queue.status_code == 200
    pages["handler queue"] = await all_pages(handler, "/staff/queue", queue)
    pages["handler's appeal page"] = await handler.get(f"/staff/appeals/{number}")
    await login(inspector, await make_staff(Role.INSPECTOR))
    pages["inspector list"] = await inspector.get("/staff/appeals")
    pages["inspector's appeal page"] = await inspector.get(f"/staff/appeals/{number}")
    for where, page in pages.items():
        text = page if isinstance(page, str) else page.text
        if not isinstance(page, str):
            assert page.status_code == 200, where
        assert SCRIPT not in text, where
        assert "<script" not in text, where
        assert ESCAPED in text, where


async def test_markup_in_refused_submission_is_echoed_escaped(database, client):
    hostile = '"><script>alert(1)</script><input value="'
    response = await post_form(client, "/submit",
                               {**GOOD_APPEAL, "title": hostile, "body": hostile,
                                "contact_name": hostile, "contact_phone": hostile},
                               "/submit")
    assert response.status_code == 400
    assert "<script" not in response.text
    assert hostile not in response.text
    # Echoed back into the form as text, quotes included, so it cannot leave the attribute.
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;input value=&#34;" \
        in response.text
    assert not await Appeal.filter(title=hostile).exists()


# --- Staff actions --------------------------------------------------------------------------

async def _state(number: str) -> tuple:
    appeal = await Appeal.get(tracking_number=number)
    events = await AppealEvent.filter(appeal_id=appeal.id).count()
    return appeal.status, appeal.reply_text, events


@pytest.mark.parametrize("reply", ["", "   ", "收到", "已处理。"])
async def test_reply_too_short_gets_chinese_error_and_status_unchanged(
        database, new_client, reply):
    handler = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    assert (await post_form(handler, f"{page}/acknowledge", {}, page)).status_code == 303
    before = await _state(number)
    assert before[0] == "accepted"
    response = await post_form(handler, f"{page}/reply", {"reply": reply}, page)
    assert response.status_code == 400
    assert "答复内容至少 10 个字。" in response.text
    assert await _state(number) == before


async def test_reply_too_long_gets_chinese_error(database, new_client):
    handler = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    await post_form(handler, f"{page}/acknowledge", {}, page)
    before = await _state(number)
    response = await post_form(handler, f"{page}/reply", {"reply": "答" * 5001}, page)
    assert response.status_code == 400
    assert "答复内容不能超过 5000 个字。" in response.text
    assert await _state(number) == before


async def test_reply_before_acknowledge_is_an_illegal_transition(database, new_client):
    handler = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    before = await _state(number)
    assert before[0] == "assigned"
    response = await post_form(handler, f"{page}/reply",
                               {"reply": "经核查，已责令施工单位夜间停止作业。"}, page)
    assert response.status_code == 409  # the state forbids it: 409, as on the API
    assert "当前状态“已交办”下不能执行“答复”。" in response.text
    assert await _state(number) == before


async def test_acknowledging_twice_is_an_illegal_transition(database, new_client):
    handler = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    assert (await post_form(handler, f"{page}/acknowledge", {}, page)).status_code == 303
    before = await _state(number)
    response = await post_form(handler, f"{page}/acknowledge", {}, page)
    assert response.status_code == 409  # the state forbids it: 409, as on the API
    assert "当前状态“办理中”下不能执行“签收”。" in response.text
    assert await _state(number) == before


async def test_return_without_reason_gets_chinese_error(database, new_client):
    handler = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    before = await _state(number)
    response = await post_form(handler, f"{page}/return", {"reason": "  "}, page)
    assert response.status_code == 400
    assert "退回须说明理由。" in response.text
    assert await _state(number) == before


@pytest.mark.parametrize(("department", "message"), [
    ("", "请选择有效的承办部门。"),
    ("000000-nobody", "没有名为“000000-nobody”的部门，请从列表中选择。")])
async def test_route_to_unknown_department_gets_chinese_error(database, new_client, department,
                                                              message):
    dispatcher = new_client()
    number = (await make_appeal("assigned", DEPARTMENT, title=unique("办理出错"))).number
    page = f"/staff/appeals/{number}"
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    before = await _state(number)
    response = await post_form(dispatcher, f"{page}/route", {"department": department}, page)
    assert response.status_code == 400
    assert message in response.text
    assert await _state(number) == before


# --- Login ----------------------------------------------------------------------------------

def _error(page: str) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', page)
    assert match, page
    return match.group(1)


async def test_login_error_is_the_same_for_unknown_user_and_wrong_password(
        database, new_client):
    username = await make_staff(Role.INSPECTOR)
    wrong_password = await post_form(new_client(), "/login",
                                     {"username": username, "password": PASSWORD + "x"},
                                     "/login")
    unknown_user = await post_form(new_client(), "/login",
                                   {"username": unique("nobody"), "password": PASSWORD},
                                   "/login")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert _error(wrong_password.text) == _error(unknown_user.text) == "用户名或密码不正确。"
    for response in (wrong_password, unknown_user):
        assert "ms_session" not in response.headers.get("set-cookie", "")


async def test_tracking_login_error_is_the_same_for_unknown_user_and_wrong_password(
        database, new_client):
    resident = new_client()
    receipt = await submit_appeal(resident, title=unique("查询登录"))
    wrong_password = await post_form(new_client(), "/track",
                                     {"username": receipt["username"], "password": "wrong"},
                                     "/track")
    unknown_user = await post_form(new_client(), "/track",
                                   {"username": unique("nobody"),
                                    "password": receipt["password"]}, "/track")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert _error(wrong_password.text) == _error(unknown_user.text) == "查询账号或密码不正确。"


# Names no account or tracking login can have: longer than the column, or holding U+0000
# (which PostgreSQL refuses). Each used to reach the query and crash it (500).
IMPOSSIBLE_NAMES = {"longer than a tracking login": "a" * 40,
                    "longest a form takes": "a" * 254, "with U+0000": "a\x00b"}
LOGIN_DOORS = {"/track": ("username", "查询账号或密码不正确。"),
               "/login": ("username", "用户名或密码不正确。"),
               "/account/login": ("email", "邮箱或密码不正确，或账号尚未激活。")}


@pytest.mark.parametrize("name", IMPOSSIBLE_NAMES.values(), ids=list(IMPOSSIBLE_NAMES))
@pytest.mark.parametrize("path", LOGIN_DOORS)
async def test_login_name_nobody_can_have_is_refused_like_a_wrong_one(database, new_client,
                                                                      path, name):
    field, message = LOGIN_DOORS[path]
    response = await post_form(new_client(), path, {field: name, "password": PASSWORD}, path)
    assert response.status_code == 400
    assert _error(response.text) == message


@pytest.mark.parametrize("name", ["a" * 40, "a" * 600, "a\x00b"], ids=["40", "600", "nul"])
async def test_basic_name_nobody_can_have_answers_the_uniform_404(app, database, client, name):
    number = (await make_appeal("assigned", DEPARTMENT, rules=app.state.rules)).number
    credentials = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
    response = await client.get(f"/api/v1/appeals/{number}",
                                headers={"authorization": f"Basic {credentials}"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# Tracking numbers no appeal can have (longer than the column, or U+0000 sent as %00): the
# uniform 404, as for a number that does not exist; these used to crash the query (500).
IMPOSSIBLE_NUMBERS = {"longer than the column": "MS20261201-" + "1" * 20,
                      "with U+0000": "MS2026%001201-000001"}


@pytest.mark.parametrize("number", IMPOSSIBLE_NUMBERS.values(), ids=list(IMPOSSIBLE_NUMBERS))
async def test_impossible_tracking_number_in_a_page_address_answers_404(database, new_client,
                                                                        number):
    dispatcher, resident = new_client(), new_client()
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    resident.cookies.set(SESSION_COOKIE,
                         await accounts.open_session(account=await make_resident()))
    answers = [
        await dispatcher.get(f"/staff/appeals/{number}"),
        await post_form(dispatcher, f"/staff/appeals/{number}/reject",
                        {"reason": "spam"}, "/staff/triage"),
        await resident.get(f"/account/appeals/{number}"),
        await post_form(resident, f"/account/appeals/{number}/rating",
                        {"rating": "satisfied"}, "/account/appeals"),
    ]
    assert [a.status_code for a in answers] == [404] * 4
    assert all("页面不存在，或您无权查看。" in a.text for a in answers)


@pytest.mark.parametrize(("path", "data"), [
    ("/track/reset", {"tracking_number": "MS20261201-" + "1" * 20, "email": "a@example.cn"}),
    ("/track/reset", {"tracking_number": "MS20261201\x00000001", "email": "a@example.cn"}),
    ("/account/reset", {"email": "a\x00b@example.cn"}),
], ids=["long tracking number", "tracking number with U+0000", "mail with U+0000"])
async def test_reset_request_nobody_can_have_gets_the_usual_answer(database, client, path,
                                                                   data):
    response = await post_form(client, path, data, path)
    assert response.status_code == 200
    assert "请查收邮件" in response.text


async def test_registration_with_u0000_in_the_mail_is_refused_beside_the_field(database,
                                                                              client):
    response = await post_form(client, "/account/register",
                               {"email": "a\x00b@example.cn", "password": PASSWORD},
                               "/account/register")
    assert response.status_code == 400
    assert "请填写有效的电子邮箱。" in response.text
