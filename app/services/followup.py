"""回访: the dispatcher's call after an appeal closed.

Which closed appeals wait for a call: every complaint and report, and a share of the rest
(routing_rules/clocks.yaml `followup_share`, chosen by the appeal's id so the choice is
stable), that left a phone number, closed within `followup_window_days`, and whose current
closing has no settled call yet (closed again after a 回访 reopened it: due again). A call
nobody answered counts an attempt; `followup_attempts` of them settle it as unreachable.

Each call is an event (Event.FOLLOWUP). "Not solved" reopens the appeal for a redo once
(Event.FOLLOWUP_UNSOLVED, closed → accepted, with a fresh reply window); once that was used,
"not solved" is recorded and the appeal stays closed. The outcome of the current closing is
kept on the row (migration 0010) for the list and for the statistics (FIGURES below).
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.transactions import in_transaction

from app.domain.deadlines import ClockFacts, reply_clock
from app.domain.outcomes import RATINGS
from app.domain.sla_policy import FollowupPolicy
from app.domain.states import Event, Status
from app.domain.types import AppealType
from app.models import Appeal
from app.notify import notices
from app.rules import Rules
from app.schemas.followup import SOLVED, Followup
from app.services.detectors import Sql
from app.services.errors import ServiceError
from app.services.lists import PAGE_SIZE, read_seek_cursor, seek_cursor
from app.services.supervision import department_people
from app.services.workflow import Actor, last_event, now_utc, transition

ALWAYS = (AppealType.COMPLAINT.value, AppealType.REPORT.value)
BUCKETS = 1000  # the share is taken as id % 1000 < share × 1000
UNREACHED = "unreached"
RESULTS = {**SOLVED, UNREACHED: "多次未接通"}
REACHED_RESULTS = tuple(SOLVED)


def selected(policy: FollowupPolicy) -> str:
    """SQL (alias `a`): the appeal is one the 回访 calls back (complaints and reports, and
    the share of the rest), if it closes with a phone number to call."""
    cut = int(round(policy.share * BUCKETS))
    always = ", ".join(f"'{t}'" for t in ALWAYS)
    return f"(a.type IN ({always}) OR a.id % {BUCKETS} < {cut})"


def is_selected(appeal: Appeal, policy: FollowupPolicy) -> bool:
    """`selected` for one appeal in Python (the page of one appeal)."""
    return appeal.type in ALWAYS or appeal.id % BUCKETS < int(round(policy.share * BUCKETS))


def waiting(sql: Sql, now: datetime, policy: FollowupPolicy) -> str:
    """SQL (alias `a`): closed within the window, chosen, callable, and the current closing
    has no settled call. The index (status, closed_at, id) gives the window's range."""
    since = now - timedelta(days=policy.window_days)
    return (f"a.status = '{Status.CLOSED.value}' AND a.closed_at >= {sql.param(since)} "
            "AND (a.followup_at IS NULL OR a.followup_at < a.closed_at) "
            f"AND a.contact_phone <> '' AND {selected(policy)}")


# Figures for the statistics (app.services.stats), one SQL condition over the appeal row
# each, of the same shape as stats.FIGURES' conditions once given the policy: "called
# back" is the current closing's settled call (a reopened appeal keeps its result).
def figures(policy: FollowupPolicy) -> dict[str, tuple[str, Callable[[Sql, datetime], str]]]:
    return {
        "followup_selected": ("应回访", lambda s, n: "a.closed_at IS NOT NULL "
                              f"AND a.contact_phone <> '' AND {selected(policy)}"),
        "followed_up": ("已回访", lambda s, n: "a.followup_at IS NOT NULL"),
        "followup_reached": ("回访接通", lambda s, n: "a.followup_result IN "
                             "('solved', 'partly', 'unsolved')"),
        "followup_solved": ("回访已解决", lambda s, n: "a.followup_result = 'solved'"),
        "followup_partly": ("回访部分解决", lambda s, n: "a.followup_result = 'partly'"),
        "followup_unsolved": ("回访未解决", lambda s, n: "a.followup_result = 'unsolved'"),
        "followup_satisfied": ("回访满意及基本满意", lambda s, n: "a.followup_satisfaction IN "
                               "('satisfied', 'basically_satisfied')"),
        "followup_reopened": ("回访后重办", lambda s, n: "a.followup_reopened"),
    }


@dataclass
class DuePage:
    appeals: list[Appeal]
    total: int
    next_after: str | None


def _cursor(appeal: Appeal) -> str:
    return seek_cursor(appeal.closed_at, appeal.id)


