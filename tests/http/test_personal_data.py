"""Personal data in what residents write (issue 12, item 2): a phone number, a mail address
and an ID number typed into the title, the body, the supplied information or a rating
reason are masked on every staff page, staff mail and export — the resident still reads
their own in clear — and a staff member reveals one value, with a reason, on the record:
shown once, in no log line, event or mail, refused past the daily limit and to the
department handling a report, listed per person for inspectors."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import logging

import openpyxl
import pytest

from app.domain.types import Role
from app.models import Appeal, AppealEvent, Department, OutboxMessage, Reveal
from app.notify import notices
from app.notify.worker import OutboxWorker
from app.schemas import staff as forms
from app.schemas.appeals import InfoSupplied, Rating
from app.schemas.base import parse
from app.services import clocks, handling
from tests import factories
from tests.conftest import login, make_staff, post_form, submit_appeal, unique
from tests.conftest import test_settings as settings_for
from tests.factories import make_appeal
from tests.http.test_access import all_pages
from tests.integration.test_mail import SmtpSink, address, parts

OWN = "990100-zhujian"
PHONE = "13987654321"
MAIL = "zhang.wei@example.org"
ID_NUMBER = "11010519800101123X"
CONTACT_PHONE = "13800009999"
CONTACT_MAIL = "li.ayi@example.net"
SECRETS = (PHONE, MAIL, ID_NUMBER, CONTACT_PHONE, CONTACT_MAIL, "zhang.wei@", "li.ayi@",
           "987654321", "19800101")
BODY = (f"小区电梯坏了一个多月，物业推脱不修。我的电话{PHONE}，邮箱{MAIL}，"
        f"身份证号{ID_NUMBER}，请尽快处理。")
INFO = f"补充：楼栋是3号楼，可以打{PHONE}或发邮件到{MAIL}联系，身份证{ID_NUMBER}。"
REASON = f"电梯还是没修好，请打{PHONE}联系我，身份证{ID_NUMBER}，邮箱{MAIL}。"


def assert_masked(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} in clear on {where}"


_LOGINS: dict[int, tuple[str, str]] = {}


async def _tracking_login(appeal: Appeal) -> tuple[str, str]:
    return _LOGINS[appeal.id]


def title_with_phone() -> str:
    return f"{unique('电梯')}请回电{PHONE}"


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


async def _written_everywhere(app) -> Appeal:
    """An appeal whose title, body, supplied information and rating reason hold the three
    kinds of personal data, redone after a 不满意 (so it sits in its department's queue)."""
    rules = app.state.rules
    made = await make_appeal("awaiting_info", OWN, rules=rules, title=title_with_phone(),
                             body=BODY, contact_phone=CONTACT_PHONE, contact_email=CONTACT_MAIL)
    _LOGINS[made.appeal.id] = (made.username, made.password)
    appeal = await clocks.supply_info(rules, made.appeal, parse(InfoSupplied, {"text": INFO}))
    handler = await factories.handler_of(OWN)
    await handling.reply(appeal, handler, parse(forms.Reply, {"reply": factories.REPLY}),
                         rules.calendar)
    appeal = await clocks.rate(rules, appeal, parse(Rating, {"rating": "unsatisfied",
                                                             "reason": REASON}))
    assert appeal.status == "accepted"
    return await Appeal.get(id=appeal.id)


async def _staff(new_client, role: Role, department: str | None = None):
    client = new_client()
    username = await make_staff(role, department)
    await login(client, username)
    return client, username


# --- masked on every staff page, mail and export ------------------------------------------

async def test_nothing_written_in_an_appeal_appears_in_clear_on_staff_pages(app, database,
                                                                           new_client):
    appeal = await _written_everywhere(app)
    number = appeal.tracking_number
    inspector, _ = await _staff(new_client, Role.INSPECTOR)
    order = {"reason": f"群众反映强烈，请回电{PHONE}。", "days": "3"}
    page = f"/staff/appeals/{number}"
    assert (await post_form(inspector, f"{page}/supervise", order, page)).status_code == 303

    viewers = {role.value: (await _staff(new_client, role, OWN if role in (
        Role.HANDLER, Role.HEAD) else None))[0]
        for role in (Role.HANDLER, Role.HEAD, Role.DISPATCHER, Role.INSPECTOR)}
    for role, client in viewers.items():
        detail = await client.get(page)
        assert detail.status_code == 200
        assert "请回电139****4321" in detail.text  # the title, masked
        assert "110***********123X" in detail.text and "z***@example.org" in detail.text
        assert "电梯还是没修好" in detail.text and "楼栋是3号楼" in detail.text
        assert_masked(detail.text, f"the appeal's page for {role}")
    for role in ("handler", "head"):
        client = viewers[role]
        queue = await all_pages(client, "/staff/queue", await client.get("/staff/queue"))
        assert number in queue
        assert_masked(queue, f"the queue of a {role}")
        supervised = await client.get("/staff/supervision")
        assert number in supervised.text
        assert_masked(supervised.text, f"the supervision list of a {role}")
    listed = await viewers["inspector"].get("/staff/appeals?status=accepted")
    assert number in listed.text
    assert_masked(listed.text, "the inspectors' list")
    assert_masked((await viewers["inspector"].get("/staff/supervision")).text, "supervision")

    for fmt in ("csv", "xlsx"):
        export = await viewers["inspector"].get(f"/staff/appeals?status=accepted&format={fmt}")
        assert export.status_code == 200
        if fmt == "csv":
            cells = [c for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))
                     for c in row]
        else:
            book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
            cells = [str(c) for row in book.active.iter_rows(values_only=True) for c in row]
        assert number in cells
        assert_masked("\n".join(cells), f"the {fmt} export")


