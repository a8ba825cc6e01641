"""The department head (部门负责人): a handler of their department who also sees its figures
and decides its extension requests, never their own and never another department's."""

from __future__ import annotations

from app.domain.types import Role
from app.models import Account, Appeal
from app.services.workflow import Actor
from tests.conftest import login, make_staff, post_form
from tests.factories import OWN, make_appeal

OTHER = "990100-renshe"
GRANT = {"decision": "grant", "note": "同意延期"}


async def _head(new_client, department: str = OWN):
    client = new_client()
    username = await make_staff(Role.HEAD, department)
    await login(client, username)
    return client, await Account.get(username=username)


async def _still_pending(made) -> None:
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.extension_requested_days > 0
    assert (appeal.extension_days, appeal.was_extended) == (0, False)


async def _decide(client, number: str):
    page = f"/staff/appeals/{number}"
    return await post_form(client, f"{page}/extension/decision", GRANT, page)


async def test_head_decides_an_extension_a_handler_of_their_department_asked_for(
        app, database, new_client):
    head, _ = await _head(new_client)
    made = await make_appeal("extension_requested", OWN, rules=app.state.rules)
    detail = await head.get(f"/staff/appeals/{made.number}")
    assert f'action="/staff/appeals/{made.number}/extension/decision"' in detail.text

    response = await _decide(head, made.number)
    assert response.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert (appeal.status, appeal.extension_requested_days, appeal.was_extended) == (
        "accepted", 0, True)


async def test_head_never_decides_their_own_request(app, database, new_client):
    head, account = await _head(new_client)
    made = await make_appeal("extension_requested", OWN, rules=app.state.rules,
                             by=Actor.of(account))
    response = await _decide(head, made.number)
    assert response.status_code == 400
    assert "不能审批自己提出的延期申请" in response.text
    await _still_pending(made)


async def test_head_of_another_department_neither_sees_nor_decides(app, database, new_client):
    head, _ = await _head(new_client, OTHER)
    made = await make_appeal("extension_requested", OWN, rules=app.state.rules)
    assert (await head.get(f"/staff/appeals/{made.number}")).status_code == 404
    response = await _decide(head, made.number)
    assert response.status_code == 404
    await _still_pending(made)


async def test_head_works_the_department_queue_and_sees_only_its_figures(
        app, database, new_client):
    head, _ = await _head(new_client)
    mine = await make_appeal("assigned", OWN, rules=app.state.rules)
    theirs = await make_appeal("assigned", OTHER, rules=app.state.rules)
    queue = await head.get("/staff/queue")
    # The queue is most urgent first and the shared database holds many: open them instead.
    assert theirs.number not in queue.text
    assert (await head.get(f"/staff/appeals/{mine.number}")).status_code == 200
    assert (await head.get(f"/staff/appeals/{theirs.number}")).status_code == 404
    page = f"/staff/appeals/{mine.number}"
    assert (await post_form(head, f"{page}/acknowledge", {}, page)).status_code == 303

    stats = await head.get(f"/staff/stats?department={OTHER}")
    assert stats.status_code == 200
    listed = await head.get(f"/staff/stats/list?figure=received&department={OTHER}")
    assert mine.number in listed.text and theirs.number not in listed.text


async def test_head_login_lands_on_the_department_queue_and_admin_on_admin(database,
                                                                           new_client):
    head, _ = await _head(new_client)
    assert (await head.get("/staff")).headers["location"] == "/staff/queue"
    admin = new_client()
    await login(admin, await make_staff(Role.ADMIN))
    landing = await admin.get("/staff")
    assert landing.headers["location"] == "/admin/"
    page = await admin.get("/admin/")
    assert page.status_code == 200 and "此账号没有可用的工作台" not in page.text
