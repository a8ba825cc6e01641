"""Exports of a filtered appeal list as CSV or XLSX, read in key-paged batches.

Memory stays bounded whatever the list's length: rows are read `batch_size` at a time by
seek (app.services.lists), CSV is streamed as it is written, XLSX is written by openpyxl's
write-only workbook to a temporary file that is then streamed. Every cell is masked (contacts
written into the title) and neutralised (a leading = + - @ makes a spreadsheet formula).
Each export is an AuditEntry of action "export", written before the first row goes out and
completed with the row count when the last one has.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import anyio.to_thread
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from tortoise.queryset import QuerySet

from app.domain.clock import to_local
from app.domain.masking import mask_free_text
from app.domain.states import STATUS_LABELS, counts_as_overdue
from app.domain.types import TYPE_LABELS
from app.models import Account, Appeal, AuditEntry, Category, Department, Region
from app.services import lists

FORMATS = ("csv", "xlsx")
BATCH_SIZE = 2000
HEADERS = ("受理编号", "类型", "领域", "地区", "承办部门", "状态", "提交时间", "答复期限",
           "答复时间", "超期", "标题")
_FIELDS = ("id", "tracking_number", "type", "category_id", "region_id", "department_id",
           "status", "submitted_at", "reply_due_at", "replied_at", "title")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(text: str) -> str:
    """A cell a spreadsheet would read as a formula, made plain text."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(at: datetime | None) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M") if at else ""


class Names:
    """Names of the departments, categories and regions (small tables, read once)."""

    def __init__(self, departments: dict, categories: dict, regions: dict):
        self.departments, self.categories, self.regions = departments, categories, regions

    @classmethod
    async def load(cls) -> Names:
        async def of(model: Any) -> dict[int, str]:
            return dict(await model.all().values_list("id", "name"))

        return cls(await of(Department), await of(Category), await of(Region))


def cells(row: dict, names: Names, now: datetime) -> list[str]:
    overdue = counts_as_overdue(row["status"], row["reply_due_at"], now)
    values = [
        row["tracking_number"], TYPE_LABELS.get(row["type"], row["type"]),
        names.categories.get(row["category_id"], ""), names.regions.get(row["region_id"], ""),
        names.departments.get(row["department_id"], ""),
        STATUS_LABELS.get(row["status"], row["status"]), _when(row["submitted_at"]),
        _when(row["reply_due_at"]), _when(row["replied_at"]), "超期" if overdue else "",
        mask_free_text(row["title"]),
    ]
    return [neutralise(str(v)) for v in values]


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


async def start_record(account: Account, fmt: str, filters: dict[str, str],
                       now: datetime) -> AuditEntry:
    label = (account.display_name or account.username)[:80]
    return await AuditEntry.create(
        at=now, actor=account, actor_label=label, action="export",
        details={"list": "appeals", "format": fmt, "filters": filters, "rows": 0,
                 "complete": False})


async def finish_record(entry: AuditEntry, rows: int) -> None:
    entry.details = {**entry.details, "rows": rows, "complete": True}
    await entry.save(update_fields=["details"])


async def csv_stream(query: QuerySet[Appeal], entry: AuditEntry, now: datetime, *,
                     size: int = BATCH_SIZE) -> AsyncIterator[bytes]:
    """The CSV, UTF-8 with a BOM (so Excel reads the Chinese), one chunk per batch."""
    names = await Names.load()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    yield ("\ufeff" + _drain(buffer)).encode()
    count = 0
    async for rows in batches(query, size):
        writer.writerows(cells(row, names, now) for row in rows)
        count += len(rows)
        yield _drain(buffer).encode()
    await finish_record(entry, count)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def xlsx_file(query: QuerySet[Appeal], entry: AuditEntry, now: datetime, *,
                    size: int = BATCH_SIZE) -> str:
    """The path of a temporary XLSX of every row (the caller streams, then deletes it)."""
    names = await Names.load()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("诉求")
    sheet.append(HEADERS)
    fd, path = tempfile.mkstemp(prefix="minsheng-export-", suffix=".xlsx")
    os.close(fd)
    try:
        count = 0
        async for rows in batches(query, size):
            lines = [cells(row, names, now) for row in rows]
            await anyio.to_thread.run_sync(_append, sheet, lines)
            count += len(rows)
        await anyio.to_thread.run_sync(book.save, path)
    except BaseException:
        os.unlink(path)
        raise
    await finish_record(entry, count)
    return path


def _append(sheet: Any, lines: list[list[str]]) -> None:
    for line in lines:
        sheet.append(line)


def file_name(fmt: str, now: datetime) -> str:
    return f"appeals-{to_local(now):%Y%m%d-%H%M%S}.{fmt}"




LOG_PAGE_SIZE = 50
FILTER_LABELS = {name: field.title for name, field in lists.ListFilters.model_fields.items()}


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
    return {"entries": rows, "links": links}, message
