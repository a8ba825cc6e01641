"""督办 and 催办: an inspector's order to a department about one appeal, its answer (反馈),
its close or re-issue, its escalation by the sweep; and reminders.

Every step writes its order row and its event on the appeal's trail in one transaction, and
the order's update is conditional on the state (and round) we read, so two people acting at
once cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from app.domain.clock import compute_deadline
from app.domain.states import AWAITING_RATING, OPEN, Event
from app.domain.supervision import (
    OPEN_ORDER,
    TRAIL_EVENTS,
    IllegalOrderStep,
    OrderEvent,
    OrderStatus,
    next_order_status,
)
from app.domain.types import DEPARTMENT_ROLES
from app.models import Account, Appeal, Department, SupervisionOrder
from app.notify import notices, outbox
from app.rules import Rules
from app.schemas.staff import Reminder, Supervise, SupervisionAnswer, SupervisionClose
from app.services.errors import Conflict, ServiceError
from app.services.workflow import SYSTEM, Actor, now_utc, record_many, transition

BATCH = 500
LIVE_APPEAL = sorted(OPEN | AWAITING_RATING)  # an order steps only while its appeal lives


async def open_order(appeal: Appeal) -> SupervisionOrder | None:
    return await SupervisionOrder.filter(
        appeal_id=appeal.id, status__in=sorted(OPEN_ORDER)).order_by("-id").first()


def _due(rules: Rules, at: datetime, days: int) -> datetime:
    return compute_deadline(at, days, rules.calendar).due_at


async def department_people(department_id: int) -> tuple[Department, list]:
    department = await Department.get(id=department_id)
    handlers = await Account.filter(role__in=sorted(DEPARTMENT_ROLES),
                                    department_id=department_id,
                                    is_active=True).exclude(email=None)
    return department, [department.email, *handlers]


async def issue(rules: Rules, appeal: Appeal, actor: Actor, form: Supervise, *,
                at: datetime | None = None) -> SupervisionOrder:
    at = at or now_utc()
    if appeal.department_id is None:
        raise ServiceError("该诉求尚未交办到部门，不能督办。", None, "illegal_transition")
    due_at = _due(rules, at, form.days)
    async with in_transaction():
        # The appeal's row, locked, makes two inspectors issuing at once take turns.
        await Appeal.filter(id=appeal.id).select_for_update().first()
        if await open_order(appeal) is not None:
            raise ServiceError("该诉求已有未结束的督办。", None, "conflict")
        order = await SupervisionOrder.create(
            appeal_id=appeal.id, department_id=appeal.department_id,
            status=OrderStatus.ISSUED.value, reason=form.reason, days=form.days,
            issued_at=at, due_at=due_at, issued_by=actor.account)
        await transition(appeal, Event.SUPERVISE, actor, note=form.reason, at=at, public=False,
                         data={"order": order.id, "round": 1, "days": form.days,
                               "due_at": due_at.isoformat()})
        department, people = await department_people(appeal.department_id)
        await notices.supervision_issued(appeal, department, people, form.reason, due_at,
                                         f"supervise:{order.id}:1")
    return order


async def _step(appeal: Appeal, order: SupervisionOrder | None, event: OrderEvent,
                actor: Actor, changes: dict, *, note: str, at: datetime,
                data: dict | None = None) -> SupervisionOrder:
    """Move `order` by `event`, conditional on its state and round, with its trail event."""
    if order is None:
        raise ServiceError("该诉求没有未结束的督办。", None, "illegal_transition")
    try:
        new = next_order_status(order.status, event)
    except IllegalOrderStep as exc:
        raise ServiceError(str(exc), None, "illegal_transition") from None
    fields = {**changes, "status": new.value}
    async with in_transaction():
        updated = await SupervisionOrder.filter(id=order.id, status=order.status,
                                                round=order.round).update(**fields)
        if updated != 1:
            raise Conflict("该督办刚被他人处理，请刷新后再试。")
        await transition(appeal, TRAIL_EVENTS[event], actor, note=note, at=at, public=False,
                         data={"order": order.id, "round": fields.get("round", order.round),
                               **(data or {})})
    for key, value in fields.items():
        setattr(order, key, value)
    return order


async def answer(appeal: Appeal, actor: Actor, form: SupervisionAnswer, *,
                 at: datetime | None = None) -> SupervisionOrder:
    at = at or now_utc()
    order = await open_order(appeal)
    if order is not None and actor.account is not None \
            and order.department_id != actor.account.department_id:
        raise ServiceError("该督办不是交给本部门的。", None, "not_found")
    return await _step(appeal, order, OrderEvent.ANSWER, actor,
                       {"answer_text": form.answer, "answered_at": at,
                        "answered_by_id": actor.account.id if actor.account else None},
                       note=form.answer, at=at)


async def close(appeal: Appeal, actor: Actor, form: SupervisionClose, *,
                at: datetime | None = None) -> SupervisionOrder:
    at = at or now_utc()
    return await _step(appeal, await open_order(appeal), OrderEvent.CLOSE, actor,
                       {"closed_at": at}, note=form.note or "督办事项已落实，结束督办", at=at)


async def reissue(rules: Rules, appeal: Appeal, actor: Actor, form: Supervise, *,
                  at: datetime | None = None) -> SupervisionOrder:
    """A new round on the same order: new reason and deadline; the answer it replaces
    stays in the trail."""
    at = at or now_utc()
    order = await open_order(appeal)
    due_at = _due(rules, at, form.days)
    round_ = (order.round if order else 0) + 1
    order = await _step(appeal, order, OrderEvent.REISSUE, actor,
                        {"round": round_, "reason": form.reason, "days": form.days,
                         "issued_at": at, "due_at": due_at, "issued_by_id":
                         actor.account.id if actor.account else None, "answer_text": "",
                         "answered_at": None, "answered_by_id": None, "escalated_at": None},
                        note=form.reason, at=at,
                        data={"days": form.days, "due_at": due_at.isoformat()})
    async with in_transaction():
        department, people = await department_people(order.department_id)
        await notices.supervision_issued(appeal, department, people, form.reason, due_at,
                                         f"supervise:{order.id}:{round_}")
    return order


async def remind(appeal: Appeal, actor: Actor, form: Reminder, *,
                 at: datetime | None = None) -> Appeal:
    """催办: an event on the trail and a mail to the department holding the appeal."""
    at = at or now_utc()
    async with in_transaction():
        await transition(appeal, Event.REMIND, actor, note=form.note, at=at, public=False)
        department, people = await department_people(appeal.department_id)
        await notices.reminder(appeal, department, people, form.note, actor.label)
    return appeal


# --- lists -------------------------------------------------------------------------------

PAGE = 50
LIST_STATUSES = {"open": "未结束", "issued": "待反馈", "answered": "已反馈", "closed": "已结束"}


async def pinned(department_id: int | None) -> list[SupervisionOrder]:
    """Orders waiting for the department's answer, most urgent first: the top of its queue.
    Only those whose appeal the department still holds (a handler may open it)."""
    if department_id is None:
        return []
    orders = await SupervisionOrder.filter(
        department_id=department_id, status=OrderStatus.ISSUED.value,
        appeal__department_id=department_id).order_by("due_at", "id").limit(PAGE) \
        .prefetch_related("appeal")
    return [o for o in orders if o.appeal.named_unit_id != department_id]


async def listed(chosen, department_id: int | None) -> tuple[list[SupervisionOrder], int | None]:
    """A page of orders newest first, after the id `chosen.after`; and the next page's key."""
    query = SupervisionOrder.all()
    if department_id is not None:
        query = query.filter(department_id=department_id)
    if chosen.status == "open":
        query = query.filter(status__in=sorted(OPEN_ORDER))
    elif chosen.status:
        query = query.filter(status=chosen.status)
    if chosen.after:
        query = query.filter(id__lt=chosen.after)
    orders = await query.order_by("-id").limit(PAGE + 1).prefetch_related("appeal",
                                                                           "department")
    more = len(orders) > PAGE
    orders = orders[:PAGE]
    return orders, orders[-1].id if more else None


