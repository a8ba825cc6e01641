"""What people see of an appeal's end: the buttons the state table allows, the reason of a
不予受理, both replies of a redone appeal, and a rating form that promises only what holds."""

import base64
import re
from datetime import UTC, datetime, timedelta

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.schemas import staff
from app.schemas.base import parse
from app.services import handling
from tests.conftest import login, make_staff, post_form
from tests.factories import (
    OWN,
    REPLY,
    SECOND_REPLY,
    as_before_replies_were_kept,
    handler_of,
    make_appeal,
    rerun_reply_backfill,
)

EXPLANATION = "您反映的劳动争议已由劳动人事争议仲裁委员会受理，请关注仲裁结果。"


def _forms(page: str) -> set[str]:
    """The acting forms of an appeal's page; not the reveal of personal data (issue 12), which
    is on every page that has any, whatever the state (tests/http/test_personal_data.py)."""
    return set(re.findall(r'action="/staff/appeals/[^/"]+/([a-z\-/]+)"', page)) - {"reveal"}


async def _tracker(new_client, made):
    client = new_client()
    response = await post_form(client, "/track", {"username": made.username,
                                                  "password": made.password}, "/track")
    assert response.status_code == 303
    return client


async def test_each_role_sees_the_buttons_the_state_table_gives_it(database, new_client):
    dispatcher, handler = new_client(), new_client()
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    await login(handler, await make_staff(Role.HANDLER, OWN))
    waiting = await make_appeal("triage")
    accepted = await make_appeal("accepted", OWN)

    page = (await dispatcher.get(f"/staff/appeals/{waiting.number}")).text
    assert _forms(page) == {"route", "reject", "merge"}  # issue 15: 并单 into an open appeal
    assert "不属于本平台受理范围" in page
    page = (await dispatcher.get(f"/staff/appeals/{accepted.number}")).text
    assert _forms(page) == {"remind", "merge"}  # issue 10: 催办 the department holding it
    page = (await handler.get(f"/staff/appeals/{accepted.number}")).text
    assert _forms(page) == {"reply", "ask-info", "extension", "return"}


async def test_a_rejected_appeal_shows_its_reason_to_the_resident(database, new_client):
    dispatcher = new_client()
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    made = await make_appeal("triage")
    page = f"/staff/appeals/{made.number}"
    refused = await post_form(dispatcher, f"{page}/reject", {"reason": "other"}, page)
    assert refused.status_code == 400
    assert "请说明不予受理的理由" in refused.text
    done = await post_form(dispatcher, f"{page}/reject",
                           {"reason": "other_channel", "explanation": EXPLANATION}, page)
    assert done.status_code == 303
    assert (await Appeal.get(tracking_number=made.number)).status == "rejected"
    assert _forms((await dispatcher.get(page)).text) == set()

    resident = await _tracker(new_client, made)
    view = (await resident.get("/track/appeal")).text
    assert "不予受理" in view
    assert "已通过诉讼、仲裁、行政复议或信访等渠道处理" in view
    assert EXPLANATION in view

    token = base64.b64encode(f"{made.username}:{made.password}".encode()).decode()
    api = await resident.get(f"/api/v1/appeals/{made.number}",
                             headers={"Authorization": f"Basic {token}"})
    assert api.status_code == 200
    body = api.json()
    assert body["status"]["key"] == "rejected"
    assert body["rejection"] == {"reason": "other_channel",
                                 "label": "已通过诉讼、仲裁、行政复议或信访等渠道处理",
                                 "explanation": EXPLANATION}


async def test_both_replies_of_a_redone_appeal_stay_on_the_pages(database, new_client):
    made = await make_appeal("redo", OWN)
    await handling.reply(made.appeal, await handler_of(OWN),
        parse(staff.Reply, {"reply": SECOND_REPLY}))

    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    staff_page = (await handler.get(f"/staff/appeals/{made.number}")).text
    trail = staff_page[staff_page.index('id="trail"'):]
    assert REPLY in trail and SECOND_REPLY in trail
    assert trail.index(REPLY) < trail.index(SECOND_REPLY)

    resident = await _tracker(new_client, made)
    view = (await resident.get("/track/appeal")).text
    current = view[view.index('id="reply"'):view.index('id="reply-history"')]
    assert SECOND_REPLY in current and REPLY not in current
    history = view[view.index('id="reply-history"'):]
    assert REPLY in history and SECOND_REPLY in history


