"""The appeal state machine: one explicit table of (state, event) -> next state, the named
groups of states everything else asks for, and which events each role may cause.

Overdue has one meaning (DESIGN.md): open, not awaiting the resident, and past its reply
deadline. So an appeal counts as overdue when its status is in COUNTS_AS_OVERDUE and its
reply_due_at is before now; time spent awaiting the resident's information does not count,
time in triage does (the resident is waiting).
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.types import Role


class Status(StrEnum):
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    AWAITING_INFO = "awaiting_info"
    # 审核: the handler's reply waits for the department head (departments that ask for it).
    REVIEW = "review"
    REPLIED = "replied"
    CLOSED = "closed"
    REJECTED = "rejected"


class Event(StrEnum):
    SUBMIT = "submitted"  # the appeal's first event: it is created, not moved
    ROUTE_CONFIDENT = "route_confident"
    ROUTE_UNSURE = "route_unsure"
    ROUTE_MANUAL = "route_manual"
    ACKNOWLEDGE = "acknowledge"
    RETURN = "return"
    ASK_INFO = "ask_info"
    INFO_SUPPLIED = "info_supplied"
    REPLY = "reply"
    # 审核 (routing_rules/regions.yaml `review`): the reply goes to the head first.
    SUBMIT_REPLY = "submit_reply"
    APPROVE_REPLY = "approve_reply"
    REVISE_REPLY = "revise_reply"
    RATE_OK = "rate_ok"
    RATE_UNSATISFIED = "rate_unsatisfied"
    RATE_UNSATISFIED_FINAL = "rate_unsatisfied_final"
    LAPSE = "lapse"
    REJECT = "reject"
    # An administrator deactivated the department holding the appeal: back to the desk.
    DEPARTMENT_CLOSED = "department_closed"
    # Events that record something without moving the appeal.
    SUPERVISE = "supervise"
    NOTE = "note"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_GRANT = "extension_grant"
    EXTENSION_REFUSE = "extension_refuse"
    DEADLINE_MOVED = "deadline_moved"
    SLA_WARNING = "sla_warning"
    SLA_OVERDUE = "sla_overdue"
    # 督办 orders (app.domain.supervision) and 催办 reminders, on the appeal's trail.
    SUPERVISION_ANSWER = "supervision_answer"
    SUPERVISION_ESCALATE = "supervision_escalate"
    SUPERVISION_CLOSE = "supervision_close"
    SUPERVISION_REISSUE = "supervision_reissue"
    REMIND = "remind"
    # 回访: the dispatcher's call after closing. Its outcome is recorded on a closed appeal;
    # "not solved" reopens it for a redo, once (app.services.followup).
    FOLLOWUP = "followup"
    FOLLOWUP_UNSOLVED = "followup_unsolved"
    # A staff member revealed one masked value (app.services.reveals): on any appeal, moving
    # nothing; the event names the value's place and the reason, never the value.
    REVEAL = "reveal"
    # 还利于民 (app.services.benefits): an entry recorded by the department, then verified
    # (核实) or rejected by an inspector; on the appeal's trail, moving nothing.
    BENEFIT_RECORD = "benefit_record"
    BENEFIT_VERIFY = "benefit_verify"
    BENEFIT_REJECT = "benefit_reject"
    # Published replies (app.services.publication): an approver publishes the redacted text
    # or takes it down; the resident withdraws consent. On the trail, moving nothing.
    PUBLISH = "published"
    UNPUBLISH = "unpublished"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    # 并单 (app.services.merging): a dispatcher merges an appeal into a main appeal, which it
    # then follows (FOLLOWED); the main records whom it took in; an undo restores the
    # member's own state. MERGE and UNMERGE move a member to a state the table cannot name
    # (the main's, or the member's own from before), always between OPEN states (MERGE_MOVES).
    MERGE = "merged"
    MERGE_MAIN = "merge_main"
    UNMERGE = "unmerged"


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
    (S.ASSIGNED, E.DEPARTMENT_CLOSED): S.TRIAGE,
    (S.ACCEPTED, E.DEPARTMENT_CLOSED): S.TRIAGE,
    (S.AWAITING_INFO, E.DEPARTMENT_CLOSED): S.TRIAGE,
    (S.ACCEPTED, E.ASK_INFO): S.AWAITING_INFO,
    (S.AWAITING_INFO, E.INFO_SUPPLIED): S.ACCEPTED,
    (S.ACCEPTED, E.REPLY): S.REPLIED,
    (S.ACCEPTED, E.SUBMIT_REPLY): S.REVIEW,
    (S.REVIEW, E.APPROVE_REPLY): S.REPLIED,
    (S.REVIEW, E.REVISE_REPLY): S.ACCEPTED,
    (S.REVIEW, E.DEPARTMENT_CLOSED): S.TRIAGE,
    (S.REPLIED, E.RATE_OK): S.CLOSED,
    (S.REPLIED, E.LAPSE): S.CLOSED,
    (S.REPLIED, E.RATE_UNSATISFIED): S.ACCEPTED,
    (S.REPLIED, E.RATE_UNSATISFIED_FINAL): S.CLOSED,
    (S.CLOSED, E.FOLLOWUP): S.CLOSED,
    (S.CLOSED, E.FOLLOWUP_UNSOLVED): S.ACCEPTED,
}

# Every status is in exactly one of OPEN, AWAITING_RATING and FINISHED.
OPEN = frozenset({S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.ACCEPTED, S.AWAITING_INFO,
                  S.REVIEW})
AWAITING_RATING = frozenset({S.REPLIED})
FINISHED = frozenset({S.CLOSED, S.REJECTED})
# The one way back from a finished state: a 回访 that finds the problem unsolved (once).
REOPENING = frozenset({(S.CLOSED, E.FOLLOWUP_UNSOLVED)})
# Open and assigned to a department: the department's queue. A reply waiting for the
# head's review has not reached the resident: the clock runs and it can fall overdue.
WITH_DEPARTMENT = frozenset({S.ASSIGNED, S.ACCEPTED, S.AWAITING_INFO, S.REVIEW})
AWAITING_RESIDENT = frozenset({S.AWAITING_INFO})
# Open and the reply clock is running: triage counts, waiting for the resident does not.
CLOCK_RUNNING = OPEN - AWAITING_RESIDENT
COUNTS_AS_OVERDUE = CLOCK_RUNNING
# Answered at least once: a reply exists (training data, reply statistics).
ANSWERED = AWAITING_RATING | {S.CLOSED}

_STAY_EVENTS = {
    # Supervision may be ordered on anything not finished for good; notes on anything.
    E.SUPERVISE: OPEN | AWAITING_RATING,
    # An order lives while its appeal does; a finished appeal takes no step of it.
    E.SUPERVISION_ANSWER: OPEN | AWAITING_RATING,
    E.SUPERVISION_ESCALATE: OPEN | AWAITING_RATING,
    E.SUPERVISION_CLOSE: OPEN | AWAITING_RATING,
    E.SUPERVISION_REISSUE: OPEN | AWAITING_RATING,
    # 催办 goes to the department holding the appeal.
    E.REMIND: WITH_DEPARTMENT,
    E.NOTE: frozenset(Status),
    E.REVEAL: frozenset(Status),
    # Recorded with the reply (or its submission for review) or later on a replied appeal;
    # an inspector's decision on an entry whatever the appeal has become since.
    E.BENEFIT_RECORD: frozenset({S.REVIEW}) | ANSWERED,
    E.BENEFIT_VERIFY: frozenset(Status),
    E.BENEFIT_REJECT: frozenset(Status),
    # Published only once answered; taken down, or consent withdrawn, whatever it is now.
    E.PUBLISH: ANSWERED,
    E.UNPUBLISH: frozenset(Status),
    E.CONSENT_WITHDRAWN: frozenset(Status),
    E.EXTENSION_REQUEST: WITH_DEPARTMENT,
    E.MERGE_MAIN: OPEN,
    E.EXTENSION_GRANT: WITH_DEPARTMENT,
    E.EXTENSION_REFUSE: WITH_DEPARTMENT,
    E.DEADLINE_MOVED: OPEN,
    E.SLA_WARNING: CLOCK_RUNNING,
    E.SLA_OVERDUE: COUNTS_AS_OVERDUE,
}
for _event, _states in _STAY_EVENTS.items():
    for _state in _states:
        TRANSITIONS[(_state, _event)] = _state

# 并单: the events of a main appeal its members take with it, in the same transaction, while
# they stand where the main stood (app.services.workflow). The resident's own steps (rating,
# 回访) and what only records something on the main are not followed.
FOLLOWED = frozenset({
    E.ROUTE_MANUAL, E.ACKNOWLEDGE, E.RETURN, E.DEPARTMENT_CLOSED, E.ASK_INFO, E.INFO_SUPPLIED,
    E.REPLY, E.SUBMIT_REPLY, E.APPROVE_REPLY, E.REVISE_REPLY, E.REJECT, E.EXTENSION_GRANT,
    E.DEADLINE_MOVED,
})
MERGE_MOVES = frozenset({E.MERGE, E.UNMERGE})


def merge_move(status: Status | str, event: Event, target: Status | str) -> Status:
    """The state a MERGE (to the main's state) or UNMERGE (back to the member's own) leads
    to: only an open appeal moves, and only to an open state."""
    old, new = Status(status), Status(target)
    if event not in MERGE_MOVES or old not in OPEN or new not in OPEN:
        raise IllegalTransition(old, event)
    return new


STATUS_LABELS = {
    S.SUBMITTED: "已提交",
    S.TRIAGE: "待分派",
    S.ASSIGNED: "已交办",
    S.ACCEPTED: "办理中",
    S.AWAITING_INFO: "待补充材料",
    S.REVIEW: "答复待审核",
    S.REPLIED: "已答复",
    S.CLOSED: "已办结",
    S.REJECTED: "不予受理",
}

EVENT_LABELS = {
    E.SUBMIT: "提交诉求",
    E.ROUTE_CONFIDENT: "自动分派",
    E.ROUTE_UNSURE: "转人工分派",
    E.ROUTE_MANUAL: "人工分派",
    E.ACKNOWLEDGE: "签收",
    E.RETURN: "退回",
    E.ASK_INFO: "要求补充材料",
    E.INFO_SUPPLIED: "群众补充材料",
    E.REPLY: "答复",
    E.SUBMIT_REPLY: "答复提交审核",
    E.APPROVE_REPLY: "负责人审核通过，答复",
    E.REVISE_REPLY: "负责人退回修改答复",
    E.RATE_OK: "群众评价满意",
    E.RATE_UNSATISFIED: "群众不满意，重新办理",
    E.RATE_UNSATISFIED_FINAL: "群众再次不满意，办结",
    E.LAPSE: "评价期满自动办结",
    E.REJECT: "不予受理",
    E.DEPARTMENT_CLOSED: "承办部门停用，退回分派中心",
    E.SUPERVISE: "督办",
    E.NOTE: "备注",
    E.EXTENSION_REQUEST: "申请延期",
    E.EXTENSION_GRANT: "批准延期",
    E.EXTENSION_REFUSE: "不批准延期",
    E.DEADLINE_MOVED: "答复期限调整",
    E.SLA_WARNING: "临近期限提醒",
    E.SLA_OVERDUE: "超期",
    E.SUPERVISION_ANSWER: "督办反馈",
    E.SUPERVISION_ESCALATE: "督办逾期未反馈，已升级",
    E.SUPERVISION_CLOSE: "结束督办",
    E.SUPERVISION_REISSUE: "再次督办",
    E.REMIND: "催办",
    E.FOLLOWUP: "回访",
    E.FOLLOWUP_UNSOLVED: "回访未解决，重新办理",
    E.REVEAL: "查看个人信息",
    E.BENEFIT_RECORD: "登记还利于民",
    E.BENEFIT_VERIFY: "核实还利于民",
    E.BENEFIT_REJECT: "驳回还利于民",
    E.PUBLISH: "答复公开发布",
    E.UNPUBLISH: "撤下公开答复",
    E.CONSENT_WITHDRAWN: "群众撤回公开同意",
    E.MERGE: "并单：并入主诉求一并办理",
    E.MERGE_MAIN: "并单：并入其他诉求",
    E.UNMERGE: "撤销并单，恢复单独办理",
}


# Who causes which event; the rest (first route, lapse, deadline moves, SLA marks) is the
# system's. The order is the order of the buttons.
ROLE_EVENTS: dict[Role, tuple[Event, ...]] = {
    Role.RESIDENT: (E.INFO_SUPPLIED, E.RATE_OK, E.RATE_UNSATISFIED, E.RATE_UNSATISFIED_FINAL),
    Role.DISPATCHER: (E.ROUTE_MANUAL, E.REJECT, E.EXTENSION_GRANT, E.EXTENSION_REFUSE,
                      E.FOLLOWUP, E.FOLLOWUP_UNSOLVED),
    # Where the department asks for review (审核), a handler's reply is SUBMIT_REPLY.
    Role.HANDLER: (E.ACKNOWLEDGE, E.REPLY, E.ASK_INFO, E.EXTENSION_REQUEST, E.RETURN,
                   E.SUBMIT_REPLY),
    # A department head handles like a handler and decides the department's extension
    # requests (never their own: app.services.clocks). The head is the reviewer: their own
    # reply goes out at once; a handler's waits for their approval or goes back for revision.
    Role.HEAD: (E.ACKNOWLEDGE, E.REPLY, E.ASK_INFO, E.EXTENSION_REQUEST, E.RETURN,
                E.EXTENSION_GRANT, E.EXTENSION_REFUSE, E.APPROVE_REPLY, E.REVISE_REPLY),
    Role.INSPECTOR: (E.SUPERVISE, E.EXTENSION_GRANT, E.EXTENSION_REFUSE),
    Role.ADMIN: (),
}


def allowed_events(status: Status | str, role: Role | str, *,
                   redo_used: bool = False, followup_reopen_used: bool = False) -> list[Event]:
    """The events `role` may cause on an appeal in `status`: the buttons it sees.

    A resident's 不满意 asks for a redo only once; with `redo_used` it closes the appeal.
    A 回访 reopens only once; with `followup_reopen_used` "unsolved" is recorded, not reopened.
    """
    status = Status(status)
    chosen = [e for e in ROLE_EVENTS[Role(role)] if (status, e) in TRANSITIONS]
    skip = {E.RATE_UNSATISFIED if redo_used else E.RATE_UNSATISFIED_FINAL}
    if followup_reopen_used:
        skip.add(E.FOLLOWUP_UNSOLVED)
    return [e for e in chosen if e not in skip]


def counts_as_overdue(status: Status | str, reply_due_at, now) -> bool:
    return Status(status) in COUNTS_AS_OVERDUE and reply_due_at is not None \
        and reply_due_at < now


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
