"""Use cases that move a reply deadline: waiting for the resident, extensions, the redo,
and recomputing after the calendar changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.domain.clock import SHANGHAI, to_local
from app.domain.deadlines import (
    PAUSE_KINDS,
    ClockFacts,
    ReplyClock,
    pauses_from_events,
    reply_clock,
)
from app.domain.outcomes import RATINGS
from app.domain.states import AWAITING_RATING, AWAITING_RESIDENT, CLOCK_RUNNING, Event
from app.models import Appeal, AppealEvent
from app.notify import notices
from app.rules import Rules
from app.schemas.appeals import InfoSupplied, Rating
from app.schemas.limits import EXTENSION_DAYS_MIN
from app.schemas.staff import AskInfo, ExtensionDecision, ExtensionRequest
from app.services.errors import ServiceError
from app.services.workflow import RESIDENT, SYSTEM, Actor, last_event, now_utc, transition


async def _pauses(appeal: Appeal, extra: tuple[datetime, datetime] | None = None) -> list:
    events = await AppealEvent.filter(appeal_id=appeal.id, kind__in=list(PAUSE_KINDS)
                                      ).order_by("id").values_list("kind", "at")
    pauses = pauses_from_events(events, appeal.window_start or appeal.submitted_at)
    return pauses + ([extra] if extra else [])


async def clock_for(rules: Rules, appeal: Appeal, *, extension_days: int | None = None,
                    extra_pause: tuple[datetime, datetime] | None = None) -> ReplyClock:
    facts = ClockFacts(
        appeal.type, appeal.window_start or appeal.submitted_at,
        await _pauses(appeal, extra_pause),
        appeal.extension_days if extension_days is None else extension_days,
    )
    return reply_clock(facts, rules.policies, rules.calendar)


def _deadline_changes(clock: ReplyClock) -> dict:
    return {"reply_due_at": clock.deadline.due_at, "warn_at": clock.warn_at,
            "deadline_provisional": clock.deadline.provisional, "sla_state": "ok"}


async def ask_info(appeal: Appeal, actor: Actor, form: AskInfo) -> Appeal:
    question = form.question
    async with in_transaction():
        await transition(appeal, Event.ASK_INFO, actor, note=question,
                         changes={"info_request": question})
        await notices.info_requested(appeal, question)
    return appeal


async def supply_info(rules: Rules, appeal: Appeal, form: InfoSupplied) -> Appeal:
    """The resident's answer ends the pause; the deadline moves by the working days waited."""
    at = now_utc()
    asked = await last_event(appeal, Event.ASK_INFO)
    if appeal.status not in AWAITING_RESIDENT or asked is None:
        raise ServiceError("该诉求目前不需要补充材料。", "info", "illegal_transition")
    clock = await clock_for(rules, appeal, extra_pause=(asked.at, at))
    return await transition(
        appeal, Event.INFO_SUPPLIED, RESIDENT, note=form.text, at=at,
        data={"old_due_at": appeal.reply_due_at.isoformat(),
              "new_due_at": clock.deadline.due_at.isoformat()},
        changes={**_deadline_changes(clock), "info_request": ""},
    )


async def request_extension(rules: Rules, appeal: Appeal, actor: Actor,
                            form: ExtensionRequest) -> Appeal:
    """The form's limits are those of any request; the room left is this appeal's own."""
    days = form.days
    room = rules.policies.reply(appeal.type).max_extension_days - appeal.extension_days
    if appeal.merged_into_id is not None:
        raise ServiceError("该诉求已并单，随主诉求的期限办理：请在主诉求上申请延期。", "days",
                           "conflict")
    if appeal.extension_requested_days:
        raise ServiceError("已有延期申请待审批。", "days", "conflict")
    if room <= 0:
        raise ServiceError("该诉求已达到最长延期，不能再延期。", "days")
    if days > room:
        raise ServiceError(f"延期天数须在 {EXTENSION_DAYS_MIN} 到 {room} 个工作日之间。", "days")
    return await transition(appeal, Event.EXTENSION_REQUEST, actor, note=form.reason,
                            data={"days": days}, changes={"extension_requested_days": days},
                            public=False)


async def decide_extension(rules: Rules, appeal: Appeal, actor: Actor,
                           form: ExtensionDecision) -> Appeal:
    days = appeal.extension_requested_days
    if not days:
        raise ServiceError("没有待审批的延期申请。", "decision")
    request = await last_event(appeal, Event.EXTENSION_REQUEST)
    if request is not None and actor.account is not None and request.actor_id == actor.account.id:
        raise ServiceError("不能审批自己提出的延期申请。", "decision", "forbidden")
    if form.decision == "refuse":
        return await transition(appeal, Event.EXTENSION_REFUSE, actor, note=form.note,
                                data={"days": days}, changes={"extension_requested_days": 0})
    total = appeal.extension_days + days
    clock = await clock_for(rules, appeal, extension_days=total)
    return await transition(
        appeal, Event.EXTENSION_GRANT, actor, note=form.note,
        data={"days": days, "old_due_at": appeal.reply_due_at.isoformat(),
              "new_due_at": clock.deadline.due_at.isoformat()},
        changes={**_deadline_changes(clock), "extension_days": total,
                 "extension_requested_days": 0},
    )


