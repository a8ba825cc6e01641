"""The appeal state machine: one explicit table of (state, event) -> next state."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    AWAITING_INFO = "awaiting_info"
    REPLIED = "replied"
    CLOSED = "closed"
    REJECTED = "rejected"


class Event(StrEnum):
    ROUTE_CONFIDENT = "route_confident"
    ROUTE_UNSURE = "route_unsure"
    ROUTE_MANUAL = "route_manual"
    ACKNOWLEDGE = "acknowledge"
    RETURN = "return"
    ASK_INFO = "ask_info"
    INFO_SUPPLIED = "info_supplied"
    REPLY = "reply"
    RATE_OK = "rate_ok"
    RATE_UNSATISFIED = "rate_unsatisfied"
    LAPSE = "lapse"
    REJECT = "reject"
    # Events that record something without moving the appeal.
    SUPERVISE = "supervise"
    NOTE = "note"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_GRANT = "extension_grant"
    EXTENSION_REFUSE = "extension_refuse"
    DEADLINE_MOVED = "deadline_moved"
    SLA_WARNING = "sla_warning"
    SLA_OVERDUE = "sla_overdue"


S, E = Status, Event

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (S.SUBMITTED, E.ROUTE_CONFIDENT): S.ASSIGNED,
    (S.SUBMITTED, E.ROUTE_UNSURE): S.TRIAGE,
    (S.TRIAGE, E.ROUTE_MANUAL): S.ASSIGNED,
    (S.TRIAGE, E.REJECT): S.REJECTED,
    (S.ASSIGNED, E.ROUTE_MANUAL): S.ASSIGNED,
    (S.ASSIGNED, E.ACKNOWLEDGE): S.ACCEPTED,
    (S.ASSIGNED, E.RETURN): S.TRIAGE,
    (S.ACCEPTED, E.RETURN): S.TRIAGE,
    (S.ACCEPTED, E.ASK_INFO): S.AWAITING_INFO,
    (S.AWAITING_INFO, E.INFO_SUPPLIED): S.ACCEPTED,
    (S.ACCEPTED, E.REPLY): S.REPLIED,
    (S.REPLIED, E.RATE_OK): S.CLOSED,
    (S.REPLIED, E.LAPSE): S.CLOSED,
    (S.REPLIED, E.RATE_UNSATISFIED): S.ACCEPTED,
}

OPEN = frozenset({S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.ACCEPTED, S.AWAITING_INFO})
FINISHED = frozenset({S.REPLIED, S.CLOSED, S.REJECTED})
# Supervision and notes may be recorded on any appeal that is not finished for good.
_IN_HAND = frozenset({S.ASSIGNED, S.ACCEPTED, S.AWAITING_INFO})
_STAY_EVENTS = {
    E.SUPERVISE: OPEN | {S.REPLIED},
    E.NOTE: frozenset(Status),
    E.EXTENSION_REQUEST: _IN_HAND,
    E.EXTENSION_GRANT: _IN_HAND,
    E.EXTENSION_REFUSE: _IN_HAND,
    E.DEADLINE_MOVED: OPEN,
    E.SLA_WARNING: OPEN,
    E.SLA_OVERDUE: OPEN,
}
for _event, _states in _STAY_EVENTS.items():
    for _state in _states:
        TRANSITIONS[(_state, _event)] = _state

STATUS_LABELS = {
    S.SUBMITTED: "已提交",
    S.TRIAGE: "待分派",
    S.ASSIGNED: "已交办",
    S.ACCEPTED: "办理中",
    S.AWAITING_INFO: "待补充材料",
    S.REPLIED: "已答复",
    S.CLOSED: "已办结",
    S.REJECTED: "不予受理",
}

EVENT_LABELS = {
    E.ROUTE_CONFIDENT: "自动分派",
    E.ROUTE_UNSURE: "转人工分派",
    E.ROUTE_MANUAL: "人工分派",
    E.ACKNOWLEDGE: "签收",
    E.RETURN: "退回",
    E.ASK_INFO: "要求补充材料",
    E.INFO_SUPPLIED: "群众补充材料",
    E.REPLY: "答复",
    E.RATE_OK: "群众评价满意",
    E.RATE_UNSATISFIED: "群众不满意，重新办理",
    E.LAPSE: "评价期满自动办结",
    E.REJECT: "不予受理",
    E.SUPERVISE: "督办",
    E.NOTE: "备注",
    E.EXTENSION_REQUEST: "申请延期",
    E.EXTENSION_GRANT: "批准延期",
    E.EXTENSION_REFUSE: "不批准延期",
    E.DEADLINE_MOVED: "答复期限调整",
    E.SLA_WARNING: "临近期限提醒",
    E.SLA_OVERDUE: "超期",
}


class IllegalTransition(Exception):
    def __init__(self, status: Status, event: Event):
        self.status, self.event = status, event
        super().__init__(
            f"当前状态“{STATUS_LABELS[status]}”下不能执行“{EVENT_LABELS[event]}”。"
        )


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(Status(status), Event(event))]
    except KeyError:
        raise IllegalTransition(Status(status), Event(event)) from None
