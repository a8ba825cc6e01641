"""Statistics by department (/staff/stats): every figure a count in SQL, with its list.

A figure is one SQL condition over the appeal row (alias `a`); the table is one GROUP BY
a.department_id of COUNT(*) FILTER (WHERE condition) per figure, and a figure's list is the same
condition with a seek over the id, so the list's count is the figure. An appeal counts for
the department it is with now (NULL: back in triage); the period is by date received
(Asia/Shanghai days), as for the detectors (whose Sql and Scope this reuses).

Every condition reads the appeal row alone (and the small supervision_order table): the
facts that need an event or a reply are kept on the row when they happen (migration 0007).
Days to the first reply are working days, counted when round 1's first reply is given, on
the rules' calendar (app.services.handling.reply).
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from tortoise import connections

from app.domain.clock import start_of_day, to_local
from app.domain.rules import DetectorThresholds
from app.domain.states import COUNTS_AS_OVERDUE
from app.domain.types import TYPE_LABELS
from app.models import Category, Department, Region
from app.services import detectors, followup, misroutes
from app.services.detectors import UNASSIGNED, DetectorPage, Scope, Sql, scope_of
from app.services.lists import PAGE_SIZE, _subtree

OVERDUE_STATES = ", ".join(f"'{s.value}'" for s in sorted(COUNTS_AS_OVERDUE))


def _due(sql: Sql, now: datetime) -> str:
    # Replied with a deadline, or not replied and past it.
    return (f"((a.first_reply_at IS NOT NULL AND a.first_reply_due_at IS NOT NULL) "
            f"OR (a.first_reply_at IS NULL AND a.reply_due_at < {sql.param(now)}))")


def _overdue(sql: Sql, now: datetime) -> str:
    return (f"a.status IN ({OVERDUE_STATES}) AND a.reply_due_at IS NOT NULL "
            f"AND a.reply_due_at < {sql.param(now)}")


LATE = "a.first_reply_at > a.first_reply_due_at"  # round 1 answered after its deadline

# Small tables as hashed sets (IN): one probe per appeal, not a subquery per appeal.
SUPERVISED = "a.id IN (SELECT o.appeal_id FROM supervision_order o)"
SUPERVISED_ON_TIME = ("a.id IN (SELECT o.appeal_id FROM supervision_order o "
                      "WHERE o.answered_at IS NOT NULL AND o.answered_at <= o.due_at)")


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    condition: Callable[[Sql, datetime], str]


# 并单: a merged member is one more resident, not one more piece of work. The workload
# figures count the main appeal once (MAIN_ONLY); the residents' own judgement (their rating,
# the 回访 call to each of them) counts every resident.
MAIN_ONLY = "a.merged_into_id IS NULL"
PER_RESIDENT = {"rated", "satisfied", "followed_up", "followup_reached", "followup_solved"}
MERGE_DEFINITION = ("并单：并入主诉求一并办理的诉求，在受理、签收、答复、超期、退回、延期、督办等"
                    "工作量数字中只按主诉求计一件；评价和回访按每位群众各计一次。")


def _once(figure: Figure) -> Figure:
    if figure.key in PER_RESIDENT:
        return figure
    return replace(figure, condition=lambda s, n, c=figure.condition: f"({c(s, n)}) AND "
                                                                      f"{MAIN_ONLY}")


_FIGURES = (
    Figure("received", "受理", lambda s, n: "1 = 1"),
    Figure("assigned", "已分派", lambda s, n: "a.assigned_at IS NOT NULL"),
    Figure("ack_on_time", "按时签收",
           lambda s, n: "a.assigned_at IS NOT NULL AND a.acknowledged_at IS NOT NULL "
                        "AND a.ack_due_at IS NOT NULL AND a.acknowledged_at <= a.ack_due_at"),
    Figure("due", "应答复", _due),
    Figure("reply_on_time", "按时答复",
           lambda s, n: "a.first_reply_at <= a.first_reply_due_at"),
    Figure("reply_late", "逾期答复", lambda s, n: LATE),
    Figure("overdue", "超期未答复", _overdue),
    Figure("replied", "已答复", lambda s, n: "a.first_reply_at IS NOT NULL"),
    Figure("rated", "已评价", lambda s, n: "a.rating <> ''"),
    Figure("satisfied", "满意及基本满意",
           lambda s, n: "a.rating IN ('satisfied', 'basically_satisfied')"),
    Figure("redone", "不满意重办",
           lambda s, n: "a.first_reply_at IS NOT NULL AND a.was_redone"),
    Figure("returned", "被退回", lambda s, n: "a.assigned_at IS NOT NULL AND a.return_count > 0"),
    Figure("extended", "获准延期", lambda s, n: "a.assigned_at IS NOT NULL AND a.was_extended"),
    Figure("supervised", "督办", lambda s, n: SUPERVISED),
    Figure("supervised_on_time", "督办按时反馈", lambda s, n: SUPERVISED_ON_TIME),
    # 回访, as app.services.followup counts them (the current closing's settled call).
    *(Figure(key, *followup.figures(None)[key])
      for key in ("followed_up", "followup_reached", "followup_solved")),
)
FIGURES = tuple(_once(f) for f in _FIGURES)
BY_KEY = {f.key: f for f in FIGURES}
# The misroute table's figures (app.services.misroutes), listed here too but not in the
# department table: their conditions read the appeal's events.
MISROUTE_FIGURES = tuple(Figure(f"misroute_{key}", title, lambda s, n, c=condition: c)
                         for key, (title, condition) in misroutes.FIGURES.items())
LIST_BY_KEY = {**BY_KEY, **{f.key: f for f in MISROUTE_FIGURES}}


@dataclass(frozen=True)
class Rate:
    key: str
    title: str
    numerator: str
    denominator: str
    definition: str


RATES = (
    Rate("ack", "签收及时率", "ack_on_time", "assigned",
         "响应率：分派到部门的诉求中，在签收期限（ack_due_at）前签收的比例。"
         "按时签收件数 ÷ 已分派件数。"),
    Rate("reply", "按时答复率", "reply_on_time", "due",
         "解决率（按时答复）：第一轮首次答复时间不晚于答复期限（已含获准延期）的比例。"
         "分母为应答复件数：已答复的，加上期限已过仍未答复的。"),
    Rate("satisfaction", "满意率", "satisfied", "rated",
         "满意率：群众最终评价为“满意”或“基本满意”的件数 ÷ 已评价件数（按诉求当前评价）。"),
    Rate("redo", "重办率", "redone", "replied",
         "重办率：评价“不满意”后重办的件数 ÷ 已答复件数。"),
    Rate("return", "退回率", "returned", "assigned",
         "退回率：曾被部门退回的诉求件数 ÷ 已分派件数（按诉求计，一件退回多次计一件）。"),
    Rate("extension", "延期率", "extended", "assigned",
         "延期率：获准延期的诉求件数 ÷ 已分派件数。"),
    Rate("supervision", "督办按时反馈率", "supervised_on_time", "supervised",
         "督办：被督办的诉求件数，其中在督办期限前反馈的比例。"),
    Rate("followup", "回访解决率", "followup_solved", "followup_reached",
         "回访解决率：办结后回访接通的诉求中，群众表示问题已解决的比例（部分解决不计入）。"
         "“已回访”另含多次未接通而结束的回访；回访未解决重新办理的，以最近一次回访为准。"),
)
RATE_BY_KEY = {r.key: r for r in RATES}
# The figures that are not rates, in the words every page that shows them uses.
RECEIVED_DEFINITION = "期间内收到的诉求件数（按北京时间受理日期）。"
DAYS_DEFINITION = ("从受理到第一轮首次答复经过的工作日数（按工作日历，受理当天不计、答复当天计入；"
                   "当天答复为 0），平均值与中位数。")


def ranking_definition(min_volume: int) -> str:
    return f"受理少于 {min_volume} 件的部门列出但不参与排名。"
RANKABLE = {"ack", "reply", "satisfaction", "redo", "return", "extension", "supervision",
            "followup"}
LOWER_IS_BETTER = {"redo", "return", "extension"}


@dataclass
class Row:
    department_id: int | None
    name: str
    code: str
    counts: dict[str, int]
    mean_days: float | None = None
    median_days: float | None = None
    rank: int | None = None
    ranked: bool = False

    def rate(self, key: str) -> float | None:
        rate = RATE_BY_KEY[key]
        base = self.counts.get(rate.denominator, 0)
        return self.counts.get(rate.numerator, 0) / base if base else None


@dataclass
class Table:
    rows: list[Row]
    total: Row
    rank: str
    min_volume: int
    hidden: list[str] = field(default_factory=list)
    months: list[Month] | None = None  # the trend, when asked for


def _counts(sql: Sql, now: datetime, figures) -> str:
    # COUNT(*) FILTER rather than SUM(CASE ...): no CASE to evaluate, a plain count.
    return ", ".join(f"COUNT(*) FILTER (WHERE {f.condition(sql, now)}) AS {f.key}"
                     for f in figures)


async def _counted(scope: Scope, now: datetime, by_region: bool = False) -> list[dict]:
    """Every figure by department and by working days to the first reply, in one scan: the
    rows of a department add up to its counts, and the days give its mean and median.
    (Not GROUPING SETS with the months: PostgreSQL would then aggregate in one process.)
    `by_region`: by the appeal's region too (`r`), so one scan serves both tables."""
    sql = Sql()
    region, group = ("a.region_id AS r, ", "a.department_id, a.region_id") if by_region \
        else ("", "a.department_id")
    query = (f"SELECT a.department_id AS d, {region}a.first_reply_days AS days, "
             f"{_counts(sql, now, FIGURES)} FROM appeal a WHERE {scope.where(sql)} "
             f"GROUP BY {group}, a.first_reply_days")
    return await connections.get("default").execute_query_dict(query, sql.params)


