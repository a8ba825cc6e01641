"""Detectors: patterns of handling inspectors look for, each a list and a count per department.

Each detector is one SQL condition over the appeal row (alias `a`) and its events; the counts
are one GROUP BY a.department_id, the lists a seek over the appeal id (newest first). An
appeal counts for the department it is with now (NULL: back in triage). The period is by
date received (Asia/Shanghai days).

"The last working day before the deadline": a deadline is the end of a working day (23:59:59
Asia/Shanghai, app.domain.clock), so that working day is the due date itself, and a reply
falls on it when its local date equals the local date of reply_due_at; both dates are taken
in SQL, so no calendar is walked per appeal.
"""

# The SQL below is text of our own: every outside value is a bound parameter, thresholds are
# ints from the rules.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from tortoise import connections

from app.domain.clock import start_of_day, to_local
from app.domain.rules import DetectorThresholds
from app.domain.states import Status
from app.models import Appeal, Department
from app.schemas.limits import DEPARTMENT_MAX
from app.services.lists import COLUMNS, FIRST_DAY, LAST_DAY, PAGE_SIZE

UNASSIGNED = "none"  # the department filter's value for appeals back in triage


class Sql:
    """SQL text for the engine in use, with its placeholders."""

    def __init__(self) -> None:
        self.pg = connections.get("default").capabilities.dialect == "postgres"
        self.params: list = []

    def param(self, value: object) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.pg else "?"

    def local_date(self, expr: str) -> str:
        if self.pg:
            return f"CAST(({expr}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"
        # SQLite rounds fractions to milliseconds (23:59:59.999999 would become the next
        # day): drop the fraction, keep the offset that ends every stored time.
        return f"date(substr({expr}, 1, 19) || substr({expr}, -6), '+8 hours')"

    def hours(self, start: str, end: str) -> str:
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 3600.0)"
        return f"((julianday({end}) - julianday({start})) * 24.0)"

    def json_time(self, column: str, key: str) -> str:
        if self.pg:
            return f"CAST(({column} ->> '{key}') AS TIMESTAMPTZ)"
        return f"json_extract({column}, '$.{key}')"


def _event(kind: str) -> str:
    return f"EXISTS (SELECT 1 FROM appeal_event e WHERE e.appeal_id = a.id AND e.kind = '{kind}')"


def _ping_pong(sql: Sql, t: DetectorThresholds) -> str:
    returns = "a.return_count"  # kept with each return event (app.services.workflow)
    departments = ("(SELECT COUNT(DISTINCT e.department_id) FROM appeal_event e "
                   "WHERE e.appeal_id = a.id AND e.department_id IS NOT NULL "
                   "AND e.kind IN ('route_confident', 'route_manual'))")
    return f"({returns} >= {int(t.ping_pong_returns)} " \
           f"OR {departments} >= {int(t.ping_pong_departments)})"


REPLIED = "a.replied_at IS NOT NULL AND a.reply_due_at IS NOT NULL"


def _last_day(sql: Sql, t: DetectorThresholds) -> str:
    return f"{sql.local_date('a.replied_at')} = {sql.local_date('a.reply_due_at')}"


def _perfunctory(sql: Sql, t: DetectorThresholds) -> str:
    return ("a.acknowledged_at IS NOT NULL AND EXISTS (SELECT 1 FROM appeal_reply r "
            f"WHERE r.appeal_id = a.id AND LENGTH(r.text) < {int(t.perfunctory_chars)} "
            f"AND {sql.hours('a.acknowledged_at', 'r.at')} <= {int(t.perfunctory_hours)})")


def _repeated_unsatisfied(sql: Sql, t: DetectorThresholds) -> str:
    return f"a.was_redone AND {_event('rate_unsatisfied_final')}"


def _extension_on_due_day(sql: Sql, t: DetectorThresholds) -> str:
    # The deadline that stood when it was asked: the one the next grant moved, else today's.
    standing = ("(SELECT " + sql.json_time("g.data", "old_due_at") + " FROM appeal_event g "
                "WHERE g.appeal_id = e.appeal_id AND g.kind = 'extension_grant' AND g.id > e.id "
                "ORDER BY g.id LIMIT 1)")
    due = sql.local_date(f"COALESCE({standing}, a.reply_due_at)")
    return ("EXISTS (SELECT 1 FROM appeal_event e WHERE e.appeal_id = a.id "
            f"AND e.kind = 'extension_request' AND {sql.local_date('e.at')} = {due})")


def _no_contact(sql: Sql, t: DetectorThresholds) -> str:
    return (f"a.status = '{Status.CLOSED.value}' AND NOT {_event('ask_info')} "
            f"AND LENGTH(a.reply_text) < {int(t.no_contact_reply_chars)}")