def _local_midnight(day) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def rating_closes_at(replied_at: datetime, days: int) -> datetime:
    """A reply given on (local) day D may be rated until the end of calendar day D + days."""
    return _local_midnight(to_local(replied_at).date() + timedelta(days=days + 1))


def rating_cutoff(now: datetime, days: int) -> datetime:
    """Appeals replied before this instant have had their whole rating window by `now`:
    replied_at < rating_cutoff(now, days) exactly when now >= rating_closes_at(replied_at)."""
    return _local_midnight(to_local(now).date() - timedelta(days=days))


def rating_window_over(replied_at: datetime, now: datetime, days: int) -> bool:
    """The test the sweep's lapse applies: has the window of a reply given at `replied_at`
    closed by `now`? A rating is refused from the same instant the sweep may close."""
    return replied_at < rating_cutoff(now, days)


async def redo_used(appeal: Appeal) -> bool:
    """不满意 asks for one redo; once it was used, the next 不满意 closes the appeal."""
    return await AppealEvent.exists(appeal_id=appeal.id, kind=Event.RATE_UNSATISFIED.value)


async def rate(rules: Rules, appeal: Appeal, form: Rating) -> Appeal:
    """满意 / 基本满意 close the appeal; 不满意 reopens it once with a fresh window, and a
    second 不满意 closes it, recorded as such. `appeal.rating` is the rating of the current
    reply (empty during a redo); every rating stays in its event's data."""
    rating, reason = form.rating, form.reason
    at = now_utc()
    if appeal.status in AWAITING_RATING and appeal.replied_at is not None and \
            rating_window_over(appeal.replied_at, at, rules.policies.rating_window_days):
        raise ServiceError("评价期已过，该诉求已自动办结。", "rating", "illegal_transition")
    given = {"rating": rating}
    if rating != "unsatisfied":
        return await transition(appeal, Event.RATE_OK, RESIDENT, note=RATINGS[rating], at=at,
                                data=given, changes={"rating": rating, "closed_at": at})
    if await redo_used(appeal):
        return await transition(appeal, Event.RATE_UNSATISFIED_FINAL, RESIDENT,
                                note=f"再次不满意：{reason}", at=at, data=given,
                                changes={"rating": rating, "closed_at": at})
    facts = ClockFacts(appeal.type, at)
    clock = reply_clock(facts, rules.policies, rules.calendar)
    # A merged member's redo is its own: it leaves the group (app.services.merging).
    return await transition(
        appeal, Event.RATE_UNSATISFIED, RESIDENT, note=reason, at=at, data=given,
        changes={**_deadline_changes(clock), "rating": "", "window_start": at,
                 "extension_days": 0, "extension_requested_days": 0,
                 **({"merged_into_id": None} if appeal.merged_into_id else {})},
    )


async def recompute(rules: Rules, appeal: Appeal, note: str = "") -> bool:
    """Bring one running deadline in line with the calendar; log an event if it moved. A
    merged member's deadline is its main's (it moves when the main's does)."""
    if appeal.merged_into_id is not None:
        return False
    clock = await clock_for(rules, appeal)
    if clock.deadline.due_at == appeal.reply_due_at and \
            clock.deadline.provisional == appeal.deadline_provisional:
        return False
    old = appeal.reply_due_at
    await transition(
        appeal, Event.DEADLINE_MOVED, SYSTEM, note=note or "工作日历调整，重新计算答复期限",
        data={"old_due_at": old.isoformat() if old else None,
              "new_due_at": clock.deadline.due_at.isoformat()},
        changes=_deadline_changes(clock),
    )
    return True


def _spanning(day: date) -> Q:
    """Appeals whose window can walk over `day`: it starts before that day and is not due
    before it begins. A change to that one day can move no other deadline."""
    begins = _local_midnight(day)
    return Q(reply_due_at__gte=begins) & (
        Q(window_start__lt=begins) | Q(window_start__isnull=True, submitted_at__lt=begins))


async def recompute_all(rules: Rules, batch: int = 500, *, spanning: date | None = None,
                        note: str = "") -> tuple[int, int]:
    """Every open appeal (with `spanning`, those whose window can cross that day), in id
    order and in batches; returns (looked at, moved)."""
    seen = moved = 0
    last_id = 0
    narrowed = _spanning(spanning) if spanning is not None else Q()
    while True:
        # A merged member runs on its main's clock, and moves with it (并单).
        appeals = await Appeal.filter(narrowed, id__gt=last_id,
                                      status__in=sorted(CLOCK_RUNNING),
                                      merged_into_id__isnull=True) \
            .order_by("id").limit(batch)
        if not appeals:
            return seen, moved
        for appeal in appeals:
            async with in_transaction():
                moved += await recompute(rules, appeal, note)
        seen += len(appeals)
        last_id = appeals[-1].id
