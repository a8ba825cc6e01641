"""Administration through the browser: the first administrator puts real people on the
platform, one-time passwords are changed at first login, a disabled account is out at its
next request, and every administrative action is in /staff/audit with before and after."""

from __future__ import annotations

import re

from app.domain.types import Role
from app.models import Account, Appeal, AuditEntry, Department
from app.schemas.admin import AccountCreate
from app.schemas.base import parse
from app.services import administration, audit_log
from app.settings import DEMO_PASSWORD
from app.web.app import create_app
from app.web.security import SESSION_COOKIE
from tests import conftest
from tests.conftest import login, make_client, make_staff, post_form, unique
from tests.factories import OWN, make_appeal

OTHER = "990100-renshe"
SECRET = re.compile(r'id="one-time-password">([^<]+)<')
NEW_PASSWORD = "my-own-password-2026"


async def _first_admin() -> tuple[str, str]:
    """What `minsheng admin create` does (the CLI calls the same service)."""
    username = unique("chief")
    _, password = await administration.create_staff(audit_log.CLI, parse(AccountCreate, {
        "username": username, "role": "admin"}))
    return username, password


async def _log_in(client, username: str, password: str):
    return await post_form(client, "/login", {"username": username, "password": password},
                           "/login")


async def _log_in_first_time(client, username: str, one_time: str) -> None:
    """Log in with a one-time password, get sent to change it, change it."""
    response = await _log_in(client, username, one_time)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    page = await client.get("/account/password")
    assert 'id="must-change"' in page.text
    changed = await post_form(client, "/account/password",
                              {"current": one_time, "password": NEW_PASSWORD},
                              "/account/password")
    assert changed.status_code == 200, changed.text
    assert "密码已修改" in changed.text


async def _create(admin, **fields):
    return await post_form(admin, "/admin/accounts/new", fields, "/admin/accounts/new")


async def test_first_admin_creates_a_handler_who_answers_and_is_then_disabled(
        app, database, new_client):
    admin, handler = new_client(), new_client()
    chief, chief_password = await _first_admin()
    await _log_in_first_time(admin, chief, chief_password)
    home = await admin.get("/staff")
    assert home.headers["location"] == "/admin/"
    assert "工作人员账号" in (await admin.get("/admin/")).text

    username = unique("zhang")
    made = await _create(admin, username=username, role="handler", department=OWN,
                         name="张办理")
    assert made.status_code == 200, made.text
    one_time = SECRET.search(made.text).group(1)
    assert made.headers["cache-control"] == "no-store"
    account = await Account.get(username=username).prefetch_related("department")
    assert (account.role, account.department.code, account.must_change_password) == (
        "handler", OWN, True)
    assert one_time not in account.password_hash
    # The picker offers names: a department chosen by its full name is the same department.
    by_name = unique("wang")
    department = await Department.get(code=OWN)
    assert (await _create(admin, username=by_name, role="handler", department=department.name,
                          name="王办理")).status_code == 200
    assert (await Account.get(username=by_name)).department_id == department.id

    # Until the one-time password is replaced, no staff page opens.
    response = await _log_in(handler, username, one_time)
    assert response.headers["location"] == "/account/password"
    for path in ("/staff", "/staff/queue"):
        refused = await handler.get(path)
        assert (refused.status_code, refused.headers["location"]) == (303, "/account/password")
    await post_form(handler, "/account/password", {"current": one_time,
                                                   "password": NEW_PASSWORD},
                    "/account/password")

    appeal = (await make_appeal("assigned", OWN, rules=app.state.rules)).appeal
    page = f"/staff/appeals/{appeal.tracking_number}"
    assert (await handler.get("/staff/queue")).status_code == 200
    assert (await post_form(handler, f"{page}/acknowledge", {}, page)).status_code == 303
    replied = await post_form(handler, f"{page}/reply",
                              {"reply": "经核查，已责令物业公司三日内修复电梯。"}, page)
    assert replied.status_code == 303
    assert (await Appeal.get(id=appeal.id)).status == "replied"

    disabled = await post_form(admin, f"/admin/accounts/{account.id}/disable", {},
                               f"/admin/accounts/{account.id}")
    assert disabled.status_code == 303
    refused = await handler.get("/staff/queue")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    again = await _log_in(handler, username, NEW_PASSWORD)
    assert again.status_code == 400

    # Back in use with a new one-time password; the old password stays dead.
    enabled = await post_form(admin, f"/admin/accounts/{account.id}/enable", {},
                              f"/admin/accounts/{account.id}")
    assert enabled.status_code == 200 and "账号已重新启用" in enabled.text
    fresh = SECRET.search(enabled.text).group(1)
    assert (await _log_in(handler, username, NEW_PASSWORD)).status_code == 400
    assert (await _log_in(handler, username, fresh)).status_code == 303
    assert (await Account.get(id=account.id)).must_change_password
    entry = await AuditEntry.filter(action="account_enable").order_by("-id").first()
    assert entry.details["before"]["is_active"] is False and fresh not in str(entry.details)


