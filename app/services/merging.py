"""并单: a dispatcher merges appeals that ask the same thing into one main appeal.

A member follows its main (app.services.workflow: FOLLOWED events, same state, same
department, same deadline — the main's clock), gets the main's reply as its own reply and
its own notice through its own channel, and keeps its own tracking credentials. Once answered
each member waits for its own resident's rating: a 不满意 (or a 回访 that finds the problem
unsolved) takes it out of the group to be redone on its own (`detach_changes`).

A merge is an event on every appeal involved (MERGE on the member, with the member's own
state kept in its data; MERGE_MAIN on the main), and an undo (UNMERGE) restores that own
state while the member is still open. Only appeals not yet answered are merged, so a
member's reply rounds are the main's.

A report (举报) is never merged, in either role: a member receives the main's reply and the
main's department handles every member, so a reporter could be exposed to other residents
and to a department other than the inspectors' body it was routed to.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from app.domain.states import OPEN, STATUS_LABELS, Event, Status
from app.domain.types import AppealType
from app.models import Appeal
from app.services.errors import ServiceError
from app.services.workflow import Actor, followers, last_event, move, now_utc, transition

MAX_MEMBERS = 200
# What a member takes from its main, and gets back from its own record on an undo.
OWN_FIELDS = ("department_id", "assigned_at", "acknowledged_at", "ack_due_at", "ack_late",
              "reply_due_at", "warn_at", "deadline_provisional", "window_start", "sla_state",
              "extension_days", "extension_requested_days", "info_request")
TIMES = {"assigned_at", "acknowledged_at", "ack_due_at", "reply_due_at", "warn_at",
         "window_start"}
REPORT_REFUSED = "举报件不能并单：并单后其他群众和承办部门可能由此得知举报人身份。"


def _refusal(appeal: Appeal, role: str) -> str | None:
    """Why `appeal` cannot take part in a merge as `role` (main / member), or None."""
    label = f"诉求 {appeal.tracking_number}"
    if appeal.type == AppealType.REPORT:
        return REPORT_REFUSED
    if Status(appeal.status) not in OPEN:
        state = STATUS_LABELS[Status(appeal.status)]
        return f"{label}当前状态为“{state}”，只有办理中的诉求可以并单。"
    if appeal.first_reply_at is not None:
        return f"{label}已经答复过，不能并单。"
    if appeal.merged_into_id is not None:
        return f"{label}已并入其他诉求。"
    if role == "main" and Status(appeal.status) is Status.REVIEW:
        return f"{label}的答复正在审核，请审核后再并单。"
    return None


def refusal_as_main(appeal: Appeal) -> str | None:
    """Why nothing can be merged into `appeal` now, or None."""
    return _refusal(appeal, "main")


def refusal(main: Appeal, member: Appeal) -> str | None:
    """Why `member` cannot be merged into `main` now (shown beside the candidate), or None."""
    if member.id == main.id:
        return "不能与自身并单。"
    return _refusal(main, "main") or _refusal(member, "member")


def _own_state(appeal: Appeal) -> dict[str, Any]:
    own = {"status": appeal.status}
    for name in OWN_FIELDS:
        value = getattr(appeal, name)
        own[name] = value.isoformat() if isinstance(value, datetime) else value
    return own


def _restored(own: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for name in OWN_FIELDS:
        value = own.get(name)
        changes[name] = datetime.fromisoformat(value) if name in TIMES and value else value
    return changes


async def merge(main: Appeal, members: list[Appeal], actor: Actor) -> list[Appeal]:
    """Merge `members` into `main`, all or nothing; the members merged."""
    if not members:
        raise ServiceError("请选择要并入的诉求。", "members")
    if len(members) > MAX_MEMBERS:
        raise ServiceError(f"一次最多并入 {MAX_MEMBERS} 件诉求。", "members")
    for member in members:
        reason = refusal(main, member)
        if reason:
            raise ServiceError(reason, "members")
    if await Appeal.exists(merged_into_id__in=[m.id for m in members]):
        raise ServiceError("所选诉求已有并入它的诉求，请先撤销那些并单。", "members")
    at = now_utc()
    taken = {name: getattr(main, name) for name in OWN_FIELDS}
    async with in_transaction():
        for member in members:
            await move(member, Event.MERGE, main.status, actor, at=at,
                       note=f"与同类诉求并单，并入主诉求 {main.tracking_number} 一并办理，"
                            "办理进度和答复将同步告知您",
                       data={"main": main.tracking_number, "own": _own_state(member)},
                       changes={**taken, "merged_into_id": main.id})
        await transition(main, Event.MERGE_MAIN, actor, at=at, public=False,
                         note=f"并入 {len(members)} 件同类诉求："
                              + "、".join(m.tracking_number for m in members),
                         data={"members": [m.tracking_number for m in members]},
                         guard={"merged_into_id": None})
    return members


async def unmerge(member: Appeal, actor: Actor, reason: str) -> Appeal:
    """Undo a merge: the member is handled on its own again, in its own state from before
    the merge (its own department, deadline and clock)."""
    if member.merged_into_id is None:
        raise ServiceError("该诉求没有并入其他诉求。", None, "illegal_transition")
    if Status(member.status) not in OPEN:
        raise ServiceError("该诉求已随主诉求答复，不能再撤销并单。", None, "illegal_transition")
    merged = await last_event(member, Event.MERGE)
    if merged is None or not (merged.data or {}).get("own"):
        raise ServiceError("找不到并单前的记录，无法撤销。", None)
    own = merged.data["own"]
    main = await Appeal.get_or_none(id=member.merged_into_id)
    async with in_transaction():
        await move(member, Event.UNMERGE, own["status"], actor, note=reason,
                   data={"main": main.tracking_number if main else ""},
                   changes={**_restored(own), "merged_into_id": None})
        if main is not None:
            await transition(main, Event.NOTE, actor, public=False,
                             note=f"撤销并单：{member.tracking_number} 恢复单独办理（{reason}）")
    return member


async def lockstep(main: Appeal) -> list[Appeal]:
    """The members that take the main's next step (they stand where it stands)."""
    if main.merged_into_id is not None:
        return []
    return await followers(main, main.status)


async def group_of(appeal: Appeal) -> tuple[Appeal | None, list[Appeal]]:
    """The main of `appeal`'s group (itself when it is a main), and the main's members."""
    if appeal.merged_into_id is not None:
        main = await Appeal.get_or_none(id=appeal.merged_into_id)
    else:
        main = appeal
    members = await followers(main) if main is not None else []
    if main is appeal and not members:
        return None, []
    return main, members


async def merge_numbers(main: Appeal, numbers: str, actor: Actor) -> list[Appeal]:
    """`merge` from the form: tracking numbers separated by spaces, commas or new lines."""
    wanted = list(dict.fromkeys(n for n in re.split(r"[\s,，、;；]+", numbers) if n))
    if len(wanted) > MAX_MEMBERS:
        raise ServiceError(f"一次最多并入 {MAX_MEMBERS} 件诉求。", "members")
    found = {a.tracking_number: a for a in await Appeal.filter(tracking_number__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise ServiceError(f"未找到受理编号：{'、'.join(missing[:5])}", "members")
    return await merge(main, [found[n] for n in wanted], actor)
