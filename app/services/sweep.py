"""The SLA sweep: mark appeals due soon and overdue, and queue their notices, exactly once;
close replied appeals whose rating window has passed (评价期满自动办结), exactly once.

Work is taken in batches of rows locked with SKIP LOCKED on PostgreSQL (SQLite serialises
writers), and only rows still unmarked qualify, so two sweeps running at once split the work
instead of repeating it; every notice also carries a dedupe key as a second guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain.clock import to_local
from app.domain.sla_policy import RATING_WINDOW_DAYS, Policies
from app.domain.states import (
    AWAITING_RATING,
    CLOCK_RUNNING,
    COUNTS_AS_OVERDUE,
    WITH_DEPARTMENT,
    Event,
    Status,
)
from app.domain.types import DEPARTMENT_ROLES, Role
from app.models import Account, Appeal, Department, SweepMark
from app.notify import notices, outbox
from app.services import supervision
from app.services.clocks import rating_cutoff
from app.services.errors import Conflict
from app.services.workflow import SYSTEM, now_utc, record_many, transition_many

BATCH = 500
# The department is warned while it holds the appeal and its clock runs.
WARNABLE = sorted(WITH_DEPARTMENT & CLOCK_RUNNING)
OVERDUE = sorted(COUNTS_AS_OVERDUE)
REPLIED = sorted(AWAITING_RATING)
DIGEST_AFTER = time(8, 0)  # local time
KINDS = {
    # kind: (event, note, dedupe prefix)
    "overdue": (Event.SLA_OVERDUE, "已超过答复期限", "late"),
    "warning": (Event.SLA_WARNING, "临近答复期限", "warn"),
    "ack_late": (Event.NOTE, "签收超时", "ack"),
}


@dataclass
class SweepReport:
    warned: int = 0
    overdue: int = 0
    ack_late: int = 0
    digests: int = 0
    notices: int = 0
    lapsed: int = 0  # closed because the resident did not rate in time
    escalated: int = 0  # 督办 unanswered past their deadline


class _Recipients:
    """Who hears about a department's appeals, looked up once per sweep."""

    def __init__(self) -> None:
        self.departments: dict[int, tuple[Department, list]] = {}
        self.inspectors: list | None = None
        self.dispatchers: list | None = None

    async def of(self, appeal: Appeal, *, inspectors: bool) -> tuple[Department | None, list]:
        department, people = None, []
        if appeal.department_id is not None:
            if appeal.department_id not in self.departments:
                found = await Department.get(id=appeal.department_id)
                handlers = await Account.filter(role__in=sorted(DEPARTMENT_ROLES),
                                                department_id=found.id,
                                                is_active=True).exclude(email=None)
                self.departments[found.id] = (found, [*handlers, found.email])
            department, people = self.departments[appeal.department_id]
        else:
            if self.dispatchers is None:
                self.dispatchers = await _role(Role.DISPATCHER)
            people = self.dispatchers
        if inspectors:
            if self.inspectors is None:
                self.inspectors = await _role(Role.INSPECTOR)
            people = [*people, *self.inspectors]
        return department, people


async def _role(role: Role) -> list:
    return await Account.filter(role=role, is_active=True).exclude(email=None)


def _query(kind: str, now: datetime):
    # A merged member runs on its main's clock (并单): the main is warned and marked for both.
    mains = Appeal.filter(merged_into_id__isnull=True)
    if kind == "warning":
        return mains.filter(status__in=WARNABLE, sla_state="ok", warn_at__lte=now,
                            reply_due_at__gte=now)
    if kind == "overdue":
        return mains.filter(status__in=OVERDUE, sla_state__in=["ok", "warning"],
                            reply_due_at__lt=now)
    return mains.filter(status=Status.ASSIGNED, ack_late=False, ack_due_at__lt=now)


async def _mark_batch(kind: str, now: datetime, people: _Recipients,
                      report: SweepReport) -> int:
    """One transaction: lock a batch, mark it, append the events, queue the notices."""
    event, note, prefix = KINDS[kind]
    async with in_transaction():
        appeals = await _query(kind, now).order_by("id").limit(BATCH) \
            .select_for_update(skip_locked=True)
        changes = {"ack_late": True} if kind == "ack_late" else {"sla_state": kind}
        send = {"overdue": notices.overdue, "warning": notices.deadline_warning,
                "ack_late": notices.ack_late}[kind]
        await record_many(appeals, event, SYSTEM, note=note, changes=changes, at=now)
        async with outbox.batched() as batch:
            for appeal in appeals:
                department, recipients = await people.of(appeal,
                                                         inspectors=kind == "overdue")
                due = appeal.ack_due_at if kind == "ack_late" else appeal.reply_due_at
                await send(appeal, department, recipients, due,
                           f"{prefix}:{appeal.id}:{due.isoformat()}")
        report.notices += batch.inserted
    counter = {"overdue": "overdue", "warning": "warned", "ack_late": "ack_late"}[kind]
    setattr(report, counter, getattr(report, counter) + len(appeals))
    return len(appeals)


async def _digests(now: datetime, report: SweepReport) -> None:
    local = to_local(now)
    if local.time() < DIGEST_AFTER:
        return
    day = local.date()
    try:
        async with in_transaction():
            await SweepMark.create(key=f"digest:{day.isoformat()}", at=now)
            departments = await Department.filter(
                active=True, appeals__status__in=OVERDUE,
                appeals__sla_state__in=["warning", "overdue"]).distinct()
            for department in departments:
                base = Appeal.filter(department_id=department.id, status__in=OVERDUE)
                soon = await base.filter(sla_state="warning").order_by("reply_due_at").limit(50)
                late = await base.filter(sla_state="overdue").order_by("reply_due_at").limit(50)
                report.notices += await notices.daily_digest(department, soon, late, day)
                report.digests += 1
    except IntegrityError:
        return  # another sweep already did today's digests


async def _lapse_batch(now: datetime, days: int, report: SweepReport) -> int:
    """One transaction: close a batch of replied appeals left unrated for `days` days.

    Only rows still replied qualify and the update is conditional on that, so an appeal
    rated meanwhile stays as rated and two sweeps close each appeal once."""
    async with in_transaction():
        appeals = await Appeal.filter(status__in=REPLIED, replied_at__lt=rating_cutoff(now, days)) \
            .order_by("id").limit(BATCH).select_for_update(skip_locked=True)
        await transition_many(appeals, Event.LAPSE, SYSTEM, at=now,
                              note=f"答复后 {days} 日内群众未评价，自动办结",
                              changes={"closed_at": now, "rating": ""})
    report.lapsed += len(appeals)
    return len(appeals)


async def _lapse(now: datetime, days: int, report: SweepReport) -> None:
    conflicts = 0
    while conflicts < 3:
        try:
            if await _lapse_batch(now, days, report) < BATCH:
                return
        except Conflict:
            conflicts += 1  # another sweep or a rating got there first: look again


async def sweep(now: datetime | None = None, *, policies: Policies | None = None) -> SweepReport:
    """Everything due as of `now` (default: this instant), with the rating window of
    `policies` (default: RATING_WINDOW_DAYS)."""
    now = now or now_utc()
    report, people = SweepReport(), _Recipients()
    for kind in ("overdue", "warning", "ack_late"):
        while await _mark_batch(kind, now, people, report) == BATCH:
            pass
    days = policies.rating_window_days if policies is not None else RATING_WINDOW_DAYS
    await _lapse(now, days, report)
    report.escalated = await supervision.escalate(now, await _role(Role.INSPECTOR))
    await _digests(now, report)
    return report