async def test_triage_detectors_and_report_show_no_contact_in_clear(app, database, new_client):
    """Returned twice (退回 ping-pong) and waiting in triage: the dispatcher's queue, the
    detector's list and its export, the monthly report."""
    made = await make_appeal("assigned", OWN, rules=app.state.rules, title=title_with_phone(),
                             body=BODY)
    number = made.number
    handler, _ = await _staff(new_client, Role.HANDLER, OWN)
    dispatcher, _ = await _staff(new_client, Role.DISPATCHER)
    page = f"/staff/appeals/{number}"
    returned = {"reason": f"不属本部门职责，群众电话{PHONE}。"}
    for last in (False, True):
        assert (await post_form(handler, f"{page}/return", returned, page)).status_code == 303
        if not last:
            routed = await post_form(dispatcher, f"{page}/route", {"department": OWN}, page)
            assert routed.status_code == 303
    triage = await all_pages(dispatcher, "/staff/triage", await dispatcher.get("/staff/triage"))
    assert number in triage
    assert_masked(triage, "the triage queue")
    detector = "/staff/detectors/list?detector=ping-pong"
    listed = await all_pages(dispatcher, "/staff/detectors/list",
                             await dispatcher.get(detector))
    assert number in listed
    assert_masked(listed, "the ping-pong detector")
    assert_masked((await dispatcher.get("/staff/detectors")).text, "the detectors")
    export = await dispatcher.get(f"{detector}&format=csv")
    assert number in export.text
    assert_masked(export.text, "the detector's export")
    assert_masked((await dispatcher.get(page)).text, "the appeal's trail")
    report = await dispatcher.get("/staff/report")
    assert report.status_code == 200
    assert_masked(report.text, "the monthly report")


async def test_staff_mail_holds_no_contact_in_clear(app, database, smtp):
    appeal = await _written_everywhere(app)
    department = await Department.get(code=OWN)
    to = address("staff-mail")
    await notices.reminder(appeal, department, [to], f"请尽快回电{PHONE}。", "监察员 甲")
    await notices.supervision_issued(appeal, department, [to], f"请联系{MAIL}。",
                                     appeal.reply_due_at, None)
    await notices.deadline_warning(appeal, department, [to], appeal.reply_due_at, None)
    await notices.daily_digest(department, [appeal], [], appeal.submitted_at.date(), [to],
                               unique("digest"))
    rows = await OutboxMessage.filter(to_address=to)
    assert len(rows) == 4
    settings = settings_for(database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                            SMTP_TLS="none", SMTP_FROM="民声平台 <noreply@minsheng.example>")
    await OutboxWorker(settings, only_ids=[r.id for r in rows]).drain()
    messages = smtp.to(to)
    assert len(messages) == 4
    for message in messages:
        text, html = parts(message)
        assert appeal.tracking_number in text and "139****4321" in text
        assert_masked(text + html + str(message["Subject"]), "a staff mail")
    for raw in smtp.raw_to(to):
        assert_masked(raw.decode("ascii", "replace"), "a staff mail's bytes")


