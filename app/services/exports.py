"""Exports as CSV or XLSX: a filtered appeal list, a detector's or a statistics figure's list
of appeals (the same columns), and the statistics table with its definitions.

Memory stays bounded whatever the list's length: appeals are read `batch_size` at a time by
seek (plain value rows, no model objects), CSV is streamed as it is written, XLSX is written
by xlsxwriter in constant-memory mode (each row goes to disk as it is written) to a temporary
file that is then streamed; while one batch is written the next is already being read. Every
cell a person wrote or an administrator named is masked (contacts written into the title) and
neutralised (a leading = + - @, tab or CR makes a spreadsheet formula). Each export is an
AuditEntry of action "export", written before the first row goes out and completed with the
row count when the last one has.
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
import xlsxwriter
from tortoise import connections
from tortoise.queryset import QuerySet

from app.domain.clock import SHANGHAI, to_local
from app.domain.masking import mask_free_text
from app.domain.states import COUNTS_AS_OVERDUE, STATUS_LABELS
from app.domain.types import TYPE_LABELS
from app.models import Account, Appeal, AuditEntry, Category, Department, Region
from app.services import detectors, lists, stats
from app.services.detectors import UNASSIGNED, Sql

FORMATS = ("csv", "xlsx")
FORMAT_ERROR = "导出格式只能是 CSV 或 XLSX。"
BATCH_SIZE = 2000
HEADERS = ("受理编号", "类型", "领域", "地区", "承办部门", "状态", "提交时间", "答复期限",
           "答复时间", "超期", "标题")
_FIELDS = ("id", "tracking_number", "type", "category_id", "region_id", "department_id",
           "status", "submitted_at", "reply_due_at", "replied_at", "title")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (an XLSX is XML): dropped from every cell, CSV too.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                 "strings_to_urls": False, "strings_to_numbers": False}
NOTES_SHEET = "口径说明"


def neutralise(text: str) -> str:
    """A cell a spreadsheet would read as a formula, made plain text."""
    text = _ILLEGAL.sub("", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(at: datetime | None) -> str:
    # isoformat is a third of strftime's cost, and this runs three times a row.
    return at.astimezone(SHANGHAI).isoformat(" ", "minutes")[:16] if at else ""


@dataclass
class Sheet:
    """What one export writes: a sheet's name, its header, its rows a batch at a time (each
    cell already masked and neutralised), and definitions to close with."""

    name: str
    headers: Sequence[str]
    batches: AsyncIterator[list[list]]
    notes: Sequence[tuple[str, str]] = ()


# --- Appeal rows ---------------------------------------------------------------------------

class Names:
    """Names of the departments, categories and regions (small tables, read once), each
    already neutralised: an administrator typed them."""

    def __init__(self, departments: dict, categories: dict, regions: dict):
        self.departments, self.categories, self.regions = departments, categories, regions

    @classmethod
    async def load(cls) -> Names:
        async def of(model: Any) -> dict[int, str]:
            return {i: neutralise(name) for i, name in
                    await model.all().values_list("id", "name")}

        return cls(await of(Department), await of(Category), await of(Region))


_OVERDUE_STATES = frozenset(s.value for s in COUNTS_AS_OVERDUE)
_TYPES = {str(getattr(k, "value", k)): v for k, v in TYPE_LABELS.items()}
_STATUSES = {str(getattr(k, "value", k)): v for k, v in STATUS_LABELS.items()}


def cells(row: dict, names: Names, now: datetime) -> list[str]:
    """One appeal as the export's cells. Only the title is free text; the names were
    neutralised once (Names), the rest is ours."""
    status, due = row["status"], row["reply_due_at"]
    overdue = status in _OVERDUE_STATES and due is not None and due < now
    return [
        row["tracking_number"], _TYPES.get(row["type"], row["type"]),
        names.categories.get(row["category_id"], ""), names.regions.get(row["region_id"], ""),
        names.departments.get(row["department_id"], ""), _STATUSES.get(status, status),
        _when(row["submitted_at"]), _when(due), _when(row["replied_at"]),
        "超期" if overdue else "", neutralise(mask_free_text(row["title"])),
    ]


async def batches(query: QuerySet[Appeal], size: int) -> AsyncIterator[list[dict]]:
    """Every row of `query`, newest first, `size` at a time (each batch one index seek)."""
    order, key = lists.NEWEST_FIRST, None
    while True:
        page = query if key is None else lists.after(query, order, *key)
        rows = await page.order_by(*order.fields()).limit(size).values(*_FIELDS)
        if rows:
            yield rows
        if len(rows) < size:
            return
        key = rows[-1]["submitted_at"], rows[-1]["id"]


async def matching(where: Callable[[Sql], str], size: int) -> AsyncIterator[list[dict]]:
    """Every appeal (alias `a`) a SQL condition holds for, newest id first, `size` at a time:
    a seek over the id, as the detectors' and the statistics' list pages page."""
    db, after = connections.get("default"), None
    while True:
        sql = Sql()
        condition = where(sql)
        seek = f" AND a.id < {sql.param(after)}" if after else ""
        found = await db.execute_query_dict(
            f"SELECT a.id FROM appeal a WHERE {condition}{seek} ORDER BY a.id DESC "
            f"LIMIT {int(size)}", sql.params)
        ids = [r["id"] for r in found]
        if ids:
            yield await Appeal.filter(id__in=ids).order_by("-id").values(*_FIELDS)
        if len(ids) < size:
            return
        after = ids[-1]


async def _read_ahead(source: AsyncIterator[list[dict]]) -> AsyncIterator[list[dict]]:
    """The batches of `source`, the next one already being read while this one is written
    (the database works on the other core meanwhile)."""
    pending = asyncio.ensure_future(anext(source, None))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(anext(source, None))
            yield batch
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await source.aclose()


async def appeal_sheet(rows: AsyncIterator[list[dict]], now: datetime,
                       name: str = "诉求") -> Sheet:
    """The appeals `rows` yields, in the columns of the appeal-list export."""
    names = await Names.load()

    async def made() -> AsyncIterator[list[list]]:
        async for batch in _read_ahead(rows):
            yield [cells(row, names, now) for row in batch]

    return Sheet(name, HEADERS, made())


# --- The statistics table ------------------------------------------------------------------

def stats_headers(rank_title: str) -> list[str]:
    return [f"排名（{rank_title}）", "部门", *(f.title for f in stats.FIGURES),
            *(f"{r.title}（%）" for r in stats.RATES), "首次答复平均工作日",
            "首次答复工作日中位数"]


def _one_place(value: float | None) -> float | None:
    # As the page shows it ("%.1f"); an empty cell where the page shows "—".
    return round(value, 1) if value is not None else None


def stats_cells(row: stats.Row, total: bool = False) -> list:
    percents = [_one_place(r * 100) if (r := row.rate(rate.key)) is not None else None
                for rate in stats.RATES]
    place = "" if total else (row.rank if row.ranked else "未排名")
    return [place, neutralise(row.name), *(row.counts.get(f.key, 0) for f in stats.FIGURES),
            *percents, _one_place(row.mean_days), _one_place(row.median_days)]


def stats_notes(scope_text: str, rank_title: str, min_volume: int) -> list[tuple[str, str]]:
    return [
        ("统计范围", scope_text),
        ("排名", f"按{rank_title}排名；受理少于 {min_volume} 件的部门列出但不参与排名"
                 "（“未排名”）。"),
        ("受理", "期间内收到的诉求件数（按北京时间受理日期）；诉求计入它当前所在的部门，"
                 "已退回待分派的计入“待分派（已退回）”。"),
        *((r.title, r.definition) for r in stats.RATES),
        ("超期未答复", "现在仍在办理中（未答复、未在等待群众补充材料）且已过答复期限的诉求。"),
        ("首次答复工作日", "从受理到第一轮首次答复的工作日数（按规则中的工作日历），"
                           "平均值与中位数。"),
        ("比例", "以百分数表示，保留一位小数（与统计页相同）；分母为 0 时留空（页面显示“—”）。"),
    ]


async def scope_text(scope: stats.StatsScope, department: str) -> str:
    """The scope in words, for the definitions: the period and every narrowing asked."""
    parts = [f"受理日期 {scope.start} 至 {scope.end}", f"部门：{department}"]
    for code, model, label in ((scope.region, Region, "地区（含下辖）"),
                               (scope.category, Category, "领域（含下级）")):
        if code:
            found = await model.get_or_none(code=code)
            parts.append(f"{label}：{found.name if found else code}")
    if scope.type:
        parts.append(f"类型：{_TYPES.get(scope.type, scope.type)}")
    return neutralise("；".join(parts))


def stats_sheet(table: stats.Table, rank_title: str, notes: list[tuple[str, str]]) -> Sheet:
    rows = [*(stats_cells(row) for row in table.rows), stats_cells(table.total, total=True)]

    async def once() -> AsyncIterator[list[list]]:
        yield rows

    return Sheet("统计", stats_headers(rank_title), once(), notes)


# --- Writing -------------------------------------------------------------------------------

async def start_record(account: Account, fmt: str, filters: dict[str, str],
                       now: datetime, kind: str = "appeals") -> AuditEntry:
    """kind: "appeals" (the inspector's list), "stats" (the table), "detector" or
    "stats_list" (the filters then name the detector or the figure)."""
    label = (account.display_name or account.username)[:80]
    return await AuditEntry.create(
        at=now, actor=account, actor_label=label, action="export",
        details={"list": kind, "format": fmt, "filters": filters, "rows": 0,
                 "complete": False})


async def finish_record(entry: AuditEntry, rows: int) -> None:
    entry.details = {**entry.details, "rows": rows, "complete": True}
    await entry.save(update_fields=["details"])


async def csv_stream(sheet: Sheet, entry: AuditEntry) -> AsyncIterator[bytes]:
    """The CSV, UTF-8 with a BOM (so Excel reads the Chinese), one chunk per batch; the
    definitions, if any, after a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(sheet.headers)
    yield ("\ufeff" + _drain(buffer)).encode()
    count = 0
    async for rows in sheet.batches:
        writer.writerows(rows)
        count += len(rows)
        yield _drain(buffer).encode()
    if sheet.notes:
        writer.writerow([])
        writer.writerow([NOTES_SHEET])
        writer.writerows(sheet.notes)
        yield _drain(buffer).encode()
    await finish_record(entry, count)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def xlsx_file(sheet: Sheet, entry: AuditEntry) -> str:
    """The path of a temporary XLSX of every row (the caller streams, then deletes it); the
    definitions, if any, on a second sheet."""
    fd, path = tempfile.mkstemp(prefix="minsheng-export-", suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(path, _XLSX_OPTIONS)
        try:
            page = book.add_worksheet(sheet.name)
            page.write_row(0, 0, sheet.headers)
            count = 0
            async for rows in sheet.batches:
                await anyio.to_thread.run_sync(_write_rows, page, count + 1, rows)
                count += len(rows)
            if sheet.notes:
                notes = book.add_worksheet(NOTES_SHEET)
                _write_rows(notes, 0, [["项目", "说明"], *sheet.notes])
        finally:
            await anyio.to_thread.run_sync(book.close)
    except BaseException:
        os.unlink(path)
        raise
    await finish_record(entry, count)
    return path


def _write_rows(page: Any, first: int, rows: list[list]) -> None:
    write = page.write_row
    for number, row in enumerate(rows, first):
        write(number, 0, row)


def file_name(fmt: str, now: datetime, stem: str = "appeals") -> str:
    return f"{stem}-{to_local(now):%Y%m%d-%H%M%S}.{fmt}"


# --- The export log ------------------------------------------------------------------------

LOG_PAGE_SIZE = 50
FILTER_LABELS = {name: field.title for name, field in lists.ListFilters.model_fields.items()}
SCOPE_LABELS = {"from": "受理日期起", "to": "受理日期止", "department": "承办部门",
                "region": "地区", "category": "领域", "type": "类型", "rank": "排名依据"}
LIST_LABELS = {"appeals": "诉求清单", "stats": "统计表", "detector": "异常检测",
               "stats_list": "统计清单"}


def describe(details: dict) -> tuple[str, str]:
    """What was exported and by which filter, in words, for the log."""
    kind, filters = details.get("list", "appeals"), dict(details.get("filters") or {})
    what = LIST_LABELS.get(kind, kind)
    if kind == "detector":
        found = detectors.BY_KEY.get(filters.pop("detector", ""))
        what += f"：{found.title}" if found else ""
    elif kind == "stats_list":
        found = stats.BY_KEY.get(filters.pop("figure", ""))
        what += f"：{found.title}" if found else ""
    labels = FILTER_LABELS if kind == "appeals" else SCOPE_LABELS
    parts = [f"{labels.get(k, k)}：{_shown(k, v)}" for k, v in filters.items()]
    return what, "；".join(parts) or "全部"


def _shown(key: str, value: str) -> str:
    if key == "status":
        return _STATUSES.get(value, value)
    if key == "type":
        return _TYPES.get(value, value)
    if key == "overdue":
        return "是"
    if key == "rank":
        found = stats.RATE_BY_KEY.get(value)
        return found.title if found else value
    if key == "department" and value == UNASSIGNED:
        return "待分派（已退回）"
    return value


async def log_page(after: str | None, size: int = LOG_PAGE_SIZE) -> tuple[dict, str | None]:
    """One page of the export log, newest first, after the entry with id `after`; a value
    that is no id gives the first page and a message."""
    message = None
    query = AuditEntry.filter(action="export")
    if after:
        if after.isdigit() and 0 < int(after) < 2**63:
            query = query.filter(id__lt=int(after))
        else:
            message = "翻页参数无效，已回到第一页。"
    rows = await query.order_by("-id").limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    links = {"next": f"?after={rows[-1].id}" if more else None,
             "first": "/staff/audit/exports" if after else None}
    entries = [(entry, *describe(entry.details or {})) for entry in rows]
    return {"entries": entries, "links": links}, message
