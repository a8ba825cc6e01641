"""Open data (/public/data): two CSV files, made once a day, at addresses that do not change.

- published.csv: every published reply, de-identified as published (the publication's
  redacted columns only: no tracking number, no appeal id, no contact, no approver; days,
  not times);
- scorecards.csv: the public scorecards (app.services.scorecards, small cells hidden the same
  way) for each of the last 12 months, the month in progress, this year and last year.

Each is written to `<var dir>/open_data/<name>-<Beijing date>.csv` (to a temporary name, then
renamed, so a reader never sees half a file), by the worker's periodic job or by the first
request of the day, whichever comes first; older days' files are then removed. Read in
batches by id (bounded memory); every cell is formula-safe (app.services.exports.neutralise);
UTF-8 with BOM so Excel opens the Chinese.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from app.domain.clock import to_local
from app.domain.types import TYPE_LABELS
from app.services import public_replies, scorecards
from app.services.exports import neutralise

BATCH = 1000
PUBLISHED_FIELDS = (
    ("编号", "公开编号（不是受理编号）"),
    ("标题", "经脱敏的诉求标题"),
    ("类型", "咨询、求助、投诉、建议或评议（举报不公开）"),
    ("领域", "诉求所属领域"),
    ("地区", "诉求所在地区"),
    ("承办部门", "答复的部门"),
    ("受理日期", "收到诉求的日期（北京时间，YYYY-MM-DD）"),
    ("答复日期", "答复的日期"),
    ("公开日期", "审核通过并公开的日期"),
    ("诉求内容", "经脱敏的群众诉求（姓名、电话、证件号、邮箱、车牌、门牌号已隐去）"),
    ("答复内容", "经脱敏的答复"),
)
SCORECARD_FIELDS = (
    ("时间", "月份（YYYY-MM）或年份（YYYY）；本月、本年统计到生成当日"),
    ("分组", "部门或地区；“合计”为全部"),
    ("名称", "部门或地区名称"),
    ("排名", "按按时答复率排名；受理件数不足最低件数的不参与排名"),
    ("受理", "期间内收到的诉求件数（按北京时间受理日期）；不足 5 件记作“<5”"),
    ("按时答复率", "第一轮首次答复不晚于答复期限的比例；分母不足 5 件不显示（“—”）"),
    ("平均答复工作日", "从受理到第一轮首次答复的平均工作日数；不足 5 件不显示"),
    ("满意率", "满意及基本满意 ÷ 已评价；分母不足 5 件不显示"),
)
FILES = {"published": PUBLISHED_FIELDS, "scorecards": SCORECARD_FIELDS}
_locks: dict[str, asyncio.Lock] = {}


def directory(var_dir: Path) -> Path:
    return var_dir / "open_data"


def today_path(var_dir: Path, name: str, now: datetime) -> Path:
    return directory(var_dir) / f"{name}-{to_local(now).date().isoformat()}.csv"


async def ensure(var_dir: Path, name: str, now: datetime, min_volume: int, min_cell: int
                 ) -> Path:
    """Today's file `name` (made now if it is not there yet)."""
    path = today_path(var_dir, name, now)
    if path.exists():
        return path
    async with _locks.setdefault(name, asyncio.Lock()):
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = published_rows() if name == "published" \
            else scorecard_rows(now, min_volume, min_cell)
        await _write(path, [label for label, _ in FILES[name]], rows)
        for old in path.parent.glob(f"{name}-*.csv"):
            if old != path:
                old.unlink(missing_ok=True)
    return path


async def ensure_all(var_dir: Path, now: datetime, min_volume: int, min_cell: int) -> None:
    for name in FILES:
        await ensure(var_dir, name, now, min_volume, min_cell)


async def _write(path: Path, header: list[str], rows: AsyncIterator[list[list[str]]]) -> None:
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with part.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            async for batch in rows:
                writer.writerows([neutralise(c) for c in row] for row in batch)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


async def published_rows(size: int = BATCH) -> AsyncIterator[list[list[str]]]:
    after = 0
    while True:
        found = await public_replies.published().filter(id__gt=after).order_by("id") \
            .limit(size).values(*public_replies.COLUMNS)
        if not found:
            return
        after = found[-1]["id"]
        items = await public_replies.items_of(found)
        yield [_published_cells(item) for item in items]


def _published_cells(item: public_replies.Item) -> list[str]:
    return [str(item.id), item.title, TYPE_LABELS.get(item.type, item.type), item.category,
            item.region, item.department, item.submitted_on.isoformat(),
            item.replied_on.isoformat() if item.replied_on else "",
            item.published_on.isoformat(), item.question, item.reply]


def periods(now: datetime) -> list[scorecards.Period]:
    """The month in progress, the 12 months before it, this year and last year."""
    today = to_local(now).date()
    found, first = [], today.replace(day=1)
    for _ in range(13):
        found.append(scorecards.period_of(f"{first:%Y-%m}", now)[0])
        first = (first - timedelta(days=1)).replace(day=1)
    found += [scorecards.period_of(str(year), now)[0] for year in (today.year, today.year - 1)]
    return found


async def scorecard_rows(now: datetime, min_volume: int, min_cell: int
                         ) -> AsyncIterator[list[list[str]]]:
    for period in periods(now):
        card = await scorecards.scorecard(period, now, min_volume, min_cell)
        yield [*_lines(period.key, "部门", card.departments),
               *_lines(period.key, "地区", card.regions),
               *_lines(period.key, "合计", [card.total], rank=False)]


def _lines(key: str, group: str, lines: Iterable[scorecards.Line], rank: bool = True
           ) -> list[list[str]]:
    return [[key, group, line.name, line.rank if rank else "", line.received, line.on_time,
             line.mean_days, line.satisfaction] for line in lines]
