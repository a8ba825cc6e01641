"""Deadlines through the real pages: waiting for the resident, extensions, the redo."""

from datetime import timedelta

from app.domain.clock import compute_deadline, extend_deadline
from app.domain.types import Role
from app.models import Account, Appeal, AppealEvent, OutboxMessage
from app.schemas import staff
from app.schemas.base import parse
from app.services import clocks
from app.services.workflow import Actor
from tests import factories
from tests.conftest import login, make_staff, post_form, submit_appeal, unique

DEPT = "990102-zhujian"  # 东城区住建局


async def _accepted_appeal(resident, handler) -> tuple[dict, str]:
    """Accepted by the handler logged in on `handler`; the resident tracking it on `resident`."""
    staff = await factories.make_staff(Role.HANDLER, DEPT)
    made = await factories.make_appeal("accepted", DEPT, by=Actor.of(staff), type="consultation",
                                       contact_email=f"{unique('c')}@example.com")
    await login(handler, staff.username)
    track = await post_form(resident, "/track", {"username": made.username,
                                                 "password": made.password}, "/track")
    assert track.status_code == 303
    return made.receipt, f"/staff/appeals/{made.number}"


async def test_waiting_for_the_resident_moves_the_deadline_by_the_days_waited(
        database, rules, new_client):
    resident, handler = new_client(), new_client()
    receipt, page = await _accepted_appeal(resident, handler)
    asked = await post_form(handler, f"{page}/ask-info", {"question": "请提供物业合同和报修记录照片"},
                            page)
    assert asked.status_code == 303
    appeal = await Appeal.get(tracking_number=receipt["number"])
    assert appeal.status == "awaiting_info"
    mail = await OutboxMessage.get(to_address=appeal.contact_email, kind="info_requested")
    assert "请提供物业合同和报修记录照片" in mail.text_body
    view = await resident.get("/track/appeal")
    assert "请提供物业合同和报修记录照片" in view.text and 'id="supply-info"' in view.text

    # Pretend it came in ten days ago and the question was asked eight days ago.
    ask = await AppealEvent.filter(appeal_id=appeal.id, kind="ask_info").first()
    submitted = ask.at - timedelta(days=10)
    asked_at = ask.at - timedelta(days=8)
    await Appeal.filter(id=appeal.id).update(submitted_at=submitted, window_start=submitted)
    await AppealEvent.filter(id=ask.id).update(at=asked_at)
    supplied = await post_form(resident, "/track/info", {"info": "合同和照片已上传至社区，编号A12。"},
                               "/track/appeal")
    assert supplied.status_code == 303
    appeal = await Appeal.get(id=appeal.id)
    assert appeal.status == "accepted"
    event = await AppealEvent.get(appeal_id=appeal.id, kind="info_supplied")
    pause = (asked_at, event.at)
    expected = compute_deadline(appeal.submitted_at, 5, rules.calendar, [pause]).due_at
    assert appeal.reply_due_at == expected
    assert appeal.reply_due_at > compute_deadline(appeal.submitted_at, 5, rules.calendar).due_at


async def test_extension_needs_someone_else_and_stays_within_policy(database, rules, new_client):
    resident, handler, dispatcher = new_client(), new_client(), new_client()
    receipt, page = await _accepted_appeal(resident, handler)
    too_long = await post_form(handler, f"{page}/extension", {"days": "3", "reason": "需现场核查两次"},
                               page)
    assert too_long.status_code == 400 and "1 到 2" in too_long.text
    asked = await post_form(handler, f"{page}/extension", {"days": "2", "reason": "需现场核查两次"},
                            page)
    assert asked.status_code == 303
    # The handler cannot decide; a dispatcher can.
    assert (await post_form(handler, f"{page}/extension/decision", {"decision": "grant"}, page)
            ).status_code == 404
    before = await Appeal.get(tracking_number=receipt["number"])
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    granted = await post_form(dispatcher, f"{page}/extension/decision",
                              {"decision": "grant", "note": "同意"}, page)
    assert granted.status_code == 303
    after = await Appeal.get(id=before.id)
    base = compute_deadline(after.submitted_at, 5, rules.calendar)
    assert after.reply_due_at == extend_deadline(base, 2, rules.calendar).due_at
    assert (after.extension_days, after.extension_requested_days) == (2, 0)
    again = await post_form(handler, f"{page}/extension", {"days": "1", "reason": "还需要时间"},
                            page)
    assert again.status_code == 400 and "最长延期" in again.text


async def test_requester_cannot_grant_their_own_extension(database, rules):
    dispatcher = await Account.get(username=await make_staff(Role.DISPATCHER))
    appeal = await factories.submit(rules=rules, region="990102")
    actor = Actor.of(dispatcher)
    await clocks.request_extension(rules, appeal, actor, parse(
        staff.ExtensionRequest, {"days": 1, "reason": "需要协调多个部门"}))
    try:
        await clocks.decide_extension(rules, appeal, actor,
                                      parse(staff.ExtensionDecision, {"decision": "grant"}))
        raised = None
    except Exception as exc:  # noqa: BLE001
        raised = exc
    assert raised is not None and "自己" in str(raised)
    assert (await Appeal.get(id=appeal.id)).extension_days == 0


async def test_unsatisfied_resident_gets_one_redo_with_a_fresh_window(database, rules,
                                                                      new_client):
    resident, handler = new_client(), new_client()
    receipt, page = await _accepted_appeal(resident, handler)
    answer = {"reply": "已联系物业公司，电梯将在三日内修好，请留意。"}
    assert (await post_form(handler, f"{page}/reply", answer, page)).status_code == 303
    no_reason = await post_form(resident, "/track/rating", {"rating": "unsatisfied"},
                                "/track/appeal")
    assert no_reason.status_code == 400
    redo = await post_form(resident, "/track/rating",
                           {"rating": "unsatisfied", "reason": "电梯至今没修好，物业仍不理"},
                           "/track/appeal")
    assert redo.status_code == 303
    appeal = await Appeal.get(tracking_number=receipt["number"])
    assert appeal.status == "accepted"
    redo_event = await AppealEvent.get(appeal_id=appeal.id, kind="rate_unsatisfied")
    assert appeal.window_start == redo_event.at
    assert appeal.reply_due_at == compute_deadline(redo_event.at, 5, rules.calendar).due_at

    assert (await post_form(handler, f"{page}/reply", answer, page)).status_code == 303
    final = await post_form(resident, "/track/rating",
                            {"rating": "unsatisfied", "reason": "还是没有解决"}, "/track/appeal")
    assert final.status_code == 303
    assert (await Appeal.get(id=appeal.id)).status == "closed"
    kinds = await AppealEvent.filter(appeal_id=appeal.id).values_list("kind", flat=True)
    assert "rate_unsatisfied_final" in kinds and "rate_ok" not in kinds


async def test_tracking_page_shows_working_days_left(database, new_client):
    resident = new_client()
    receipt = await submit_appeal(resident, region="990102")
    await post_form(resident, "/track", {"username": receipt["username"],
                                         "password": receipt["password"]}, "/track")
    view = await resident.get("/track/appeal")
    assert "还剩" in view.text and "个工作日" in view.text
