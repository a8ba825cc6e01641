"""Exports of the statistics table, of a detector's list and of a figure's list: the page's
numbers and appeals exactly, a handler's own row only, masked, formula-safe, audited."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from app.domain.types import Role
from app.models import Account, Appeal, AuditEntry, Department
from app.services import detectors, stats
from app.services.exports import FORMAT_ERROR
from tests.conftest import login, make_staff, unique
from tests.factories import make_appeal

OWN, OTHER = "990100-zhujian", "990100-jiaoyu"
PERIOD = {"from": "2013-09-01", "to": "2013-09-30"}  # a month no other test receives in
AT = datetime(2013, 9, 10, 2, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://x","y")'
TITLES = (FORMULA, "+电话13900001111请回电", "-邮件 zhang.san@example.com", "@身份证110105194912310021")
SECRETS = ("13900001111", "zhang.san@example.com", "110105194912310021", "13812345678")
FIGURE = re.compile(r'<a class="figure" href="([^"]+)">(\d+)</a>')
RANK = re.compile(r'<td class="rank" data-label="排名">([^<]+)</td>')
FIGURES = [f.key for f in stats.FIGURES]


async def _replied(code: str, title: str, *, last_day: bool) -> Appeal:
    """A replied appeal received at AT; replied on its due date (a last-day reply) or not."""
    appeal = (await make_appeal("replied", code, at=AT, title=title)).appeal
    due = AT + timedelta(days=5, hours=13)  # 2013-09-15 23:00 in Asia/Shanghai
    replied = due - timedelta(hours=6) if last_day else AT + timedelta(days=1)
    await Appeal.filter(id=appeal.id).update(reply_due_at=due, replied_at=replied)
    return appeal


@pytest.fixture(scope="module")
async def month(database):
    """住建: four last-day replies (formula and contacts in their titles), one reply in time
    and one appeal not yet acknowledged; 教育: one last-day reply and one closed."""
    last_day = [await _replied(OWN, title, last_day=True) for title in TITLES]
    await _replied(OWN, unique("按时答复"), last_day=False)
    await make_appeal("assigned", OWN, at=AT, title=unique("待签收"))
    last_day.append(await _replied(OTHER, unique("教育卡点"), last_day=True))
    await make_appeal("closed", OTHER, at=AT, title=unique("教育办结"))
    return {a.tracking_number for a in last_day}


@pytest.fixture
def small_batches(app):
    app.state.export_batch_size = 2  # several batches and a last short one
    yield
    del app.state.export_batch_size


async def _client(new_client, role: Role, department: str | None = None):
    client = new_client()
    username = await make_staff(role, department)
    await login(client, username)
    return client, await Account.get(username=username)


def _rows(response, fmt: str) -> tuple[list[list], list[list]]:
    """(the table with its header, the definitions) of a CSV or an XLSX answer."""
    assert response.status_code == 200, response.text[:500]
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "csv":
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        if [] in rows:
            at = rows.index([])
            return rows[:at], rows[at + 2:]
        return rows, []
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheets = [[list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book]
    assert all(cell.data_type != "f" for sheet in openpyxl.load_workbook(
        io.BytesIO(response.content)) for row in sheet.iter_rows() for cell in row)
    return sheets[0], sheets[1] if len(sheets) > 1 else []


def _number(cell) -> float | None:
    return None if cell in ("", None) else float(cell)


def _page_figures(text: str) -> dict[tuple[str, str], int]:
    """{(department code, "" for the totals; figure): n} from the page's figure links."""
    found = {}
    for href, n in FIGURE.findall(text):
        query = parse_qs(urlsplit(html.unescape(href)).query)
        found[(query.get("department", [""])[0], query["figure"][0])] = int(n)
    return found


