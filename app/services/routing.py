"""Routing use cases: the first route, a dispatcher's route, a department's return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from app.domain import routing as decide_routing
from app.domain.clock import compute_deadline
from app.domain.routing import Candidate
from app.domain.states import Event, Status, next_status
from app.models import Appeal, AppealEvent, Category, Department, LabelledExample
from app.rules import Rules
from app.schemas.staff import Return, Route
from app.services.errors import ServiceError
from app.services.reference import reference_ids
from app.services.workflow import Actor, now_utc, transition


def _assignment_changes(rules: Rules, department_id: int, at: datetime) -> dict:
    ack = compute_deadline(at, rules.policies.ack_days, rules.calendar)
    return {"department_id": department_id, "assigned_at": at, "ack_due_at": ack.due_at,
            "acknowledged_at": None, "ack_late": False}


@dataclass
class FirstRoute:
    """Where a new appeal goes, worked out before it is stored: the submission and its
    routing are written together, in one transaction, as two events."""

    event: Event
    status: Status
    note: str
    record: dict
    changes: dict
    department_code: str | None


async def first_route(rules: Rules, *, appeal_type: str, region_code: str, text: str,
                      category: str | None, named_unit: str | None,
                      candidates: list[Candidate] | None, model_version: str | None,
                      at: datetime) -> FirstRoute:
    decision = decide_routing.decide(
        rules, appeal_type=appeal_type, region_code=region_code, text=text, category=category,
        named_unit=named_unit, candidates=candidates,
    )
    record = decision.as_record(model_version, rules.hash)
    ids = reference_ids()
    changes: dict = {"routing": record}
    chosen = decision.category or category
    if chosen:
        changes["category_id"] = await ids.category(chosen)
    event, code = Event.ROUTE_UNSURE, None
    if decision.confident and decision.department_code:
        event, code = Event.ROUTE_CONFIDENT, decision.department_code
        changes.update(_assignment_changes(rules, await ids.department(code), at))
    return FirstRoute(event, next_status(Status.SUBMITTED, event), decision.reason, record,
                      changes, code)


async def route_manual(rules: Rules, appeal: Appeal, actor: Actor, form: Route) -> Appeal:
    """A dispatcher's choice, from triage or re-routing an assigned appeal: also a labelled
    example for training (app.services.model_versions), in the same transaction.
    The form is well formed; whether its department and category exist (and the department
    is still active) only the reference tables can say."""
    department = await Department.get_or_none(code=form.department, active=True)
    if department is None:
        raise ServiceError("请选择有效的承办部门。", "department")
    chosen = None
    if form.category:
        chosen = await Category.get_or_none(name=form.category, level=1)
        if chosen is None:
            raise ServiceError("请选择有效的分类。", "category")
    if appeal.named_unit_id is not None and department.id == appeal.named_unit_id:
        raise ServiceError("举报件不能交给被举报单位办理。", "department", "report_veto")
    if appeal.department_id == department.id and appeal.status == Status.ASSIGNED:
        raise ServiceError("该诉求已在此部门。", "department")
    at = now_utc()
    changes = _assignment_changes(rules, department.id, at)
    if chosen is not None:
        changes["category_id"] = chosen.id
    from_triage = appeal.status == Status.TRIAGE
    async with in_transaction():
        await transition(
            appeal, Event.ROUTE_MANUAL, actor, note=form.note or f"人工分派至{department.name}",
            data={"department": department.code, "previous_department_id": appeal.department_id,
                  "category": form.category},
            changes=changes, at=at,
        )
        label = chosen or (await appeal.category if appeal.category_id else None)
        if label is not None:
            source = "reroute_assigned"  # a dispatcher corrects an appeal already assigned
            if from_triage:
                returned = await AppealEvent.exists(appeal_id=appeal.id, kind=Event.RETURN.value)
                source = "return_reroute" if returned else "manual_route"
            await LabelledExample.update_or_create(
                appeal_id=appeal.id,
                defaults={"category": label.name, "department_code": department.code,
                          "source": source, "created_at": at},
            )
    return appeal


async def return_to_triage(appeal: Appeal, actor: Actor, form: Return) -> Appeal:
    return await transition(
        appeal, Event.RETURN, actor, note=form.reason,
        data={"department_id": appeal.department_id},
        changes={"department_id": None, "ack_due_at": None}, public=False,
    )
