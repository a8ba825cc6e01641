"""Public scorecards (/public/stats): per department and per region, for a month or a year.

The figures are the inspectors' (app.services.stats: the same definitions, the same one
grouped scan, the same minimum volume for ranking, the same trend), shown without anything
that could point at one appeal: a count under `public_min_cell` (routing_rules/detectors.yaml
`stats.public_min_cell`, default 5) reads "<5", and a rate or a mean over fewer appeals than
that is not shown. Where the hidden counts of a table could be worked out as its total minus
the counts shown (one hidden count, or hidden counts adding up to under the threshold), the
smallest shown counts are hidden too ("—"); one region's departments, which add up to that
region's row, count as a table of their own. No figure links to a list of appeals.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from app.domain.clock import to_local
from app.services import stats

log = logging.getLogger("minsheng.scorecards")
RANK = "reply"  # 按时答复率, as the inspectors' default
RATES = ("reply", "satisfaction")
HIDDEN = "—"
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?")
YEARS_BACK = 5
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Period:
    key: str  # YYYY-MM or YYYY
    label: str
    start: date
    end: date  # clipped to today for the month or year in progress


def default_period(now: datetime) -> Period:
    """The last full month: the current one has few appeals due yet."""
    last = to_local(now).date().replace(day=1) - timedelta(days=1)
    return _month(last.year, last.month, to_local(now).date())


def _month(year: int, month: int, today: date) -> Period:
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(f"{first:%Y-%m}", f"{year} 年 {month} 月", first, min(last, today))


def _year(year: int, today: date) -> Period:
    return Period(str(year), f"{year} 年", date(year, 1, 1), min(date(year, 12, 31), today))


def period_of(text: str, now: datetime) -> tuple[Period, str | None]:
    """The period `?period=` names (YYYY-MM or YYYY, not in the future), or the default
    with a message why not."""
    today = to_local(now).date()
    text = (text or "").strip()
    if not text:
        return default_period(now), None
    found = _PERIOD.fullmatch(text)
    if found and 2000 <= int(found[1]) <= today.year:
        year = int(found[1])
        if found[2] is None:
            return _year(year, today), None
        month = int(found[2])
        if 1 <= month <= 12 and date(year, month, 1) <= today:
            return _month(year, month, today), None
    return default_period(now), "时间应为已到的月份（YYYY-MM）或年份（YYYY），已显示上月。"


def choices(now: datetime) -> dict[str, list[Period]]:
    """What the period selector offers: the last 24 months and the last few years."""
    today = to_local(now).date()
    months, first = [], today.replace(day=1)
    for _ in range(24):
        months.append(_month(first.year, first.month, today))
        first = (first - timedelta(days=1)).replace(day=1)
    years = [_year(today.year - n, today) for n in range(YEARS_BACK)]
    return {"months": months, "years": years}


@dataclass(frozen=True)
class Line:
    """One row as the public reads it: every value already a string, small ones hidden."""

    rank: str
    name: str
    received: str
    on_time: str
    mean_days: str
    satisfaction: str


@dataclass(frozen=True)
class MonthLine:
    month: str
    received: str
    on_time: str


@dataclass
class Scorecard:
    period: Period
    departments: list[Line]
    regions: list[Line]
    total: Line
    months: list[MonthLine]
    bars: list[tuple[stats.Bar, str]]
    min_volume: int
    min_cell: int


def complement(counts: list[int], min_cell: int,
               groups: list[list[int]] | None = None) -> set[int]:
    """The rows whose count must be hidden as well, so that no small count follows from a
    total minus the others shown. The whole table is one total; each of `groups` (row
    indices, e.g. one region's departments, whose sum its region's row shows) is another.
    In each, while the hidden counts are a single one or add up to under `min_cell`, the
    smallest count still shown is hidden too, until no total gives anything away."""
    small = {i for i, n in enumerate(counts) if 0 < n < min_cell}
    hidden = set(small)
    totals = [list(range(len(counts))), *(groups or [])]
    changed = bool(hidden)
    while changed:
        changed = False
        for rows in totals:
            inside = [i for i in rows if i in hidden]
            if not inside:
                continue
            shown = sorted((counts[i], i) for i in rows if counts[i] > 0 and i not in hidden)
            while shown and (len(inside) == 1 or sum(counts[i] for i in inside) < min_cell):
                extra = shown.pop(0)[1]
                hidden.add(extra)
                inside.append(extra)
                changed = True
    return hidden - small


def lines(rows: list[stats.Row], min_cell: int, names: Mapping[str, str] | None = None,
          groups: list[list[int]] | None = None) -> list[Line]:
    """A table's rows as the public reads them, with the complementary counts hidden."""
    found = [line(r, min_cell, (names or {}).get(r.code)) for r in rows]
    for i in complement([r.counts["received"] for r in rows], min_cell, groups):
        found[i] = replace(found[i], received=HIDDEN)
    return found


def region_groups(departments: list[stats.Row]) -> list[list[int]]:
    """The departments of each region (a department's code starts with its region's), whose
    counts add up to about what that region's row shows."""
    by_region: dict[str, list[int]] = {}
    for i, row in enumerate(departments):
        by_region.setdefault(row.code.split("-", 1)[0], []).append(i)
    return [rows for rows in by_region.values() if len(rows) > 1]


