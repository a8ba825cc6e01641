"""The dispatcher's refusal: 不予受理, with a reason the resident reads."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain.states import Event
from app.models import Appeal, AppealEvent
from app.notify import notices
from app.schemas.limits import REASON_MAX, REASON_MIN
from app.services.errors import ServiceError
from app.services.workflow import Actor, now_utc, transition

REJECT_REASONS = {
    "no_substance": "恶意诉求或无实质内容",
    "out_of_scope": "不属于本平台受理范围",
    "other_channel": "已通过诉讼、仲裁、行政复议或信访等渠道处理",
    "duplicate": "重复诉求，已在办理或已办结",
    "other": "其他",
}


async def reject(appeal: Appeal, actor: Actor, reason: str, explanation: str = "") -> Appeal:
    """Refuse an appeal waiting in triage; the resident sees the reason and gets a mail."""
    if reason not in REJECT_REASONS:
        raise ServiceError("请选择不予受理的理由。", "reason")
    explanation = explanation.strip()
    if reason == "other" and len(explanation) < REASON_MIN:
        raise ServiceError(f"选择“其他”时，请说明不予受理的理由（至少 {REASON_MIN} 个字）。",
                           "explanation")
    if len(explanation) > REASON_MAX:
        raise ServiceError(f"说明不能超过 {REASON_MAX} 个字。", "explanation")
    label = REJECT_REASONS[reason]
    at = now_utc()
    async with in_transaction():
        await transition(appeal, Event.REJECT, actor, at=at,
                         note=f"{label}：{explanation}" if explanation else label,
                         data={"reason": reason, "explanation": explanation},
                         changes={"closed_at": at})
        await notices.appeal_rejected(appeal, label, explanation)
    return appeal


async def rejection(appeal: Appeal) -> dict | None:
    """Why the appeal was refused, as the resident may read it; None if it was not."""
    event = await AppealEvent.filter(appeal_id=appeal.id, kind=Event.REJECT.value) \
        .order_by("-id").first()
    if event is None:
        return None
    data = event.data or {}
    key = data.get("reason", "")
    return {"reason": key, "label": REJECT_REASONS.get(key, event.note),
            "explanation": data.get("explanation", ""), "at": event.at}
