"""Misroutes measured in the product: per first-level category and month, how many appeals were
routed automatically, returned by a department, and corrected by a dispatcher. One grouped
scan in SQL; shown on the returns page (/staff/returns) and the inspectors' statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise import connections

from app.domain.clock import start_of_day, to_local
from app.models import Category
from app.services.detectors import Sql
from app.services.training_data import _first_level

MONTHS = 12
UNCATEGORISED = "未分类"
DEFINITION = (
    "按诉求提交月份（北京时间）和当前分类的一级分类统计。受理量：当月提交的诉求数。"
    "自动分派率：提交时由分类模型和规则直接分派到部门（自动分派）的诉求占受理量的比例。"
    "退回率：至少被部门退回一次的诉求所占比例。"
    "调度员更正率：已分派到部门后又被调度员改派（人工分派）的诉求所占比例。"
)


@dataclass
class MisrouteRow:
    category: str
    month: str  # YYYY-MM
    received: int
    auto: int
    returned: int
    corrected: int

    def share(self, count: int) -> str:
        return f"{count / self.received:.1%}" if self.received else "—"

    def params(self) -> dict[str, str]:
        """The statistics list's filters for this row: the month's days, the category."""
        year, month = (int(p) for p in self.month.split("-"))
        after = date(year + month // 12, month % 12 + 1, 1)
        return {"from": date(year, month, 1).isoformat(),
                "to": (after - timedelta(days=1)).isoformat(), "first_level": self.category}


def first_month(today: date, months: int = MONTHS) -> date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _month(sql: Sql, column: str) -> str:
    local = sql.local_date(column)
    return f"to_char({local}, 'YYYY-MM')" if sql.pg else f"substr({local}, 1, 7)"


def _has(kind: str, extra: str = "") -> str:
    # Only constant event kinds reach this text; values go as parameters.
    return (f"EXISTS (SELECT 1 FROM appeal_event e WHERE e.appeal_id = a.id "  # noqa: S608
            f"AND e.kind = '{kind}'{extra})")


# Each figure is one condition over the appeal row `a`: the table counts it, the list behind
# it (app.services.stats.MISROUTE_FIGURES, /staff/stats/list) selects by it.
AUTO = _has("route_confident")
RETURNED = _has("return")
CORRECTED = _has("route_manual", " AND e.from_status = 'assigned'")
FIGURES = {"auto": ("自动分派", AUTO), "returned": ("被部门退回", RETURNED),
           "corrected": ("调度员更正", CORRECTED)}


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


@dataclass(frozen=True)
class FirstLevel:
    """The appeals a row of the table counts under `name`: those whose current category has
    that first-level name (UNCATEGORISED: no category, or one without a first level)."""

    name: str
    ids: tuple[int, ...]
    uncategorised: bool

    def where(self, sql: Sql) -> str:
        parts = ["a.category_id IS NULL"] if self.uncategorised else []
        if self.ids:
            parts.append(f"a.category_id IN ({', '.join(sql.param(i) for i in self.ids)})")
        return f"({' OR '.join(parts) or '1 = 0'})"


async def first_level(name: str) -> FirstLevel | None:
    """The filter for the table's category `name`; None if no row could have that name."""
    top = await _first_level()
    uncategorised = name == UNCATEGORISED
    if uncategorised:  # categories with no first level count as uncategorised
        known = set(top)
        ids = [i for i in await Category.all().values_list("id", flat=True) if i not in known]
    else:
        ids = []
    ids += [i for i, n in top.items() if n == name]
    if not ids and not uncategorised:
        return None
    return FirstLevel(name, tuple(sorted(ids)), uncategorised)


async def by_category_month(now: datetime, months: int = MONTHS) -> list[MisrouteRow]:
    """The last `months` months (this one included), newest month first."""
    sql = Sql()
    start = start_of_day(first_month(to_local(now).date(), months)).astimezone(UTC)
    where = f"a.submitted_at >= {sql.param(start)}"
    month = _month(sql, "a.submitted_at")
    query = (
        f"SELECT a.category_id AS c, {month} AS m, COUNT(*) AS n, "  # noqa: S608
        f"{_count(AUTO)} AS auto, {_count(RETURNED)} AS ret, {_count(CORRECTED)} AS fixed "
        f"FROM appeal a WHERE {where} GROUP BY a.category_id, {month}"
    )
    found = await connections.get("default").execute_query_dict(query, sql.params)
    top = await _first_level()
    summed: dict[tuple[str, str], MisrouteRow] = {}
    for row in found:  # one row per (category, month): a few hundred at most
        name = top.get(row["c"], UNCATEGORISED) if row["c"] is not None else UNCATEGORISED
        key = (name, str(row["m"]))
        into = summed.setdefault(key, MisrouteRow(name, key[1], 0, 0, 0, 0))
        into.received += int(row["n"])
        into.auto += int(row["auto"] or 0)
        into.returned += int(row["ret"] or 0)
        into.corrected += int(row["fixed"] or 0)
    return sorted(summed.values(), key=lambda r: (-int(r.month.replace("-", "")),
                                                  r.category == UNCATEGORISED, r.category))