@dataclass(frozen=True)
class Detector:
    key: str
    title: str
    describe: Callable[[DetectorThresholds], str]
    condition: Callable[[Sql, DetectorThresholds], str]
    base: str | None = None  # the appeals a share is taken of (None: no share)
    base_title: str = ""


def _once(detector: Detector) -> Detector:
    """并单: a merged member repeats its main's handling; the main alone is counted."""
    return replace(detector, condition=lambda s, t, c=detector.condition:
                   f"({c(s, t)}) AND a.merged_into_id IS NULL")


DETECTORS = tuple(_once(d) for d in (
    Detector("ping-pong", "退回“踢皮球”",
             lambda t: f"被部门退回 {t.ping_pong_returns} 次及以上，或先后分派到 "
                       f"{t.ping_pong_departments} 个及以上部门的诉求（按退回事件和分派事件"
                       "所记部门计算）。计入诉求当前所在部门，已退回待分派的计入“待分派”。",
             _ping_pong),
    Detector("last-day", "卡点答复（最后一个工作日答复）",
             lambda t: "答复日期（北京时间）与答复期限所在日期相同的诉求：答复期限是某个工作日"
                       "的 24 时，所以这一天就是期限前的最后一个工作日（按规则中的工作日历）。"
                       "比例 = 卡点答复数 ÷ 已答复数，与全市比例对照。",
             _last_day, base=REPLIED, base_title="已答复"),
    Detector("perfunctory", "敷衍答复",
             lambda t: f"签收后 {t.perfunctory_hours} 小时内即答复、且答复不足 "
                       f"{t.perfunctory_chars} 个字的诉求（任一轮答复）。",
             _perfunctory),
    Detector("repeated-unsatisfied", "重复不满意",
             lambda t: "群众评价“不满意”后重办、重办后再次评价“不满意”的诉求"
                       "（两次不满意评价都有记录）。",
             _repeated_unsatisfied),
    Detector("extension-due-day", "期限当天申请延期",
             lambda t: "在答复期限当天（北京时间）才申请延期的诉求；期限指申请时有效的期限。",
             _extension_on_due_day),
    Detector("no-contact", "未联系群众即办结",
             lambda t: "已办结、办理中从未向群众补充询问材料，且答复不足 "
                       f"{t.no_contact_reply_chars} 个字的诉求。",
             _no_contact),
))
BY_KEY = {d.key: d for d in DETECTORS}


@dataclass(frozen=True)
class Scope:
    """Received from `start` to `end` (local days, both included), in one department or all.

    department_id: None for all, 0 for appeals back in triage."""

    start: date
    end: date
    department_id: int | None = None
    department: str = ""  # as asked: a code, UNASSIGNED, or "" for all

    def params(self, department: str | None = None) -> dict[str, str]:
        """Query parameters for a link to this scope (in `department`, if given)."""
        found = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        code = self.department if department is None else department
        return {**found, "department": code} if code else found

    def where(self, sql: Sql) -> str:
        # In UTC: SQLite compares the stored text, written in UTC.
        start = start_of_day(self.start).astimezone(UTC)
        end = start_of_day(self.end + timedelta(days=1)).astimezone(UTC)
        parts = [f"a.submitted_at >= {sql.param(start)}", f"a.submitted_at < {sql.param(end)}"]
        if self.department_id == 0:
            parts.append("a.department_id IS NULL")
        elif self.department_id is not None:
            parts.append(f"a.department_id = {sql.param(self.department_id)}")
        return " AND ".join(parts)


def default_period(now: datetime, t: DetectorThresholds) -> tuple[date, date]:
    today = to_local(now).date()
    return today - timedelta(days=t.period_days - 1), today


async def scope_of(params: Mapping[str, str], now: datetime, t: DetectorThresholds
                   ) -> tuple[Scope, dict[str, str]]:
    """The scope a query string asks for (from, to, department), and a Chinese message per
    parameter it got wrong; a wrong one is ignored (the default stands), not refused."""
    errors: dict[str, str] = {}
    start, end = default_period(now, t)
    days = {}
    for name, label in (("from", "起始日期"), ("to", "截止日期")):
        text = (params.get(name) or "").strip()
        if not text:
            continue
        try:
            days[name] = date.fromisoformat(text)
        except ValueError:
            errors[name] = f"{label}应为 YYYY-MM-DD 格式的日期。"
            continue
        if not FIRST_DAY <= days[name] <= LAST_DAY:
            errors[name] = f"{label}须在 {FIRST_DAY} 到 {LAST_DAY} 之间。"
            del days[name]
    start, end = days.get("from", start), days.get("to", end)
    if start > end:
        errors["to"] = "截止日期不能早于起始日期。"
        start, end = default_period(now, t)
    department_id = None
    code = (params.get("department") or "").strip()
    if code == UNASSIGNED:
        department_id = 0
    elif code:
        found = await Department.get_or_none(code=code) \
            if len(code) <= DEPARTMENT_MAX and "\x00" not in code else None
        if found is None:
            errors["department"] = "没有这个部门，已显示全部部门。"
            code = ""
        else:
            department_id = found.id
    return Scope(start, end, department_id, code), errors