async def _codes() -> dict[str, str]:
    return {name: code for name, code in await Department.all().values_list("name", "code")}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_stats_export_carries_exactly_the_pages_numbers(month, new_client, fmt):
    inspector, account = await _client(new_client, Role.INSPECTOR)
    page = await inspector.get("/staff/stats", params=PERIOD)
    table, notes = _rows(await inspector.get("/staff/stats", params={**PERIOD,
                                                                      "format": fmt}), fmt)

    header, *rows = table
    assert header[:2] == ["排名（按时答复率）", "部门"]
    assert header[2:2 + len(FIGURES)] == [f.title for f in stats.FIGURES]
    codes = await _codes()
    exported = {}
    for row in rows:
        code = "" if row[1] == "合计" else codes[row[1]]
        for key, cell in zip(FIGURES, row[2:], strict=False):
            exported[(code, key)] = int(cell)
    assert [row[1] for row in rows][-1] == "合计"
    assert exported == _page_figures(page.text)
    assert {code for code, _ in exported} == {OWN, OTHER, ""}
    # The rates and days as the page shows them (one decimal; empty where it shows "—").
    service = await stats.table(stats.StatsScope(date(2013, 9, 1), date(2013, 9, 30)),
                                datetime.now(UTC), "reply", 10)
    by_name = {r.name: r for r in [*service.rows, service.total]}
    for row in rows:
        expected = by_name[row[1]]
        rates = row[2 + len(FIGURES):2 + len(FIGURES) + len(stats.RATES)]
        for rate, cell in zip(stats.RATES, rates, strict=True):
            value = expected.rate(rate.key)
            shown = float(f"{value * 100:.1f}") if value is not None else None
            assert _number(cell) == shown, (row[1], rate.key)
        for value, cell in zip((expected.mean_days, expected.median_days), row[-2:],
                               strict=True):
            assert _number(cell) == (float(f"{value:.1f}") if value is not None else None)
        assert row[0] in ("未排名", "", None)  # fewer than 10 appeals: listed, not ranked
    assert ["受理", "期间内收到的诉求件数（按北京时间受理日期）；诉求计入它当前所在的部门，"
            "已退回待分派的计入“待分派（已退回）”。"] in [list(n) for n in notes]
    said = {n[0]: n[1] for n in notes if n}
    assert said["统计范围"].startswith("受理日期 2013-09-01 至 2013-09-30")
    assert all(said[r.title] == r.definition for r in stats.RATES)

    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    assert entry.actor_id == account.id
    assert entry.details == {"list": "stats", "format": fmt, "rows": len(rows),
                             "complete": True, "filters": {**PERIOD, "rank": "reply"}}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_handlers_stats_export_has_their_own_row_only(month, app, new_client, fmt):
    rules = app.state.rules
    app.state.rules = dataclasses.replace(
        rules, detectors=dataclasses.replace(rules.detectors, stats_min_volume=1))
    try:
        handler, _ = await _client(new_client, Role.HANDLER, OWN)
        asked = {**PERIOD, "department": OTHER}
        page = await handler.get("/staff/stats", params=asked)
        table, _ = _rows(await handler.get("/staff/stats", params={**asked, "format": fmt}), fmt)
    finally:
        app.state.rules = rules
    own, other = await Department.get(code=OWN), await Department.get(code=OTHER)
    _, row, total = table
    assert row[1] == own.name and total[1] == "合计"
    assert str(row[0]) == RANK.search(page.text).group(1)
    assert int(row[2]) == int(total[2]) == 6
    assert other.name not in repr(table)
    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    assert entry.details["filters"]["department"] == OWN and entry.details["rows"] == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_detector_export_lists_exactly_the_detectors_appeals(month, small_batches, app,
                                                                     new_client, fmt):
    dispatcher, account = await _client(new_client, Role.DISPATCHER)
    table, notes = _rows(await dispatcher.get("/staff/detectors/list", params={
        **PERIOD, "detector": "last-day", "format": fmt}), fmt)

    header, *rows = table
    assert header[0] == "受理编号" and header[-1] == "标题" and not notes
    numbers = [row[0] for row in rows]
    scope = detectors.Scope(date(2013, 9, 1), date(2013, 9, 30))
    listed = await detectors.listing(detectors.BY_KEY["last-day"], scope,
                                     app.state.rules.detectors, size=100)
    assert numbers == [a.tracking_number for a in listed.appeals]  # newest first, as listed
    assert set(numbers) == month and len(numbers) == listed.total == 5
    _assert_safe(rows)
    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    assert (entry.actor_id, entry.details["list"], entry.details["rows"]) == (
        account.id, "detector", 5)
    assert entry.details["filters"] == {"detector": "last-day", **PERIOD}


