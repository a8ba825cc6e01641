"""Reply templates, the knowledge base and the head's review of replies (审核), through the
pages: a template inserted with its placeholders filled and sent; knowledge found and
suggested (never an expired entry); every administrative change audited; with review on,
a reply waits for the head, who sends it or returns it for revision."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import timedelta

import pytest

from app.domain.types import Role
from app.models import (
    Appeal,
    AppealEvent,
    AppealReply,
    AuditEntry,
    Department,
    KnowledgeEntry,
    OutboxMessage,
    ReplyTemplate,
    RulesVersion,
)
from app.services import replies
from tests import factories
from tests.conftest import login, make_staff, post_form, unique
from tests.factories import make_appeal

OWN = "990100-zhujian"
OTHER = "990100-jiaoyu"
TEMPLATE = "{姓名}您好：您反映的问题（受理编号 {受理编号}）由{部门}办理，现答复如下：已安排维修。"
TEXTAREA = re.compile(r'<textarea id="reply-text"[^>]*>([^<]*)</textarea>', re.S)


def reply_box(page: str) -> str:
    return html.unescape(TEXTAREA.search(page).group(1))


async def _as(new_client, role: Role, department: str | None = None):
    client = new_client()
    await login(client, await make_staff(role, department))
    return client


async def _audited(action: str, since: int) -> list[AuditEntry]:
    return await AuditEntry.filter(action=action, id__gt=since).order_by("id")


async def _last_audit() -> int:
    entry = await AuditEntry.all().order_by("-id").first()
    return entry.id if entry else 0


async def _shared_template(admin, title: str, text: str = TEMPLATE) -> ReplyTemplate:
    response = await post_form(admin, "/admin/templates", {"title": title, "text": text},
                               "/admin/templates")
    assert response.status_code == 303, response.text
    return await ReplyTemplate.get(title=title)


# --- templates -----------------------------------------------------------------------------

async def test_a_template_inserted_fills_its_placeholders_and_goes_out_as_the_reply(
        app, database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    since = await _last_audit()
    template = await _shared_template(admin, unique("已安排维修"))
    made = await make_appeal("accepted", OWN, rules=app.state.rules, contact_name="李阿姨")
    handler = await _as(new_client, Role.HANDLER, OWN)
    page = await handler.get(f"/staff/appeals/{made.number}?template={template.id}")
    assert page.status_code == 200
    department = (await Department.get(code=OWN)).name
    expected = TEMPLATE.replace("{姓名}", "李阿姨").replace("{受理编号}", made.number) \
        .replace("{部门}", department)
    assert reply_box(page.text) == expected
    edited = expected + "如有疑问请来电。"  # the handler edits it before sending
    sent = await post_form(handler, f"/staff/appeals/{made.number}/reply", {"reply": edited},
                           f"/staff/appeals/{made.number}")
    assert sent.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert (appeal.status, appeal.reply_text) == ("replied", edited)
    assert (await AppealReply.get(appeal_id=appeal.id)).text == edited
    [entry] = await _audited("reply_template_create", since)
    assert entry.details["before"] is None
    assert entry.details["after"]["模板内容"] == TEMPLATE


async def test_a_missing_name_and_a_reporters_name_are_both_filled_as_qunzhong(
        app, database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    template = await _shared_template(admin, unique("称呼"), "{姓名}您好，{受理编号}已办结。")
    nameless = await make_appeal("accepted", OWN, rules=app.state.rules, contact_name="")
    handler = await _as(new_client, Role.HANDLER, OWN)
    page = await handler.get(f"/staff/appeals/{nameless.number}?template={template.id}")
    assert reply_box(page.text) == f"群众您好，{nameless.number}已办结。"
    report = await make_appeal("accepted", "990100-jiwei", rules=app.state.rules,
                               type="report", named_unit=OWN, contact_name="王举报")
    jiwei = await _as(new_client, Role.HANDLER, "990100-jiwei")
    page = await jiwei.get(f"/staff/appeals/{report.number}?template={template.id}")
    assert reply_box(page.text) == f"群众您好，{report.number}已办结。"
    assert "王举报" not in page.text


async def test_a_head_keeps_the_departments_templates_and_no_other_department_sees_them(
        app, database, new_client):
    head = await _as(new_client, Role.HEAD, OWN)
    title = unique("住建专用")
    since = await _last_audit()
    saved = await post_form(head, "/staff/templates", {"title": title, "text": "{部门}已处理。"},
                            "/staff/templates")
    assert saved.status_code == 303
    template = await ReplyTemplate.get(title=title).prefetch_related("department")
    assert template.department.code == OWN
    assert [e.details["after"]["适用范围"] for e in
            await _audited("reply_template_create", since)] == [
        f"{template.department.name}（{OWN}）"]

    own = await make_appeal("accepted", OWN, rules=app.state.rules)
    handler = await _as(new_client, Role.HANDLER, OWN)
    assert title in (await handler.get(f"/staff/appeals/{own.number}")).text
    other = await make_appeal("accepted", OTHER, rules=app.state.rules)
    outsider = await _as(new_client, Role.HANDLER, OTHER)
    page = await outsider.get(f"/staff/appeals/{other.number}")
    assert title not in page.text
    page = await outsider.get(f"/staff/appeals/{other.number}?template={template.id}")
    assert page.status_code == 200
    assert "没有这个答复模板。" in page.text and reply_box(page.text) == ""

    other_head = await _as(new_client, Role.HEAD, OTHER)
    refused = await post_form(other_head, "/staff/templates",
                              {"id": str(template.id), "title": "改掉", "text": "改掉了"},
                              "/staff/templates")
    assert refused.status_code == 400
    assert "没有这个答复模板。" in refused.text
    assert (await ReplyTemplate.get(id=template.id)).title == title


async def test_template_changes_and_removals_are_audited_and_refusals_keep_the_form(
        database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    template = await _shared_template(admin, unique("共用"))
    since = await _last_audit()
    refused = await post_form(admin, "/admin/templates",
                              {"id": str(template.id), "title": "", "text": "保留我写的内容"},
                              "/admin/templates")
    assert refused.status_code == 400
    assert "请填写模板名称。" in refused.text and "保留我写的内容" in refused.text
    changed = await post_form(admin, "/admin/templates",
                              {"id": str(template.id), "title": template.title,
                               "text": "新的内容"}, "/admin/templates")
    assert changed.status_code == 303
    [entry] = await _audited("reply_template_change", since)
    assert (entry.details["before"]["模板内容"], entry.details["after"]["模板内容"]) == (
        TEMPLATE, "新的内容")
    removed = await post_form(admin, "/admin/templates/remove", {"id": str(template.id)},
                              "/admin/templates")
    assert removed.status_code == 303
    assert not await ReplyTemplate.exists(id=template.id)
    [entry] = await _audited("reply_template_remove", since)
    assert entry.details["before"]["模板名称"] == template.title
    log = await (await _as(new_client, Role.INSPECTOR)).get(
        "/staff/audit?action=reply_template_remove")
    assert f"删除答复模板「{template.title}」" in log.text


# --- the knowledge base --------------------------------------------------------------------

async def _entry(admin, **fields) -> KnowledgeEntry:
    form = {"title": unique("政策"), "text": "依照物业管理条例，电梯维修由物业服务企业负责。",
            "category": "", "department": "", "valid_until": "", **fields}
    response = await post_form(admin, "/admin/knowledge", form, "/admin/knowledge")
    assert response.status_code == 303, response.text
    return await KnowledgeEntry.get(title=form["title"])


async def test_knowledge_is_searched_and_suggested_and_an_expired_entry_never_shows(
        app, database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    word = unique("口径")
    yesterday = (replies.today() - timedelta(days=1)).isoformat()
    current = await _entry(admin, title=f"电梯维修责任{word}", category="城乡建设")
    expired = await _entry(admin, title=f"电梯维修责任（已废止）{word}", category="城乡建设",
                           valid_until=yesterday)
    elsewhere = await _entry(admin, title=f"学校收费{word}", category="教育文体")
    for role, department in ((Role.HANDLER, OWN), (Role.DISPATCHER, None)):
        reader = await _as(new_client, role, department)
        found = await reader.get("/staff/knowledge", params={"q": word})
        assert found.status_code == 200
        assert current.title in found.text and elsewhere.title in found.text
        assert expired.title not in found.text
        narrowed = await reader.get("/staff/knowledge", params={"q": word,
                                                                "category": "城乡建设"})
        assert current.title in narrowed.text and elsewhere.title not in narrowed.text
    bad = await reader.get("/staff/knowledge", params={"q": word, "category": "没有这类"})
    assert bad.status_code == 400 and "请选择有效的分类。" in bad.text

    made = await make_appeal("accepted", OWN, rules=app.state.rules)  # 城乡建设
    page = await (await _as(new_client, Role.HANDLER, OWN)).get(f"/staff/appeals/{made.number}")
    assert current.title in page.text
    assert expired.title not in page.text and elsewhere.title not in page.text


async def test_a_suggestion_matches_the_words_that_routed_the_appeal(app, database, new_client):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    appeal = await Appeal.get(id=made.appeal.id)
    words = replies._routing_words(appeal)
    if not words:
        pytest.skip("the seed model gave no words for this appeal")
    admin = await _as(new_client, Role.ADMIN)
    matching = await _entry(admin, title=unique(f"关于{words[0]}的答复口径"), category="教育文体")
    other = await _entry(admin, title=unique("无关条目"), category="教育文体")
    appeal.category_id = None  # (not saved) so that only the words can match
    suggested = await replies.suggestions(appeal, replies.today(), limit=50)
    titles = {e.title for e in suggested}
    assert matching.title in titles and other.title not in titles


async def test_knowledge_changes_are_audited_with_before_and_after(database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    entry = await _entry(admin, valid_until="2030-12-31")
    since = await _last_audit()
    refused = await post_form(admin, "/admin/knowledge",
                              {"id": str(entry.id), "title": entry.title, "text": "新口径",
                               "valid_until": "2030-02-30"}, "/admin/knowledge")
    assert refused.status_code == 400
    assert "请按 YYYY-MM-DD 填写有效的日期。" in refused.text and "新口径" in refused.text
    changed = await post_form(admin, "/admin/knowledge",
                              {"id": str(entry.id), "title": entry.title, "text": "新口径",
                               "valid_until": ""}, "/admin/knowledge")
    assert changed.status_code == 303
    [entry_change] = await _audited("knowledge_change", since)
    assert entry_change.details["before"]["有效期至"] == "2030-12-31"
    assert entry_change.details["after"]["有效期至"] == "长期有效"
    removed = await post_form(admin, "/admin/knowledge/remove", {"id": str(entry.id)},
                              "/admin/knowledge")
    assert removed.status_code == 303
    assert [e.details["before"]["内容"] for e in await _audited("knowledge_remove", since)] == [
        "新口径"]


# --- review (审核) ---------------------------------------------------------------------------

@pytest.fixture
def review_on(app):
    """OWN asks for review for the length of one test (as `review: [zhujian]` in
    routing_rules/regions.yaml for 云州市 would)."""
    before = app.state.rules
    departments = dict(before.departments)
    departments[OWN] = dataclasses.replace(departments[OWN], review=True)
    app.state.rules = dataclasses.replace(before, departments=departments)
    yield
    app.state.rules = before


async def _kinds(appeal_id: int) -> list[str]:
    return list(await AppealEvent.filter(appeal_id=appeal_id).order_by("id")
                .values_list("kind", flat=True))


async def _notices(number: str) -> int:
    """Mail and SMS to the resident about the appeal (each names its number; the staff's
    review mails do too, and are not counted)."""
    return await OutboxMessage.filter(text_body__contains=number) \
        .exclude(kind__startswith="review_").count()


async def test_with_review_on_a_reply_waits_for_the_head_who_sends_it(
        app, database, new_client, review_on):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    number, page = made.number, f"/staff/appeals/{made.number}"
    handler, head = await _as(new_client, Role.HANDLER, OWN), await _as(new_client, Role.HEAD,
                                                                          OWN)
    notices = await _notices(number)
    text = "经核查，已责令物业公司三日内修复电梯，并安排人员跟进。"
    sent = await post_form(handler, f"{page}/reply", {"reply": text}, page)
    assert sent.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert (appeal.status, appeal.reply_text, appeal.first_reply_at) == ("review", "", None)
    assert not await AppealReply.exists(appeal_id=appeal.id)
    assert await _notices(number) == notices  # the resident hears nothing yet
    resident = new_client()
    await post_form(resident, "/track", {"username": made.username,
                                         "password": made.password}, "/track")
    assert text not in (await resident.get("/track/appeal")).text

    assert 'id="approve-reply"' not in (await handler.get(page)).text  # nor can a handler
    shown = await head.get(page)
    assert text in shown.text and 'id="approve-reply"' in shown.text
    approved = await post_form(head, f"{page}/approve-reply", {}, page)
    assert approved.status_code == 303
    appeal = await Appeal.get(id=appeal.id)
    assert (appeal.status, appeal.reply_text) == ("replied", text)
    assert appeal.first_reply_at is not None
    kept = await AppealReply.get(appeal_id=appeal.id).prefetch_related("actor")
    assert (kept.round, kept.text, kept.actor.role) == (1, text, "handler")
    assert await _notices(number) > notices
    assert (await _kinds(appeal.id))[-2:] == ["submit_reply", "approve_reply"]
    assert text in (await resident.get("/track/appeal")).text
    assert number in (await head.get(page)).text


async def test_a_reply_returned_for_revision_is_an_event_and_the_handler_replies_again(
        app, database, new_client, review_on):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    handler, head = await _as(new_client, Role.HANDLER, OWN), await _as(new_client, Role.HEAD,
                                                                          OWN)
    await post_form(handler, f"{page}/reply", {"reply": "已经处理了，请知悉。谢谢。"}, page)
    refused = await post_form(head, f"{page}/revise-reply", {"note": ""}, page)
    assert refused.status_code == 400 and "退回修改须写明修改意见" in refused.text
    note = "请写明维修完成的时间和责任单位。"
    returned = await post_form(head, f"{page}/revise-reply", {"note": note}, page)
    assert returned.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "accepted"
    event = await AppealEvent.filter(appeal_id=appeal.id).order_by("-id").first()
    assert (event.kind, event.note, event.public) == ("revise_reply", note, False)
    assert note in (await handler.get(page)).text  # on the trail the handler reads

    better = "经核查，物业公司已于本周五前修复电梯，由物业公司负责后续维护。"
    await post_form(handler, f"{page}/reply", {"reply": better}, page)
    await post_form(head, f"{page}/approve-reply", {}, page)
    appeal = await Appeal.get(id=appeal.id)
    assert (appeal.status, appeal.reply_text) == ("replied", better)
    assert await AppealReply.filter(appeal_id=appeal.id).count() == 1
    assert (await _kinds(appeal.id))[-4:] == ["submit_reply", "revise_reply", "submit_reply",
                                              "approve_reply"]


async def test_the_head_is_mailed_each_reply_to_review_and_the_handler_each_return(
        app, database, new_client, review_on):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    writer = await factories.make_staff(Role.HANDLER, OWN,
                                        email=f"{unique('writer')}@example.cn")
    chief = await factories.make_staff(Role.HEAD, OWN, email=f"{unique('chief')}@example.cn")
    handler, head = new_client(), new_client()
    await login(handler, writer.username)
    await login(head, chief.username)

    def mails(to: str, kind: str):
        return OutboxMessage.filter(to_address=to, kind=kind, text_body__contains=made.number)

    await post_form(handler, f"{page}/reply", {"reply": "已经处理了，请知悉。"}, page)
    asked = await mails(chief.email, "review_requested").get()
    assert made.number in asked.subject and "等待您审核" in asked.text_body
    assert f"/staff/appeals/{made.number}" in asked.text_body
    assert not await mails(writer.email, "review_requested").exists()  # not to the writer
    note = "请写明维修完成的时间，并电话 13812345678 联系物业核实。"
    await post_form(head, f"{page}/revise-reply", {"note": note}, page)
    back = await mails(writer.email, "review_returned").get()
    assert "退回修改" in back.subject and "请写明维修完成的时间" in back.text_body
    assert "13812345678" not in back.text_body + back.html_body  # staff mails are masked
    await post_form(handler, f"{page}/reply", {"reply": "物业公司已于本周五修复电梯。"}, page)
    assert await mails(chief.email, "review_requested").count() == 2  # each submission
    await post_form(head, f"{page}/approve-reply", {}, page)
    assert (await Appeal.get(id=made.appeal.id)).status == "replied"
    assert await mails(writer.email, "review_returned").count() == 1


async def test_a_heads_own_reply_is_not_reviewed_and_a_head_of_another_department_sees_nothing(
        app, database, new_client, review_on):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    head = await _as(new_client, Role.HEAD, OWN)
    await post_form(head, f"{page}/reply", {"reply": "经核查，已责令物业公司修复电梯。"}, page)
    assert (await Appeal.get(id=made.appeal.id)).status == "replied"

    waiting = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{waiting.number}"
    await post_form(await _as(new_client, Role.HANDLER, OWN), f"{page}/reply",
                    {"reply": "经核查，已责令物业公司修复电梯。"}, page)
    stranger = await _as(new_client, Role.HEAD, OTHER)
    refused = await post_form(stranger, f"{page}/approve-reply", {}, "/staff/queue")
    assert refused.status_code == 404
    assert (await Appeal.get(id=waiting.appeal.id)).status == "review"


async def test_with_review_off_a_handlers_reply_goes_straight_out(app, database, new_client):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    handler = await _as(new_client, Role.HANDLER, OWN)
    await post_form(handler, f"{page}/reply", {"reply": "经核查，已责令物业公司修复电梯。"}, page)
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "replied"
    assert "submit_reply" not in await _kinds(appeal.id)


async def test_an_administrator_turns_review_on_and_off_on_the_departments_page(
        app, database, new_client):
    admin = await _as(new_client, Role.ADMIN)
    page = "/admin/departments?region=990100"
    since, rules = await _last_audit(), app.state.rules
    versions = set(await RulesVersion.all().values_list("id", flat=True))
    try:
        refused = await post_form(admin, f"/admin/departments/{OWN}/review", {"review": "x"},
                                  page)
        assert refused.status_code == 400 and "请选择是否开启答复审核。" in refused.text
        on = await post_form(admin, f"/admin/departments/{OWN}/review", {"review": "on"}, page)
        assert on.status_code == 303
        assert app.state.rules.departments[OWN].review
        assert "关闭答复审核" in (await admin.get(page)).text
        made = await make_appeal("accepted", OWN, rules=app.state.rules)
        reply = f"/staff/appeals/{made.number}/reply"
        await post_form(await _as(new_client, Role.HANDLER, OWN), reply,
                        {"reply": "经核查，已责令物业公司修复电梯。"}, f"/staff/appeals/{made.number}")
        assert (await Appeal.get(id=made.appeal.id)).status == "review"
        off = await post_form(admin, f"/admin/departments/{OWN}/review", {"review": "off"}, page)
        assert off.status_code == 303
        assert not app.state.rules.departments[OWN].review
    finally:
        # The suite shares one database, whose tests read the rules from files (the
        # reference-data tests have a database of their own): leave no version behind.
        await RulesVersion.exclude(id__in=versions).delete()
        app.state.rules = rules
    entries = await _audited("department_review", since)
    assert [(e.details["before"]["答复审核"], e.details["after"]["答复审核"]) for e in entries] \
        == [("不审核", "须负责人审核"), ("须负责人审核", "不审核")]


async def test_the_head_finds_the_replies_waiting_in_the_queue(app, database, new_client,
                                                               review_on):
    made = await make_appeal("accepted", OWN, rules=app.state.rules)
    page = f"/staff/appeals/{made.number}"
    await post_form(await _as(new_client, Role.HANDLER, OWN), f"{page}/reply",
                    {"reply": "经核查，已责令物业公司修复电梯。"}, page)
    head = await _as(new_client, Role.HEAD, OWN)
    assert 'href="/staff/queue?status=review"' in (await head.get("/staff/queue")).text
    waiting = await head.get("/staff/queue", params={"status": "review"})
    assert waiting.status_code == 200
    assert made.number in waiting.text and "答复待审核" in waiting.text
