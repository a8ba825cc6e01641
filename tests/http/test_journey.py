"""The whole path: a resident submits, the department acknowledges and replies, the resident
reads the reply, the inspector sees the trail."""

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from tests.conftest import login, make_staff, post_form, submit_appeal


async def test_resident_to_reply_and_inspector_trail(database, new_client):
    resident, handler, inspector = new_client(), new_client(), new_client()
    receipt = await submit_appeal(resident, region="990222")
    number = receipt["number"]
    assert number.startswith("MS")

    appeal = await Appeal.get(tracking_number=number).prefetch_related("department")
    assert appeal.status == "assigned" and appeal.channel == "web"
    assert appeal.department.code == "990222-zhujian"

    await login(handler, await make_staff(Role.HANDLER, "990222-zhujian"))
    queue = await handler.get("/staff/queue")
    assert number in queue.text
    detail = await handler.get(f"/staff/appeals/{number}")
    assert "138****5678" in detail.text
    assert "13812345678" not in detail.text

    page = f"/staff/appeals/{number}"
    assert (await post_form(handler, f"{page}/acknowledge", {}, page)).status_code == 303
    reply_text = "经核查，该工地已被责令夜间22点后停止施工，执法队将每晚巡查。"
    assert (await post_form(handler, f"{page}/reply", {"reply": reply_text}, page)) \
        .status_code == 303

    track = await post_form(resident, "/track",
                            {"username": receipt["username"], "password": receipt["password"]},
                            "/track")
    assert track.status_code == 303
    view = await resident.get("/track/appeal")
    assert "已答复" in view.text
    assert reply_text in view.text
    assert "白石县住房和城乡建设局" in view.text

    await login(inspector, await make_staff(Role.INSPECTOR))
    listing = await inspector.get("/staff/appeals")
    assert number in listing.text
    trail = await inspector.get(page)
    for label in ("提交诉求", "自动分派", "签收", "答复"):
        assert label in trail.text
    kinds = [e.kind for e in await AppealEvent.filter(appeal_id=appeal.id).order_by("id")]
    assert kinds == ["submitted", "route_confident", "acknowledge", "reply"]