def _middle(days: Mapping[int, int]) -> float | None:
    """The median of a histogram {days: how many}: the middle one, or the mean of two."""
    count = sum(days.values())
    if not count:
        return None
    wanted, seen, found = {(count + 1) // 2, count // 2 + 1}, 0, []
    for value in sorted(days):
        before, seen = seen, seen + days[value]
        found += [value for place in wanted if before < place <= seen]
    return sum(found) / len(found)


def _summed(key: int | None, name: str, code: str, parts: list[dict]) -> Row:
    counts = {f.key: sum(int(p[f.key] or 0) for p in parts) for f in FIGURES}
    days: dict[int, int] = {}
    for p in parts:
        if p["days"] is not None and p["replied"]:
            days[int(p["days"])] = days.get(int(p["days"]), 0) + int(p["replied"])
    replied = sum(days.values())
    mean = sum(d * n for d, n in days.items()) / replied if replied else None
    return Row(key, name, code, counts, mean, _middle(days))


def _rank(rows: list[Row], rank: str, min_volume: int) -> None:
    eligible = [r for r in rows if r.counts["received"] >= min_volume
                and r.rate(rank) is not None]
    sign = 1 if rank in LOWER_IS_BETTER else -1
    eligible.sort(key=lambda r: (sign * r.rate(rank), r.name))
    previous, place = None, 0
    for i, row in enumerate(eligible, start=1):
        if row.rate(rank) != previous:
            place, previous = i, row.rate(rank)
        row.rank, row.ranked = place, True


async def table(scope: Scope, now: datetime, rank: str, min_volume: int,
                only_department: int | None = None, with_trend: bool = False) -> Table:
    """One row per department of `scope`, ranked by the rate `rank`; with `only_department`,
    just that department's row (and its rank among all), and the totals of that row.
    `with_trend`: the scope's months too (Table.months), from the same scan where it can."""
    found = await _counted(scope, now)
    by_department = _grouped(found, "d")
    rows = await _department_rows(by_department)
    _ranked(rows, rank, min_volume)
    if only_department is not None:
        rows = [r for r in rows if r.department_id == only_department]
        found = by_department.get(only_department, [])
    total = _summed(None, "合计", "", found)
    months = None
    if with_trend:
        months = await _trend_of(scope, now, total) if only_department is None \
            else await trend(scope, now)
    return Table(rows, total, rank, min_volume, months=months)


def _grouped(found: list[dict], key: str) -> dict[int | None, list[dict]]:
    groups: dict[int | None, list[dict]] = {}
    for part in found:
        groups.setdefault(part[key], []).append(part)
    return groups


async def _department_rows(groups: dict[int | None, list[dict]]) -> list[Row]:
    names = {i: (n, c) for i, n, c in await Department.filter(
        id__in=[d for d in groups if d]).values_list("id", "name", "code")}
    return [_summed(d, *names.get(d, ("待分派（已退回）", UNASSIGNED)), parts)
            for d, parts in groups.items()]


async def _region_rows(groups: dict[int | None, list[dict]]) -> list[Row]:
    # A region's row keeps the region's id where a department's row keeps the department's.
    names = {i: (n, c) for i, n, c in await Region.filter(
        id__in=[r for r in groups if r]).values_list("id", "name", "code")}
    return [_summed(r, *names.get(r, ("未知地区", "")), parts) for r, parts in groups.items()]


def _ranked(rows: list[Row], rank: str, min_volume: int) -> None:
    _rank(rows, rank, min_volume)
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, -r.counts["received"], r.name))


