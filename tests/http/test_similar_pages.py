"""相似诉求 on the staff appeal page and the hotline desk's receipt (issue 15): each viewer
sees only the similar appeals they may see; a report is never listed to the unit it names,
and its writer is never linked to another appeal for the department handling it."""

from __future__ import annotations

import html
import re

from app.domain import similarity
from app.domain.types import Role
from app.models import Appeal, AppealBand, AppealSketch
from app.services import similar
from app.web import presenters
from tests.conftest import GOOD_APPEAL, login, make_staff, post_form, unique
from tests.factories import OWN, make_appeal
from tests.integration.test_similar import POLICY, _edit, _halfway, _phone, _text, _title

OTHER = "990100-jiaoyu"
JIWEI = "990100-jiwei"
ROW = re.compile(r'<tr id="similar-([^"]+)">(.*?)</tr>', re.S)


async def _viewer(new_client, role: Role, department: str | None = None):
    client = new_client()
    await login(client, await make_staff(role, department))
    return client


async def _listed(client, number: str) -> dict[str, str]:
    """The 相似诉求 rows on an appeal's page: tracking number → the row's text."""
    page = await client.get(f"/staff/appeals/{number}")
    assert page.status_code == 200, page.text
    assert "<h2>相似诉求</h2>" in page.text
    return {found: html.unescape(row) for found, row in ROW.findall(page.text)}


async def _made(status: str, department: str | None, body: str, **fields):
    made = await make_appeal(status, department, title=_title(body), body=body,
                             contact_phone=fields.pop("contact_phone", _phone()), **fields)
    return made.appeal


async def _group():
    body = _text(unique("page"))
    return body, {
        "own": await _made("assigned", OWN, body),
        "page": await _made("accepted", OWN, _edit(body, "p")),
        "other": await _made("assigned", OTHER, _edit(body, "o")),
        "report": await _made("assigned", None, _edit(body, "r"), type="report",
                              named_unit=OWN),
    }


async def test_the_section_lists_what_each_viewer_may_see(database, new_client):
    _, made = await _group()
    page, number = made["page"], made["page"].tracking_number
    assert (await Appeal.get(id=made["report"].id).prefetch_related("department")) \
        .department.code == JIWEI
    everyone = {made[k].tracking_number for k in ("own", "other", "report")}

    for role in (Role.DISPATCHER, Role.INSPECTOR):
        rows = await _listed(await _viewer(new_client, role), number)
        assert set(rows) == everyone, role
    own = await _listed(await _viewer(new_client, Role.HANDLER, OWN), number)
    assert set(own) == {made["own"].tracking_number}  # not another's, not the report on it
    refused = await (await _viewer(new_client, Role.HANDLER, OTHER)).get(
        f"/staff/appeals/{number}")
    assert refused.status_code == 404 and page.title not in refused.text

    # Each row: the number links to the appeal; title, status, department, date, similarity.
    match = next(m for m in await similar.find(page, POLICY)
                 if m.appeal_id == made["own"].id)
    row = own[made["own"].tracking_number]
    assert f'href="/staff/appeals/{made["own"].tracking_number}"' in row
    assert made["own"].title in row and "已交办" in row and "住房和城乡建设局" in row
    assert f"相似度 {round(match.similarity * 100)}%" in row
    assert presenters.local_date(match.submitted_at) in row
    assert "同一来信人" not in row


async def test_a_report_is_not_listed_to_the_unit_it_names(database, new_client):
    _, made = await _group()
    handler = await _viewer(new_client, Role.HANDLER, OWN)
    for key in ("own", "page"):
        rows = await _listed(handler, made[key].tracking_number)
        assert made["report"].tracking_number not in rows
        assert made["own" if key == "page" else "page"].tracking_number in rows
    # The discipline body handling it sees the report, and on its page no one else's.
    jiwei = await _viewer(new_client, Role.HANDLER, JIWEI)
    assert await _listed(jiwei, made["report"].tracking_number) == {}


async def test_the_same_writer_is_marked_but_never_for_a_report_s_handlers(database,
                                                                          new_client):
    body = _text(unique("writer"))
    phone = _phone()
    report = await _made("assigned", None, body, type="report", named_unit=OWN,
                         contact_phone=phone)
    earlier = await _made("assigned", JIWEI, _halfway(body), contact_phone=phone)
    dispatcher = await _listed(await _viewer(new_client, Role.DISPATCHER),
                               report.tracking_number)
    assert "同一来信人" in dispatcher[earlier.tracking_number]
    # The discipline body sees both appeals, but must not learn who wrote the report.
    jiwei = await _viewer(new_client, Role.HANDLER, JIWEI)
    assert await _listed(jiwei, report.tracking_number) == {}
    assert await _listed(jiwei, earlier.tracking_number) == {}
    page = await jiwei.get(f"/staff/appeals/{earlier.tracking_number}")
    assert "同一来信人" not in page.text


async def test_an_appeal_without_similar_ones_says_so(database, new_client):
    alone = await _made("assigned", OWN, _text(unique("alone")))
    page = await (await _viewer(new_client, Role.DISPATCHER)).get(
        f"/staff/appeals/{alone.tracking_number}")
    assert 'id="similar-none"' in page.text and "未发现与本件相似的诉求" in page.text
    assert 'id="similar-list"' not in page.text


