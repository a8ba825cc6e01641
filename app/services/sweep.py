"""The SLA sweep: mark appeals due soon and overdue, and queue their notices, exactly once.

Each mark is a guarded update (only while the appeal is still unmarked), taken in batches
of rows locked with SKIP LOCKED on PostgreSQL, so two sweeps running at once split the work
instead of repeating it; every notice also carries a dedupe key as a second guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain.clock import to_local
from app.domain.states import Event, Status
from app.domain.types import Role
from app.models import Account, Appeal, Department, SweepMark
from app.notify import notices
from app.services.errors import Conflict
from app.services.workflow import SYSTEM, now_utc, transition

BATCH = 500
IN_HAND = [Status.ASSIGNED, Status.ACCEPTED]
RUNNING = [Status.SUBMITTED, Status.TRIAGE, Status.ASSIGNED, Status.ACCEPTED]
DIGEST_AFTER = time(8, 0)  # local time


@dataclass
class SweepReport:
    warned: int = 0
    overdue: int = 0
    ack_late: int = 0
    digests: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)


async def _recipients(appeal: Appeal, *, inspectors: bool) -> tuple[Department | None, list]:
    department = await appeal.department if appeal.department_id else None
    people: list = []
    if department is not None:
        people += await Account.filter(role=Role.HANDLER, department_id=department.id,
                                       is_active=True).exclude(email=None)
        people.append(department.email)  # the department head's mailbox
    else:
        people += await Account.filter(role=Role.DISPATCHER, is_active=True).exclude(email=None)
    if inspectors:
        people += await Account.filter(role=Role.INSPECTOR, is_active=True).exclude(email=None)
    return department, people


async def _claim(query, batch: int) -> list[Appeal]:
    return await query.order_by("id").limit(batch).select_for_update(skip_locked=True)


async def _mark_batch(kind: str, now: datetime, report: SweepReport) -> int:
    """One transaction: lock a batch, mark each appeal, append its event, queue its notice."""
    if kind == "warning":
        query = Appeal.filter(status__in=IN_HAND, sla_state="ok", warn_at__lte=now,
                              reply_due_at__gte=now)
    elif kind == "overdue":
        query = Appeal.filter(status__in=RUNNING, sla_state__in=["ok", "warning"],
                              reply_due_at__lt=now)
    else:
        query = Appeal.filter(status=Status.ASSIGNED, ack_late=False, ack_due_at__lt=now)
    async with in_transaction():
        appeals = await _claim(query, BATCH)
        for appeal in appeals:
            try:
                await _mark_one(kind, appeal, now, report)
            except Conflict:
                continue  # someone else got there first
    return len(appeals)


async def _mark_one(kind: str, appeal: Appeal, now: datetime, report: SweepReport) -> None:
    due = appeal.reply_due_at
    if kind == "ack_late":
        ack_due = appeal.ack_due_at
        await transition(appeal, Event.NOTE, SYSTEM, note="签收超时", at=now, public=False,
                         changes={"ack_late": True}, guard={"ack_late": False})
        department, people = await _recipients(appeal, inspectors=False)
        report.notices += await notices.ack_late(appeal, department, people, ack_due,
                                                 f"ack:{appeal.id}:{ack_due.isoformat()}")
        report.ack_late += 1
        return
    old_state = appeal.sla_state
    event = Event.SLA_WARNING if kind == "warning" else Event.SLA_OVERDUE
    await transition(appeal, event, SYSTEM, at=now, public=False, changes={"sla_state": kind},
                     guard={"sla_state": old_state},
                     note="临近答复期限" if kind == "warning" else "已超过答复期限")
    department, people = await _recipients(appeal, inspectors=kind == "overdue")
    key = f"{'warn' if kind == 'warning' else 'late'}:{appeal.id}:{due.isoformat()}"
    if kind == "warning":
        report.notices += await notices.deadline_warning(appeal, department, people, due, key)
        report.warned += 1
    else:
        report.notices += await notices.overdue(appeal, department, people, due, key)
        report.overdue += 1


async def _digests(now: datetime, report: SweepReport) -> None:
    local = to_local(now)
    if local.time() < DIGEST_AFTER:
        return
    day = local.date()
    try:
        async with in_transaction():
            await SweepMark.create(key=f"digest:{day.isoformat()}", at=now)
            departments = await Department.filter(
                active=True, appeals__status__in=RUNNING,
                appeals__sla_state__in=["warning", "overdue"]).distinct()
            for department in departments:
                base = Appeal.filter(department_id=department.id, status__in=RUNNING)
                soon = await base.filter(sla_state="warning").order_by("reply_due_at").limit(50)
                late = await base.filter(sla_state="overdue").order_by("reply_due_at").limit(50)
                report.notices += await notices.daily_digest(department, soon, late, day)
                report.digests += 1
    except IntegrityError:
        return  # another sweep already did today's digests


async def sweep(now: datetime | None = None) -> SweepReport:
    now = now or now_utc()
    report = SweepReport()
    for kind in ("overdue", "warning", "ack_late"):
        while await _mark_batch(kind, now, report) == BATCH:
            pass
    await _digests(now, report)
    return report
