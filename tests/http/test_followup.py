"""回访 (issue 11): which closed appeals wait for a call, recording a call, and "not solved"
reopening an appeal once (the second does not)."""

from __future__ import annotations

import copy
import dataclasses
import html
import re
from datetime import timedelta

from tortoise import connections

from app.domain.sla_policy import FollowupPolicy
from app.domain.types import Role
from app.models import Appeal, AppealEvent, OutboxMessage
from app.schemas import appeals, staff
from app.schemas.base import parse
from app.services import clocks, followup, handling
from app.services.detectors import Sql
from app.services.workflow import now_utc
from tests import factories
from tests.conftest import login, make_staff, post_form, unique
from tests.factories import OWN, SECOND_REPLY, handler_of, make_appeal

NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next">')
SOLVED = {"reached": "yes", "solved": "solved", "satisfaction": "satisfied"}
UNSOLVED = {"reached": "yes", "solved": "unsolved", "satisfaction": "unsatisfied",
            "note": "电梯仍然经常停运"}


def _with(rules, **policy):
    """The rules with another 回访 policy."""
    policies = copy.copy(rules.policies)
    policies.followup = dataclasses.replace(rules.policies.followup, **policy)
    return dataclasses.replace(rules, policies=policies)


async def _due_ids(rules, now=None, size: int = 2) -> set[int]:
    """Every call due, followed page by page (small pages, so the cursor is used)."""
    now, ids, after = now or now_utc(), set(), None
    while True:
        page = await followup.due(rules, now, after, size)
        ids |= {a.id for a in page.appeals}
        if page.next_after is None:
            return ids
        after = page.next_after


async def _dispatcher(new_client):
    client = new_client()
    await login(client, await make_staff(Role.DISPATCHER))
    return client


async def _list(client) -> str:
    response = await client.get("/staff/followup")
    assert response.status_code == 200
    texts = [response.text]
    while (found := NEXT_PAGE.search(response.text)) and len(texts) < 200:
        response = await client.get("/staff/followup" + html.unescape(found.group(1)))
        texts.append(response.text)
    return "\n".join(texts)


async def test_every_complaint_and_report_and_a_stable_share_of_the_rest_wait_for_a_call(
        app, database):
    rules = app.state.rules
    complaint = (await make_appeal("closed", OWN, type="complaint")).appeal
    report = (await make_appeal("closed", "990100-jiwei", type="report",
                                named_unit="990100-jiaoyu")).appeal
    others = [(await make_appeal("closed", OWN, type="consultation")).appeal
              for _ in range(6)]
    silent = (await make_appeal("closed", OWN, type="complaint", contact_phone="",
                                contact_email="someone@example.cn")).appeal
    still_open = (await make_appeal("replied", OWN, type="complaint")).appeal

    nobody_else = await _due_ids(_with(rules, share=0.0))
    assert {complaint.id, report.id} <= nobody_else
    assert not {a.id for a in others} & nobody_else
    assert silent.id not in nobody_else and still_open.id not in nobody_else  # no phone; open
    assert {a.id for a in others} <= await _due_ids(_with(rules, share=1.0))

    # A share: chosen by id, so the same appeals every time, and what the page says agrees.
    half = _with(rules, share=0.5)
    chosen = {a.id for a in others} & await _due_ids(half)
    assert chosen == {a.id for a in others if a.id % 1000 < 500}
    assert chosen == {a.id for a in others} & await _due_ids(half)
    policy = half.policies.followup
    assert all(followup.is_selected(a, policy) == (a.id in chosen) for a in others)
    # Closed longer ago than the window: no longer called.
    later = now_utc() + timedelta(days=rules.policies.followup.window_days + 1)
    assert complaint.id not in await _due_ids(rules, later)