async def test_the_resident_reads_their_own_text_in_clear(app, database, new_client):
    appeal = await _written_everywhere(app)
    login_ = await _tracking_login(appeal)
    resident = new_client()
    tracked = await post_form(resident, "/track", {"username": login_[0],
                                                   "password": login_[1]}, "/track")
    assert tracked.status_code == 303
    own = await resident.get("/track/appeal")
    for secret in (PHONE, MAIL, ID_NUMBER):
        assert secret in own.text
    assert f"请回电{PHONE}" in own.text  # the title, as they wrote it
    api = await resident.get(f"/api/v1/appeals/{appeal.tracking_number}",
                             headers=_basic(*login_))
    assert api.status_code == 200
    assert api.json()["body"] == BODY and PHONE in api.json()["title"]


# --- revealing one value -------------------------------------------------------------------

async def _reveal(client, number: str, choice: str, reason: str = "callback", text: str = "",
                  back: str = "detail"):
    page = f"/staff/appeals/{number}"
    return await post_form(client, f"{page}/reveal", {"choice": choice, "reason": reason,
                                                      "reason_text": text, "back": back}, page)


async def test_a_reveal_shows_the_value_once_and_records_place_and_reason_only(
        app, database, new_client, caplog):
    appeal = await _written_everywhere(app)
    number = appeal.tracking_number
    handler, username = await _staff(new_client, Role.HANDLER, OWN)
    detail = await handler.get(f"/staff/appeals/{number}")
    assert 'id="reveal-form"' in detail.text
    assert 'value="body:0"' in detail.text and 'value="phone:0"' in detail.text
    events_before = await AppealEvent.filter(appeal_id=appeal.id).count()

    with caplog.at_level(logging.DEBUG):
        shown = await _reveal(handler, number, "body:2", "other", "核对身份证号后回电")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert ID_NUMBER in shown.text
    assert "核对身份证号后回电" in shown.text
    for record in caplog.records:
        for secret in (ID_NUMBER, PHONE, MAIL):
            assert secret not in record.getMessage()
            assert secret not in str(record.__dict__)

    events = await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
    assert len(events) == events_before + 1
    event = events[-1]
    assert (event.kind, event.from_status, event.to_status) == ("reveal", "accepted",
                                                                 "accepted")
    assert event.data == {"place": "body", "position": 2, "kind": "id",
                          "reason": "核对身份证号后回电"}
    assert ID_NUMBER not in event.note and "核对身份证号后回电" in event.note
    [row] = await Reveal.filter(event_id=event.id)
    assert (row.place, row.position, row.kind, row.reason) == ("body", 2, "id",
                                                              "核对身份证号后回电")
    # Once: the appeal's page after it masks the value again, and says who looked and why.
    again = await handler.get(f"/staff/appeals/{number}")
    assert_masked(again.text, "the appeal's page after a reveal")
    assert "查看个人信息" in again.text and "核对身份证号后回电" in again.text
    assert await OutboxMessage.filter(text_body__contains=ID_NUMBER).count() == 0


async def test_a_reveal_of_a_contact_field_and_of_the_supplied_information(
        app, database, new_client):
    appeal = await _written_everywhere(app)
    dispatcher, _ = await _staff(new_client, Role.DISPATCHER)
    shown = await _reveal(dispatcher, appeal.tracking_number, "email:0")
    assert shown.status_code == 200 and CONTACT_MAIL in shown.text
    supplied = await AppealEvent.get(appeal_id=appeal.id, kind="info_supplied")
    shown = await _reveal(dispatcher, appeal.tracking_number, f"event-{supplied.id}:1")
    assert shown.status_code == 200 and MAIL in shown.text and PHONE not in shown.text


@pytest.mark.parametrize(("form", "message"), [
    ({"choice": "body:9"}, "请选择要查看的信息"),
    ({"choice": "nowhere:0"}, "请选择要查看的信息"),
    ({"choice": "body:x"}, "请选择要查看的信息"),
    ({"choice": "body:0", "reason": ""}, "请选择或填写查看理由"),
    ({"choice": "body:0", "reason": "other"}, "请选择或填写查看理由"),
    ({"choice": "body:0", "reason": "bribe"}, "请选择或填写查看理由"),
    ({"choice": "body:0", "reason": "other", "reason_text": "长" * 201}, "最多 200 个字"),
])
async def test_a_bad_reveal_form_is_refused_in_chinese_and_reveals_nothing(
        app, database, new_client, form, message):
    made = await make_appeal("accepted", OWN, rules=app.state.rules, body=BODY)
    handler, _ = await _staff(new_client, Role.HANDLER, OWN)
    page = f"/staff/appeals/{made.number}"
    data = {"reason": "callback", **form}
    response = await post_form(handler, f"{page}/reveal", data, page)
    assert response.status_code == 400
    assert message in response.text
    assert_masked(response.text, "a refused reveal")
    assert not await Reveal.filter(appeal_id=made.appeal.id).exists()


