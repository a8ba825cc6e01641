"""The monthly report (/staff/report): what an inspector hands to the 纪委, as a page and XLSX.

Appeals received in one month (Asia/Shanghai days, as for the statistics):
1. totals by type and by channel (the door it came in by, app.domain.types.Channel; "" for
   appeals received before it was recorded), with the previous month (环比) and the same
   month a year earlier (同比);
2. the statistics' department table (app.services.stats.table), ranked;
3. every appeal answered late (round 1's first reply after the deadline then in force:
   first_reply_at > first_reply_due_at, the statistics' own facts) with its working days
   late, and every one still unanswered past its deadline now (the statistics' "overdue");
4. the 督办 issued in the month (by supervision_order.issued_at) and their outcome;
5. the first-level categories that grew most against the previous month;
6. 还利于民 recorded in the month;
7. the month's top hotspots (app.services.hotspots): the 30-day hotspots found by a build at
   some time in the month (first seen before its end, last computed after its start; reports
   are never in one), the HOTSPOT_TOP hottest by their last heat.

The lists are read in key-paged batches of plain rows (no ORM objects), in the order of the
submitted_at index, so each batch is a short index range and the month is read once.
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import xlsxwriter
from tortoise import connections

from app.domain.clock import WorkingCalendar, start_of_day, to_local, working_days_between
from app.domain.masking import mask_free_text
from app.domain.types import CHANNEL_LABELS, TYPE_LABELS
from app.models import Account, AuditEntry, Category, Department, Hotspot, Region, SupervisionOrder
from app.rules import Rules
from app.services import benefits as benefit_totals
from app.services import exports, stats
from app.services.detectors import UNASSIGNED, Scope, Sql
from app.services.lists import FIRST_DAY

BATCH = 5000
GROWTH_TOP = 10
GROWTH_MIN = 5  # appeals in the month, below which a category's growth is noise
HOTSPOT_TOP = 10
HOTSPOT_PERIOD = 30
LATE = stats.LATE
UNASSIGNED_NAME = "待分派（已退回）"
UNRECORDED = "未记录"
CHANNEL_NOTE = (f"来源渠道按诉求提交时记录的渠道统计；开始记录渠道之前受理的诉求计为"
                f"“{UNRECORDED}”。渠道没有对应的统计清单，故不带链接。")
HOTSPOT_NOTE = ("本月内曾出现的近30天热点（首次出现早于月末、最近一次计算晚于月初），按热度取前 "
                f"{HOTSPOT_TOP} 个；件数、人数和热度为该热点最近一次计算的数值，定义见热点页面"
                "（/staff/hotspots）。举报不计入热点。")
OUTCOMES = {"on_time": "按时反馈", "late": "逾期反馈", "escalated": "逾期未反馈（已升级）",
            "open": "未反馈"}


# --- the month ---------------------------------------------------------------------------

def first_of(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def month_scope(first: date) -> Scope:
    return Scope(first, next_month(first) - timedelta(days=1))


def last_full_month(now: datetime) -> date:
    return previous_month(first_of(to_local(now).date()))


MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def month_of(text: str | None, now: datetime) -> tuple[date, dict[str, str]]:
    """The month `text` names (YYYY-MM), or the last full month and a Chinese message."""
    default = last_full_month(now)
    text = (text or "").strip()
    if not text:
        return default, {}
    found = MONTH.fullmatch(text)
    first = None
    if found and 1 <= int(found[2]) <= 12:
        first = date(int(found[1]), int(found[2]), 1)
    shown = text if len(text) <= 20 else text[:20] + "…"
    instead = f"已显示 {default:%Y-%m} 的报告。"
    if first is None:
        return default, {"month": f"月份“{shown}”无效，应为 YYYY-MM 格式（例如 "
                                  f"{default:%Y-%m}），{instead}"}
    if first < FIRST_DAY:
        return default, {"month": f"月份“{shown}”早于 {FIRST_DAY:%Y-%m}，{instead}"}
    if first > first_of(to_local(now).date()):
        return default, {"month": f"月份“{shown}”尚未到来，{instead}"}
    return first, {}


# --- what the report holds ---------------------------------------------------------------

def change(count: int, base: int) -> float | None:
    """The change from `base` to `count` as a fraction; None when the base is 0."""
    return (count - base) / base if base else None


@dataclass
class Compared:
    """Appeals of one type (or all: key "") this month, the month before, a year before."""

    key: str
    label: str
    count: int
    previous: int
    year_ago: int

    @property
    def mom(self) -> float | None:  # 环比
        return change(self.count, self.previous)

    @property
    def yoy(self) -> float | None:  # 同比
        return change(self.count, self.year_ago)


@dataclass
class LateRow:
    number: str
    title: str  # masked
    department: str
    department_code: str
    due_at: datetime
    replied_at: datetime
    days: int  # working days late


@dataclass
class OverdueRow:
    number: str
    title: str  # masked
    department: str
    department_code: str
    due_at: datetime
    days: int  # working days overdue now


@dataclass
class DepartmentLate:
    department: str
    code: str
    late: int = 0
    overdue: int = 0


@dataclass
class OrderRow:
    number: str
    title: str  # masked
    department: str
    department_code: str
    issued_at: datetime
    due_at: datetime
    answered_at: datetime | None
    escalated_at: datetime | None
    outcome: str  # a key of OUTCOMES

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]


@dataclass
class OrderCount:
    department: str
    code: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Growth:
    code: str
    name: str
    count: int
    previous: int

    @property
    def increase(self) -> int:
        return self.count - self.previous

    @property
    def change(self) -> float | None:
        return change(self.count, self.previous)


@dataclass
class HotspotRow:
    id: int
    label: str
    title: str  # masked
    region: str
    count: int
    previous: int
    people: int
    departments: list[str]
    unsatisfied: float | None  # share of the rated
    heat: float
    first_seen_at: datetime
    computed_at: datetime
    notified: bool

    @property
    def growth(self) -> float | None:
        return change(self.count, self.previous)


@dataclass
class Report:
    month: date  # its first day
    now: datetime
    scope: Scope
    previous: Scope
    year_ago: Scope
    totals: list[Compared]
    total: Compared
    channels: list[Compared]
    table: stats.Table
    late: list[LateRow]
    overdue: list[OverdueRow]
    late_by_department: list[DepartmentLate]
    orders: list[OrderRow]
    order_counts: list[OrderCount]
    order_total: OrderCount
    growth: list[Growth]
    growth_min: int = GROWTH_MIN
    channel_note: str = CHANNEL_NOTE
    # 还利于民 recorded in the month, verified as of `now` (app.services.benefits).
    benefits: benefit_totals.MonthTotals | None = None
    # The month's top 30-day hotspots (未诉先办), hottest first.
    hotspots: list[HotspotRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.month.year} 年 {self.month.month} 月"

    @property
    def rows(self) -> int:
        """Rows of the lists (for the export's audit entry)."""
        return len(self.late) + len(self.overdue) + len(self.orders)


# --- reading -----------------------------------------------------------------------------

def _utc(value: Any) -> datetime | None:
    """A time as the driver gives it (SQLite: text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class WorkingDays:
    """app.domain.clock.working_days_between, once per pair of local dates."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar, self.known = calendar, {}

    def between(self, a: datetime, b: datetime) -> int:
        key = (to_local(a).date(), to_local(b).date())
        if key not in self.known:
            self.known[key] = working_days_between(a, b, self.calendar)
        return self.known[key]


async def _query(sql: Sql, text: str) -> list[dict]:
    return await connections.get("default").execute_query_dict(text, sql.params)


async def _counts(scope: Scope) -> list[dict]:
    sql = Sql()
    return await _query(sql, "SELECT a.type AS t, a.channel AS ch, a.category_id AS c, "
                             f"COUNT(*) AS n FROM appeal a WHERE {scope.where(sql)} "
                             "GROUP BY a.type, a.channel, a.category_id")


async def _departments() -> dict[int | None, tuple[str, str]]:
    """id -> (code, name), and None for appeals back in triage."""
    found: dict[int | None, tuple[str, str]] = {
        i: (c, n) for i, c, n in await Department.all().values_list("id", "code", "name")}
    found[None] = (UNASSIGNED, UNASSIGNED_NAME)
    return found


def _counted(months: list[list[dict]], column: str) -> list[dict[str, int]]:
    counts: list[dict[str, int]] = [{} for _ in months]
    for found, parts in zip(counts, months, strict=True):
        for part in parts:
            key = part[column] or ""
            found[key] = found.get(key, 0) + int(part["n"])
    return counts


def _totals(months: list[list[dict]]) -> tuple[list[Compared], Compared]:
    counts = _counted(months, "t")
    rows = [Compared(t.value, label, *(c.get(t.value, 0) for c in counts))
            for t, label in TYPE_LABELS.items()]
    return rows, Compared("", "合计", *(sum(c.values()) for c in counts))


def _channels(months: list[list[dict]]) -> list[Compared]:
    """Every channel, and the appeals of no recorded channel if there are any."""
    counts = _counted(months, "ch")
    labels = {c.value: label for c, label in CHANNEL_LABELS.items()}
    rows = [Compared(key, label, *(c.get(key, 0) for c in counts))
            for key, label in labels.items()]
    unknown = [sum(n for k, n in c.items() if k not in labels) for c in counts]
    if any(unknown):
        rows.append(Compared("", UNRECORDED, *unknown))
    return rows


async def _growth(this: list[dict], before: list[dict], least: int) -> list[Growth]:
    """First-level categories (with everything under them) by their increase."""
    categories = await Category.all().values_list("id", "code", "name", "parent_id")
    parent = {i: p for i, _, _, p in categories}
    names = {i: (c, n) for i, c, n, _ in categories}

    def top(i: int) -> int:
        seen = 0
        while parent.get(i) is not None and seen < 10:
            i, seen = parent[i], seen + 1
        return i

    def counted(parts: list[dict]) -> dict[int, int]:
        found: dict[int, int] = {}
        for part in parts:
            if part["c"] is not None:
                key = top(int(part["c"]))
                found[key] = found.get(key, 0) + int(part["n"])
        return found

    now, earlier = counted(this), counted(before)
    grown = [Growth(*names[i], n, earlier.get(i, 0)) for i, n in now.items()
             if n >= least and n > earlier.get(i, 0) and i in names]
    grown.sort(key=lambda g: (-g.increase, -g.count, g.code))
    return grown[:GROWTH_TOP]


async def _seek(select, scope: Scope, condition):
    """Batches of the rows of `select` (columns of `a`) received in `scope` where
    `condition(sql)` holds, in submitted_at and id order, each an index range."""
    key, size = None, BATCH
    while True:
        sql = Sql()
        text = f"SELECT a.id, a.submitted_at, {select(sql)} FROM appeal a " \
               f"WHERE {scope.where(sql)} AND ({condition(sql)})"
        if key is not None:
            # The first bound alone is what the index range starts from.
            at, later = sql.param(key[0]), sql.param(key[0])
            text += f" AND a.submitted_at >= {at} AND (a.submitted_at > {later} " \
                    f"OR a.id > {sql.param(key[1])})"
        rows = await _query(sql, f"{text} ORDER BY a.submitted_at, a.id LIMIT {size}")
        if rows:
            yield rows
        if len(rows) < size:
            return
        key = rows[-1]["submitted_at"], rows[-1]["id"]


async def _late_and_overdue(scope: Scope, now: datetime, days: WorkingDays,
                            departments: dict) -> tuple[list[LateRow], list[OverdueRow]]:
    overdue = stats.BY_KEY["overdue"].condition

    def select(sql: Sql) -> str:
        return ("a.tracking_number, a.title, a.department_id, a.first_reply_at, "
                f"a.first_reply_due_at, a.reply_due_at, CASE WHEN {LATE} THEN 1 ELSE 0 END "
                f"AS late, CASE WHEN {overdue(sql, now)} THEN 1 ELSE 0 END AS overdue")

    late, still = [], []
    async for rows in _seek(select, scope, lambda sql: f"{LATE} OR {overdue(sql, now)}"):
        for row in rows:
            code, name = departments.get(row["department_id"], (UNASSIGNED, UNASSIGNED_NAME))
            title = mask_free_text(row["title"])
            if row["late"]:
                due, replied = _utc(row["first_reply_due_at"]), _utc(row["first_reply_at"])
                late.append(LateRow(row["tracking_number"], title, name, code, due, replied,
                                    days.between(due, replied)))
            if row["overdue"]:
                due = _utc(row["reply_due_at"])
                still.append(OverdueRow(row["tracking_number"], title, name, code, due,
                                        days.between(due, now)))
    late.sort(key=lambda r: (r.department_code == UNASSIGNED, r.department_code, -r.days,
                             r.number))
    still.sort(key=lambda r: (r.department_code == UNASSIGNED, r.department_code, -r.days,
                              r.number))
    return late, still


def _by_department(late: list[LateRow], overdue: list[OverdueRow]) -> list[DepartmentLate]:
    found: dict[str, DepartmentLate] = {}
    for row in late:
        found.setdefault(row.department_code, DepartmentLate(row.department,
                                                             row.department_code)).late += 1
    for row in overdue:
        found.setdefault(row.department_code, DepartmentLate(row.department,
                                                             row.department_code)).overdue += 1
    return sorted(found.values(), key=lambda d: (d.code == UNASSIGNED, d.code))


def outcome(answered_at: datetime | None, due_at: datetime,
            escalated_at: datetime | None) -> str:
    if answered_at is not None:
        return "on_time" if answered_at <= due_at else "late"
    return "escalated" if escalated_at is not None else "open"


async def _orders(scope: Scope, departments: dict) -> list[OrderRow]:
    start = start_of_day(scope.start).astimezone(UTC)
    end = start_of_day(scope.end + timedelta(days=1)).astimezone(UTC)
    found, last, size = [], 0, BATCH
    while True:
        rows = await SupervisionOrder.filter(issued_at__gte=start, issued_at__lt=end,
                                             id__gt=last).order_by("id").limit(size).values(
            "id", "department_id", "issued_at", "due_at", "answered_at", "escalated_at",
            "appeal__tracking_number", "appeal__title")
        for row in rows:
            code, name = departments.get(row["department_id"], (UNASSIGNED, UNASSIGNED_NAME))
            due, answered, escalated = (_utc(row[k]) for k in
                                        ("due_at", "answered_at", "escalated_at"))
            found.append(OrderRow(row["appeal__tracking_number"],
                                  mask_free_text(row["appeal__title"]), name, code,
                                  _utc(row["issued_at"]), due, answered, escalated,
                                  outcome(answered, due, escalated)))
        if len(rows) < size:
            break
        last = rows[-1]["id"]
    found.sort(key=lambda o: (o.department_code, o.issued_at, o.number))
    return found


async def _hotspots(scope: Scope) -> list[HotspotRow]:
    start = start_of_day(scope.start).astimezone(UTC)
    end = start_of_day(scope.end + timedelta(days=1)).astimezone(UTC)
    rows = await Hotspot.filter(period_days=HOTSPOT_PERIOD, first_seen_at__lt=end,
                                computed_at__gte=start).order_by("-heat", "id").limit(HOTSPOT_TOP)
    ids = sorted({h.region_id for h in rows})
    regions = dict(await Region.filter(id__in=ids).values_list("id", "name")) if ids else {}
    return [HotspotRow(h.id, h.label, mask_free_text(h.title), regions.get(h.region_id, ""),
                       h.appeal_count, h.previous_count, h.people, list(h.departments or []),
                       h.unsatisfied / h.rated if h.rated else None, h.heat, h.first_seen_at,
                       h.computed_at, h.notified_at is not None) for h in rows]


def _order_counts(orders: list[OrderRow]) -> tuple[list[OrderCount], OrderCount]:
    found: dict[str, OrderCount] = {}
    total = OrderCount("合计", "")
    for order in orders:
        found.setdefault(order.department_code,
                         OrderCount(order.department, order.department_code)
                         ).counts[order.outcome] += 1
        total.counts[order.outcome] += 1
    return sorted(found.values(), key=lambda c: c.code), total


async def monthly(month: date, now: datetime, rules: Rules, rank: str = "reply") -> Report:
    """The report of the appeals received in `month` (any day of it), as of `now`.

    The queries are independent and go out together (on PostgreSQL each takes a connection
    of the pool, so the month is read on both cores); not for use inside a transaction."""
    first = first_of(month)
    scope, before = month_scope(first), month_scope(previous_month(first))
    year_ago = month_scope(first.replace(year=first.year - 1))
    departments = await _departments()
    this, earlier, last_year, table, (late, overdue), orders = await asyncio.gather(
        _counts(scope), _counts(before),
        _counts(year_ago),
        stats.table(scope, now, rank, rules.detectors.stats_min_volume),
        _late_and_overdue(scope, now, WorkingDays(rules.calendar), departments),
        _orders(scope, departments))
    months = [this, earlier, last_year]
    totals, total = _totals(months)
    counts, order_total = _order_counts(orders)
    return Report(first, now, scope, before, year_ago, totals, total, _channels(months),
                  table, late, overdue, _by_department(late, overdue), orders, counts,
                  order_total, await _growth(this, earlier, GROWTH_MIN),
                  benefits=await benefit_totals.month_totals(first, next_month(first)),
                  hotspots=await _hotspots(scope))


# --- XLSX --------------------------------------------------------------------------------

PERCENT = "0.0%"
SIGNED_PERCENT = "+0.0%;-0.0%;0.0%"
YUAN = "#,##0.00"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text stays text: a cell is never read as a formula, a link or a number.
XLSX_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                "strings_to_urls": False, "strings_to_numbers": False}


