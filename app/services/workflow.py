"""The one function that changes an appeal's state, with its event, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from app.domain.states import FOLLOWED, Event, IllegalTransition, Status, merge_move, next_status
from app.domain.types import ROLE_LABELS, Role
from app.models import Account, Appeal, AppealEvent
from app.services.errors import Conflict, ServiceError


@dataclass(frozen=True)
class Actor:
    account: Account | None
    label: str

    @classmethod
    def of(cls, account: Account) -> Actor:
        role = ROLE_LABELS.get(Role(account.role), account.role)
        name = account.display_name or account.username
        return cls(account, f"{role} {name}")


SYSTEM = Actor(None, "系统")
RESIDENT = Actor(None, "群众")


def _marks(appeal: Appeal, event: Event) -> dict[str, Any]:
    """What `event` makes true of the appeal for the statistics (0007's columns)."""
    if event is Event.RETURN:
        return {"return_count": appeal.return_count + 1}
    if event is Event.EXTENSION_GRANT:
        return {"was_extended": True}
    if event is Event.RATE_UNSATISFIED:
        return {"was_redone": True}
    return {}


def last_event(appeal: Appeal, event: Event | str):
    """The appeal's latest event of this kind (a query; await it), None if there is none."""
    return AppealEvent.filter(appeal_id=appeal.id, kind=Event(event).value) \
        .order_by("-id").first()


def now_utc() -> datetime:
    return datetime.now(UTC)


async def transition(
    appeal: Appeal,
    event: Event,
    actor: Actor,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    public: bool = True,
    at: datetime | None = None,
    guard: dict[str, Any] | None = None,
) -> Appeal:
    """Apply `event` to `appeal`; set `changes`; append the event. All or nothing.

    The update is conditional on the status we read, so two people acting at once
    cannot both succeed: the second gets Conflict. `guard` adds conditions of the same kind
    (the sweep marks an appeal only while it is still unmarked).
    """
    old = Status(appeal.status)
    try:
        new = next_status(old, event)
    except IllegalTransition as exc:
        raise ServiceError(str(exc), None, "illegal_transition") from None
    if event in FOLLOWED and appeal.merged_into_id is not None:
        raise Conflict("该诉求已并单，随主诉求办理：请在主诉求上操作。")
    at = at or now_utc()
    fields = dict(changes or {}) | _marks(appeal, event)
    fields["status"] = new.value
    fields["updated_at"] = at
    async with in_transaction():
        updated = await Appeal.filter(id=appeal.id, status=old.value, **(guard or {})) \
            .update(**fields)
        if updated != 1:
            raise Conflict()
        await AppealEvent.create(
            appeal_id=appeal.id,
            kind=event.value,
            from_status=old.value,
            to_status=new.value,
            actor=actor.account,
            actor_label=actor.label,
            department_id=fields.get("department_id") or appeal.department_id,
            at=at,
            note=note,
            data=data,
            public=public,
        )
        if event in FOLLOWED and appeal.merged_into_id is None:
            await _follow(appeal, event, actor, old, new, changes or {}, note, data, public, at)
    for key, value in fields.items():
        setattr(appeal, key, value)
    return appeal


async def followers(main: Appeal, status: Status | str | None = None) -> list[Appeal]:
    """The appeals merged into `main` (并单), in `status` if given (those that follow it)."""
    query = Appeal.filter(merged_into_id=main.id)
    if status is not None:
        query = query.filter(status=Status(status).value)
    return await query.order_by("id")


async def _follow(main: Appeal, event: Event, actor: Actor, old: Status, new: Status,
                  changes: dict[str, Any], note: str, data: dict[str, Any] | None,
                  public: bool, at: datetime) -> None:
    """The main's step taken by its members that stand where it stood, in its transaction:
    same state, same changes, an event each that names the main. A member elsewhere (it
    was answered and waits for its own resident's rating) is left alone."""
    members = await followers(main, old)
    if not members:
        return
    fields = {**changes, "status": new.value, "updated_at": at}
    updated = await Appeal.filter(id__in=[m.id for m in members], status=old.value,
                                  merged_into_id=main.id).update(**fields)
    if updated != len(members):
        raise Conflict()
    # The main's note was written to the main's resident (a question, a name): a member's
    # resident reads only that the step was taken, except the reason for a refusal.
    follow_note = f"随主诉求 {main.tracking_number} 办理"
    if event is Event.REJECT and note:
        follow_note += f"：{note}"
    await AppealEvent.bulk_create([
        AppealEvent(appeal_id=m.id, kind=event.value, from_status=old.value,
                    to_status=new.value, actor=actor.account, actor_label=actor.label,
                    department_id=fields.get("department_id") or m.department_id, at=at,
                    note=follow_note, data={**(data or {}), "main": main.tracking_number},
                    public=public)
        for m in members
    ])


async def move(appeal: Appeal, event: Event, target: Status | str, actor: Actor, *,
               note: str = "", data: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None, at: datetime | None = None) -> Appeal:
    """`transition` for 并单's two moves (app.domain.states.merge_move): to the main's state,
    or back to the member's own. Conditional on the status read, in the caller's
    transaction."""
    old = Status(appeal.status)
    try:
        new = merge_move(old, event, target)
    except IllegalTransition as exc:
        raise ServiceError(str(exc), None, "illegal_transition") from None
    at = at or now_utc()
    fields = {**(changes or {}), "status": new.value, "updated_at": at}
    updated = await Appeal.filter(id=appeal.id, status=old.value).update(**fields)
    if updated != 1:
        raise Conflict()
    await AppealEvent.create(
        appeal_id=appeal.id, kind=event.value, from_status=old.value, to_status=new.value,
        actor=actor.account, actor_label=actor.label,
        department_id=fields.get("department_id") or appeal.department_id, at=at, note=note,
        data=data, public=True)
    for key, value in fields.items():
        setattr(appeal, key, value)
    return appeal


async def record_many(appeals: list[Appeal], event: Event, actor: Actor, *, note: str = "",
                      changes: dict[str, Any] | None = None, public: bool = False,
                      at: datetime | None = None) -> None:
    """Record an event that leaves the status alone on many appeals at once (the sweep's
    marks). The caller holds the rows (SELECT ... FOR UPDATE) in its open transaction."""
    for appeal in appeals:
        try:
            if next_status(Status(appeal.status), event) != Status(appeal.status):
                raise ServiceError(f"{event.value} would move the appeal", None)
        except IllegalTransition as exc:
            raise ServiceError(str(exc), None, "illegal_transition") from None
    await _write_many(appeals, event, actor, note, changes, public, at)


async def transition_many(appeals: list[Appeal], event: Event, actor: Actor, *,
                          note: str = "", changes: dict[str, Any] | None = None,
                          public: bool = True, at: datetime | None = None) -> None:
    """`transition` for many appeals in one status at once (the sweep's lapses), in the
    caller's open transaction. If any of them moved meanwhile, Conflict: the caller's
    transaction rolls back and nothing is written twice."""
    if not appeals:
        return
    old = {Status(a.status) for a in appeals}
    if len(old) != 1:
        raise ServiceError("transition_many takes appeals in one status", None)
    try:
        new = next_status(old.pop(), event)
    except IllegalTransition as exc:
        raise ServiceError(str(exc), None, "illegal_transition") from None
    await _write_many(appeals, event, actor, note, changes, public, at, new)


async def _write_many(appeals: list[Appeal], event: Event, actor: Actor, note: str,
                      changes: dict[str, Any] | None, public: bool, at: datetime | None,
                      new: Status | None = None) -> None:
    if not appeals:
        return
    at = at or now_utc()
    fields = {**(changes or {}), "updated_at": at}
    if new is not None:
        fields["status"] = new.value
    updated = await Appeal.filter(id__in=[a.id for a in appeals],
                                  status__in=list({a.status for a in appeals})).update(**fields)
    if updated != len(appeals):
        raise Conflict()
    await AppealEvent.bulk_create([
        AppealEvent(appeal_id=a.id, kind=event.value, from_status=a.status,
                    to_status=new.value if new is not None else a.status, actor=actor.account,
                    actor_label=actor.label, department_id=a.department_id, at=at, note=note,
                    data=None, public=public)
        for a in appeals
    ])
    for appeal in appeals:
        for key, value in fields.items():
            setattr(appeal, key, value)