# --- the sweep ---------------------------------------------------------------------------


def _overdue_orders(now: datetime):
    live = Subquery(Appeal.filter(status__in=LIVE_APPEAL).values("id"))
    return SupervisionOrder.filter(status=OrderStatus.ISSUED.value, escalated_at__isnull=True,
                                   due_at__lt=now, appeal_id__in=live)


async def escalate_batch(now: datetime, inspectors: list) -> int:
    """One transaction: lock a batch of unanswered orders past their deadline (SKIP LOCKED),
    mark them escalated, write their trail events, and queue the mail to the department
    (its mailbox and handlers: there is no head role yet) and the inspectors. Only orders
    still unescalated qualify, so two sweeps at once escalate each order once."""
    async with in_transaction():
        orders = await _overdue_orders(now).order_by("id").limit(BATCH) \
            .select_for_update(skip_locked=True)
        if not orders:
            return 0
        marked = await SupervisionOrder.filter(id__in=[o.id for o in orders],
                                               escalated_at__isnull=True
                                               ).update(escalated_at=now)
        if marked != len(orders):
            raise Conflict()
        appeals = {a.id: a for a in await Appeal.filter(id__in=[o.appeal_id for o in orders])}
        await record_many(list(appeals.values()), TRAIL_EVENTS[OrderEvent.ESCALATE], SYSTEM,
                          note="督办逾期未反馈，已报部门负责人和纪检监察", at=now)
        people: dict[int, tuple[Department, list]] = {}
        async with outbox.batched():
            for order in orders:
                if order.department_id not in people:
                    people[order.department_id] = await department_people(order.department_id)
                department, recipients = people[order.department_id]
                await notices.supervision_escalated(
                    appeals[order.appeal_id], department, [*recipients, *inspectors],
                    order.reason, order.due_at, f"supervise-late:{order.id}:{order.round}")
    return len(orders)


async def escalate(now: datetime, inspectors: list) -> int:
    done = conflicts = 0
    while conflicts < 3:
        try:
            count = await escalate_batch(now, inspectors)
        except Conflict:
            conflicts += 1  # an appeal moved or another sweep got there first: look again
            continue
        done += count
        if count < BATCH:
            break
    return done
