"""Published replies (issue 13): the approvers' queue and page, approval with the redaction
checked again, refusals (reports, no consent, personal data left in), taking down, the
resident's withdrawal of consent (tracking page, account, API), and a redo after
publication. What is published never holds a planted value, on any public route."""

from __future__ import annotations

import html
import re

from app.domain.types import Role
from app.models import Appeal, AppealEvent, Publication
from app.schemas import appeals, staff
from app.schemas.base import parse
from app.services import clocks, handling, publication
from tests.conftest import PASSWORD, login, make_staff, post_form, unique
from tests.factories import OWN, handler_of, make_appeal, make_resident
from tests.http.test_api import API, basic
from tests.http.test_openapi import assert_documented

NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next">')
PHONE, ID_NUMBER, MAIL, PLATE = "13987654321", "21010219800101123X", "wangwu88@163.com", "辽A88E88"
BODY = (f"我叫王五，住在幸福小区5号楼2单元302室，电话{PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}，"
        f"身份证{ID_NUMBER}，邮箱{MAIL}。楼下车牌{PLATE}的车天天堵住消防通道，物业不管。")
REPLY = "经核查，已联系物业公司清理消防通道，王五反映的车辆（车牌辽A88E88）已通知车主挪走。"
PLANTED = ("王五", "13987654321", "8765-4321", ID_NUMBER, MAIL, PLATE, "302室")


async def _staff(new_client, role: Role, department: str | None = None):
    client = new_client()
    await login(client, await make_staff(role, department))
    return client


async def _replied(title: str | None = None, *, reply: str | None = None, **fields):
    made = await make_appeal("replied", OWN, title=title or unique("消防通道被堵"),
                             body=BODY, public=True, contact_name="王五",
                             contact_phone=PHONE, **fields)
    if reply is not None:  # the reply of the appeal is the department's, with a plate in it
        await Appeal.filter(id=made.appeal.id).update(reply_text=reply)
        made.appeal.reply_text = reply
    return made


async def _queue_text(client) -> str:
    response = await client.get("/staff/publication")
    assert response.status_code == 200
    texts = [response.text]
    while (found := NEXT_PAGE.search(response.text)) and len(texts) < 200:
        response = await client.get("/staff/publication" + html.unescape(found.group(1)))
        assert response.status_code == 200
        texts.append(response.text)
    return "\n".join(texts)


def _field(page: str, name: str) -> str:
    """The value of the approve form's field `name` as the page offers it."""
    if name == "title":
        found = re.search(r'name="title"[^>]*value="([^"]*)"', page)
    else:
        found = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', page)
    assert found, name
    return html.unescape(found.group(1))


def _draft(page: str) -> dict[str, str]:
    seen = re.search(r'name="replied_at" value="([^"]*)"', page)
    assert seen and seen.group(1)
    return {key: _field(page, key) for key in ("title", "question", "reply")} | {
        "replied_at": html.unescape(seen.group(1))}


def _none_planted(text: str) -> None:
    for value in PLANTED:
        assert value not in text, value


async def test_dispatcher_approves_the_redacted_draft(database, new_client):
    made = await _replied(reply=REPLY)
    client = await _staff(new_client, Role.DISPATCHER)
    assert made.number in await _queue_text(client)
    page = await client.get(f"/staff/publication/{made.number}")
    assert page.status_code == 200
    draft = _draft(page.text)
    _none_planted(" ".join(draft.values()))
    assert "[姓名]" in draft["question"] and "[电话]" in draft["question"]
    assert "[证件号]" in draft["question"] and "[邮箱]" in draft["question"]
    assert "[车牌]" in draft["question"] and "[门牌]" in draft["question"]
    assert "[车牌]" in draft["reply"]
    assert "<mark" in page.text  # what was taken out is shown highlighted
    assert PHONE not in page.text and ID_NUMBER not in page.text  # masked for staff too
    assert "8765-4321" not in page.text  # the number as written, too

    response = await post_form(client, f"/staff/publication/{made.number}/approve", draft,
                               f"/staff/publication/{made.number}")
    assert response.status_code == 303, response.text
    row = await Publication.get(appeal_id=made.appeal.id)
    assert row.status == publication.PUBLISHED
    assert (row.title, row.question, row.reply) == (draft["title"], draft["question"],
                                                     draft["reply"])
    _none_planted(" ".join((row.title, row.question, row.reply, row.search_grams)))
    assert "消防" in row.search_grams and row.type == "complaint"
    assert row.replied_at == made.appeal.replied_at and row.approver_label
    kinds = await AppealEvent.filter(appeal_id=made.appeal.id).order_by("id").values_list(
        "kind", flat=True)
    assert kinds[-1] == "published"
    assert made.number not in await _queue_text(client)

    # Every public route answers with the published text only.
    keyword = row.title[:6]
    for path in (f"/public?q={keyword}", "/public/data/published.csv"):
        public = await new_client().get(path)
        assert public.status_code == 200, path
        _none_planted(public.text)
    listed = await new_client().get(f"/public?q={row.title}")
    assert listed.text.count(row.title) >= 2  # the search box, and the published reply
    assert "已联系物业公司清理消防通道" in listed.text


