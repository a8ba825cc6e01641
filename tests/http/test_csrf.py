"""Every POST route refuses a request without the right CSRF token, and writes nothing.

The routes are collected from the running app, so a new POST route is tested (and fails
unless it checks the token) without anyone remembering to add it here."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from app.domain.types import Role
from app.models import (
    Account,
    ApiClient,
    Appeal,
    AppealEvent,
    Department,
    RulesVersion,
    WebSession,
)
from app.services import api_clients, audit_log
from app.services.accounts import load_session
from app.web import access
from app.web.app import create_app
from app.web.security import CSRF_COOKIE, SESSION_COOKIE
from tests import conftest
from tests.conftest import (
    GOOD_APPEAL,
    PASSWORD,
    csrf,
    login,
    make_client,
    make_staff,
    post_form,
    unique,
)
from tests.factories import make_appeal

DEPARTMENT = "990100-zhujian"  # where GOOD_APPEAL is routed
WRONG = "x" * 43               # the right shape, the wrong value


def _post_routes() -> list[tuple[str, str]]:
    app = create_app(conftest.test_settings("sqlite://:memory:"), None, manage_db=False)
    # The JSON API takes no cookies and only application/json, which no cross-site form can
    # send: it has no CSRF token (see test_api_refuses_form_posts below). Open311 takes forms,
    # but no cookies either: its only credential is the api_key in the body, which another
    # site cannot know (tests/http/test_open311.py).
    found = [(route.name, route.path) for route in app.routes
             if isinstance(route, Route) and "POST" in (route.methods or ())
             and not route.path.startswith(("/api/", "/open311/"))]
    assert found, "no POST routes found"
    return found


POST_ROUTES = _post_routes()

# Valid form data for the routes we know: with the right token, each of these would succeed.
FORMS = {
    "reply": {"reply": "经核查，已责令施工单位夜间停止作业，并安排人员巡查。"},
    "return_appeal": {"reason": "该事项不属于本部门职责，请重新分派。"},
    "route_appeal": {"department": "990100-renshe"},
    "ask_info": {"question": "请补充工地的具体位置和施工单位名称。"},
    "request_extension": {"days": "2", "reason": "需要会同城管部门现场勘查。"},
    "decide_extension": {"decision": "grant", "note": "同意"},
    "track_info": {"info": "工地在幸福路12号，施工方是云州建工集团。"},
    "track_rating": {"rating": "satisfied"},
    "reject_appeal": {"reason": "other_channel", "explanation": "该事项已进入诉讼程序。"},
    "record_followup": {"reached": "yes", "solved": "unsolved", "satisfaction": "unsatisfied"},
    "reveal": {"choice": "phone:0", "reason": "callback"},
}
# Reference data (app.web.admin_reference): with the right token these are refused by the
# form itself, or change nothing, as an edit would change the rules under every other test
# of the session (tests/http/test_admin_reference.py makes the edits, on its own database).
REFERENCE_FORMS = {
    "admin_department_deactivate": {"reason": ""},
    "admin_department_activate": {},
    "admin_hot_topics_edit": {"action": "up", "topic": "惠农政策落实"},
    "admin_calendar_add": {"date": "2026-02-30", "working": "holiday", "reason": "防伪造"},
    "admin_calendar_remove": {"date": "2031-01-02"},
    "admin_keyword_rule": {"action": "add", "name": "", "words": "防伪造",
                           "department": "zhujian"},
    "admin_category_department": {"category": "城乡建设", "department": "nosuch"},
    "admin_department_review": {"review": "maybe"},
}
# The state an appeal must be in for the action to be possible at all.
STATE = {"reply": "accepted", "ask_info": "accepted", "request_extension": "accepted",
         "decide_extension": "extension_requested", "track_info": "awaiting_info",
         "track_rating": "replied", "reject_appeal": "triage", "record_followup": "closed",
         "approve_reply": "review", "revise_reply": "review"}
async def _tracked_client(app, receipt: dict):
    client = make_client(app)
    tracked = await post_form(client, "/track", {"username": receipt["username"],
                                                 "password": receipt["password"]}, "/track")
    assert tracked.status_code == 303
    return client


async def _appeal_state(number: str) -> tuple:
    appeal = await Appeal.get(tracking_number=number)
    events = await AppealEvent.filter(appeal_id=appeal.id).count()
    return (appeal.status, appeal.department_id, appeal.reply_text, appeal.reply_due_at,
            appeal.extension_days, appeal.extension_requested_days, appeal.info_request,
            appeal.rating, events)


async def _staff_client(app, route_name: str):
    """A browser whose account may use the route (the handler of the appeal's department
    when a handler may), so that only the token stands between it and the action."""
    roles = access.ROUTE_ROLES.get(route_name, frozenset())
    client = make_client(app)
    for role in (Role.HANDLER, Role.HEAD, Role.DISPATCHER, Role.INSPECTOR, Role.ADMIN):
        if role in roles:
            department = DEPARTMENT if role in (Role.HANDLER, Role.HEAD) else None
            await login(client, await make_staff(role, department))
            break
    else:
        await login(client, await make_staff(Role.ADMIN))
    return client


async def _scenario(app, name: str, path: str) -> tuple:
    """Set up the route's preconditions: (client, url, form data, check-nothing-changed)."""
    if name in ("submit", "quick_submit"):
        client = make_client(app)
        title = unique("CSRF留言")

        async def unchanged():
            assert not await Appeal.filter(title=title).exists()

        return client, path, {**GOOD_APPEAL, "title": title}, unchanged
    if name == "login":
        client = make_client(app)
        username = await make_staff(Role.DISPATCHER)

        async def unchanged():
            assert not await WebSession.filter(account__username=username).exists()
            assert SESSION_COOKIE not in client.cookies

        return client, path, {"username": username, "password": PASSWORD}, unchanged
    if name == "track_login":
        client = make_client(app)
        receipt = (await make_appeal("assigned", DEPARTMENT, rules=app.state.rules,
                                     title=unique("防伪造"))).receipt

        async def unchanged():
            assert not await WebSession.filter(
                appeal__tracking_number=receipt["number"]).exists()
            assert "ms_track" not in client.cookies

        return client, path, {"username": receipt["username"],
                              "password": receipt["password"]}, unchanged
    if name == "logout":
        client = await _staff_client(app, "handler_queue")
        token = client.cookies.get(SESSION_COOKIE)

        async def unchanged():
            assert await load_session(token) is not None
            assert (await client.get("/staff/queue")).status_code == 200

        return client, path, {}, unchanged
    if name == "account_password":
        username = await make_staff(Role.INSPECTOR)
        client = make_client(app)
        await login(client, username)
        before = (await Account.get(username=username)).password_hash

        async def unchanged():
            assert (await Account.get(username=username)).password_hash == before

        return client, path, {"current": PASSWORD, "password": "another-long-password"}, \
            unchanged
    if name == "account_register":
        client = make_client(app)
        email = f"{unique('csrf')}@example.com"

        async def unchanged():
            assert not await Account.filter(username=email).exists()

        return client, path, {"email": email, "password": PASSWORD}, unchanged
    if name == "track_logout":
        receipt = (await make_appeal("assigned", DEPARTMENT, rules=app.state.rules,
                                     title=unique("防伪造"))).receipt
        client = await _tracked_client(app, receipt)
        token = client.cookies.get("ms_track")

        async def unchanged():
            assert await load_session(token) is not None
            assert (await client.get("/track/appeal")).status_code == 200

        return client, path, {}, unchanged

    if name.startswith("admin_account"):  # an administrator's action on an account
        client = await _staff_client(app, name)
        target = await Account.get(username=await make_staff(Role.HANDLER, DEPARTMENT))
        username = unique("csrf")

        async def unchanged():
            after = await Account.get(id=target.id)
            assert (after.role, after.is_active, after.password_hash) == (
                target.role, target.is_active, target.password_hash)
            assert not await Account.filter(username=username).exists()

        data = {"username": username, "role": "head", "department": DEPARTMENT}
        return client, path.replace("{account_id:int}", str(target.id)), data, unchanged

    if name.startswith("admin_api_client"):  # Open311 keys: issue or revoke
        client = await _staff_client(app, name)
        issued, _ = await api_clients.issue(audit_log.CLI, unique("防伪造应用"))
        count = await ApiClient.all().count()

        async def unchanged():
            assert await ApiClient.all().count() == count
            assert (await ApiClient.get(id=issued.id)).revoked_at is None

        return client, path.replace("{client_id:int}", str(issued.id)), \
            {"name": unique("防伪造应用")}, unchanged

    if name in REFERENCE_FORMS:  # an administrator's edit of the reference data
        client = await _staff_client(app, name)
        versions = await RulesVersion.all().count()
        active = await Department.filter(active=True).count()

        async def unchanged():
            assert await RulesVersion.all().count() == versions
            assert await Department.filter(active=True).count() == active

        return client, path.replace("{code}", DEPARTMENT), REFERENCE_FORMS[name], unchanged

    # Anything else: a staff action on one appeal (or a new route this file has not met).
    params = set(re.findall(r"{(\w+)}", path))
    assert params <= {"tracking_number"}, f"teach test_csrf how to fill {params} in {path}"
    receipt = (await make_appeal(STATE.get(name, "assigned"), DEPARTMENT,
                                 rules=app.state.rules, title=unique("防伪造"))).receipt
    number = receipt["number"]
    url = path.replace("{tracking_number}", number)
    if name in access.ROUTE_ROLES:
        client = await _staff_client(app, name)
    elif name.startswith("track_"):  # a resident acting through the tracking session
        client = await _tracked_client(app, receipt)
    else:
        client = make_client(app)
    before = await _appeal_state(number)

    async def unchanged():
        assert await _appeal_state(number) == before

    return client, url, FORMS.get(name, {}), unchanged


