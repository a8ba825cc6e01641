"""还利于民 over HTTP: recorded with the reply (atomically: a bad amount sends no reply) or
later on a replied appeal, verified or rejected once by an inspector on /staff/benefits,
counted on /public/benefits and in the monthly report only when verified.

Totals are checked in years and months of their own (entries moved back to 2010 and 2011),
which no other test uses, so the figures are exact on the shared database."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime

import openpyxl

from app.domain.types import Role
from app.models import Appeal, AppealEvent, AppealReply, Benefit
from app.services import benefits
from app.services.workflow import Actor
from tests.conftest import login, make_staff, post_form, unique
from tests.factories import make_appeal
from tests.factories import make_staff as make_account

OWN = "990100-zhujian"
REPLY = "经核查，物业公司已退还多收的停车费，并书面致歉。"


async def _handler(new_client):
    client = new_client()
    account = await make_account(Role.HANDLER, OWN)
    await login(client, account.username)
    return client, account


async def _inspector(new_client):
    client = new_client()
    await login(client, await make_staff(Role.INSPECTOR))
    return client


async def _appeal(app, status: str, account) -> Appeal:
    made = await make_appeal(status, OWN, rules=app.state.rules, by=Actor.of(account),
                             title=unique("还利于民"))
    return await Appeal.get(id=made.appeal.id)


def _page(appeal: Appeal) -> str:
    return f"/staff/appeals/{appeal.tracking_number}"


async def _kinds(appeal: Appeal) -> list[str]:
    return list(await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
                .values_list("kind", flat=True))


async def test_a_reply_records_its_entry_with_it(app, database, new_client):
    client, account = await _handler(new_client)
    appeal = await _appeal(app, "accepted", account)
    response = await post_form(client, f"{_page(appeal)}/reply", {
        "reply": REPLY, "benefit_kind": "refund", "benefit_amount": "1234.56",
        "benefit_people": "2", "benefit_evidence": "退费转账凭证 ZZ-778"}, _page(appeal))
    assert response.status_code == 303, response.text
    fresh = await Appeal.get(id=appeal.id)
    assert fresh.status == "replied"
    entry = await Benefit.get(appeal_id=appeal.id)
    assert (entry.kind, entry.amount_fen, entry.people, entry.status) == \
        ("refund", 123456, 2, "pending")
    assert (await _kinds(appeal))[-2:] == ["reply", "benefit_record"]
    page = await client.get(_page(appeal))
    assert "已答复；已登记还利于民，待核实" in page.text
    assert "1,234.56" in page.text and "待核实" in page.text and "ZZ-778" in page.text


async def test_a_bad_amount_leaves_the_reply_unsent_with_what_was_typed(app, database,
                                                                         new_client):
    client, account = await _handler(new_client)
    appeal = await _appeal(app, "accepted", account)
    kinds = await _kinds(appeal)
    response = await post_form(client, f"{_page(appeal)}/reply", {
        "reply": REPLY, "benefit_kind": "refund", "benefit_amount": "12.345",
        "benefit_people": "0", "benefit_evidence": "凭证号 PZ-1"}, _page(appeal))
    assert response.status_code == 400
    text = response.text
    assert "金额最多保留两位小数（分）。" in text and "受益人数须为 1 至" in text
    assert re.search(r'name="benefit_amount"[^>]*value="12.345"', text)
    assert REPLY in text and "凭证号 PZ-1" in text
    assert 'id="reply-benefit" open' in text
    fresh = await Appeal.get(id=appeal.id)
    assert fresh.status == "accepted" and not fresh.reply_text
    assert await AppealReply.filter(appeal_id=appeal.id).count() == 0
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0
    assert await _kinds(appeal) == kinds


async def test_a_reply_without_an_entry_records_none(app, database, new_client):
    client, account = await _handler(new_client)
    appeal = await _appeal(app, "accepted", account)
    response = await post_form(client, f"{_page(appeal)}/reply", {"reply": REPLY},
                               _page(appeal))
    assert response.status_code == 303
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0


async def test_an_entry_added_later_on_a_replied_appeal(app, database, new_client):
    client, account = await _handler(new_client)
    appeal = await _appeal(app, "replied", account)
    page = await client.get(_page(appeal))
    assert 'id="benefit-form"' in page.text
    refused = await post_form(client, f"{_page(appeal)}/benefits", {
        "kind": "", "amount": "1,000", "people": "3", "evidence": ""}, _page(appeal))
    assert refused.status_code == 400
    assert "请选择还利类型" in refused.text and "不要加逗号" in refused.text
    assert "请说明核实依据" in refused.text
    assert re.search(r'name="amount"[^>]*value="1,000"', refused.text)
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0
    done = await post_form(client, f"{_page(appeal)}/benefits", {
        "kind": "compensation", "amount": "800", "people": "1",
        "evidence": "赔偿协议 PC-9"}, _page(appeal))
    assert done.status_code == 303
    assert (await Benefit.get(appeal_id=appeal.id)).amount_fen == 80000
    # Not before the reply: the form is not offered, and a post is refused.
    open_appeal = await _appeal(app, "accepted", account)
    assert 'id="benefit-form"' not in (await client.get(_page(open_appeal))).text
    early = await post_form(client, f"{_page(open_appeal)}/benefits", {
        "kind": "refund", "amount": "10", "people": "1", "evidence": "凭证"}, _page(open_appeal))
    assert early.status_code == 409
    assert "诉求答复后才能登记还利于民" in early.text
    assert await Benefit.filter(appeal_id=open_appeal.id).count() == 0


async def test_inspector_verifies_or_rejects_once(app, database, new_client):
    _, account = await _handler(new_client)
    inspector = await _inspector(new_client)
    appeal = await _appeal(app, "replied", account)
    actor = Actor.of(account)
    first = await benefits.record(appeal, actor, benefits.check(benefits.Entry(
        kind="back_pay", amount="5000", people="4", evidence="工资补发记录 GZ-3")))
    second = await benefits.record(appeal, actor, benefits.check(benefits.Entry(
        kind="relief", amount="300", people="1", evidence="减免通知 JM-5")))
    text = await _find(inspector, "status=pending", f'id="benefit-{first.id}"')
    assert appeal.tracking_number in text
    assert "5,000.00" in text and "工资补发记录 GZ-3" in text

    verified = await post_form(inspector, "/staff/benefits/decision",
                               {"entry": str(first.id), "decision": "verify", "note": "属实"},
                               "/staff/benefits")
    assert verified.status_code == 303
    assert (await Benefit.get(id=first.id)).status == "verified"
    again = await post_form(inspector, "/staff/benefits/decision",
                            {"entry": str(first.id), "decision": "reject", "note": "重复"},
                            "/staff/benefits")
    assert again.status_code == 409
    assert benefits.DECIDED in again.text
    assert (await Benefit.get(id=first.id)).status == "verified"

    unexplained = await post_form(inspector, "/staff/benefits/decision",
                                  {"entry": str(second.id), "decision": "reject", "note": ""},
                                  "/staff/benefits")
    assert unexplained.status_code == 400
    assert "驳回须说明理由。" in unexplained.text
    assert (await Benefit.get(id=second.id)).status == "pending"
    rejected = await post_form(inspector, "/staff/benefits/decision",
                               {"entry": str(second.id), "decision": "reject",
                                "note": "减免未实际发生"}, "/staff/benefits")
    assert rejected.status_code == 303
    assert (await Benefit.get(id=second.id)).status == "rejected"
    assert (await _kinds(appeal))[-2:] == ["benefit_verify", "benefit_reject"]
    shown = await _find(inspector, "status=rejected", f'id="benefit-{second.id}"')
    assert "减免未实际发生" in shown.split(f'id="benefit-{second.id}"')[1]
    assert f'id="benefit-{second.id}"' not in await _find(inspector, "status=pending", "")
    # The department sees its entries' status on the appeal's page, and no decision form.
    client, _ = await _handler(new_client)
    page = await client.get(_page(appeal))
    assert "已核实" in page.text and "已驳回" in page.text
    assert "/staff/benefits/decision" not in page.text


async def _find(client, query: str, marker: str) -> str:
    """The page of /staff/benefits?query holding `marker` (every page, if none does)."""
    response = await client.get(f"/staff/benefits?{query}")
    assert response.status_code == 200
    texts = [response.text]
    while not (marker and marker in texts[-1]) and (
            found := re.search(r'<a href="\?([^"]*)" rel="next">', texts[-1])):
        texts.append((await client.get("/staff/benefits?" + html.unescape(found.group(1)))).text)
    if marker:
        assert marker in texts[-1]
        return texts[-1]
    return "\n".join(texts)


async def _moved(appeal: Appeal, actor: Actor, amount: str, kind: str, at: datetime) -> Benefit:
    entry = await benefits.record(appeal, actor, benefits.check(benefits.Entry(
        kind=kind, amount=amount, people="2", evidence=f"私密凭证 {unique('证')}")))
    await Benefit.filter(id=entry.id).update(recorded_at=at)
    return await Benefit.get(id=entry.id)


async def test_the_public_page_counts_verified_entries_only(app, database, new_client):
    _, account = await _handler(new_client)
    inspector = Actor.of(await make_account(Role.INSPECTOR))
    actor = Actor.of(account)
    at = datetime(2011, 6, 1, 4, tzinfo=UTC)
    appeal = await _appeal(app, "replied", account)
    good = await _moved(appeal, actor, "1234567.89", "refund", at)
    also = await _moved(appeal, actor, "0.11", "relief", at)
    bad = await _moved(appeal, actor, "999999", "compensation", at)
    waiting = await _moved(appeal, actor, "777777", "back_pay", at)
    await benefits.verify(good, inspector)
    await benefits.verify(also, inspector)
    await benefits.reject(bad, inspector, "不属实")

    page = await new_client().get("/public/benefits?year=2011")
    assert page.status_code == 200
    total = re.search(r'id="benefit-total">.*?<strong>([^<]+)</strong> · (\d+) 件', page.text)
    assert total.groups() == ("1,234,568.00 元", "2")
    assert "只计入经纪检/效能监察核实的记录" in page.text
    assert "999,999" not in page.text and "777,777" not in page.text
    for secret in (good.evidence, bad.evidence, waiting.evidence, appeal.tracking_number,
                   appeal.title, account.username):
        assert secret not in page.text
    # All years: the same figure on 2011's row, and the grand total the service sums.
    everything = await new_client().get("/public/benefits")
    assert re.search(r'2011 年</a></td><td[^>]*>1,234,568.00<', everything.text)
    grand = (await benefits.grand_total()).yuan
    assert f"<strong>{grand} 元</strong>" in everything.text
    bad_year = await new_client().get("/public/benefits?year=20x1")
    assert bad_year.status_code == 200 and "年份无效" in bad_year.text
    # /public carries the same verified grand total, beside its published replies.
    replies = await new_client().get("/public")
    banner = re.search(r'id="benefit-banner">.*?累计已核实 <strong>([^<]+) 元</strong>',
                       replies.text)
    assert banner.group(1) == grand
    assert "999,999" not in replies.text and "777,777" not in replies.text


async def test_the_monthly_report_has_the_months_verified_entries(app, database, new_client):
    _, account = await _handler(new_client)
    inspector = Actor.of(await make_account(Role.INSPECTOR))
    actor = Actor.of(account)
    at = datetime(2010, 5, 10, 4, tzinfo=UTC)
    appeal = await _appeal(app, "replied", account)
    await benefits.verify(await _moved(appeal, actor, "100.10", "refund", at), inspector)
    await benefits.verify(await _moved(appeal, actor, "50", "back_pay", at), inspector)
    await benefits.reject(await _moved(appeal, actor, "900", "refund", at), inspector, "不实")
    await _moved(appeal, actor, "70", "refund", at)
    await _moved(appeal, actor, "60", "refund", datetime(2010, 6, 1, 4, tzinfo=UTC))

    client = await _inspector(new_client)
    page = await client.get("/staff/report?month=2010-05")
    assert page.status_code == 200
    section = page.text.split('id="report-benefits"')[1]
    assert re.search(r"已核实 <strong>150.10</strong> 元 · 2 件", section)
    assert 'id="report-benefit-pending">1<' in section and "已驳回 1 件" in section
    department = (await appeal.department).name
    assert re.search(rf"{department}</td><td[^>]*>150.10<", section)
    assert re.search(r"退还</td><td[^>]*>100.10<", section)
    assert re.search(r"补发</td><td[^>]*>50.00<", section)

    book = await client.get("/staff/report?month=2010-05&format=xlsx")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)["还利于民"]
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert ("部门", department, 150.1, 2, 4) in rows
    assert ("合计", "合计", 150.1, 2, 4) in rows
    assert ("待核实", "件数", "—", 1, "—") in rows