async def test_inspector_may_approve_too_and_edits_are_kept(database, new_client):
    made = await _replied()
    client = await _staff(new_client, Role.INSPECTOR)
    page = await client.get(f"/staff/publication/{made.number}")
    draft = _draft(page.text) | {"reply": "已督促物业清理消防通道。"}
    response = await post_form(client, f"/staff/publication/{made.number}/approve", draft,
                               f"/staff/publication/{made.number}")
    assert response.status_code == 303
    assert (await Publication.get(appeal_id=made.appeal.id)).reply == "已督促物业清理消防通道。"


async def test_personal_data_left_in_the_edit_is_refused_beside_the_field(database,
                                                                           new_client):
    made = await _replied()
    client = await _staff(new_client, Role.DISPATCHER)
    page = await client.get(f"/staff/publication/{made.number}")
    cases = {
        "reply": ("如有疑问请拨打 139 8765 4321 联系。", "电话号码"),
        "question": ("身份证 21010219800101123X 的住户反映消防通道被堵。", "证件号码"),
        "title": ("请回复 wangwu88@163.com", "电子邮箱"),
    }
    for field, (text, kind) in cases.items():
        sent = _draft(page.text) | {field: text}
        response = await post_form(client, f"/staff/publication/{made.number}/approve", sent,
                                   f"/staff/publication/{made.number}")
        assert response.status_code == 400, response.text
        error = re.search(rf'id="error-{field}">([^<]+)<', response.text)
        assert error and kind in error.group(1)
        assert html.escape(text) in response.text or text in response.text  # typed text kept
    # The resident's own name, typed back by the approver, is refused as well.
    sent = _draft(page.text) | {"reply": "已答复王五。"}
    response = await post_form(client, f"/staff/publication/{made.number}/approve", sent,
                               f"/staff/publication/{made.number}")
    assert response.status_code == 400 and "诉求人姓名" in response.text
    assert not await Publication.exists(appeal_id=made.appeal.id)
    assert not await AppealEvent.exists(appeal_id=made.appeal.id, kind="published")


async def test_a_report_is_never_published_by_any_route(database, new_client):
    made = await make_appeal("replied", None, type="report", named_unit=OWN, public=True,
                             title=unique("举报工作人员"), body=BODY)
    client = await _staff(new_client, Role.INSPECTOR)
    assert made.number not in await _queue_text(client)
    page = await client.get(f"/staff/publication/{made.number}")
    assert page.status_code == 200 and publication.REPORT_REFUSED in page.text
    assert 'id="approve-form"' not in page.text
    response = await post_form(client, f"/staff/publication/{made.number}/approve",
                               {"title": "举报", "question": "内容", "reply": "答复"},
                               f"/staff/publication/{made.number}")
    assert response.status_code == 400 and publication.REPORT_REFUSED in response.text
    assert not await Publication.exists(appeal_id=made.appeal.id)
    for path in ("/public", "/public/data/published.csv"):
        public = await new_client().get(path)
        assert made.appeal.title not in public.text


async def test_no_consent_and_unanswered_appeals_are_refused(database, new_client):
    private = await make_appeal("replied", OWN, public=False, title=unique("不公开"))
    open_ = await make_appeal("accepted", OWN, public=True, title=unique("未答复"))
    client = await _staff(new_client, Role.DISPATCHER)
    queue = await _queue_text(client)
    assert private.number not in queue and open_.number not in queue
    for made, said, status in ((private, publication.NO_CONSENT, 400),
                               (open_, publication.NOT_ANSWERED, 409)):
        response = await post_form(client, f"/staff/publication/{made.number}/approve",
                                   {"title": "标题", "question": "内容", "reply": "答复"},
                                   f"/staff/publication/{made.number}")
        assert response.status_code == status and said in response.text
        assert not await Publication.exists(appeal_id=made.appeal.id)