def count_text(n: int, min_cell: int) -> str:
    return f"<{min_cell}" if 0 < n < min_cell else str(n)


def rate_text(row: stats.Row, key: str, min_cell: int) -> str:
    """A rate, or HIDDEN when its denominator is under the threshold (or zero)."""
    base = row.counts.get(stats.RATE_BY_KEY[key].denominator, 0)
    rate = row.rate(key)
    return HIDDEN if rate is None or base < min_cell else f"{rate * 100:.1f}%"


def days_text(row: stats.Row, min_cell: int) -> str:
    replied = row.counts.get("replied", 0)
    return HIDDEN if row.mean_days is None or replied < min_cell else f"{row.mean_days:.1f}"


def line(row: stats.Row, min_cell: int, name: str | None = None) -> Line:
    rank = str(row.rank) if row.ranked else "不参与排名"
    return Line(rank, name or row.name, count_text(row.counts["received"], min_cell),
                rate_text(row, "reply", min_cell), days_text(row, min_cell),
                rate_text(row, "satisfaction", min_cell))


def month_line(month: stats.Month, min_cell: int) -> MonthLine:
    rate = month.on_time_rate
    on_time = HIDDEN if rate is None or month.due < min_cell else f"{rate * 100:.1f}%"
    return MonthLine(month.month, count_text(month.received, min_cell), on_time)


def month_lines(months: list[stats.Month], min_cell: int) -> list[MonthLine]:
    found = [month_line(m, min_cell) for m in months]
    for i in complement([m.received for m in months], min_cell):
        found[i] = replace(found[i], received=HIDDEN)
    return found


def month_bars(months: list[stats.Month], min_cell: int) -> list[tuple[stats.Bar, str]]:
    """The inspectors' volume bars; a month under the threshold drawn empty, labelled "<N",
    and a month hidden as its complement drawn empty, labelled "—"."""
    extra = complement([m.received for m in months], min_cell)
    found = []
    for i, (month, bar) in enumerate(zip(months, stats.bars(months), strict=True)):
        label = HIDDEN if i in extra else count_text(month.received, min_cell)
        if i in extra or 0 < month.received < min_cell:
            bar = replace(bar, y=stats.CHART_HEIGHT, height=0)
        found.append((bar, label))
    return found


async def scorecard(period: Period, now: datetime, min_volume: int, min_cell: int,
                    region_names: Mapping[str, str] | None = None) -> Scorecard:
    """The period's tables (by department, by region) and its trend, for the public.
    `region_names`: a fuller name per region code (e.g. with its city), where known."""
    scope = stats.StatsScope(period.start, period.end)
    tables = await stats.by_department_and_region(scope, now, RANK, min_volume,
                                                  with_trend=True)
    months = tables.departments.months or []
    return Scorecard(
        period,
        lines(tables.departments.rows, min_cell,
              groups=region_groups(tables.departments.rows)),
        lines(tables.regions.rows, min_cell, region_names),
        line(tables.departments.total, min_cell), month_lines(months, min_cell),
        month_bars(months, min_cell), min_volume, min_cell)


class Cache:
    """Scorecards per (period, thresholds), fresh for `seconds`: the page is anonymous and the
    same for everyone, and a year's scan over a million appeals takes seconds. Only the first
    request of a period waits for the scan; once a kept one is older than `seconds`, it is
    served while one refresh runs in the background. Built once per app (app.state)."""

    def __init__(self, seconds: float = CACHE_SECONDS):
        self.seconds = seconds
        self.kept: dict[tuple, tuple[float, Scorecard]] = {}
        self.locks: dict[tuple, asyncio.Lock] = {}
        self.refreshing: dict[tuple, asyncio.Task] = {}

    async def get(self, period: Period, now: datetime, min_volume: int, min_cell: int,
                  region_names: Mapping[str, str] | None = None) -> Scorecard:
        key = (period, min_volume, min_cell, tuple(sorted((region_names or {}).items())))
        kept = self.kept.get(key)
        if kept is not None:
            if time.monotonic() >= kept[0] and key not in self.refreshing:
                task = asyncio.create_task(self._fill(key, now, region_names))
                self.refreshing[key] = task
                task.add_done_callback(lambda done: self._refreshed(key, done))
            return kept[1]
        async with self.locks.setdefault(key, asyncio.Lock()):
            kept = self.kept.get(key)
            return kept[1] if kept is not None else await self._fill(key, now, region_names)

    def _refreshed(self, key: tuple, task: asyncio.Task) -> None:
        self.refreshing.pop(key, None)
        if not task.cancelled() and task.exception() is not None:  # the kept one stays
            log.error("scorecard refresh failed: %s", type(task.exception()).__name__)

    async def _fill(self, key: tuple, now: datetime, region_names) -> Scorecard:
        period, min_volume, min_cell, _ = key
        found = await scorecard(period, now, min_volume, min_cell, region_names)
        if len(self.kept) > 200:  # bound memory: periods are few, but keys are typed
            self.kept.clear()
        self.kept[key] = (time.monotonic() + self.seconds, found)
        return found
