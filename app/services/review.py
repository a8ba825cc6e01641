"""Reply review (审核): where a department asks for it (routing_rules/regions.yaml `review`),
a handler's reply waits for the department head, who sends it to the resident as written or
returns it for revision with a note. Off by default; the head's own replies go out at once.

The reply waiting is the text of its SUBMIT_REPLY event (events are the record): nothing
reaches the resident, no reply is kept and the resident is sent no notice until the head
approves it. The heads are mailed that a reply waits, the handler that it came back.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.domain.states import Event, Status
from app.domain.types import Role
from app.models import Account, AppealEvent, Department
from app.models.appeals import Appeal
from app.notify import notices
from app.rules import Rules
from app.schemas.replies import Revise
from app.schemas.staff import Reply
from app.services import handling
from app.services.errors import ServiceError
from app.services.merging import lockstep
from app.services.workflow import Actor, last_event, transition

SENT = "已答复"
SUBMITTED = "答复已提交部门负责人审核"
APPROVED = "已审核通过，答复已发送给群众"
REVISED = "已退回修改，办理人将重新答复"


async def required(rules: Rules, appeal: Appeal) -> bool:
    """Does the appeal's department ask for its replies to be reviewed?"""
    if appeal.department_id is None:
        return False
    code = await Department.filter(id=appeal.department_id).values_list("code", flat=True)
    spec = rules.departments.get(code[0]) if code else None
    return bool(spec and spec.review)


async def reply(rules: Rules, appeal: Appeal, actor: Actor, form: Reply) -> str:
    """The reply form: to the resident at once, or first to the head where it is required;
    what the page says afterwards."""
    head = actor.account is not None and Role(actor.account.role) is Role.HEAD
    if not head and await required(rules, appeal):
        await submit(appeal, actor, form)
        return SUBMITTED
    await handling.reply(appeal, actor, form, rules.calendar)
    return SENT


async def submit(appeal: Appeal, actor: Actor, form: Reply) -> Appeal:
    """The reply to the head: kept on its event, for staff only, until approved."""
    members = await lockstep(appeal)
    if members:
        handling.refuse_personal_data(form.reply, [appeal, *members])
    async with in_transaction():
        appeal = await transition(appeal, Event.SUBMIT_REPLY, actor, note=SUBMITTED,
                                  data={"text": form.reply}, public=False)
        event = await last_event(appeal, Event.SUBMIT_REPLY)
        department = await Department.get(id=appeal.department_id)
        heads = await Account.filter(role=Role.HEAD.value, department_id=appeal.department_id,
                                     is_active=True).exclude(email=None)
        if actor.account is not None:
            heads = [h for h in heads if h.id != actor.account.id]
        await notices.review_requested(appeal, department, heads, actor.label,
                                       f"review:{event.id}")
    return appeal


async def pending(appeal: Appeal) -> AppealEvent | None:
    """The reply waiting for review: the appeal's last SUBMIT_REPLY, while it waits."""
    if appeal.status != Status.REVIEW:
        return None
    return await last_event(appeal, Event.SUBMIT_REPLY).prefetch_related("actor")


async def _waiting(appeal: Appeal, actor: Actor) -> AppealEvent:
    found = await pending(appeal)
    if found is None:
        raise ServiceError("该诉求没有待审核的答复。", None, "illegal_transition")
    if actor.account is not None and found.actor_id == actor.account.id:
        raise ServiceError("不能审核自己提交的答复。", None, "own_reply")
    return found


async def approve(rules: Rules, appeal: Appeal, actor: Actor) -> str:
    """The reply goes out as the handler wrote it: kept as theirs, notices sent, the first
    reply's facts set, exactly as an unreviewed reply."""
    found = await _waiting(appeal, actor)
    author = Actor(found.actor, found.actor_label)
    form = Reply.model_construct(reply=str((found.data or {}).get("text", "")))
    await handling.reply(appeal, actor, form, rules.calendar, event=Event.APPROVE_REPLY,
                         author=author, note="部门负责人审核通过，已答复")
    return APPROVED


async def revise(appeal: Appeal, actor: Actor, form: Revise) -> str:
    """Back to the handler with the head's note: the appeal is in hand again, clock running."""
    found = await _waiting(appeal, actor)
    async with in_transaction():
        await transition(appeal, Event.REVISE_REPLY, actor, note=form.note,
                         data={"submitted": found.id}, public=False)
        author = found.actor
        if author is not None and author.email and author.is_active:
            department = await Department.get(id=appeal.department_id)
            await notices.review_returned(appeal, department, author, found.actor_label,
                                          actor.label, form.note, f"revised:{found.id}")
    return REVISED