def _when(at: datetime | None) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _sheet_rows(report: Report) -> dict[str, tuple[tuple, Iterable[tuple]]]:
    """Each sheet's header and rows; a rate is ("%", value, format), None shows "—"."""
    def pct(value: float | None, fmt: str = PERCENT) -> tuple:
        return ("%", value, fmt)

    def signed(value: float | None) -> tuple:
        return pct(value, SIGNED_PERCENT)

    def compared(rows: list[Compared]) -> list[tuple]:
        return [(c.label, c.count, c.previous, signed(c.mom), c.year_ago, signed(c.yoy))
                for c in [*rows, report.total]]

    def department(row: stats.Row, rank: Any) -> tuple:
        c = row.counts
        return (rank, row.name, c["received"], c["ack_on_time"], c["assigned"],
                pct(row.rate("ack")), c["reply_on_time"], c["due"], pct(row.rate("reply")),
                c["overdue"], row.mean_days, row.median_days, c["satisfied"], c["rated"],
                pct(row.rate("satisfaction")), c["redone"], c["replied"],
                pct(row.rate("redo")), c["returned"], pct(row.rate("return")), c["extended"],
                pct(row.rate("extension")), c["supervised"], c["supervised_on_time"])

    table = [department(r, r.rank if r.ranked else "不参与排名") for r in report.table.rows]
    table.append(department(report.table.total, ""))
    rank_title = stats.RATE_BY_KEY[report.table.rank].title
    return {
        "说明": (("项目", "内容"), [
            ("报告月份", f"{report.month:%Y-%m}"), ("生成时间", _when(report.now)),
            ("统计口径", "按受理日期（北京时间）统计本月收到的诉求，诉求计入它当前所在的部门。"),
            ("来源渠道", report.channel_note),
            ("排名", f"按{rank_title}排名；受理少于 {report.table.min_volume} 件的部门"
                     "不参与排名。"),
            ("逾期答复", "第一轮首次答复晚于当时有效的答复期限（含获准延期）；"
                         "逾期工作日按工作日历计算。"),
            ("超期未答复", "现在仍在办理中（未答复、未在等待群众补充材料）且已过答复期限。"),
            ("热点", HOTSPOT_NOTE),
        ]),
        "类型总量": (("类型", "本月", "上月", "环比", "去年同月", "同比"),
                  compared(report.totals)),
        "渠道总量": (("渠道", "本月", "上月", "环比", "去年同月", "同比"),
                  compared(report.channels)),
        "部门排名": ((f"排名（{rank_title}）", "部门", "受理", "按时签收", "已分派", "签收及时率",
                    "按时答复", "应答复", "按时答复率", "超期未答复", "首次答复平均工作日",
                    "首次答复工作日中位数", "满意及基本满意", "已评价", "满意率", "不满意重办",
                    "已答复", "重办率", "被退回", "退回率", "获准延期", "延期率", "督办",
                    "督办按时反馈"), table),
        "逾期答复": (("受理编号", "标题", "承办部门", "答复期限", "首次答复时间", "逾期工作日"),
                   ((r.number, r.title, r.department, _when(r.due_at), _when(r.replied_at),
                     r.days) for r in report.late)),
        "超期未答复": (("受理编号", "标题", "承办部门", "答复期限", "已超期工作日"),
                    ((r.number, r.title, r.department, _when(r.due_at), r.days)
                     for r in report.overdue)),
        "督办汇总": (("部门", *OUTCOMES.values(), "合计"),
                   ((c.department, *c.counts.values(), c.total)
                    for c in [*report.order_counts, report.order_total])),
        "督办清单": (("受理编号", "标题", "承办部门", "督办时间", "反馈期限", "反馈时间", "结果"),
                   ((o.number, o.title, o.department, _when(o.issued_at), _when(o.due_at),
                     _when(o.answered_at), o.outcome_label) for o in report.orders)),
        "增长领域": (("领域（一级）", "本月", "上月", "增加", "增幅"),
                   ((g.name, g.count, g.previous, g.increase, signed(g.change))
                    for g in report.growth)),
        "还利于民": (("分组", "名称", "已核实金额（元）", "件数", "受益人次"),
                   _benefit_rows(report.benefits)),
        "热点": (("热度", "热点", "代表性标题", "地区", "近30天件数", "上期件数", "增长",
                "涉及群众", "涉及部门", "不满意占比", "首次出现", "最近计算", "已提醒"),
               ((h.heat, h.label, h.title, h.region, h.count, h.previous, signed(h.growth),
                 h.people, "、".join(h.departments), pct(h.unsatisfied), _when(h.first_seen_at),
                 _when(h.computed_at), "是" if h.notified else "否")
                for h in report.hotspots)),
    }


