"""Who may open which staff page and act on which appeal.

The route x role table below is written out by hand on purpose: it is the contract, and a
change in app/web/access.py that widens (or narrows) access must fail here until the table
is changed too. A record someone may not see answers 404."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.schemas import staff as forms
from app.schemas.base import parse
from app.services import accounts, supervision
from app.services.workflow import Actor
from app.web import staff, stats_pages
from app.web.security import SESSION_COOKIE
from tests import factories
from tests.conftest import (
    login,
    make_client,
    make_staff,
    post_form,
    submit_appeal,
    unique,
)
from tests.factories import handler_of, make_appeal

OWN = "990100-zhujian"      # where GOOD_APPEAL is routed
OTHER = "990100-jiaoyu"     # some other department in the same city
ROUTE_TO = "990100-renshe"  # where the dispatcher sends it in the "route" cells

ROLES = ("anonymous", "tracker", "resident_account", "handler_own", "handler_other",
         "dispatcher", "inspector", "admin")

# Outcomes.
LOGIN = "login"          # 303 to /login, nothing done
NF = "404"               # 404, nothing shown, nothing done
NA = "405"               # wrong method, nothing done
LISTED = "200+"          # 200 and the appeal is on the page
UNLISTED = "200-"        # 200 and the appeal is not on the page
PAGE = "200"             # 200 (a page with no appeal on it)
ACT = "act"              # 303 back, and the action happened
NO_DESK = "no-desk"      # 200, "此账号没有可用的工作台"
WORKBOOK = "xlsx+"       # 200, an XLSX file and the appeal is in it


def to(path: str) -> str:
    return "->" + path   # 303 to this path


N = "{n}"  # the appeal's tracking number
# Columns in the order of ROLES: anonymous, tracker, resident_account, handler_own,
# handler_other, dispatcher, inspector, admin.
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/staff"):                      (LOGIN, LOGIN, NO_DESK,
                                             to("/staff/queue"), to("/staff/queue"),
                                             to("/staff/triage"), to("/staff/appeals"),
                                             NO_DESK),
    ("GET", "/staff/queue"):                (LOGIN, LOGIN, NF, LISTED, UNLISTED, NF, NF, NF),
    ("GET", "/staff/triage"):               (LOGIN, LOGIN, NF, NF, NF, PAGE, NF, NF),
    ("GET", "/staff/appeals"):              (LOGIN, LOGIN, NF, NF, NF, NF, LISTED, NF),
    ("GET", "/staff/returns"):              (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF),
    # Issue 10: detectors, for inspectors and dispatchers; a handler's department is no
    # door in (404 whatever the parameters).
    ("GET", "/staff/detectors"):            (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF),
    ("GET", f"/staff/detectors?department={OWN}"): (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF),
    ("GET", "/staff/detectors/list?detector=ping-pong"): (LOGIN, LOGIN, NF, NF, NF, PAGE,
                                                          PAGE, NF),
    ("GET", f"/staff/detectors/list?detector=no-contact&department={OWN}"): (
        LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF),
    # Issue 10: statistics; a handler sees their own department only, whatever is asked.
    ("GET", "/staff/stats"):                (LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF),
    ("GET", f"/staff/stats/list?figure=received&department={OWN}"): (
        LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED, LISTED, NF),
    ("GET", "/staff/stats/list?figure=received"): (LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED,
                                                   LISTED, NF),
    # Issue 10: the city-wide list leaves the platform only as an inspector's export.
    ("GET", "/staff/appeals?format=csv"):   (LOGIN, LOGIN, NF, NF, NF, NF, LISTED, NF),
    ("GET", "/staff/appeals?format=xlsx"):  (LOGIN, LOGIN, NF, NF, NF, NF, WORKBOOK, NF),
    ("GET", "/staff/audit/exports"):        (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF),
    ("GET", f"/staff/appeals/{N}"):         (LOGIN, LOGIN, NF, LISTED, NF, LISTED, LISTED, NF),
    ("POST", f"/staff/appeals/{N}/acknowledge"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/reply"):  (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/return"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/route"):  (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF),
    # 不予受理: the dispatcher's alone (a handler returns, an inspector supervises).
    ("POST", f"/staff/appeals/{N}/reject"): (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF),
    ("POST", f"/staff/appeals/{N}/ask-info"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/extension"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF),
    # Issue 5: a dispatcher or an inspector, never the requester, decides an extension.
    # (DESIGN.md has the inspector change no appeal; the issue, more specific, wins here.)
    ("POST", f"/staff/appeals/{N}/extension/decision"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT,
                                                         NF),
    # 督办 (issue 10): listed for the three staff roles, a handler only their department's;
    # an inspector issues, closes and re-issues, the department's handler answers (反馈).
    ("GET", "/staff/supervision"):          (LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED,
                                             LISTED, NF),
    ("POST", f"/staff/appeals/{N}/supervise"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT, NF),
    ("POST", f"/staff/appeals/{N}/supervision/answer"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF,
                                                         NF),
    ("POST", f"/staff/appeals/{N}/supervision/close"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT, NF),
    ("POST", f"/staff/appeals/{N}/supervision/reissue"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT,
                                                          NF),
    # 催办: an inspector or a dispatcher.
    ("POST", f"/staff/appeals/{N}/remind"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT, NF),
    # The other method on every route: refused before anyone's role is even looked at.
    ("POST", "/staff"):                     (NA,) * 8,
    ("POST", "/staff/queue"):               (NA,) * 8,
    ("POST", "/staff/triage"):              (NA,) * 8,
    ("POST", "/staff/appeals"):             (NA,) * 8,
    ("POST", "/staff/returns"):             (NA,) * 8,
    ("POST", "/staff/detectors"):           (NA,) * 8,
    ("POST", "/staff/detectors/list"):      (NA,) * 8,
    ("POST", "/staff/stats"):               (NA,) * 8,
    ("POST", "/staff/stats/list"):          (NA,) * 8,
    ("POST", "/staff/audit/exports"):       (NA,) * 8,
    ("POST", f"/staff/appeals/{N}"):        (NA,) * 8,
    ("POST", "/staff/supervision"):         (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/supervise"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/supervision/answer"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/supervision/close"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/supervision/reissue"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/remind"):  (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/acknowledge"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/reply"):   (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/return"):  (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/route"):   (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/reject"):  (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/ask-info"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/extension"): (NA,) * 8,
    ("GET", f"/staff/appeals/{N}/extension/decision"): (NA,) * 8,
}

# The state each action needs, the form that would make it succeed, and what it leaves.
NEEDS_STATE = {"acknowledge": "assigned", "reply": "accepted", "return": "assigned",
               "route": "assigned", "ask-info": "accepted", "extension": "accepted",
               "decision": "extension_requested", "reject": "triage"}
FORM = {
    "acknowledge": {},
    "reply": {"reply": "经核查，已责令施工单位夜间停止作业，并安排人员巡查。"},
    "return": {"reason": "该事项不属于本部门职责，请重新分派。"},
    "route": {"department": ROUTE_TO, "note": "改派"},
    "ask-info": {"question": "请补充工地的具体位置和施工单位名称。"},
    "extension": {"days": "2", "reason": "需要会同城管部门现场勘查。"},
    "decision": {"decision": "grant", "note": "同意延期"},
    "reject": {"reason": "other_channel", "explanation": "该事项已进入诉讼程序。"},
}
AFTER = {
    "acknowledge": ("accepted", OWN),
    "reply": ("replied", OWN),
    "return": ("triage", None),
    "route": ("assigned", ROUTE_TO),
    "ask-info": ("awaiting_info", OWN),
    "extension": ("accepted", OWN),
    "decision": ("accepted", OWN),
    "reject": ("rejected", None),
}
# 督办 and 催办 cells: the order the appeal must already have, the form, the trail event
# (the appeal's status and department stay as they were: "assigned" with OWN).
ORDER_NEEDED = {"answer": "issued", "close": "answered", "reissue": "answered",
                "supervision": "issued"}
ORDER_FORM = {
    "supervise": {"reason": "群众反映强烈，请加快办理。", "days": "3"},
    "answer": {"answer": "已约谈施工单位负责人，夜间施工已全部停止。"},
    "close": {"note": "反馈属实，结束督办。"},
    "reissue": {"reason": "反馈不具体，请说明整改时间。", "days": "2"},
    "remind": {"note": "请尽快答复。"},
}
AFTER.update(dict.fromkeys(ORDER_FORM, ("assigned", OWN)))
ORDER_EVENT = {"supervise": "supervise", "answer": "supervision_answer",
               "close": "supervision_close", "reissue": "supervision_reissue",
               "remind": "remind"}

EVENT = {"acknowledge": "acknowledge", "reply": "reply", "return": "return",
         "route": "route_manual", "ask-info": "ask_info", "extension": "extension_request",
         "decision": "extension_grant", "reject": "reject"}
EVENT.update(ORDER_EVENT)


def test_matrix_covers_every_staff_route_and_method():
    """A new staff route (or method) must be added to the table before this passes; a row
    with a query string (an export) covers its route too."""
    served = set()
    for route in [*staff.routes, *stats_pages.routes]:
        path = route.path.replace("{tracking_number}", N)
        methods = (route.methods or {"GET"}) - {"HEAD"}
        for method in methods:
            served.add((method, path))
            other = "POST" if method == "GET" else "GET"
            served.add((other, path))
    assert served == {(method, path.split("?")[0]) for method, path in MATRIX}
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.fixture(scope="module")
async def staff_clients(app, database):
    """One logged-in browser per staff role, shared by the module's cells."""
    made = {}
    for key, role, department in (
        ("handler_own", Role.HANDLER, OWN),
        ("handler_other", Role.HANDLER, OTHER),
        ("dispatcher", Role.DISPATCHER, None),
        ("inspector", Role.INSPECTOR, None),
        ("admin", Role.ADMIN, None),
    ):
        client = make_client(app)
        await login(client, await make_staff(role, department))
        made[key] = client
    # A colleague in OWN who brings appeals into the state a cell needs.
    await make_staff(Role.HANDLER, OWN)
    # A resident *account* (not a tracker): the login form refuses it, so open its session
    # the way a future resident login would.
    resident = await accounts.create_account(unique("resident"), "resident-password-1",
                                             Role.RESIDENT)
    client = make_client(app)
    client.cookies.set(SESSION_COOKIE, await accounts.open_session(account=resident))
    made["resident_account"] = client
    yield made
    for client in made.values():
        await client.aclose()