async def test_titles_are_escaped(database, new_client):
    body = _text(unique("escape"))
    planted = await _made("assigned", OWN, body)
    await Appeal.filter(id=planted.id).update(title="<script>alert(1)</script>相似")
    other = await _made("assigned", OWN, _edit(body, "e"))
    page = await (await _viewer(new_client, Role.DISPATCHER)).get(
        f"/staff/appeals/{other.tracking_number}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;相似" in page.text
    assert "<script>alert(1)" not in page.text


async def test_the_desk_receipt_shows_the_similar_appeals_of_the_call(database, new_client):
    body = _text(unique("desk"))
    phone = _phone()
    planted = await _made("assigned", OWN, body, contact_phone=phone)
    desk = await _viewer(new_client, Role.DISPATCHER)
    call = {**GOOD_APPEAL, "title": _title(body), "body": _edit(body, "call"),
            "contact_phone": phone, "department": "", "named_unit_name": ""}
    receipt = await post_form(desk, "/staff/intake", call, "/staff/intake")
    assert receipt.status_code == 200, receipt.text
    assert "请向来电人宣读" in receipt.text and "<h2>相似诉求</h2>" in receipt.text
    rows = dict(ROW.findall(receipt.text))
    assert planted.tracking_number in rows and "同一来信人" in rows[planted.tracking_number]


async def test_a_submission_with_attachments_is_indexed_and_found_too(database, client,
                                                                      new_client):
    from tests.http.test_attachments import png, post_files

    body = _text(unique("files"))
    planted = await _made("assigned", OWN, body)
    title = unique("附照片")
    response = await post_files(client, "/submit", {**GOOD_APPEAL, "title": title,
                                                    "body": _edit(body, "f")},
                                [("现场.png", png(), "image/png")])
    assert response.status_code == 200, response.text
    appeal = await Appeal.get(title=title)
    assert await AppealSketch.filter(appeal_id=appeal.id).exists()
    assert await AppealBand.filter(appeal_id=appeal.id).count() == similarity.BANDS
    rows = await _listed(await _viewer(new_client, Role.DISPATCHER), appeal.tracking_number)
    assert planted.tracking_number in rows


# --- 疑似重复 on the lists ---------------------------------------------------------------

def _row(page: str, number: str) -> str:
    found = re.search(r'<tr class="appeal-row[^"]*">((?:(?!</tr>).)*?'
                      + re.escape(f'href="/staff/appeals/{number}"') + r".*?)</tr>", page, re.S)
    assert found, number
    return found.group(1)


async def _searched(client, appeal: Appeal) -> str:
    page = await client.get("/staff/search", params={"q": appeal.contact_phone})
    assert page.status_code == 200, page.text
    return _row(page.text, appeal.tracking_number)


async def test_the_queues_mark_a_likely_duplicate_and_filter_by_it(database, new_client):
    body = _text(unique("queue"))
    first = await _made("triage", None, body)
    dup = await _made("triage", None, _edit(body, "q"))
    alone = await _made("triage", None, _text(unique("alone")))
    other_body = _text(unique("queue-own"))
    handled = await _made("assigned", OWN, other_body)
    handled_dup = await _made("assigned", OWN, _edit(other_body, "h"))
    await similar.mark_pending(POLICY, only=[a.id for a in (first, dup, alone, handled,
                                                            handled_dup)])
    score = round((await Appeal.get(id=dup.id)).similar_score * 100)
    assert score >= POLICY.min_similarity * 100

    # Every row as it reads: each found by its resident's phone in the staff search.
    inspector = await _viewer(new_client, Role.INSPECTOR)
    rows = {a.id: await _searched(inspector, a) for a in (first, dup, alone, handled,
                                                          handled_dup)}
    mark = f'<a class="mark mark-similar" href="/staff/appeals/{dup.tracking_number}#similar"'
    assert mark in rows[dup.id] and f"疑似重复 {score}%" in rows[dup.id]
    assert "疑似重复" in rows[handled_dup.id]
    for other in (first, alone, handled):
        assert "mark-similar" not in rows[other.id]

    # The queues narrowed to them (a full queue's first page may not reach these rows).
    dispatcher = await _viewer(new_client, Role.DISPATCHER)
    only = (await dispatcher.get("/staff/triage?similar=1")).text
    assert mark in _row(only, dup.tracking_number)
    assert first.tracking_number not in only and alone.tracking_number not in only
    assert 'name="similar" value="1" checked' in only
    handler = await _viewer(new_client, Role.HANDLER, OWN)
    narrowed = (await handler.get("/staff/queue?similar=1")).text
    assert "疑似重复" in _row(narrowed, handled_dup.tracking_number)
    assert handled.tracking_number not in narrowed
    assert 'name="similar" value="1" checked' in narrowed


async def test_a_merged_appeal_is_marked_as_such_not_as_a_duplicate(database, new_client):
    from app.services import merging
    from tests.factories import dispatcher

    body = _text(unique("merged"))
    main = await _made("triage", None, body)
    member = await _made("triage", None, _edit(body, "m"))
    await similar.mark_pending(POLICY, only=[main.id, member.id])
    assert (await Appeal.get(id=member.id)).similar_to_id == main.id
    await merging.merge(main, [await Appeal.get(id=member.id)], await dispatcher())

    inspector = await _viewer(new_client, Role.INSPECTOR)
    row = await _searched(inspector, member)
    assert "已并单" in row and "疑似重复" not in row
    only = (await inspector.get("/staff/appeals?similar=1")).text
    assert member.tracking_number not in only
