"""Routing use cases: the first route, a dispatcher's route, a department's return."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from app.domain import routing as decide_routing
from app.domain.clock import compute_deadline
from app.domain.routing import Candidate
from app.domain.states import Event, Status
from app.models import Appeal, AppealEvent, Category, Department, LabelledExample
from app.rules import Rules
from app.services.errors import ServiceError
from app.services.workflow import SYSTEM, Actor, now_utc, transition


async def _assignment_changes(rules: Rules, department: Department, at: datetime) -> dict:
    ack = compute_deadline(at, rules.policies.ack_days, rules.calendar)
    return {"department_id": department.id, "assigned_at": at, "ack_due_at": ack.due_at,
            "acknowledged_at": None, "ack_late": False}


async def route_new(rules: Rules, appeal: Appeal, *, candidates: list[Candidate] | None = None,
                    model_version: str | None = None, at: datetime | None = None) -> Appeal:
    at = at or now_utc()
    category = await appeal.category if appeal.category_id else None
    named = await appeal.named_unit if appeal.named_unit_id else None
    region = await appeal.region
    decision = decide_routing.decide(
        rules,
        appeal_type=appeal.type,
        region_code=region.code,
        text=f"{appeal.title}\n{appeal.body}",
        category=category.name if category else None,
        named_unit=named.code if named else None,
        candidates=candidates,
    )
    record = decision.as_record(model_version, rules.hash)
    changes: dict = {"routing": record}
    if decision.category and (category is None or category.name != decision.category):
        chosen = await Category.get_or_none(name=decision.category, level=1)
        if chosen is not None:
            changes["category_id"] = chosen.id
    if decision.confident and decision.department_code:
        department = await Department.get(code=decision.department_code)
        changes.update(await _assignment_changes(rules, department, at))
        return await transition(appeal, Event.ROUTE_CONFIDENT, SYSTEM, note=decision.reason,
                                data=record, changes=changes, at=at)
    return await transition(appeal, Event.ROUTE_UNSURE, SYSTEM, note=decision.reason,
                            data=record, changes=changes, at=at)


async def route_manual(rules: Rules, appeal: Appeal, department_code: str, actor: Actor,
                       note: str = "", category: str | None = None) -> Appeal:
    """A dispatcher's choice. From triage it is also a labelled example for training."""
    department = await Department.get_or_none(code=department_code, active=True)
    if department is None:
        raise ServiceError("请选择有效的承办部门。", "department")
    chosen = None
    if category:
        chosen = await Category.get_or_none(name=category, level=1)
        if chosen is None:
            raise ServiceError("请选择有效的分类。", "category")
    if appeal.named_unit_id is not None and department.id == appeal.named_unit_id:
        raise ServiceError("举报件不能交给被举报单位办理。", "department", "report_veto")
    if appeal.department_id == department.id and appeal.status == Status.ASSIGNED:
        raise ServiceError("该诉求已在此部门。", "department")
    at = now_utc()
    changes = await _assignment_changes(rules, department, at)
    if chosen is not None:
        changes["category_id"] = chosen.id
    from_triage = appeal.status == Status.TRIAGE
    async with in_transaction():
        await transition(
            appeal, Event.ROUTE_MANUAL, actor, note=note or f"人工分派至{department.name}",
            data={"department": department.code, "previous_department_id": appeal.department_id,
                  "category": category},
            changes=changes, at=at,
        )
        label = chosen or (await appeal.category if appeal.category_id else None)
        if from_triage and label is not None:
            returned = await AppealEvent.exists(appeal_id=appeal.id, kind=Event.RETURN.value)
            await LabelledExample.update_or_create(
                appeal_id=appeal.id,
                defaults={"category": label.name, "department_code": department.code,
                          "source": "return_reroute" if returned else "manual_route",
                          "created_at": at},
            )
    return appeal


async def return_to_triage(appeal: Appeal, actor: Actor, reason: str) -> Appeal:
    reason = reason.strip()
    if not reason:
        raise ServiceError("退回须说明理由。", "reason")
    return await transition(
        appeal, Event.RETURN, actor, note=reason,
        data={"department_id": appeal.department_id},
        changes={"department_id": None, "ack_due_at": None}, public=False,
    )
