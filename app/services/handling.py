"""A department's work on an appeal: acknowledge (签收) and reply. Every reply is kept."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain import redaction
from app.domain.clock import WorkingCalendar, working_days_between
from app.domain.states import Event
from app.models import Appeal, AppealReply
from app.notify import notices
from app.schemas.staff import Reply
from app.services.clocks import redo_used
from app.services.errors import ServiceError
from app.services.merging import lockstep
from app.services.workflow import Actor, now_utc, transition


async def acknowledge(appeal: Appeal, actor: Actor) -> Appeal:
    return await transition(appeal, Event.ACKNOWLEDGE, actor, note="部门已签收",
                            changes={"acknowledged_at": now_utc()})


NATIONAL = WorkingCalendar()


def refuse_personal_data(text: str, group: list[Appeal]) -> None:
    """A merged group's reply goes to every resident in it: none of their own names, phones
    or mail addresses may stand in it."""
    for one in group:
        own = redaction.own_values(one.contact_name, one.contact_email, one.contact_phone)
        label = redaction.own_value_in(text, own)
        if label:
            raise ServiceError(f"本件已并单，答复将同时发给 {len(group)} 位群众：答复中有{label}"
                               f"（{one.tracking_number}），请删去后再提交。", "reply")


async def reply(appeal: Appeal, actor: Actor, form: Reply,
                calendar: WorkingCalendar = NATIONAL, *, event: Event = Event.REPLY,
                author: Actor | None = None, note: str = "部门已答复") -> Appeal:
    """`calendar` counts the working days to the first reply (the rules' calendar, with the
    administrator's overrides; the national one by default). A reply the head approved
    (app.services.review) is `event` APPROVE_REPLY by the head, kept as its `author`'s."""
    author = author or actor
    text = form.reply
    at = now_utc()
    async with in_transaction():
        # 并单: the members answered with the main, each kept as its own reply, each resident
        # told through their own channel.
        members = await lockstep(appeal)
        if members:
            refuse_personal_data(text, [appeal, *members])
        last = await AppealReply.filter(appeal_id=appeal.id).order_by("-round").first()
        round_ = last.round + 1 if last else 1
        changes = {"reply_text": text, "replied_at": at}
        if round_ == 1:
            changes |= {"first_reply_at": at, "first_reply_due_at": appeal.reply_due_at,
                        "first_reply_days": working_days_between(appeal.submitted_at, at,
                                                                 calendar)}
        # The event names its round: the trail pairs it with its reply by that, not by order.
        await transition(appeal, event, actor, note=note, at=at,
                         data={"round": round_}, changes=changes)
        await AppealReply.bulk_create([
            AppealReply(appeal_id=one.id, round=round_, text=text, at=at, actor=author.account,
                        actor_label=author.label, department_id=appeal.department_id)
            for one in [appeal, *members]])
        await notices.appeal_replied(appeal, redo_available=not await redo_used(appeal))
        for member in members:
            member.reply_text, member.replied_at = text, at
            member.department_id = appeal.department_id
            await notices.appeal_replied(member, redo_available=True)
    return appeal