async def _give_order(app, appeal: Appeal, status: str) -> None:
    """A 督办 order on `appeal`, issued, or issued and answered by its department."""
    inspector = Actor.of(await factories.make_staff(Role.INSPECTOR))
    await supervision.issue(app.state.rules, appeal, inspector,
                            parse(forms.Supervise, ORDER_FORM["supervise"]))
    if status == "answered":
        await supervision.answer(appeal, await handler_of(OWN),
                                 parse(forms.SupervisionAnswer, ORDER_FORM["answer"]))


async def _snapshot(number: str) -> tuple:
    """(status, department, event kinds, the rest of what an action could change)."""
    appeal = await Appeal.get(tracking_number=number).prefetch_related("department")
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id") \
        .values_list("kind", flat=True)
    rest = (appeal.reply_due_at, appeal.reply_text, appeal.acknowledged_at,
            appeal.extension_days, appeal.extension_requested_days, appeal.info_request)
    return (appeal.status, appeal.department.code if appeal.department else None, list(kinds),
            rest)


async def all_pages(client, url: str, first) -> str:
    """The text of a list page and every page after it (a busy queue has many), following
    each page's 下一页 link (a cursor)."""
    texts, response = [first.text], first
    while (found := NEXT_PAGE.search(response.text)) and len(texts) < 500:
        response = await client.get(url + html.unescape(found.group(1)))
        assert response.status_code == 200
        texts.append(response.text)
    return "\n".join(texts)


NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next">')


def _cells():
    for (method, path), row in MATRIX.items():
        for role, outcome in zip(ROLES, row, strict=True):
            yield pytest.param(method, path, role, outcome, id=f"{method} {path} {role}")


@pytest.mark.parametrize(("method", "path", "role", "outcome"), list(_cells()))
async def test_route_role_matrix(app, staff_clients, method, path, role, outcome):
    action = path.rsplit("/", 1)[1] if method == "POST" else ""
    made = await make_appeal(NEEDS_STATE.get(action, "assigned"), OWN, rules=app.state.rules,
                             title=unique("访问矩阵"))
    number, title, receipt = made.number, made.appeal.title, made.receipt
    needed = ORDER_NEEDED.get(action or path.rsplit("/", 1)[1])
    if needed:
        await _give_order(app, made.appeal, needed)
    url = path.replace(N, number)
    before = await _snapshot(number)

    owned = None
    if role in staff_clients:
        client = staff_clients[role]
    else:
        owned = client = make_client(app)
        if role == "tracker":  # the appeal's own resident, logged in on /track
            tracked = await post_form(client, "/track", {"username": receipt["username"],
                                                         "password": receipt["password"]},
                                      "/track")
            assert tracked.status_code == 303
    try:
        if method == "POST":
            response = await post_form(client, url, FORM.get(action) or ORDER_FORM.get(action, {}),
                                       "/submit")
        else:
            response = await client.get(url)
        await _check(client, url, number, title, before, action, response, outcome)
    finally:
        if owned is not None:
            await owned.aclose()