async def _published(client, made) -> Publication:
    page = await client.get(f"/staff/publication/{made.number}")
    response = await post_form(client, f"/staff/publication/{made.number}/approve",
                               _draft(page.text), f"/staff/publication/{made.number}")
    assert response.status_code == 303, response.text
    return await Publication.get(appeal_id=made.appeal.id)


async def test_an_approver_unpublishes_with_a_reason(database, new_client):
    made = await _replied()
    client = await _staff(new_client, Role.DISPATCHER)
    await _published(client, made)
    url = f"/staff/publication/{made.number}/unpublish"
    refused = await post_form(client, url, {"reason": "  "}, f"/staff/publication/{made.number}")
    assert refused.status_code == 400 and 'id="error-reason"' in refused.text
    assert (await Publication.get(appeal_id=made.appeal.id)).status == "published"
    inspector = await _staff(new_client, Role.INSPECTOR)
    done = await post_form(inspector, url, {"reason": "答复内容涉及第三方隐私"},
                           f"/staff/publication/{made.number}")
    assert done.status_code == 303
    assert (await Publication.get(appeal_id=made.appeal.id)).status == "unpublished"
    event = await AppealEvent.filter(appeal_id=made.appeal.id).order_by("-id").first()
    assert event.kind == "unpublished" and "第三方隐私" in event.note
    again = await post_form(inspector, url, {"reason": "再撤一次"},
                            f"/staff/publication/{made.number}")
    assert again.status_code == 409 and publication.NOT_PUBLISHED in again.text
    for path, echoed in ((f"/public?q={made.appeal.title}", 1),  # the search box
                         ("/public/data/published.csv", 0)):
        public = await new_client().get(path)
        assert public.status_code == 200 and public.text.count(made.appeal.title) == echoed


async def test_the_resident_withdraws_consent_on_the_tracking_page(database, new_client):
    made = await _replied()
    dispatcher = await _staff(new_client, Role.DISPATCHER)
    await _published(dispatcher, made)
    resident = new_client()
    response = await post_form(resident, "/track", {"username": made.username,
                                                    "password": made.password}, "/track")
    assert response.status_code == 303
    page = await resident.get("/track/appeal")
    assert 'id="consent-withdrawal"' in page.text
    response = await post_form(resident, "/track/consent-withdrawal", {}, "/track/appeal")
    assert response.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.is_public is False
    assert (await Publication.get(appeal_id=appeal.id)).status == "unpublished"
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id").values_list(
        "kind", flat=True)
    assert kinds[-1] == "consent_withdrawn"
    page = await resident.get("/track/appeal")
    assert 'id="consent-withdrawal"' not in page.text and "群众撤回公开同意" in page.text
    # Neither the queue nor an approval brings it back.
    assert made.number not in await _queue_text(dispatcher)
    response = await post_form(dispatcher, f"/staff/publication/{made.number}/approve",
                               {"title": "标题", "question": "内容", "reply": "答复"},
                               f"/staff/publication/{made.number}")
    assert response.status_code == 400 and publication.NO_CONSENT in response.text
    assert (await Publication.get(appeal_id=appeal.id)).status == "unpublished"


async def test_withdrawal_before_publication_keeps_it_out_of_the_queue(database, new_client):
    made = await _replied()
    dispatcher = await _staff(new_client, Role.DISPATCHER)
    assert made.number in await _queue_text(dispatcher)
    resident = new_client()
    await post_form(resident, "/track", {"username": made.username, "password": made.password},
                    "/track")
    response = await post_form(resident, "/track/consent-withdrawal", {}, "/track/appeal")
    assert response.status_code == 303
    assert made.number not in await _queue_text(dispatcher)
    assert not await Publication.exists(appeal_id=made.appeal.id)
    again = await post_form(resident, "/track/consent-withdrawal", {}, "/track/appeal")
    assert again.status_code == 409