def _benefit_rows(found: benefit_totals.MonthTotals | None) -> list[tuple]:
    """The month's verified 还利于民 by department and by kind, in yuan (exact: fen / 100
    has at most two decimals), then the entries waiting and rejected."""
    if found is None:
        return []

    def row(group: str, t: benefit_totals.Total) -> tuple:
        return (group, t.label, ("%", t.fen / 100, YUAN), t.entries, t.people)

    return [*(row("部门", t) for t in found.departments), *(row("类型", t) for t in found.kinds),
            row("合计", found.total), ("待核实", "件数", None, found.pending, None),
            ("已驳回", "件数", None, found.rejected, None)]


def _write_row(sheet: Any, number: int, row: tuple, formats: dict) -> None:
    for column, value in enumerate(row):
        if isinstance(value, tuple):  # a rate
            _, value, fmt = value
            if value is not None:
                sheet.write_number(number, column, value, formats[fmt])
                continue
        if value is None:
            sheet.write_string(number, column, "—")
        elif isinstance(value, int | float):
            sheet.write_number(number, column, value)
        else:
            sheet.write_string(number, column, exports.neutralise(str(value)))


def _write(report: Report, path: str) -> None:
    book = xlsxwriter.Workbook(path, XLSX_OPTIONS)
    try:
        formats = {f: book.add_format({"num_format": f})
                   for f in (PERCENT, SIGNED_PERCENT, YUAN)}
        for title, (header, rows) in _sheet_rows(report).items():
            sheet = book.add_worksheet(title)
            _write_row(sheet, 0, header, formats)
            for number, row in enumerate(rows, 1):
                _write_row(sheet, number, row, formats)
    finally:
        book.close()


async def xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook, one sheet per table, written row by row to a
    temporary file (xlsxwriter's constant-memory mode) off the event loop."""
    fd, path = tempfile.mkstemp(prefix="minsheng-report-", suffix=".xlsx")
    os.close(fd)
    try:
        await anyio.to_thread.run_sync(_write, report, path)
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


async def start_record(account: Account, report: Report, now: datetime) -> AuditEntry:
    """The download's audit entry, listed with the other exports (app.services.exports)."""
    return await exports.start_record(
        account, "xlsx", {"month": f"{report.month:%Y-%m}", "rank": report.table.rank}, now,
        kind="monthly_report")


finish_record = exports.finish_record