def _ids():
    return [f"{name} {path}" for name, path in POST_ROUTES]


@pytest.mark.parametrize("variant", ["no token", "wrong token", "token without cookie"])
@pytest.mark.parametrize(("name", "path"), POST_ROUTES, ids=_ids())
async def test_post_without_valid_csrf_token_is_refused_and_writes_nothing(
        app, database, name, path, variant):
    client, url, data, unchanged = await _scenario(app, name, path)
    try:
        token = await csrf(client, "/submit")  # the visitor holds a genuine token cookie
        if variant == "no token":
            sent = dict(data)
        elif variant == "wrong token":
            sent = {**data, "csrf_token": WRONG}
        else:  # a token lifted from a page, posted from somewhere without the cookie
            sent = {**data, "csrf_token": token}
            client.cookies.delete(CSRF_COOKIE)
        response = await client.post(url, data=sent)
        assert response.status_code == 403, (url, response.status_code, response.text[:300])
        assert "页面已过期或来源不明" in response.text
        if variant == "token without cookie":
            client.cookies.set(CSRF_COOKIE, token)
        await unchanged()
    finally:
        await client.aclose()


@pytest.mark.parametrize(("name", "path"), POST_ROUTES, ids=_ids())
async def test_post_with_valid_token_is_accepted(app, database, name, path):
    """The control: the same request with the page's token is not refused for CSRF, so the
    403s above come from the token and not from a broken set-up."""
    client, url, data, _ = await _scenario(app, name, path)
    try:
        token = await csrf(client, "/submit")
        response = await client.post(url, data={**data, "csrf_token": token})
        # Some of these refuse for other reasons (no such token, not this resident's appeal);
        # what matters is that the CSRF check let them through.
        assert response.status_code != 403, (url, response.text[:300])
        assert "页面已过期或来源不明" not in response.text
    finally:
        await client.aclose()


@pytest.mark.parametrize("path", ["/api/v1/appeals", "/api/v1/appeals/MS20261122-000001/info"])
async def test_api_refuses_form_posts(app, database, client, path):
    """What a cross-site form could send never reaches an API handler."""
    title = unique("API表单")
    response = await client.post(path, data={**GOOD_APPEAL, "title": title})
    assert response.status_code in (404, 415)
    assert not await Appeal.filter(title=title).exists()
