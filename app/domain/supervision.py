"""督办 (supervision orders): their own state table, like the appeal's.

An inspector issues an order (issued); the department answers it (反馈, answered); the
inspector closes it (closed) or re-issues it, which starts a new round (issued again). An
order still unanswered past its deadline is escalated by the sweep, once per round; that
leaves it issued.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.states import Event


class OrderStatus(StrEnum):
    ISSUED = "issued"
    ANSWERED = "answered"
    CLOSED = "closed"


class OrderEvent(StrEnum):
    ANSWER = "answer"
    ESCALATE = "escalate"
    CLOSE = "close"
    REISSUE = "reissue"


OS, OE = OrderStatus, OrderEvent

ORDER_TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (OS.ISSUED, OE.ANSWER): OS.ANSWERED,
    (OS.ISSUED, OE.ESCALATE): OS.ISSUED,
    (OS.ANSWERED, OE.CLOSE): OS.CLOSED,
    (OS.ANSWERED, OE.REISSUE): OS.ISSUED,
}

OPEN_ORDER = frozenset({OS.ISSUED, OS.ANSWERED})

# The event each step writes on the appeal's trail (issuing writes Event.SUPERVISE).
TRAIL_EVENTS: dict[OrderEvent, Event] = {
    OE.ANSWER: Event.SUPERVISION_ANSWER,
    OE.ESCALATE: Event.SUPERVISION_ESCALATE,
    OE.CLOSE: Event.SUPERVISION_CLOSE,
    OE.REISSUE: Event.SUPERVISION_REISSUE,
}

ORDER_STATUS_LABELS = {OS.ISSUED: "待反馈", OS.ANSWERED: "已反馈", OS.CLOSED: "已结束"}
ORDER_EVENT_LABELS = {OE.ANSWER: "反馈", OE.ESCALATE: "逾期升级", OE.CLOSE: "结束督办",
                      OE.REISSUE: "再次督办"}


class IllegalOrderStep(Exception):
    def __init__(self, status: OrderStatus, event: OrderEvent):
        self.status, self.event = status, event
        super().__init__(f"督办状态“{ORDER_STATUS_LABELS[status]}”下不能"
                         f"“{ORDER_EVENT_LABELS[event]}”。")


def next_order_status(status: OrderStatus | str, event: OrderEvent | str) -> OrderStatus:
    try:
        return ORDER_TRANSITIONS[(OrderStatus(status), OrderEvent(event))]
    except KeyError:
        raise IllegalOrderStep(OrderStatus(status), OrderEvent(event)) from None