async def due(rules: Rules, now: datetime, after: str | None = None,
              size: int = PAGE_SIZE) -> DuePage:
    """The calls due, the earliest closing first (its window ends first), a page after the
    cursor `after` (ValueError for one this list did not make)."""
    policy = rules.policies.followup
    seek = read_seek_cursor(after)
    sql = Sql()
    where = waiting(sql, now, policy)
    db = connections.get("default")
    counted = await db.execute_query_dict(f"SELECT COUNT(*) AS n FROM appeal a WHERE {where}",
                                          list(sql.params))
    if seek is not None:
        # One placeholder per use: SQLite's are by position.
        where += (f" AND a.closed_at >= {sql.param(seek[0])} AND (a.closed_at > "
                  f"{sql.param(seek[0])} OR a.id > {sql.param(seek[1])})")
    rows = await db.execute_query_dict(
        f"SELECT a.id FROM appeal a WHERE {where} ORDER BY a.closed_at, a.id "
        f"LIMIT {int(size) + 1}", sql.params)
    ids = [int(r["id"]) for r in rows]
    found = {a.id: a for a in await Appeal.filter(id__in=ids[:size])
             .prefetch_related("department")}
    appeals = [found[i] for i in ids[:size] if i in found]
    more = len(ids) > size and appeals
    return DuePage(appeals, int(counted[0]["n"]), _cursor(appeals[-1]) if more else None)


async def _tell_department(appeal: Appeal, note: str) -> None:
    if appeal.department_id is None:
        return
    event = await last_event(appeal, Event.FOLLOWUP_UNSOLVED)
    department, people = await department_people(appeal.department_id)
    await notices.followup_reopened(appeal, department, people, note, f"reopened:{event.id}")


def awaits_call(appeal: Appeal) -> bool:
    """Closed, and its current closing has no settled call."""
    return appeal.status == Status.CLOSED and appeal.closed_at is not None and (
        appeal.followup_at is None or appeal.followup_at < appeal.closed_at)


async def record(rules: Rules, appeal: Appeal, actor: Actor, form: Followup) -> str:
    """Record one call; the message for the dispatcher. Two dispatchers recording the same
    call at once: the second gets Conflict (the row is guarded by what was read)."""
    if appeal.status != Status.CLOSED:
        raise ServiceError("该诉求未办结，不在回访范围。", None, "illegal_transition")
    if not awaits_call(appeal):
        raise ServiceError("该诉求本次办结已回访。", None, "conflict")
    policy, at = rules.policies.followup, now_utc()
    guard = {"followup_attempts": appeal.followup_attempts, "followup_at": appeal.followup_at}
    extra = f"；{form.note}" if form.note else ""
    if form.reached == "no":
        attempts = appeal.followup_attempts + 1
        changes: dict = {"followup_attempts": attempts}
        settled = attempts >= policy.attempts
        if settled:
            changes |= {"followup_at": at, "followup_result": UNREACHED,
                        "followup_satisfaction": ""}
        await transition(appeal, Event.FOLLOWUP, actor, at=at, guard=guard, public=False,
                         note=f"回访未接通（第 {attempts} 次）{extra}",
                         data={"reached": False, "attempt": attempts, "note": form.note},
                         changes=changes)
        if settled:
            return f"已记录：第 {attempts} 次未接通，不再回访"
        return f"已记录：第 {attempts} 次未接通，稍后再拨"
    solved, satisfaction = form.solved, form.satisfaction
    said = f"回访：{SOLVED[solved]}，{RATINGS[satisfaction]}{extra}"
    data = {"reached": True, "solved": solved, "satisfaction": satisfaction, "note": form.note}
    changes = {"followup_at": at, "followup_result": solved,
               "followup_satisfaction": satisfaction}
    if solved == "unsolved" and not appeal.followup_reopened:
        clock = reply_clock(ClockFacts(appeal.type, at), rules.policies, rules.calendar)
        changes |= {"followup_reopened": True, "followup_attempts": 0, "closed_at": None,
                    "rating": "", "window_start": at, "reply_due_at": clock.deadline.due_at,
                    "warn_at": clock.warn_at, "deadline_provisional": clock.deadline.provisional,
                    "sla_state": "ok", "extension_days": 0, "extension_requested_days": 0}
        if appeal.merged_into_id is not None:  # 并单: a member's redo is its own
            changes["merged_into_id"] = None
        async with in_transaction():
            appeal = await transition(appeal, Event.FOLLOWUP_UNSOLVED, actor, at=at,
                                      guard=guard, note=f"{said}。重新交承办部门办理",
                                      data=data, changes=changes)
            await _tell_department(appeal, form.note)
        return "已记录回访：问题未解决，已重新交承办部门办理"
    if solved == "unsolved":
        data["reopen_used"] = True
        said += "（已重办过一次，不再重办）"
    await transition(appeal, Event.FOLLOWUP, actor, at=at, guard=guard, public=False,
                     note=said, data=data, changes=changes)
    return "已记录回访"