async def test_not_solved_reopens_the_appeal_once_and_the_second_does_not(
        app, database, new_client):
    rules = app.state.rules
    made = await make_appeal("closed", OWN, type="complaint", title=unique("回访重办"))
    desk = await _dispatcher(new_client)
    assert made.number in await _list(desk)
    page = f"/staff/appeals/{made.number}/followup"
    call = await desk.get(page)
    assert call.status_code == 200 and "138****5678" in call.text
    assert "13812345678" not in call.text

    handler = await factories.make_staff(Role.HANDLER, OWN, email=f"{unique('h')}@example.cn")

    def told():
        return OutboxMessage.filter(to_address=handler.email, kind="followup_reopened",
                                    text_body__contains=made.number)

    first = await post_form(desk, page, UNSOLVED, page)
    assert first.status_code == 303 and first.headers["location"] == "/staff/followup"
    mail = await told().get()  # the department hears that the appeal is its own again
    assert "回访未解决" in mail.subject and "电梯仍然经常停运" in mail.text_body
    assert "13812345678" not in mail.text_body + mail.html_body
    listed = await _list(desk)
    assert "已重新交承办部门办理" in listed  # the flash
    assert made.number not in listed
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "accepted" and appeal.followup_reopened
    assert appeal.followup_result == "unsolved" and appeal.closed_at is None
    assert appeal.window_start > made.appeal.submitted_at  # a fresh window for the redo
    event = await AppealEvent.get(appeal_id=appeal.id, kind="followup_unsolved")
    assert (event.from_status, event.to_status) == ("closed", "accepted")
    assert "电梯仍然经常停运" in event.note

    # The department answers again; the resident is satisfied: closed, and due for a call.
    await handling.reply(appeal, await handler_of(OWN),
                         parse(staff.Reply, {"reply": SECOND_REPLY}), rules.calendar)
    await clocks.rate(rules, appeal, parse(appeals.Rating, {"rating": "satisfied"}))
    assert made.number in await _list(desk)
    form = await desk.get(page)
    assert "不再重办" in form.text
    second = await post_form(desk, page, UNSOLVED, page)
    assert second.status_code == 303
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "closed" and appeal.followup_result == "unsolved"
    kinds = await AppealEvent.filter(appeal_id=appeal.id, kind__startswith="followup") \
        .order_by("id").values_list("kind", flat=True)
    assert kinds == ["followup_unsolved", "followup"]
    assert await told().count() == 1  # the second "not solved" reopens nothing
    assert made.number not in await _list(desk)
    again = await post_form(desk, page, SOLVED, page)  # nothing left to record
    assert again.status_code == 409 and "本次办结已回访" in again.text


async def test_unanswered_calls_are_counted_and_the_last_one_settles_it(
        app, database, new_client):
    made = await make_appeal("closed", OWN, type="complaint", title=unique("未接通"))
    desk = await _dispatcher(new_client)
    page = f"/staff/appeals/{made.number}/followup"
    attempts = app.state.rules.policies.followup.attempts
    for attempt in range(1, attempts + 1):
        response = await post_form(desk, page, {"reached": "no"}, page)
        assert response.status_code == 303
        appeal = await Appeal.get(id=made.appeal.id)
        assert appeal.followup_attempts == attempt and appeal.status == "closed"
        listed = await _list(desk)
        assert (made.number in listed) == (attempt < attempts)
    assert appeal.followup_result == followup.UNREACHED and appeal.followup_at is not None


async def test_a_refused_call_record_keeps_the_form_and_an_open_appeal_has_none(
        database, new_client):
    made = await make_appeal("closed", OWN, type="complaint", title=unique("回访漏填"))
    desk = await _dispatcher(new_client)
    page = f"/staff/appeals/{made.number}/followup"
    refused = await post_form(desk, page, {"reached": "yes", "note": "已联系上"}, page)
    assert refused.status_code == 400
    assert "请选择问题是否解决" in refused.text and "请选择群众的满意度" in refused.text
    assert 'value="yes" checked' in refused.text and ">已联系上</textarea>" in refused.text
    assert (await Appeal.get(id=made.appeal.id)).followup_at is None

    open_one = await make_appeal("accepted", OWN, title=unique("未办结"))
    page = f"/staff/appeals/{open_one.number}/followup"
    shown = await desk.get(page)
    assert "未办结，不在回访范围" in shown.text and 'id="followup-form"' not in shown.text
    posted = await post_form(desk, page, SOLVED, page)
    assert posted.status_code == 409 and "未办结" in posted.text


async def test_the_followup_figures_are_sql_conditions_on_the_appeal_row(
        app, database, new_client):
    made = await make_appeal("closed", OWN, type="complaint", title=unique("回访统计"))
    desk = await _dispatcher(new_client)
    page = f"/staff/appeals/{made.number}/followup"
    assert (await post_form(desk, page, SOLVED, page)).status_code == 303
    db = connections.get("default")
    figures = followup.figures(FollowupPolicy())
    for key in ("followup_selected", "followed_up", "followup_reached", "followup_solved",
                "followup_satisfied"):
        sql = Sql()
        condition = figures[key][1](sql, now_utc())
        rows = await db.execute_query_dict(
            f"SELECT a.id FROM appeal a WHERE a.id = {sql.param(made.appeal.id)} "  # noqa: S608
            f"AND {condition}", sql.params)
        assert len(rows) == 1, key
    sql = Sql()
    unsolved = figures["followup_unsolved"][1](sql, now_utc())
    rows = await db.execute_query_dict(
        f"SELECT a.id FROM appeal a WHERE a.id = {sql.param(made.appeal.id)} "  # noqa: S608
        f"AND {unsolved}", sql.params)
    assert rows == []
