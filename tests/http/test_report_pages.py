"""/staff/report: a golden month (July 2013) whose figures are computed by hand — totals with
同比 / 环比, the late and overdue lists with their working days, 督办 outcomes, the categories
that grew — on the page and in the XLSX; formulas neutralised, contacts masked, the download
audited; a wrong month said in Chinese."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from app.domain.clock import WorkingCalendar, end_of_day, to_local, working_days_between
from app.domain.types import Role
from app.models import Appeal, AppealReply, AuditEntry, Category, SupervisionOrder
from app.services import report, stats
from tests.conftest import login, make_staff
from tests.factories import default_rules, make_appeal, submit

OWN, OTHER = "990100-zhujian", "990100-jiaoyu"
MONTH = date(2013, 7, 1)
AT = datetime(2013, 7, 2, 2, tzinfo=UTC)  # Tuesday 10:00 in Beijing
NOW = datetime(2013, 8, 1, 2, tzinfo=UTC)  # Thursday 1 August, 10:00
FAR = datetime(2099, 1, 1, tzinfo=UTC)
PHONE, MAIL = "13912345678", "leak.person@example.com"
FORMULA = '=HYPERLINK("http://evil.example","点我")'
WICKED = f"{FORMULA} 联系{PHONE} {MAIL}"
FIGURE = re.compile(r'<a class="figure" href="([^"]+)">(\d+)</a>')
TOTAL = re.compile(r'id="stats-total">(\d+)<')
A, B, C, D = "城乡建设", "教育文体", "环境保护", "交通运输"


def local(day: int, hour: int = 10, month: int = 7) -> datetime:
    """A Beijing time in 2013 (July by default), in UTC."""
    return datetime(2013, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


def end(day: int) -> datetime:
    """A deadline: the end of that day of July 2013 in Beijing."""
    return end_of_day(date(2013, 7, day))


async def _category(name: str) -> int:
    return (await Category.get(name=name, level=1)).id


async def _appeal(status: str, code: str, *, due: datetime, reply: datetime | None = None,
                  first_due: datetime | None = None, category: str = A,
                  title: str | None = None) -> Appeal:
    """An appeal received at AT, due `due` now; its round-1 reply (if any) moved to `reply`,
    with the deadline then in force `first_due` (default `due`), as the reply service
    writes those facts."""
    appeal = (await make_appeal(status, code, at=AT)).appeal
    changes = {"assigned_at": AT, "ack_due_at": AT + timedelta(days=1), "reply_due_at": due,
               "category_id": await _category(category)}
    if title is not None:
        changes["title"] = title
    if reply is not None:
        await AppealReply.filter(appeal_id=appeal.id, round=1).update(at=reply)
        changes.update(first_reply_at=reply, first_reply_due_at=first_due or due,
                       first_reply_days=working_days_between(AT, reply, WorkingCalendar()))
    await Appeal.filter(id=appeal.id).update(**changes)
    return await Appeal.get(id=appeal.id)


async def _filler(at: datetime, kind: str, category: str, channel: str = "web",
                  **facts) -> Appeal:
    """An appeal received at `at` by `channel` ("": before channels were recorded),
    counted only (never due)."""
    appeal = await submit(at=at, type=kind)
    await Appeal.filter(id=appeal.id).update(reply_due_at=FAR, category_id=await _category(
        category), channel=channel, **facts)
    return appeal


async def _order(appeal: Appeal, issued: datetime, due: datetime, *,
                 answered: datetime | None = None, escalated: datetime | None = None) -> None:
    await SupervisionOrder.create(
        appeal_id=appeal.id, department_id=appeal.department_id,
        status="answered" if answered else "issued", reason="请加快办理。", days=3,
        issued_at=issued, due_at=due, answered_at=answered, escalated_at=escalated)


NUMBERS: dict[str, str] = {}


async def _golden() -> None:
    made = NUMBERS
    # Late: replied Mon 8th, due Fri 5th -> 1 working day; the title is a formula with a
    # phone number and a mail address in it.
    late1 = await _appeal("closed", OWN, due=end(5), reply=local(8), title=WICKED)
    late2 = await _appeal("replied", OWN, due=end(9), reply=local(16))  # Tue 9 -> Tue 16: 5
    late3 = await _appeal("closed", OTHER, due=end(3), reply=local(6), category=B)  # Sat: 2
    on_time = await _appeal("closed", OWN, due=end(10), reply=local(5))
    # Overdue now (1 August): unanswered since Thu 4th -> 20 working days.
    open1 = await _appeal("assigned", OWN, due=end(4))
    # Replied on time, redone, due again Fri 12th -> 14 working days overdue.
    redo = await _appeal("redo", OWN, due=end(12), reply=local(3), first_due=end(5))
    # Waiting for the resident: its clock stands, it is not overdue.
    await _appeal("awaiting_info", OWN, due=end(4))
    open2 = await _appeal("accepted", OTHER, due=end(29), category=B)  # Mon 29th -> 3
    open3 = await _appeal("accepted", OTHER, due=FAR, category=B)
    made.update(late1=late1.tracking_number, late2=late2.tracking_number,
                late3=late3.tracking_number, on_time=on_time.tracking_number,
                open1=open1.tracking_number, redo=redo.tracking_number,
                open2=open2.tracking_number, open3=open3.tracking_number)
    # 督办 of July (Beijing days): on time, late, escalated, open (issued 23:30 on the 31st);
    # one issued at 23:30 on 30 June is June's.
    await _order(open1, local(8), end(11), answered=local(10))
    await _order(late2, local(9), end(12), answered=local(15))
    await _order(open2, local(15), end(18), escalated=local(19))
    await _order(open3, local(31, 23), end_of_day(date(2013, 8, 5)))
    await _order(on_time, local(30, 23, month=6), end(3), answered=local(2))
    # Counted only. July: B +2 suggestions (quick channel); C 4 consultations (API; one at
    # 00:30 on 1 July); D 3 complaints (phone) and 2 help (web). One of A's is in a
    # second-level category (it counts for A). The nine above came by the web form.
    await Appeal.filter(id=on_time.id).update(category_id=(await Category.get(
        name="其他", parent__name=A)).id)
    for _ in range(2):
        await _filler(local(10), "suggestion", B, "quick")
    await _filler(local(1, 0, month=7) + timedelta(minutes=30), "consultation", C, "api")
    for _ in range(3):
        await _filler(local(20), "consultation", C, "api")
    for kind, channel in (("complaint", "phone"), ("complaint", "phone"),
                          ("complaint", "phone"), ("help", "web"), ("help", "web")):
        await _filler(local(22), kind, D, channel)
    # June: A 2 complaints (web, and one unrecorded answered late: not July's), D 3
    # complaints and 3 suggestions by phone.
    await _filler(local(5, month=6), "complaint", A)
    await _filler(local(6, month=6), "complaint", A, "", first_reply_at=local(20, month=6),
                  first_reply_due_at=local(10, month=6))
    for kind in ("complaint", "complaint", "complaint", "suggestion", "suggestion",
                 "suggestion"):
        await _filler(local(12, month=6), kind, D, "phone")
    # July 2012 (before channels were recorded): 2 complaints, 2 consultations.
    for kind in ("complaint", "complaint", "consultation", "consultation"):
        await _filler(datetime(2012, 7, 10, 2, tzinfo=UTC), kind, D, "")


@pytest.fixture(scope="module")
async def golden(database):
    await _golden()


# By hand, from the appeals above: (this month, June, July 2012) per type.
TOTALS = {"complaint": (12, 5, 2), "suggestion": (2, 3, 0), "consultation": (4, 0, 2),
          "help": (2, 0, 0), "report": (0, 0, 0), "evaluation": (0, 0, 0)}
CHANNELS = {"web": (11, 1, 0), "quick": (2, 0, 0), "api": (4, 0, 0), "phone": (3, 6, 0),
            "": (0, 1, 4)}  # "": not recorded
CHANGES = {"complaint": (7 / 5, 10 / 2), "suggestion": (-1 / 3, None),
           "consultation": (None, 1.0), "help": (None, None)}  # 环比, 同比
LATE = [("late3", OTHER, end(3), local(6), 2), ("late2", OWN, end(9), local(16), 5),
        ("late1", OWN, end(5), local(8), 1)]
OVERDUE = [("open2", OTHER, end(29), 3), ("open1", OWN, end(4), 20), ("redo", OWN, end(12), 14)]
ORDERS = {OWN: {"on_time": 1, "late": 1, "escalated": 0, "open": 0},
          OTHER: {"on_time": 0, "late": 0, "escalated": 1, "open": 1}}
GROWTH = [(B, 5, 0, 5, None), (A, 6, 2, 4, 2.0)]  # C has 4 (too few), D fell (5 from 6)


async def _month() -> report.Report:
    return await report.monthly(MONTH, NOW, default_rules())


async def test_totals_with_month_on_month_and_year_on_year(golden):
    found = await _month()

    by_type = {c.key: (c.count, c.previous, c.year_ago) for c in found.totals}
    assert by_type == TOTALS
    for c in found.totals:
        if c.key in CHANGES:
            assert (c.mom, c.yoy) == pytest.approx(CHANGES[c.key]), c.key
    assert (found.total.count, found.total.previous, found.total.year_ago) == (20, 8, 4)
    assert (found.total.mom, found.total.yoy) == pytest.approx((12 / 8, 16 / 4))
    assert found.total.count == found.table.total.counts["received"]
    assert {c.key: (c.count, c.previous, c.year_ago) for c in found.channels} == CHANNELS
    phone = next(c for c in found.channels if c.key == "phone")
    assert (phone.mom, phone.yoy) == (-0.5, None)


async def test_late_and_overdue_lists_with_working_days(golden):
    found = await _month()

    assert [(r.number, r.department_code, r.due_at, r.replied_at, r.days) for r in found.late] \
        == [(NUMBERS[k], code, due, at, n) for k, code, due, at, n in LATE]
    assert [(r.number, r.department_code, r.due_at, r.days) for r in found.overdue] \
        == [(NUMBERS[k], code, due, n) for k, code, due, n in OVERDUE]
    # The overdue list is the statistics' figure, department by department.
    rows = {r.code: r.counts["overdue"] for r in found.table.rows}
    assert {d.code: (d.late, d.overdue) for d in found.late_by_department} == {
        OTHER: (1, 1), OWN: (2, rows[OWN])} and rows[OWN] == 2
    assert found.late[-1].title.startswith(FORMULA)
    assert PHONE not in found.late[-1].title and MAIL not in found.late[-1].title


async def test_the_lists_read_in_small_batches_are_the_same(golden, monkeypatch):
    whole = await _month()
    monkeypatch.setattr(report, "BATCH", 2)  # most of the month shares one instant

    batched = await _month()

    assert (batched.late, batched.overdue, batched.orders) == (
        whole.late, whole.overdue, whole.orders)


async def test_supervision_outcomes_and_growth(golden):
    found = await _month()

    assert {c.code: c.counts for c in found.order_counts} == ORDERS
    assert found.order_total.counts == {"on_time": 1, "late": 1, "escalated": 1, "open": 1}
    # By department, then by the time issued.
    assert [(o.number, o.outcome) for o in found.orders] == [
        (NUMBERS[k], outcome) for k, outcome in (("open2", "escalated"), ("open3", "open"),
                                                 ("open1", "on_time"), ("late2", "late"))]
    assert [(g.name, g.count, g.previous, g.increase, g.change) for g in found.growth] \
        == GROWTH


async def test_the_page_shows_the_figures_and_links_them_to_their_lists(golden, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/report", params={"month": "2013-07"})

    assert page.status_code == 200
    text = page.text
    assert "2013 年 7 月" in text and "@page" not in text  # the print sheet is a file
    assert '<link rel="stylesheet" href="/static/report.css">' in text
    assert "<script" not in text
    figures = [(html.unescape(h), int(n)) for h, n in FIGURE.findall(text)]
    assert ("/staff/stats/list?figure=received&from=2013-07-01&to=2013-07-31"
            "&type=complaint", 12) in figures
    assert ("/staff/stats/list?figure=received&from=2013-06-01&to=2013-06-30", 8) in figures
    assert ("/staff/stats/list?figure=received&from=2012-07-01&to=2012-07-31", 4) in figures
    assert ("/staff/stats/list?figure=overdue&from=2013-07-01&to=2013-07-31", 3) in figures
    assert "+150.0%" in text and "+400.0%" in text and "-33.3%" in text
    for key, _, _, _, days in LATE:
        row = re.search(rf"{NUMBERS[key]}</a></td>.*?逾期工作日\">(\d+)<", text)
        assert row and int(row.group(1)) == days, key
    for key, *_ in OVERDUE:
        assert NUMBERS[key] in text
    assert text.index(NUMBERS["late3"]) < text.index(NUMBERS["late2"]) \
        < text.index(NUMBERS["late1"])  # by department, then days late
    assert "逾期未反馈（已升级）" in text and "教育文体" in text
    # Links that count appeals list as many as the figure says (a few, not every one).
    late = [f for f in figures if "figure=reply_late" in f[0]]
    assert ("/staff/stats/list?figure=reply_late&from=2013-07-01&to=2013-07-31", len(LATE)) \
        in late
    for href, n in figures[:6] + [f for f in figures if "overdue" in f[0]][:3] + late:
        listed = await inspector.get(href)
        assert int(TOTAL.search(listed.text).group(1)) == n, href


async def test_no_formula_and_no_contact_leaves_on_the_page_or_in_the_workbook(
        golden, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/report", params={"month": "2013-07"})
    book = await inspector.get("/staff/report", params={"month": "2013-07", "format": "xlsx"})

    assert book.status_code == 200
    assert book.headers["content-type"] == report.XLSX_TYPE
    assert "monthly-report-2013-07.xlsx" in book.headers["content-disposition"]
    sheets = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    cells = [c for s in sheets.worksheets for row in s.iter_rows(values_only=True)
             for c in row if isinstance(c, str)]
    for text in (page.text, *cells):
        for secret in (PHONE, MAIL, "13812345678", "李阿姨"):
            assert secret not in text
    assert "139****5678" in page.text and "l***@example.com" in page.text
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert any(c.startswith("'" + FORMULA) for c in cells)


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


async def test_the_workbook_has_the_same_numbers_and_is_audited(golden, new_client):
    inspector, dispatcher_client = new_client(), new_client()
    who = await make_staff(Role.DISPATCHER)
    await login(inspector, await make_staff(Role.INSPECTOR))
    await login(dispatcher_client, who)

    response = await dispatcher_client.get("/staff/report",
                                           params={"month": "2013-07", "format": "xlsx"})

    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["说明", "类型总量", "渠道总量", "部门排名", "逾期答复", "超期未答复", "督办汇总",
                               "督办清单", "增长领域", "还利于民", "热点"]
    totals = {r[0]: r[1:] for r in _rows(book["类型总量"])}
    assert totals["投诉"][:2] == (12, 5) and totals["投诉"][3] == 2
    assert totals["投诉"][2] == pytest.approx(1.4) and totals["投诉"][4] == pytest.approx(5.0)
    assert totals["建议"][3:] == (0, "—") and totals["合计"][:2] == (20, 8)
    assert book["类型总量"]["D4"].number_format == report.SIGNED_PERCENT
    channels = {r[0]: r[1:] for r in _rows(book["渠道总量"])}
    assert channels["电话"] == (3, 6, pytest.approx(-0.5), 0, "—")
    assert channels["未记录"][0::3] == (0, 4) and channels["合计"][0] == 20
    late = _rows(book["逾期答复"])
    assert [(r[0], r[5]) for r in late] == [(NUMBERS[k], n) for k, *_, n in LATE]
    assert [r[4] for r in late] == [f"{to_local(at):%Y-%m-%d %H:%M}" for *_, at, _ in LATE]
    assert [r[0] for r in _rows(book["超期未答复"])] == [NUMBERS[k] for k, *_ in OVERDUE]
    orders = {r[0]: r[1:] for r in _rows(book["督办汇总"])}
    assert orders["合计"] == (1, 1, 1, 1, 4)
    assert [r[:5] for r in _rows(book["增长领域"])] == [
        (B, 5, 0, 5, "—"), (A, 6, 2, 4, pytest.approx(2.0))]
    table = {r[1]: r for r in _rows(book["部门排名"])}
    found = await stats.table(report.month_scope(MONTH), datetime.now(UTC), "reply",
                              default_rules().detectors.stats_min_volume)
    for row in found.rows:
        assert table[row.name][2] == row.counts["received"]
    # One audit entry, which the inspectors' export log lists.
    entry = await AuditEntry.filter(action="export", actor_label=who).first()
    assert entry.details == {"list": "monthly_report", "format": "xlsx",
                             "filters": {"month": "2013-07", "rank": "reply"},
                             "rows": 3 + 3 + 4,
                             "complete": True}
    log = await inspector.get("/staff/audit/exports")
    assert who in log.text


async def test_a_wrong_month_is_said_beside_the_field_and_the_last_month_shown(
        golden, new_client):
    dispatcher_client = new_client()
    await login(dispatcher_client, await make_staff(Role.DISPATCHER))
    today = datetime.now(UTC) + timedelta(hours=8)
    default = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    pages = {typed: await dispatcher_client.get("/staff/report", params={"month": typed})
             for typed in ("2013-13", "七月", "2999-01", "1999-12")}
    plain = await dispatcher_client.get("/staff/report")
    refused = await dispatcher_client.get("/staff/report", params={"month": "2013-13",
                                                                    "format": "xlsx"})
    bad_rank = await dispatcher_client.get("/staff/report", params={"rank": "x",
                                                                     "format": "pdf"})

    for typed, page in pages.items():
        assert page.status_code == 200, typed
        message = re.search(r'id="month-error" role="alert">([^<]+)<', page.text).group(1)
        assert f"“{typed}”" in message and default in message, message
        assert f'name="month" value="{default}"' in page.text
    assert "应为 YYYY-MM 格式" in pages["七月"].text and "尚未到来" in pages["2999-01"].text
    escaped = await dispatcher_client.get("/staff/report", params={"month": "<b>2013"})
    assert "“&lt;b&gt;2013”" in escaped.text and "<b>2013" not in escaped.text
    assert plain.status_code == 200 and 'id="month-error"' not in plain.text
    assert f'name="month" value="{default}"' in plain.text
    assert refused.status_code == 400 and "未导出" in refused.text
    assert "排名依据无效" in bad_rank.text and "只能导出为 XLSX" in bad_rank.text


async def test_the_stats_page_links_to_the_report(golden, new_client):
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    page = await inspector.get("/staff/stats")

    assert 'href="/staff/report"' in page.text