async def _check(client, url, number, title, before, action, response, outcome) -> None:
    status, location = response.status_code, response.headers.get("location", "")
    after = await _snapshot(number)
    if outcome == ACT:
        assert status == 303, response.text
        assert location in (f"/staff/appeals/{number}", "/staff/queue")
        assert after[:2] == AFTER[action]
        assert after[2] == [*before[2], EVENT[action]]
        return
    # Every other outcome leaves the appeal exactly as it was.
    assert after == before
    if outcome == LOGIN:
        assert status == 303
        assert location.startswith("/login")
    elif outcome.startswith("->"):
        assert status == 303
        assert location == outcome[2:]
    elif outcome == NF:
        assert status == 404
        assert "页面不存在，或您无权查看。" in response.text
        assert title not in response.text
    elif outcome == NA:
        assert status == 405
        assert title not in response.text
    elif outcome == NO_DESK:
        assert status == 200
        assert "此账号没有可用的工作台" in response.text
    elif outcome == WORKBOOK:
        assert status == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        cells = {cell for row in book.active.iter_rows(values_only=True) for cell in row}
        assert number in cells and title in cells
    else:
        assert status == 200, response.text
        text = await all_pages(client, url.split("?")[0], response)
        if outcome == LISTED:
            assert number in text and title in text
        elif outcome == UNLISTED:
            assert number not in text and title not in text


# --- Reports (举报): never seen by the unit they name --------------------------------------

async def _submit_report(client) -> tuple[str, str]:
    title = unique("举报住建局工作人员索要好处费")
    receipt = await submit_appeal(client, type="report", named_unit=OWN, title=title,
                                  contact_name="王举报", contact_phone="13900001111",
                                  contact_email="whistle@example.com")
    return receipt["number"], title


async def test_report_is_routed_to_discipline_body_not_named_unit(database, client):
    number, _ = await _submit_report(client)
    appeal = await Appeal.get(tracking_number=number).prefetch_related("department",
                                                                       "named_unit")
    assert appeal.status == "assigned"
    assert appeal.department.code == "990100-jiwei"
    assert appeal.named_unit.code == OWN


async def test_handler_of_named_unit_gets_404_for_report(database, new_client):
    resident, named = new_client(), new_client()
    number, title = await _submit_report(resident)
    await login(named, await make_staff(Role.HANDLER, OWN))
    before = await _snapshot(number)

    detail = await named.get(f"/staff/appeals/{number}")
    assert detail.status_code == 404
    assert title not in detail.text
    queue = await all_pages(named, "/staff/queue", await named.get("/staff/queue"))
    assert number not in queue and title not in queue
    page = "/staff/queue"
    for action, data in FORM.items():
        if action == "route":
            continue
        response = await post_form(named, f"/staff/appeals/{number}/{action}", data, page)
        assert response.status_code == 404
    assert await _snapshot(number) == before


async def test_reporter_contact_is_hidden_from_discipline_handler(database, new_client):
    resident, jiwei = new_client(), new_client()
    number, title = await _submit_report(resident)
    await login(jiwei, await make_staff(Role.HANDLER, "990100-jiwei"))
    assert number in await all_pages(jiwei, "/staff/queue", await jiwei.get("/staff/queue"))
    detail = await jiwei.get(f"/staff/appeals/{number}")
    assert detail.status_code == 200
    assert title in detail.text
    assert "举报人信息已依规隐去" in detail.text
    for secret in ("13900001111", "139****1111", "王举报", "whistle@example.com", "whistle"):
        assert secret not in detail.text