async def _trend_of(scope: Scope, now: datetime, total: Row) -> list[Month]:
    # One month's trend is the totals; a longer period needs its own scan.
    starts = _month_starts(scope)
    if len(starts) == 1:
        return _months(scope, starts, {0: total.counts})
    return await trend(scope, now)


@dataclass
class Tables:
    """The same scan summed two ways: by department and by the appeal's region."""

    departments: Table
    regions: Table


async def by_department_and_region(scope: Scope, now: datetime, rank: str, min_volume: int,
                                   with_trend: bool = False) -> Tables:
    """Both tables of `scope`, each ranked by `rank` with the same minimum volume, from one
    grouped scan (and the trend: the totals for one month, else a second scan)."""
    found = await _counted(scope, now, by_region=True)
    departments = await _department_rows(_grouped(found, "d"))
    regions = await _region_rows(_grouped(found, "r"))
    for rows in (departments, regions):
        _ranked(rows, rank, min_volume)
    total = _summed(None, "合计", "", found)
    months = await _trend_of(scope, now, total) if with_trend else None
    return Tables(Table(departments, total, rank, min_volume, months=months),
                  Table(regions, total, rank, min_volume, months=months))


PERIODS = {"month": "本月", "last-month": "上月", "quarter": "本季度", "year": "本年"}