async def test_a_refused_form_says_why_beside_the_field_and_keeps_what_was_typed(
        database, new_client):
    admin = new_client()
    await login(admin, await make_staff(Role.ADMIN))
    taken = await make_staff(Role.DISPATCHER)
    cases = [
        ({"username": "Zhang Wei", "role": "handler", "department": OWN, "name": "张伟"},
         "username", "小写字母"),
        ({"username": taken, "role": "dispatcher", "name": "重名"}, "username", "已被使用"),
        ({"username": unique("li"), "role": "chief", "name": "李"}, "role", "有效的角色"),
        ({"username": unique("li"), "role": "handler", "name": "李四"}, "department",
         "须选择所属部门"),
        ({"username": unique("li"), "role": "handler", "department": "nowhere",
          "name": "李四"}, "department", "没有名称或编码为“nowhere”的部门"),
        ({"username": unique("li"), "role": "inspector", "department": OWN, "name": "李四"},
         "department", "不属于任何部门"),
    ]
    for fields, field, message in cases:
        before = await Account.all().count()
        response = await _create(admin, **fields)
        assert response.status_code == 400, fields
        error = re.search(rf'id="error-{field}">([^<]+)<', response.text)
        assert error and message in error.group(1), (fields, response.text)
        assert f'value="{fields["name"]}"' in response.text  # typed values kept
        assert await Account.all().count() == before


async def test_admin_forms_refuse_a_post_without_the_csrf_token(database, new_client):
    admin = new_client()
    await login(admin, await make_staff(Role.ADMIN))
    target = await conftest.make_staff(Role.HANDLER, OWN)
    account = await Account.get(username=target)
    for path, data in ((f"/admin/accounts/{account.id}/disable", {}),
                       (f"/admin/accounts/{account.id}/reset", {}),
                       (f"/admin/accounts/{account.id}", {"role": "head", "department": OWN}),
                       ("/admin/accounts/new", {"username": unique("x"), "role": "inspector"})):
        response = await admin.post(path, data=data)
        assert response.status_code == 403, path
    after = await Account.get(id=account.id)
    assert (after.role, after.is_active, after.password_hash) == (
        account.role, account.is_active, account.password_hash)


async def test_a_reset_gives_a_one_time_password_and_ends_the_old_sessions(
        database, new_client):
    admin, staff = new_client(), new_client()
    await login(admin, await make_staff(Role.ADMIN))
    username = await make_staff(Role.INSPECTOR)
    await login(staff, username)
    account = await Account.get(username=username)

    response = await post_form(admin, f"/admin/accounts/{account.id}/reset", {},
                               f"/admin/accounts/{account.id}")
    assert response.status_code == 200
    one_time = SECRET.search(response.text).group(1)
    assert (await staff.get("/staff/appeals")).headers["location"].startswith("/login")
    assert (await _log_in(new_client(), username, conftest.PASSWORD)).status_code == 400
    await _log_in_first_time(staff, username, one_time)
    assert (await staff.get("/staff/appeals")).status_code == 200
    assert not (await Account.get(id=account.id)).must_change_password


async def test_role_and_department_changes_are_audited_with_before_and_after(
        database, new_client):
    admin, inspector = new_client(), new_client()
    await login(admin, await make_staff(Role.ADMIN))
    await login(inspector, await make_staff(Role.INSPECTOR))
    account = await Account.get(username=await make_staff(Role.HANDLER, OWN))
    page = f"/admin/accounts/{account.id}"

    changed = await post_form(admin, page, {"role": "head", "department": OTHER,
                                            "name": "王负责"}, page)
    assert changed.status_code == 303
    assert "已保存修改" in (await admin.get(changed.headers["location"])).text
    after = await Account.get(id=account.id).prefetch_related("department")
    assert (after.role, after.department.code, after.display_name) == ("head", OTHER, "王负责")

    entry = await AuditEntry.filter(action="account_change").order_by("-id").first()
    assert entry.details["before"]["role"] == "handler"
    assert entry.details["after"]["role"] == "head"
    assert OWN in entry.details["before"]["department"]
    assert OTHER in entry.details["after"]["department"]
    assert entry.actor_label.startswith("管理员")
    assert not any("password" in key and "must" not in key
                   for key in {**entry.details["before"], **entry.details["after"]})

    log = await inspector.get("/staff/audit?action=account_change")
    assert log.status_code == 200
    assert account.username in log.text
    assert "部门办理人 → 部门负责人" in log.text
    assert "王负责" in log.text