async def test_reveals_past_the_daily_limit_are_refused(app, database, new_client,
                                                       monkeypatch):
    rules = app.state.rules
    monkeypatch.setattr(rules, "detectors",
                        dataclasses.replace(rules.detectors, reveal_daily_limit=2))
    made = await make_appeal("accepted", OWN, rules=rules, body=BODY)
    inspector, username = await _staff(new_client, Role.INSPECTOR)
    for choice in ("body:0", "body:1"):
        assert (await _reveal(inspector, made.number, choice)).status_code == 200
    refused = await _reveal(inspector, made.number, "body:2")
    assert refused.status_code == 429
    assert "已达 2 次的上限" in refused.text
    assert ID_NUMBER not in refused.text
    assert await Reveal.filter(actor__username=username).count() == 2
    # Somebody else still may.
    other, _ = await _staff(new_client, Role.INSPECTOR)
    assert (await _reveal(other, made.number, "body:2")).status_code == 200


async def test_the_department_handling_a_report_reveals_nothing_of_it(app, database,
                                                                      new_client):
    resident = new_client()
    receipt = await submit_appeal(resident, type="report", named_unit=OWN,
                                  title=unique("举报"), body=BODY,
                                  contact_phone=CONTACT_PHONE, contact_email=CONTACT_MAIL)
    number = receipt["number"]
    jiwei, _ = await _staff(new_client, Role.HANDLER, "990100-jiwei")
    detail = await jiwei.get(f"/staff/appeals/{number}")
    assert detail.status_code == 200
    assert 'id="reveal-form"' not in detail.text
    assert_masked(detail.text, "a report's page for its handling department")
    for choice in ("phone:0", "email:0", "body:0", "body:1", "body:2"):
        response = await _reveal(jiwei, number, choice)
        assert response.status_code == 404
        assert_masked(response.text, "a refused reveal of a report")
    head, _ = await _staff(new_client, Role.HEAD, "990100-jiwei")
    assert (await _reveal(head, number, "phone:0")).status_code == 404
    assert not await Reveal.filter(appeal__tracking_number=number).exists()
    dispatcher, _ = await _staff(new_client, Role.DISPATCHER)
    shown = await _reveal(dispatcher, number, "phone:0")
    assert shown.status_code == 200 and CONTACT_PHONE in shown.text


async def test_inspectors_list_reveals_per_person(app, database, new_client):
    made = await make_appeal("accepted", OWN, rules=app.state.rules, body=BODY)
    handler, username = await _staff(new_client, Role.HANDLER, OWN)
    assert (await _reveal(handler, made.number, "body:0", "site")).status_code == 200
    inspector, _ = await _staff(new_client, Role.INSPECTOR)
    listed = await inspector.get(f"/staff/reveals?staff={username}")
    assert listed.status_code == 200
    assert made.number in listed.text and "现场核查需联系群众" in listed.text
    assert "诉求内容 第 1 处" in listed.text
    assert_masked(listed.text, "the list of reveals")
    row = listed.text.split('id="reveal-counts"')[1].split("</table>")[0]
    assert ">1</td>" in row
    later = await inspector.get(f"/staff/reveals?staff={username}&from=2999-01-01")
    assert made.number not in later.text
    unknown = await inspector.get("/staff/reveals?staff=nobody-at-all&to=2026-02-30")
    assert "没有这个工作人员账号" in unknown.text and "日期格式应为" in unknown.text
    assert made.number not in unknown.text


async def test_a_dispatcher_reveals_the_phone_from_the_followup_page(app, database,
                                                                     new_client):
    made = await make_appeal("closed", OWN, rules=app.state.rules, type="complaint")
    dispatcher, _ = await _staff(new_client, Role.DISPATCHER)
    page = f"/staff/appeals/{made.number}/followup"
    call = await dispatcher.get(page)
    assert call.status_code == 200
    assert 'id="reveal-form"' in call.text and "138****5678" in call.text
    assert "13812345678" not in call.text
    shown = await post_form(dispatcher, f"/staff/appeals/{made.number}/reveal",
                            {"choice": "phone:0", "reason": "followup", "back": "followup"},
                            page)
    assert shown.status_code == 200
    assert "13812345678" in shown.text and f'href="{page}"' in shown.text
    assert "13812345678" not in (await dispatcher.get(page)).text


def _basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