async def test_an_account_holder_withdraws_consent_on_their_appeal(database, new_client, app):
    account = await make_resident()
    made = await make_appeal("replied", OWN, public=True, resident=account,
                             title=unique("账号撤回"))
    other = await make_appeal("replied", OWN, public=True, title=unique("别人的"))
    client = new_client()
    response = await post_form(client, "/account/login", {"email": account.email,
                                                          "password": PASSWORD},
                               "/account/login")
    assert response.status_code == 303, response.text
    page = await client.get(f"/account/appeals/{made.number}")
    assert 'id="consent-withdrawal"' in page.text
    url = f"/account/appeals/{made.number}/consent-withdrawal"
    response = await post_form(client, url, {}, f"/account/appeals/{made.number}")
    assert response.status_code == 303
    assert (await Appeal.get(id=made.appeal.id)).is_public is False
    foreign = await post_form(client, f"/account/appeals/{other.number}/consent-withdrawal",
                              {}, f"/account/appeals/{made.number}")
    assert foreign.status_code == 404
    assert (await Appeal.get(id=other.appeal.id)).is_public is True


async def test_the_api_withdraws_consent_with_the_tracking_credentials(database, client):
    made = await _replied()
    url = f"{API}/appeals/{made.number}/consent-withdrawal"
    assert (await client.post(url)).status_code == 404
    assert (await client.post(url, headers=basic(made.username, "wrong-password-1"))) \
        .status_code == 404
    view = await client.get(f"{API}/appeals/{made.number}",
                            headers=basic(made.username, made.password))
    assert view.json()["public"] is True
    response = await client.post(url, headers=basic(made.username, made.password))
    assert response.status_code == 200, response.text
    documented = f"{API}/appeals/{{tracking_number}}/consent-withdrawal"
    assert_documented(response, documented, "post")
    assert response.json()["public"] is False
    assert "consent_withdrawn" in [e["kind"] for e in response.json()["timeline"]]
    again = await client.post(url, headers=basic(made.username, made.password))
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_transition"
    assert_documented(again, documented, "post")


async def test_a_redo_after_publication_requeues_it_flagged_and_keeps_the_text(database,
                                                                               new_client, app):
    made = await _replied()
    client = await _staff(new_client, Role.DISPATCHER)
    first_page = _draft((await client.get(f"/staff/publication/{made.number}")).text)
    first = await _published(client, made)
    await clocks.rate(app.state.rules, made.appeal,
                      parse(appeals.Rating, {"rating": "unsatisfied", "reason": "车辆仍然在堵消防通道"}))
    appeal = await Appeal.get(id=made.appeal.id)
    await handling.reply(appeal, await handler_of(OWN),
                         parse(staff.Reply, {"reply": "经复查，已对占用消防通道的车辆进行处罚。"}),
                         app.state.rules.calendar)
    row = await Publication.get(appeal_id=appeal.id)
    assert (row.status, row.reply) == ("published", first.reply)  # the approved text stays
    stale = await post_form(client, f"/staff/publication/{made.number}/approve",
                            first_page, f"/staff/publication/{made.number}")
    assert stale.status_code == 409 and publication.REPLY_CHANGED in stale.text
    assert (await Publication.get(appeal_id=appeal.id)).reply == first.reply
    queue = await _queue_text(client)
    line = next(part for part in queue.split("<tr>") if made.number in part)
    assert publication.UPDATED_FLAG in line
    page = await client.get(f"/staff/publication/{made.number}")
    assert "经复查" in _field(page.text, "reply")
    await _published(client, made)
    row = await Publication.get(appeal_id=appeal.id)
    assert row.reply.startswith("经复查") and row.replied_at == (await Appeal.get(
        id=appeal.id)).replied_at
    assert made.number not in await _queue_text(client)


async def test_the_staff_appeal_page_links_to_the_publication_page(database, new_client):
    made = await _replied()
    for role in (Role.DISPATCHER, Role.INSPECTOR):
        client = await _staff(new_client, role)
        page = await client.get(f"/staff/appeals/{made.number}")
        assert f'href="/staff/publication/{made.number}"' in page.text
        assert 'href="/staff/publication"' in page.text  # the nav
    handler = await _staff(new_client, Role.HANDLER, OWN)
    page = await handler.get(f"/staff/appeals/{made.number}")
    assert "/staff/publication" not in page.text


async def test_numbers_only_redaction_finds_are_masked_for_the_approver(database, new_client):
    made = await make_appeal("replied", OWN, public=True, title=unique("路灯"),
                             body="路灯不亮，请回电 1 3 9 1 2 3 4 5 6 7 8 或 一三九一二三四五六七八。")
    client = await _staff(new_client, Role.INSPECTOR)
    page = await client.get(f"/staff/publication/{made.number}")
    assert "1 3 9 1 2 3 4 5 6 7 8" not in page.text and "一三九一二三四五六七八" not in page.text
    assert _field(page.text, "question") == "路灯不亮，请回电 [电话] 或 [电话]。"
