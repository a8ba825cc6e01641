"""Misroutes measured in the product: per first-level category and month, how many appeals were
routed automatically, returned by a department, and corrected by a dispatcher. One grouped
scan in SQL; shown on the returns page (/staff/returns) and the inspectors' statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from tortoise import connections

from app.domain.clock import start_of_day, to_local
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


def first_month(today: date, months: int = MONTHS) -> date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _month(sql: Sql, column: str) -> str:
    local = sql.local_date(column)
    return f"to_char({local}, 'YYYY-MM')" if sql.pg else f"substr({local}, 1, 7)"


def _has(kind: str, extra: str = "") -> str:
    # Only constant event kinds reach this text; values go as parameters.
    return (f"SUM(CASE WHEN EXISTS (SELECT 1 FROM appeal_event e WHERE e.appeal_id = a.id "  # noqa: S608
            f"AND e.kind = '{kind}'{extra}) THEN 1 ELSE 0 END)")


async def by_category_month(now: datetime, months: int = MONTHS) -> list[MisrouteRow]:
    """The last `months` months (this one included), newest month first."""
    sql = Sql()
    start = start_of_day(first_month(to_local(now).date(), months)).astimezone(UTC)
    where = f"a.submitted_at >= {sql.param(start)}"
    month = _month(sql, "a.submitted_at")
    rerouted = _has("route_manual", " AND e.from_status = 'assigned'")
    query = (
        f"SELECT a.category_id AS c, {month} AS m, COUNT(*) AS n, "  # noqa: S608
        f"{_has('route_confident')} AS auto, {_has('return')} AS ret, "
        f"{rerouted} AS fixed "
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
