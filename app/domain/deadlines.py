"""An appeal's reply deadline from its facts: window start, pauses, granted extension."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import Deadline, WorkingCalendar, compute_deadline, extend_deadline, warn_at
from app.domain.sla_policy import Policies


@dataclass(frozen=True)
class ClockFacts:
    type: str
    window_start: datetime  # submission, or the redo after 不满意
    pauses: Sequence[tuple[datetime, datetime]] = ()  # closed waits for the resident
    extension_days: int = 0


@dataclass(frozen=True)
class ReplyClock:
    deadline: Deadline
    warn_at: datetime
    max_due_at: datetime


def reply_clock(facts: ClockFacts, policies: Policies, calendar: WorkingCalendar) -> ReplyClock:
    policy = policies.reply(facts.type)
    if not 0 <= facts.extension_days <= policy.max_extension_days:
        raise ValueError(f"extension of {facts.extension_days} days is outside the policy")
    base = compute_deadline(facts.window_start, policy.reply_days, calendar, facts.pauses)
    deadline = extend_deadline(base, facts.extension_days, calendar) if facts.extension_days \
        else base
    longest = extend_deadline(base, policy.max_extension_days, calendar).due_at \
        if policy.max_extension_days else base.due_at
    return ReplyClock(deadline, warn_at(deadline.due_at, policy.warn_before_days, calendar),
                      longest)


# A wait for the resident ends with their answer, or when the department that asked is
# deactivated and the appeal goes back to triage (where the clock runs).
PAUSE_ENDS = ("info_supplied", "department_closed")
PAUSE_KINDS = ("ask_info", *PAUSE_ENDS)


def pauses_from_events(events: Sequence[tuple[str, datetime]],
                       since: datetime) -> list[tuple[datetime, datetime]]:
    """Closed (ask_info → info_supplied) pairs at or after `since`, from (kind, at) in order."""
    pauses, opened = [], None
    for kind, at in events:
        if at < since:
            continue
        if kind == "ask_info":
            opened = at
        elif kind in PAUSE_ENDS and opened is not None:
            pauses.append((opened, at))
            opened = None
    return pauses
