"""A department's work on an appeal: acknowledge (签收) and reply."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain.states import Event
from app.models import Appeal
from app.notify import notices
from app.services.errors import ServiceError
from app.services.workflow import Actor, now_utc, transition

REPLY_MIN, REPLY_MAX = 10, 5000


async def acknowledge(appeal: Appeal, actor: Actor) -> Appeal:
    return await transition(appeal, Event.ACKNOWLEDGE, actor, note="部门已签收",
                            changes={"acknowledged_at": now_utc()})


async def reply(appeal: Appeal, actor: Actor, text: str) -> Appeal:
    text = text.strip()
    if len(text) < REPLY_MIN:
        raise ServiceError(f"答复内容至少 {REPLY_MIN} 个字。", "reply")
    if len(text) > REPLY_MAX:
        raise ServiceError(f"答复内容不能超过 {REPLY_MAX} 个字。", "reply")
    async with in_transaction():
        await transition(appeal, Event.REPLY, actor, note="部门已答复",
                         changes={"reply_text": text, "replied_at": now_utc()})
        await notices.appeal_replied(appeal)
    return appeal