def _assert_safe(rows: list[list]) -> None:
    titles = {row[10] for row in rows}
    assert "'" + FORMULA in titles
    assert "'+电话139****1111请回电" in titles and "'-邮件 z***@example.com" in titles
    assert "'@身份证110***********0021" in titles
    assert not any(str(cell).startswith(("=", "+", "-", "@", "\t", "\r"))
                   for row in rows for cell in row if cell is not None)
    for secret in SECRETS:
        assert secret not in repr(rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_figures_export_lists_the_appeals_behind_it(month, small_batches, new_client,
                                                            fmt):
    handler, _ = await _client(new_client, Role.HANDLER, OWN)
    asked = {**PERIOD, "figure": "received", "department": OTHER}  # the handler's own, still
    page = await handler.get("/staff/stats/list", params=asked)
    table, _ = _rows(await handler.get("/staff/stats/list", params={**asked, "format": fmt}),
                     fmt)

    numbers = {row[0] for row in table[1:]}
    own = await Department.get(code=OWN)
    assert numbers == set(await Appeal.filter(
        department_id=own.id, submitted_at=AT).values_list("tracking_number", flat=True))
    assert len(numbers) == len(table) - 1 == int(re.search(r'id="stats-total">(\d+)<',
                                                           page.text).group(1)) == 6
    _assert_safe(table[1:])
    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    assert entry.details["list"] == "stats_list" and entry.details["rows"] == 6
    assert entry.details["filters"] == {"figure": "received", **PERIOD, "department": OWN}


async def test_the_export_log_lists_every_kind_of_export(month, new_client):
    inspector, account = await _client(new_client, Role.INSPECTOR)
    for path, extra in (("/staff/stats", {"rank": "satisfaction"}),
                        ("/staff/detectors/list", {"detector": "last-day"}),
                        ("/staff/stats/list", {"figure": "overdue"})):
        response = await inspector.get(path, params={**PERIOD, **extra, "format": "csv"})
        assert response.status_code == 200
    log = (await inspector.get("/staff/audit/exports")).text
    for said in ("统计表", "排名依据：满意率", "异常检测：卡点答复（最后一个工作日答复）",
                 "统计清单：超期未答复", "受理日期起：2013-09-01", "受理日期止：2013-09-30"):
        assert said in log, said
    assert account.display_name in log


async def test_a_bad_format_is_said_and_a_bad_scope_refuses_the_export(month, new_client):
    inspector, _ = await _client(new_client, Role.INSPECTOR)
    before = await AuditEntry.filter(action="export").count()
    for path, extra in (("/staff/stats", {}), ("/staff/detectors/list", {"detector": "ping-pong"}),
                        ("/staff/stats/list", {"figure": "received"})):
        page = await inspector.get(path, params={**PERIOD, **extra, "format": "pdf"})
        assert page.status_code == 200 and FORMAT_ERROR in page.text, path
        refused = await inspector.get(path, params={**PERIOD, **extra, "department": "nosuch",
                                                    "format": "xlsx"})
        assert refused.status_code == 400 and "未导出：条件无效（承办部门）" in refused.text
    assert await AuditEntry.filter(action="export").count() == before


async def test_the_pages_link_their_exports(month, new_client):
    inspector, _ = await _client(new_client, Role.INSPECTOR)
    for path, extra, link in (
            ("/staff/stats", {}, "/staff/stats?from=2013-09-01&amp;to=2013-09-30&amp;rank=reply"
                                 "&amp;format=xlsx"),
            ("/staff/detectors/list", {"detector": "last-day"},
             "/staff/detectors/list?detector=last-day&amp;from=2013-09-01&amp;to=2013-09-30"
             "&amp;format=csv"),
            ("/staff/stats/list", {"figure": "received"},
             "/staff/stats/list?figure=received&amp;from=2013-09-01&amp;to=2013-09-30"
             "&amp;format=csv")):
        page = await inspector.get(path, params={**PERIOD, **extra})
        assert link in page.text, path