async def test_dispatcher_cannot_route_report_to_unit_it_names(database, new_client):
    resident, dispatcher = new_client(), new_client()
    number, _ = await _submit_report(resident)
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    page = f"/staff/appeals/{number}"
    detail = await dispatcher.get(page)
    assert f'value="{OWN}"' not in detail.text  # not even offered
    assert 'value="990100-renshe"' in detail.text
    before = await _snapshot(number)

    response = await post_form(dispatcher, f"{page}/route", {"department": OWN}, page)
    assert response.status_code == 400
    assert "举报件不能交给被举报单位办理" in response.text
    assert await _snapshot(number) == before


async def test_inspector_acts_on_no_appeal_but_extension_decisions(app, database, new_client):
    """Inspectors read everything and change no appeal (DESIGN.md); the one exception is the
    extension decision, which issue 5 gives to a dispatcher or an inspector."""
    inspector = new_client()
    number = (await make_appeal("extension_requested", OWN, rules=app.state.rules)).number
    await login(inspector, await make_staff(Role.INSPECTOR))
    page = f"/staff/appeals/{number}"
    detail = await inspector.get(page)
    assert detail.status_code == 200
    assert f'action="/staff/appeals/{number}/reply"' not in detail.text
    assert f'action="/staff/appeals/{number}/extension/decision"' in detail.text
    before = await Appeal.get(tracking_number=number)
    refused = {}
    for action, data in FORM.items():
        if action == "decision":
            continue
        response = await post_form(inspector, f"{page}/{action}", data, page)
        refused[action] = response.status_code
    assert refused == dict.fromkeys(set(FORM) - {"decision"}, 404)
    after = await Appeal.get(tracking_number=number)
    assert (after.status, after.department_id, after.reply_text, after.info_request,
            after.extension_requested_days) == (before.status, before.department_id,
                                                before.reply_text, before.info_request,
                                                before.extension_requested_days)


# --- Residents' tracking sessions -------------------------------------------------------

async def _track(client, receipt: dict):
    response = await post_form(client, "/track", {"username": receipt["username"],
                                                  "password": receipt["password"]}, "/track")
    assert response.status_code == 303
    assert response.headers["location"] == "/track/appeal"


async def test_tracking_page_only_shows_its_own_appeal(database, new_client):
    alice, bob = new_client(), new_client()
    alice_title, bob_title = unique("甲的诉求"), unique("乙的诉求")
    alice_receipt = await submit_appeal(alice, title=alice_title)
    bob_receipt = await submit_appeal(bob, title=bob_title)
    await _track(alice, alice_receipt)

    own = await alice.get("/track/appeal")
    assert alice_title in own.text and bob_title not in own.text
    bob_number = bob_receipt["number"]
    for probe in (f"/track/appeal?number={bob_number}",
                  f"/track/appeal?tracking_number={bob_number}",
                  f"/track/appeal?id={bob_number}"):
        page = await alice.get(probe)
        assert page.status_code == 200
        assert alice_title in page.text and bob_title not in page.text
    for probe in (f"/track/appeal/{bob_number}", f"/track/{bob_number}"):
        page = await alice.get(probe)
        assert page.status_code in (404, 405)
        assert bob_title not in page.text


async def test_tracking_password_of_one_appeal_does_not_open_another(database, new_client):
    alice, bob = new_client(), new_client()
    alice_receipt = await submit_appeal(alice, title=unique("甲"))
    bob_receipt = await submit_appeal(bob, title=unique("乙"))
    response = await post_form(bob, "/track", {"username": alice_receipt["username"],
                                               "password": bob_receipt["password"]}, "/track")
    assert response.status_code == 400
    assert "查询账号或密码不正确" in response.text
    assert "ms_track" not in response.headers.get("set-cookie", "")


async def test_tracking_token_does_not_open_staff_pages(database, new_client, app):
    resident = new_client()
    receipt = await submit_appeal(resident, title=unique("跟踪令牌"))
    await _track(resident, receipt)
    token = resident.cookies.get("ms_track")
    assert token
    async with make_client(app) as forged:
        forged.cookies.set(SESSION_COOKIE, token)
        for path in ("/staff", "/staff/queue", f"/staff/appeals/{receipt['number']}"):
            response = await forged.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")


async def test_staff_session_token_does_not_open_tracking_page(database, new_client, app):
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    async with make_client(app) as forged:
        forged.cookies.set("ms_track", handler.cookies.get(SESSION_COOKIE))
        response = await forged.get("/track/appeal")
        assert response.status_code == 303
        assert response.headers["location"] == "/track"

