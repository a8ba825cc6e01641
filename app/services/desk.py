"""The dispatcher's desk: why each appeal waits in triage, the extension requests waiting
for a decision, and departments found by the name a person types."""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from app.domain.states import WITH_DEPARTMENT, Event
from app.domain.types import AppealType
from app.models import Appeal, AppealEvent, Department
from app.services.detectors import Sql
from app.services.errors import ServiceError
from app.services.lists import PAGE_SIZE

# Why an appeal waits in triage, as a filter: each a condition on the appeal row that the
# triage list's index (status, reply_due_at) narrows first, so it costs a look at the
# appeals in triage, never a scan of all of them. The trail says the details (shown).
REASONS = {
    "returned": "部门退回",
    "unsure": "未能自动分派",
    "conflict": "举报回避",
}
REASON_ERROR = "没有这个待分派原因。"


def waiting_because(query: QuerySet[Appeal], reason: str) -> QuerySet[Appeal]:
    """`query` narrowed to the appeals waiting for `reason` (a key of REASONS)."""
    if reason == "returned":
        return query.filter(return_count__gt=0)
    if reason == "conflict":  # a report that no body but the unit it names could take
        return query.filter(return_count=0, type=AppealType.REPORT.value)
    if reason == "unsure":
        return query.filter(Q(return_count=0), ~Q(type=AppealType.REPORT.value))
    raise ValueError(reason)


@dataclass
class Waiting:
    reason: str  # a key of REASONS, or "" when the trail says something else
    text: str


async def triage_reasons(appeals: list[Appeal]) -> dict[int, Waiting]:
    """For each appeal of a triage page, why it waits: the last event that put it there
    (a return: by which department and why) and the routing record of its first route
    (the classifier's confidence, a report's veto). Two queries for the page."""
    ids = [a.id for a in appeals]
    if not ids:
        return {}
    last: dict[int, AppealEvent] = {}
    for event in await AppealEvent.filter(appeal_id__in=ids, to_status="triage").order_by("id"):
        last[event.appeal_id] = event
    routing = dict(await Appeal.filter(id__in=ids).values_list("id", "routing"))
    named = {a.id: a.named_unit_id for a in appeals}
    department_ids = {e.department_id for e in last.values() if e.department_id} | \
        {d for d in named.values() if d}
    names = dict(await Department.filter(id__in=list(department_ids)).values_list("id", "name"))
    found = {}
    for appeal in appeals:
        event = last.get(appeal.id)
        record = routing.get(appeal.id) or {}
        if event is not None and event.kind == Event.RETURN.value:
            by = names.get(event.department_id, "承办部门")
            found[appeal.id] = Waiting("returned", f"被{by}退回：{event.note or '未说明理由'}")
        elif appeal.type == AppealType.REPORT.value:
            unit = names.get(named[appeal.id], "被举报单位")
            found[appeal.id] = Waiting(
                "conflict", f"举报须回避{unit}：{record.get('reason') or '无可交办的机关'}")
        elif event is None or event.kind == Event.ROUTE_UNSURE.value:
            found[appeal.id] = Waiting("unsure", _unsure(record))
        else:
            found[appeal.id] = Waiting("", f"{event.note or event.kind}")
    return found


def _unsure(record: dict) -> str:
    """The classifier's confidence when it was unsure; else what the routing said."""
    candidates = record.get("candidates") or []
    if candidates and "把握不足" in (record.get("reason") or ""):
        top = candidates[0]
        return (f"分类把握不足：最可能为“{top.get('category')}”，"
                f"把握 {float(top.get('probability') or 0):.0%}")
    return record.get("reason") or "未能自动分派"


# --- Extension requests waiting for a decision -------------------------------------------

REQUEST_ID = ("(SELECT MAX(e.id) FROM appeal_event e WHERE e.appeal_id = a.id "
              f"AND e.kind = '{Event.EXTENSION_REQUEST.value}')")


@dataclass
class Pending:
    appeal: Appeal
    request: AppealEvent | None


@dataclass
class PendingPage:
    pending: list[Pending]
    total: int
    next_after: int | None


async def pending_extensions(department_id: int | None = None, after: int | None = None,
                             size: int = PAGE_SIZE) -> PendingPage:
    """Requests not yet decided, the oldest request first, a page after the request id
    `after`; `department_id`: one department's only (a department head's list). The
    index (extension_requested_days, department_id) finds the few appeals waiting."""
    sql = Sql()
    states = ", ".join(sql.param(s.value) for s in sorted(WITH_DEPARTMENT))
    where = f"a.extension_requested_days > 0 AND a.status IN ({states})"
    if department_id is not None:
        where += f" AND a.department_id = {sql.param(department_id)}"
    db = connections.get("default")
    counted = await db.execute_query_dict(f"SELECT COUNT(*) AS n FROM appeal a WHERE {where}",
                                          list(sql.params))
    if after is not None:
        where += f" AND {REQUEST_ID} > {sql.param(after)}"
    rows = await db.execute_query_dict(
        f"SELECT a.id, {REQUEST_ID} AS request_id FROM appeal a WHERE {where} "
        f"ORDER BY request_id, a.id LIMIT {int(size) + 1}", sql.params)
    more, rows = len(rows) > size, rows[:size]
    ids = [int(r["id"]) for r in rows]
    appeals = {a.id: a for a in await Appeal.filter(id__in=ids).prefetch_related("department")}
    request_ids = [int(r["request_id"]) for r in rows if r["request_id"] is not None]
    requests = {e.id: e for e in await AppealEvent.filter(id__in=request_ids)}
    found = [Pending(appeals[int(r["id"])],
                     requests.get(int(r["request_id"])) if r["request_id"] else None)
             for r in rows if int(r["id"]) in appeals]
    last = rows[-1]["request_id"] if more and rows else None
    return PendingPage(found, int(counted[0]["n"]), int(last) if last is not None else None)


# --- Department pickers: a name typed (or picked from the list) ------------------------

async def picker_departments(exclude_id: int | None = None) -> list[dict]:
    """The active departments, for a picker's list: name and code."""
    query = Department.filter(active=True)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return await query.order_by("code").values("id", "code", "name")


async def department_named(text: str, field: str = "department") -> Department:
    """The active department whose name (or code) is `text`; a Chinese refusal naming the
    field otherwise."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("请选择承办部门。", field)
    if "\x00" in text or len(text) > 80:
        raise ServiceError("没有这个部门，请从列表中选择。", field)
    found = await Department.filter(Q(name=text) | Q(code=text), active=True).limit(2)
    if len(found) > 1:
        exact = [d for d in found if d.code == text]
        if exact:
            return exact[0]
        raise ServiceError(f"有多个名为“{text}”的部门，请输入部门编码。", field)
    if not found:
        raise ServiceError(f"没有名为“{text}”的部门，请从列表中选择。", field)
    return found[0]