async def test_the_audit_log_lists_every_action_newest_first_a_page_at_a_time(
        database, new_client):
    admin, inspector = new_client(), new_client()
    await login(admin, await make_staff(Role.ADMIN))
    await login(inspector, await make_staff(Role.INSPECTOR))
    made = [unique("batch") for _ in range(3)]
    for username in made:
        response = await _create(admin, username=username, role="dispatcher")
        assert response.status_code == 200
    target = await Account.get(username=made[0])
    await post_form(admin, f"/admin/accounts/{target.id}/reset", {}, "/admin/")
    await post_form(admin, f"/admin/accounts/{target.id}/disable", {}, "/admin/")

    everything = (await inspector.get("/staff/audit")).text.split('id="audit-log"')[1]
    positions = [everything.index(label) for label in ("停用账号", "重置密码", "新建账号")]
    assert positions == sorted(positions)  # newest first
    created = await inspector.get("/staff/audit?action=account_create")
    assert all(username in created.text for username in made)
    assert "停用账号" not in created.text.split('id="audit-log"')[1]

    # Seek paging: each page older than the last, nothing twice, nothing left out.
    seen, url = [], "/staff/audit?action=account_create"
    small = audit_log.PAGE_SIZE
    audit_log.PAGE_SIZE = 2
    try:
        while url and len(seen) < 500:
            text = (await inspector.get(url)).text
            seen += re.findall(r'<td data-label="对象">([^<]*)</td>', text)
            found = re.search(r'<a href="(\?[^"]*)" rel="next">', text)
            url = "/staff/audit" + found.group(1).replace("&amp;", "&") if found else None
    finally:
        audit_log.PAGE_SIZE = small
    creations = await AuditEntry.filter(action="account_create").count()
    assert len(seen) == len(set(seen)) == creations

    bad = await inspector.get("/staff/audit?action=DROP%20TABLE&after=x")
    assert bad.status_code == 200 and "无效" in bad.text


async def test_an_admin_cannot_disable_or_demote_themself(database, new_client):
    admin = new_client()
    username = await make_staff(Role.ADMIN)
    await login(admin, username)
    me = await Account.get(username=username)
    page = f"/admin/accounts/{me.id}"
    refused = await post_form(admin, f"{page}/disable", {}, page)
    assert refused.status_code == 400 and "不能停用自己的账号" in refused.text
    demoted = await post_form(admin, page, {"role": "inspector", "name": "我"}, page)
    assert demoted.status_code == 400 and "不能取消自己的管理员角色" in demoted.text
    assert (await Account.get(id=me.id)).role == "admin"
    assert (await admin.get("/admin/")).status_code == 200


async def test_accounts_list_finds_by_name_role_and_state(database, new_client):
    admin = new_client()
    await login(admin, await make_staff(Role.ADMIN))
    name = unique("赵")
    username = unique("zhao")
    await _create(admin, username=username, role="head", department=OWN, name=name)
    found = await admin.get(f"/admin/accounts?q={name}")
    assert username in found.text
    assert username not in (await admin.get(f"/admin/accounts?q={name}&role=handler")).text
    assert username in (await admin.get(f"/admin/accounts?q={name}&state=active")).text
    assert username not in (await admin.get(f"/admin/accounts?q={name}&state=disabled")).text
    odd = await admin.get("/admin/accounts?role=king&state=gone")
    assert odd.status_code == 200 and "有效的角色" in odd.text


async def test_own_password_change_enforces_length_and_refuses_the_demo_password(
        database, rules, new_client):
    """Outside dev mode the demo password is nobody's; the hash is argon2id."""
    settings = conftest.test_settings(database, MINSHENG_DEV="0",
                                      SECRET_KEY="x" * 40)
    production = create_app(settings, rules, manage_db=False)
    async with make_client(production) as staff:
        username = await make_staff(Role.DISPATCHER)
        await login(staff, username)
        for new, message in (("short", "密码至少"), (DEMO_PASSWORD, "演示"),
                             (conftest.PASSWORD, "不能与当前密码相同")):
            refused = await post_form(staff, "/account/password",
                                      {"current": conftest.PASSWORD, "password": new},
                                      "/account/password")
            assert refused.status_code == 400 and message in refused.text, new
        done = await post_form(staff, "/account/password",
                               {"current": conftest.PASSWORD, "password": NEW_PASSWORD},
                               "/account/password")
        assert done.status_code == 200
    account = await Account.get(username=username)
    assert account.password_hash.startswith("$argon2id$")
    async with make_client(production) as other:
        assert (await _log_in(other, username, NEW_PASSWORD)).status_code == 303
    # In dev mode (the demo) the demo password is allowed.
    dev = new_client()
    await login(dev, await make_staff(Role.DISPATCHER))
    allowed = await post_form(dev, "/account/password",
                              {"current": conftest.PASSWORD, "password": DEMO_PASSWORD},
                              "/account/password")
    assert allowed.status_code == 200


async def test_a_session_cookie_of_a_disabled_account_opens_nothing(database, app):
    username = await make_staff(Role.HEAD, OWN)
    account = await Account.get(username=username)
    async with make_client(app) as head:
        await login(head, username)
        token = head.cookies.get(SESSION_COOKIE)
        await administration.disable_staff(audit_log.CLI, account)
        head.cookies.set(SESSION_COOKIE, token)
        for path in ("/staff/queue", "/staff/stats", "/account/password"):
            response = await head.get(path)
            assert response.status_code == 303, path