def period_of(name: str, now: datetime) -> tuple[date, date] | None:
    today = to_local(now).date()
    first = today.replace(day=1)
    if name == "month":
        return first, today
    if name == "last-month":
        end = first - timedelta(days=1)
        return end.replace(day=1), end
    if name == "quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    if name == "year":
        return today.replace(month=1, day=1), today
    return None


@dataclass(frozen=True)
class StatsScope(Scope):
    """A detectors' scope narrowed further: a region and everything under it, a category and
    everything under it, a type (codes as asked, and the ids they stand for); a first-level
    category as the misroute table names it (app.services.misroutes)."""

    region: str = ""
    region_ids: tuple[int, ...] = ()
    category: str = ""
    category_ids: tuple[int, ...] = ()
    type: str = ""
    first_level: misroutes.FirstLevel | None = None

    def params(self, department: str | None = None) -> dict[str, str]:
        more = {"region": self.region, "category": self.category, "type": self.type,
                "first_level": self.first_level.name if self.first_level else ""}
        return {**super().params(department), **{k: v for k, v in more.items() if v}}

    def where(self, sql: Sql) -> str:
        parts = [super().where(sql)]
        for column, ids in (("a.region_id", self.region_ids),
                            ("a.category_id", self.category_ids)):
            if ids:
                parts.append(f"{column} IN ({', '.join(sql.param(i) for i in ids)})")
        if self.type:
            parts.append(f"a.type = {sql.param(self.type)}")
        if self.first_level:
            parts.append(self.first_level.where(sql))
        return " AND ".join(parts)


async def _narrowed(scope: Scope, params: Mapping[str, str], errors: dict[str, str]
                    ) -> StatsScope:
    found: dict = {}
    for name, model, label in (("region", Region, "地区"), ("category", Category, "领域")):
        code = (params.get(name) or "").strip()
        if not code:
            continue
        ids = await _subtree(model, code) if len(code) <= 40 and "\x00" not in code else []
        if ids:
            found[name], found[f"{name}_ids"] = code, tuple(ids)
        else:
            errors[name] = f"没有这个{label}，已显示全部{label}。"
    kind = (params.get("type") or "").strip()
    if kind and kind not in {t.value for t in TYPE_LABELS}:
        errors["type"] = "没有这个诉求类型，已显示全部类型。"
    elif kind:
        found["type"] = kind
    top = (params.get("first_level") or "").strip()
    if top:
        found["first_level"] = await misroutes.first_level(top) if len(top) <= 100 else None
        if found["first_level"] is None:
            errors["first_level"] = "没有这个一级分类，已显示全部分类。"
    return StatsScope(scope.start, scope.end, scope.department_id, scope.department, **found)


async def stats_scope(params: Mapping[str, str], now: datetime
                      ) -> tuple[StatsScope, dict[str, str]]:
    """From, to and department as for the detectors; a period shortcut wins over from/to;
    the default is this month. Then region, category and type."""
    errors: dict[str, str] = {}
    period = (params.get("period") or "").strip()
    if period and period not in PERIODS:
        errors["period"] = "时间段应为本月、上月、本季度或本年。"
        period = ""
    explicit = any((params.get(n) or "").strip() for n in ("from", "to"))
    start, end = period_of(period or "month", now)
    fixed = dict(params)
    if period or not explicit:
        fixed["from"], fixed["to"] = start.isoformat(), end.isoformat()
    days = DetectorThresholds(period_days=(end - start).days + 1)
    scope, found = await scope_of(fixed, end_of(end), days)
    errors.update(found)
    return await _narrowed(scope, params, errors), errors