async def test_the_rating_form_promises_a_redo_only_while_one_is_left(database, new_client):
    fresh = await make_appeal("replied", OWN)
    view = (await (await _tracker(new_client, fresh)).get("/track/appeal")).text
    assert "将重新办理一次" in view
    assert 'id="rate-by"' in view

    redone = await make_appeal("redo", OWN)
    await handling.reply(redone.appeal, await handler_of(OWN),
        parse(staff.Reply, {"reply": SECOND_REPLY}))
    resident = await _tracker(new_client, redone)
    view = (await resident.get("/track/appeal")).text
    assert "将重新办理一次" not in view
    assert "再次不满意将就此办结" in view
    rated = await post_form(resident, "/track/rating",
                            {"rating": "unsatisfied", "reason": "电梯还是经常停运，问题没有解决。"},
                            "/track/appeal")
    assert rated.status_code == 303
    view = (await resident.get("/track/appeal")).text
    assert "群众再次不满意，办结" in view
    kinds = await AppealEvent.filter(appeal_id=redone.appeal.id).values_list("kind", flat=True)
    assert "rate_unsatisfied_final" in kinds and "rate_ok" not in kinds


def _reply_rows(page: str) -> list[str]:
    """The trail's rows of reply events, in order."""
    trail = page[page.index('id="trail"'):]
    return [row for row in trail.split("<tr")[1:] if "部门已答复" in row]


async def _staff_page(new_client, made) -> str:
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    return (await handler.get(f"/staff/appeals/{made.number}")).text


async def test_each_reply_shows_under_its_own_event_after_a_redo(database, new_client):
    made = await make_appeal("redo", OWN)
    await as_before_replies_were_kept(made.appeal)  # answered before replies were kept
    await rerun_reply_backfill(database)
    await handling.reply(await Appeal.get(id=made.appeal.id), await handler_of(OWN),
                         parse(staff.Reply, {"reply": SECOND_REPLY}))

    first, second = _reply_rows(await _staff_page(new_client, made))
    assert 'id="reply-1"' in first and REPLY in first and SECOND_REPLY not in first
    assert 'id="reply-2"' in second and SECOND_REPLY in second and REPLY not in second


async def test_a_reply_kept_from_before_shows_under_the_event_that_gave_it(
        database, new_client):
    made = await make_appeal("redo", OWN)
    await handling.reply(made.appeal, await handler_of(OWN),
                         parse(staff.Reply, {"reply": SECOND_REPLY}))
    await as_before_replies_were_kept(made.appeal)  # both replies given before: one is kept
    await rerun_reply_backfill(database)

    first, second = _reply_rows(await _staff_page(new_client, made))
    assert SECOND_REPLY not in first and REPLY not in first
    assert 'id="reply-2"' in second and SECOND_REPLY in second


async def test_a_rating_after_the_window_is_refused_on_the_tracking_page(database, rules,
                                                                         new_client):
    made = await make_appeal("replied", OWN)
    late = datetime.now(UTC) - timedelta(days=rules.policies.rating_window_days + 1)
    await Appeal.filter(id=made.appeal.id).update(replied_at=late)
    resident = await _tracker(new_client, made)
    view = (await resident.get("/track/appeal")).text
    assert 'id="rate"' not in view
    assert 'id="rating-lapsed"' in view and "评价期已过" in view

    refused = await post_form(resident, "/track/rating", {"rating": "satisfied"},
                              "/track/appeal")
    assert refused.status_code == 409
    assert "评价期已过，该诉求已自动办结。" in refused.text
    assert (await Appeal.get(id=made.appeal.id)).status == "replied"


async def test_an_action_the_state_forbids_answers_409_on_the_web_as_on_the_api(
        database, new_client):
    made = await make_appeal("replied", OWN)
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    page = f"/staff/appeals/{made.number}"
    again = await post_form(handler, f"{page}/reply", {"reply": SECOND_REPLY}, page)
    assert again.status_code == 409
    assert "不能执行" in again.text
