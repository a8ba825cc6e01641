"""The dispatcher's refusal: 不予受理, with a reason the resident reads."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain.outcomes import REJECT_REASONS
from app.domain.states import Event
from app.models import Appeal
from app.notify import notices
from app.schemas.staff import Reject
from app.services.merging import lockstep
from app.services.workflow import Actor, last_event, now_utc, transition


async def reject(appeal: Appeal, actor: Actor, form: Reject) -> Appeal:
    """Refuse an appeal waiting in triage; the resident sees the reason and gets a mail."""
    reason, explanation = form.reason, form.explanation
    label = REJECT_REASONS[reason]
    at = now_utc()
    async with in_transaction():
        members = await lockstep(appeal)  # 并单: refused with it, each resident told
        await transition(appeal, Event.REJECT, actor, at=at,
                         note=f"{label}：{explanation}" if explanation else label,
                         data={"reason": reason, "explanation": explanation},
                         changes={"closed_at": at})
        for one in [appeal, *members]:
            await notices.appeal_rejected(one, label, explanation)
    return appeal


async def rejection(appeal: Appeal) -> dict | None:
    """Why the appeal was refused, as the resident may read it; None if it was not."""
    event = await last_event(appeal, Event.REJECT)
    if event is None:
        return None
    data = event.data or {}
    key = data.get("reason", "")
    return {"reason": key, "label": REJECT_REASONS.get(key, event.note),
            "explanation": data.get("explanation", ""), "at": event.at}