def end_of(day: date) -> datetime:
    """An instant whose local date is `day` (noon UTC is 20:00 in Asia/Shanghai)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@dataclass(frozen=True)
class _AsDetector:
    """A figure in the shape detectors.listing takes (no base; its condition at `now`)."""

    figure: Figure
    now: datetime
    base: None = None

    def condition(self, sql: Sql, thresholds: object) -> str:
        return self.figure.condition(sql, self.now)


async def listing(figure: Figure, scope: Scope, now: datetime, after: int | None = None,
                  size: int = PAGE_SIZE) -> DetectorPage:
    """The appeals behind `figure` in `scope`, newest id first, after the id `after`."""
    return await detectors.listing(_AsDetector(figure, now), scope, None, after, size)


@dataclass
class Month:
    month: str  # YYYY-MM
    scope: Scope  # the days of the month inside the asked period
    received: int
    reply_on_time: int
    due: int

    @property
    def on_time_rate(self) -> float | None:
        return self.reply_on_time / self.due if self.due else None


TREND_MONTHS = 36


def _month_starts(scope: Scope) -> list[date]:
    first, found = scope.start.replace(day=1), []
    while first <= scope.end:
        found.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def _bucket(sql: Sql, starts: list[date]) -> str:
    """The index in `starts` of the month an appeal was received in, from comparisons of
    the stored instant with each month's first instant (no time-zone arithmetic per row)."""
    edges = [start_of_day(d).astimezone(UTC) for d in starts[1:]]
    if not edges:
        return "0"
    if sql.pg:
        return f"width_bucket(a.submitted_at, {sql.param(edges)}::timestamptz[])"
    steps = " ".join(f"WHEN a.submitted_at < {sql.param(e)} THEN {i}" for i, e in enumerate(edges))
    return f"CASE {steps} ELSE {len(edges)} END"


async def trend(scope: Scope, now: datetime) -> list[Month]:
    """Month by month (by date received) within the scope: received and replied on time.
    Nothing for a period of more than TREND_MONTHS months."""
    starts = _month_starts(scope)
    if len(starts) > TREND_MONTHS:
        return []
    sql = Sql()  # SQLite's placeholders are by position: build the text in its order
    month = _bucket(sql, starts)
    on_time, due = BY_KEY["reply_on_time"].condition(sql, now), BY_KEY["due"].condition(sql, now)
    query = (f"SELECT {month} AS m, COUNT(*) FILTER (WHERE {MAIN_ONLY}) AS received, "
             f"COUNT(*) FILTER (WHERE {on_time}) AS reply_on_time, "
             f"COUNT(*) FILTER (WHERE {due}) AS due FROM appeal a "
             f"WHERE {scope.where(sql)} GROUP BY 1")
    found = {int(r["m"]): r for r in
             await connections.get("default").execute_query_dict(query, sql.params)}
    return _months(scope, starts, found)


def _months(scope: Scope, starts: list[date], found: Mapping[int, Mapping]) -> list[Month]:
    months = []
    for i, first in enumerate(starts):
        after = (first + timedelta(days=32)).replace(day=1)
        row = found.get(i, {})
        part = replace(scope, start=max(first, scope.start),
                       end=min(after - timedelta(days=1), scope.end))
        months.append(Month(first.strftime("%Y-%m"), part, int(row.get("received") or 0),
                            int(row.get("reply_on_time") or 0), int(row.get("due") or 0)))
    return months


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    label: str
    value: int


CHART_HEIGHT, BAR_WIDTH, BAR_GAP = 120, 28, 8


def bars(months: list[Month]) -> list[Bar]:
    """Volume by month as bars of an SVG drawn on the server (the tallest fills the chart)."""
    top = max((m.received for m in months), default=0) or 1
    found = []
    for i, m in enumerate(months):
        height = round(m.received * CHART_HEIGHT / top)
        found.append(Bar(i * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT - height, height,
                         m.month[2:], m.received))
    return found


@dataclass(frozen=True)
class RateBar:
    y: int
    width: int
    name: str
    percent: str


RATE_WIDTH, RATE_ROW = 200, 20


def rate_bars(rows: list[Row], key: str = "reply") -> list[RateBar]:
    """The departments' rate `key` as horizontal bars (100% fills RATE_WIDTH)."""
    found = []
    for row in rows:
        rate = row.rate(key)
        found.append(RateBar(len(found) * RATE_ROW, round((rate or 0) * RATE_WIDTH), row.name,
                             f"{rate * 100:.1f}%" if rate is not None else "—"))
    return found
