"""A department's work on an appeal: acknowledge (签收) and reply. Every reply is kept."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain.states import Event
from app.models import Appeal, AppealReply
from app.notify import notices
from app.schemas.limits import REPLY_MAX, REPLY_MIN
from app.services.clocks import redo_used
from app.services.errors import ServiceError
from app.services.workflow import Actor, now_utc, transition


async def acknowledge(appeal: Appeal, actor: Actor) -> Appeal:
    return await transition(appeal, Event.ACKNOWLEDGE, actor, note="部门已签收",
                            changes={"acknowledged_at": now_utc()})


async def reply(appeal: Appeal, actor: Actor, text: str) -> Appeal:
    text = text.strip()
    if len(text) < REPLY_MIN:
        raise ServiceError(f"答复内容至少 {REPLY_MIN} 个字。", "reply")
    if len(text) > REPLY_MAX:
        raise ServiceError(f"答复内容不能超过 {REPLY_MAX} 个字。", "reply")
    at = now_utc()
    async with in_transaction():
        rounds = await AppealReply.filter(appeal_id=appeal.id).count()
        await transition(appeal, Event.REPLY, actor, note="部门已答复", at=at,
                         data={"round": rounds + 1},
                         changes={"reply_text": text, "replied_at": at})
        await AppealReply.create(appeal_id=appeal.id, round=rounds + 1, text=text, at=at,
                                 actor=actor.account, actor_label=actor.label,
                                 department_id=appeal.department_id)
        await notices.appeal_replied(appeal, redo_available=not await redo_used(appeal))
    return appeal