async def department_label(scope: Scope) -> str:
    if scope.department_id == 0:
        return "待分派（已退回）"
    if scope.department_id is None:
        return "全部部门"
    found = await Department.get_or_none(id=scope.department_id)
    return found.name if found else ""


def cursor_of(params: Mapping[str, str]) -> tuple[int | None, dict[str, str]]:
    text = (params.get("after") or "").strip()
    if not text:
        return None, {}
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**63:
        return int(text), {}
    return None, {"after": "翻页参数无效，已回到第一页。"}


@dataclass
class Row:
    department_id: int | None
    name: str
    count: int
    base: int | None = None
    code: str = UNASSIGNED

    @property
    def share(self) -> float | None:
        return self.count / self.base if self.base else None


async def counts(detector: Detector, scope: Scope, t: DetectorThresholds) -> list[Row]:
    """One row per department with at least one such appeal (or, for a share, a base)."""
    sql = Sql()
    where = scope.where(sql)
    condition = detector.condition(sql, t)
    if detector.base:
        query = (f"SELECT a.department_id AS d, SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
                 f" AS n, COUNT(*) AS b FROM appeal a WHERE {where} AND {detector.base}"
                 " GROUP BY a.department_id")
    else:
        query = (f"SELECT a.department_id AS d, COUNT(*) AS n FROM appeal a "
                 f"WHERE {where} AND {condition} GROUP BY a.department_id")
    found = await connections.get("default").execute_query_dict(query, sql.params)
    names = {i: (name, code) for i, name, code in await Department.filter(
        id__in=[r["d"] for r in found if r["d"]]).values_list("id", "name", "code")}
    rows = [Row(r["d"], *_named(names.get(r["d"]), int(r["n"] or 0),
                                int(r["b"]) if detector.base else None)) for r in found]
    return sorted(rows, key=lambda r: (-r.count, r.name))


def _named(department: tuple[str, str] | None, count: int, base: int | None) -> tuple:
    name, code = department or ("待分派（已退回）", UNASSIGNED)
    return name, count, base, code


def total(rows: list[Row]) -> Row:
    base = sum(r.base or 0 for r in rows) if rows and rows[0].base is not None else None
    return Row(None, "合计", sum(r.count for r in rows), base, "")


@dataclass
class DetectorPage:
    appeals: list[Appeal]
    next_after: int | None
    total: int


async def listing(detector: Detector, scope: Scope, t: DetectorThresholds,
                  after: int | None = None, size: int = PAGE_SIZE) -> DetectorPage:
    """The appeals the detector finds in `scope`, newest id first, after the id `after`."""
    sql = Sql()
    where = f"{scope.where(sql)} AND {detector.base or '1 = 1'} AND {detector.condition(sql, t)}"
    db = connections.get("default")
    counted = await db.execute_query_dict(f"SELECT COUNT(*) AS n FROM appeal a WHERE {where}",
                                          list(sql.params))
    seek = f" AND a.id < {sql.param(after)}" if after else ""
    found = await db.execute_query_dict(
        f"SELECT a.id FROM appeal a WHERE {where}{seek} ORDER BY a.id DESC "
        f"LIMIT {int(size) + 1}", sql.params)
    ids = [r["id"] for r in found]
    more = len(ids) > size
    ids = ids[:size]
    appeals = await Appeal.filter(id__in=ids).order_by("-id").only(*COLUMNS)
    await Appeal.fetch_for_list(appeals, "department")
    return DetectorPage(appeals, ids[-1] if more else None, int(counted[0]["n"]))


@dataclass
class Summary:
    detector: Detector
    definition: str
    rows: list[Row]
    total: Row
    city: Row | None  # for a share: the whole city's, whatever the department filter


async def overview(scope: Scope, t: DetectorThresholds) -> list[Summary]:
    found = []
    for detector in DETECTORS:
        rows = await counts(detector, scope, t)
        city = None
        if detector.base:
            everywhere = Scope(scope.start, scope.end)
            city = total(rows if scope.department_id is None
                         else await counts(detector, everywhere, t))
        found.append(Summary(detector, detector.describe(t), rows, total(rows), city))
    return found
