"""How appeals look on a page: labels, local times, deadline marks, masked contacts."""

from __future__ import annotations

from datetime import datetime

from app.domain.clock import to_local, working_days_between
from app.domain.states import (
    AWAITING_RESIDENT,
    EVENT_LABELS,
    OPEN,
    STATUS_LABELS,
    Event,
    Status,
    counts_as_overdue,
)
from app.domain.types import TYPE_LABELS, AppealType
from app.rules import Rules


def local_time(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def local_date(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d") if value else ""


def status_label(status: str) -> str:
    return STATUS_LABELS.get(Status(status), status)


def type_label(type_: str) -> str:
    return TYPE_LABELS.get(AppealType(type_), type_)


def deadline_mark(rules: Rules, status: str, type_: str, due: datetime | None,
                  now: datetime) -> dict:
    """green / amber / red and the Chinese phrase, for an open appeal with a due date.
    Red is overdue in its one meaning (app.domain.states): a paused clock is never late."""
    if due is None or Status(status) not in OPEN:
        return {"color": "none", "text": "", "overdue": False}
    if Status(status) in AWAITING_RESIDENT:
        return {"color": "none", "text": "等待群众补充，暂停计时", "overdue": False}
    days = working_days_between(now, due, rules.calendar)
    if counts_as_overdue(status, due, now):
        late = max(1, -days)
        return {"color": "red", "text": f"已超期 {late} 个工作日", "overdue": True}
    warn = rules.policies.reply(type_).warn_before_days
    color = "amber" if days <= warn else "green"
    return {"color": color, "text": f"还剩 {days} 个工作日", "overdue": False}


def event_label(kind: str) -> str:
    if kind == "submitted":
        return "提交诉求"
    try:
        return EVENT_LABELS[Event(kind)]
    except ValueError:
        return kind
