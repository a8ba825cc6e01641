"""An administrator's edits of the reference data: departments (activate, deactivate), hot
topics, working-day calendar overrides, keyword rules and the category → department table.

Each edit changes the live rules (app.services.rules_store), records its audit entry with
before and after in the same transaction, and then does what the change implies: a
deactivated department's open appeals go back to triage, each with its event; a calendar
change recomputes the running deadlines it can move, each move an event.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from app.domain.states import AWAITING_RESIDENT, WITH_DEPARTMENT, Event
from app.models import Appeal, Department, RulesVersion
from app.rules import Rules
from app.schemas.reference import (
    HOT_TOPICS_MAX,
    CalendarOverride,
    CalendarRemove,
    CategoryDepartment,
    DepartmentDeactivate,
    HotTopicEdit,
    KeywordRuleEdit,
)
from app.services import audit_log, clocks, rules_store
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.workflow import SYSTEM, Actor, last_event, now_utc, transition
from app.settings import ROOT

BATCH = 200
WORKING_LABELS = {True: "调休上班", False: "放假"}


@dataclass
class Edited:
    version: RulesVersion | None  # None: nothing changed
    rules: Rules
    message: str  # what the page says afterwards ("已停用…")


async def _save(actor: Actor, action: str, change, before: dict, after_of) -> Edited:
    """One edit: the new version and its audit entry, in one transaction."""
    async with in_transaction():
        version, rules = await rules_store.edit(actor, change, _seed())
        if version is not None:
            await audit_log.record(actor, action, {
                "before": before, "after": after_of(rules), "summary": version.summary,
                "rules_version": version.id, "rules_hash": version.hash})
    return Edited(version, rules, version.summary if version else "没有变化。")


def _seed() -> Path:
    """Where a database without rules yet takes them from (rules_store.edit): the folder
    the process was configured with, as app.settings reads it."""
    return Path(os.environ.get("MINSHENG_RULES_DIR", str(ROOT / "routing_rules")))


# --- departments ---------------------------------------------------------------------------

def _region_entry(documents: dict[str, Any], code: str) -> dict | None:
    stack = list((documents.get("regions.yaml") or {}).get("regions") or [])
    while stack:
        entry = stack.pop()
        if str(entry.get("code")) == code:
            return entry
        stack.extend(entry.get("children") or [])
    return None


def _department_state(rules: Rules, code: str) -> dict:
    spec = rules.departments.get(code)
    return {"部门": f"{spec.name}（{code}）" if spec else code,
            "状态": ("启用" if spec.active else "停用") if spec else "不存在"}


async def set_active(rules: Rules, actor: Actor, code: str, active: bool,
                     form: DepartmentDeactivate | None = None) -> tuple[Edited, int]:
    """Activate or deactivate a department; on deactivation its open appeals go back to
    triage (returns how many)."""
    spec = rules.departments.get(code)
    if spec is None:
        raise ServiceError("没有这个部门。", None, "not_found")
    region_code, kind = code.split("-", 1)
    verb = "启用" if active else "停用"

    def change(documents: dict[str, Any]) -> str:
        entry = _region_entry(documents, region_code)
        if entry is None or kind not in (entry.get("departments") or []):
            raise ServiceError("没有这个部门。", None, "not_found")
        inactive = [k for k in entry.get("inactive") or [] if k != kind]
        if not active:
            inactive.append(kind)
        if inactive:
            entry["inactive"] = inactive
        else:
            entry.pop("inactive", None)
        why = f"：{form.reason}" if form is not None else ""
        return f"{verb}部门 {spec.name}（{code}）{why}"

    before = _department_state(rules, code)
    async with in_transaction():
        edited = await _save(actor, f"department_{'activate' if active else 'deactivate'}",
                             change, before, lambda new: _department_state(new, code))
        if edited.version is not None:
            await Department.filter(code=code).update(active=active)
    moved = 0
    if not active:
        moved = await send_back(edited.rules, actor, form.reason if form else "")
    if edited.version is not None:
        edited.message = f"已{verb}{spec.name}" + (f"，{moved} 件在办诉求已退回分派中心。"
                                                  if not active else "。")
    return edited, moved


async def set_review(rules: Rules, actor: Actor, code: str, review: bool) -> Edited:
    """Have the head approve the department's replies before they go out (审核), or stop;
    the `review` list of its region in regions.yaml. Replies already waiting stay waiting:
    the head still approves or returns them."""
    spec = rules.departments.get(code)
    if spec is None:
        raise ServiceError("没有这个部门。", None, "not_found")
    region_code, kind = code.split("-", 1)
    verb = "开启" if review else "关闭"

    def change(documents: dict[str, Any]) -> str:
        entry = _region_entry(documents, region_code)
        if entry is None or kind not in (entry.get("departments") or []):
            raise ServiceError("没有这个部门。", None, "not_found")
        kinds = [k for k in entry.get("review") or [] if k != kind]
        if review:
            kinds.append(kind)
        if kinds:
            entry["review"] = kinds
        else:
            entry.pop("review", None)
        return f"{verb}部门 {spec.name}（{code}）的答复审核"

    def state(new: Rules) -> dict:
        found = new.departments.get(code)
        return {"部门": f"{spec.name}（{code}）",
                "答复审核": "须负责人审核" if found and found.review else "不审核"}

    edited = await _save(actor, "department_review", change, state(rules), state)
    if edited.version is not None:
        edited.message = f"已{verb}{spec.name}的答复审核。"
    return edited


async def send_back(rules: Rules, actor: Actor = SYSTEM, reason: str = "") -> int:
    """Every open appeal held by an inactive department goes back to triage, each with a
    DEPARTMENT_CLOSED event; how many moved. Also run by the worker, for an appeal a process
    routed there before it saw the change."""
    closed = dict(await Department.filter(active=False).values_list("id", "name"))
    if not closed:
        return 0
    moved, last_id = 0, 0
    while True:
        # A merged member goes back with its main (并单: it follows).
        appeals = await Appeal.filter(department_id__in=list(closed), id__gt=last_id,
                                      status__in=sorted(WITH_DEPARTMENT),
                                      merged_into_id__isnull=True) \
            .order_by("id").limit(BATCH)
        if not appeals:
            return moved
        for appeal in appeals:
            moved += await _give_back(rules, appeal, actor, closed[appeal.department_id],
                                      reason)
        last_id = appeals[-1].id


async def _give_back(rules: Rules, appeal: Appeal, actor: Actor, name: str,
                     reason: str) -> int:
    at = now_utc()
    changes: dict[str, Any] = {"department_id": None, "ack_due_at": None,
                               "extension_requested_days": 0, "info_request": ""}
    if appeal.status in AWAITING_RESIDENT:
        # The wait for the resident ends here: in triage the clock runs again.
        asked = await last_event(appeal, Event.ASK_INFO)
        if asked is not None:
            clock = await clocks.clock_for(rules, appeal, extra_pause=(asked.at, at))
            changes.update(reply_due_at=clock.deadline.due_at, warn_at=clock.warn_at,
                           deadline_provisional=clock.deadline.provisional, sla_state="ok")
    why = f"（{reason}）" if reason else ""
    try:
        await transition(appeal, Event.DEPARTMENT_CLOSED, actor, at=at, public=False,
                         note=f"{name}已停用{why}，诉求退回分派中心重新分派",
                         data={"department_id": appeal.department_id,
                               "dropped_extension_days": appeal.extension_requested_days},
                         changes=changes)
    except (Conflict, ServiceError):
        return 0  # it moved meanwhile (acknowledged, returned…): the next pass looks again
    return 1


# --- hot topics ------------------------------------------------------------------------------

def _topics(documents: dict[str, Any]) -> list[str]:
    document = documents.get("hot_topics.yaml") or {}
    documents["hot_topics.yaml"] = document
    document["hot_topics"] = list(document.get("hot_topics") or [])
    return document["hot_topics"]


async def edit_hot_topics(rules: Rules, actor: Actor, form: HotTopicEdit) -> Edited:
    topic = form.topic

    def change(documents: dict[str, Any]) -> str:
        topics = _topics(documents)
        if form.action == "add":
            if topic in topics:
                raise ServiceError("该话题已在列表中。", "topic")
            if len(topics) >= HOT_TOPICS_MAX:
                raise ServiceError(f"热门话题最多 {HOT_TOPICS_MAX} 个，请先删除一个。", "topic")
            topics.append(topic)
            return f"新增热门话题“{topic}”"
        if topic not in topics:
            raise ServiceError("列表中没有这个话题。", "topic", "not_found")
        i = topics.index(topic)
        if form.action == "remove":
            topics.pop(i)
            return f"删除热门话题“{topic}”"
        j = i - 1 if form.action == "up" else i + 1
        if not 0 <= j < len(topics):
            raise ServiceError("已经在最前。" if form.action == "up" else "已经在最后。", "topic")
        topics[i], topics[j] = topics[j], topics[i]
        return f"热门话题“{topic}”{'上移' if form.action == 'up' else '下移'}"

    return await _save(actor, "hot_topics_change", change,
                       {"热门话题": "、".join(rules.hot_topics)},
                       lambda new: {"热门话题": "、".join(new.hot_topics)})


# --- the working-day calendar ---------------------------------------------------------------

def _overrides(documents: dict[str, Any]) -> list[dict]:
    document = documents.get("calendar.yaml") or {}
    documents["calendar.yaml"] = document
    document["overrides"] = list(document.get("overrides") or [])
    return document["overrides"]


def _day_state(rules: Rules, day: date) -> dict:
    info = rules.calendar.day(day)
    return {"日期": day.isoformat(), "工作日": "是" if info.working else "否",
            "说明": info.reason}


async def add_override(rules: Rules, actor: Actor, form: CalendarOverride) -> tuple[Edited, int]:
    """A holiday or make-up working day (replacing an override of the same date); the
    running deadlines that cross that day are recomputed, each move an event."""
    day, working = form.date, form.working == "workday"
    label = WORKING_LABELS[working]

    def change(documents: dict[str, Any]) -> str:
        overrides = _overrides(documents)
        overrides[:] = [o for o in overrides if str(o.get("date")) != day.isoformat()]
        overrides.append({"date": day.isoformat(), "working": working, "reason": form.reason})
        overrides.sort(key=lambda o: str(o.get("date")))
        return f"工作日历：{day.isoformat()} {label}（{form.reason}）"

    edited = await _save(actor, "calendar_override_add", change, _day_state(rules, day),
                         lambda new: _day_state(new, day))
    return await _recompute(edited, day)


async def remove_override(rules: Rules, actor: Actor, form: CalendarRemove) -> tuple[Edited, int]:
    day = form.date

    def change(documents: dict[str, Any]) -> str:
        overrides = _overrides(documents)
        kept = [o for o in overrides if str(o.get("date")) != day.isoformat()]
        if len(kept) == len(overrides):
            raise ServiceError("该日期没有管理员调整。", "date", "not_found")
        overrides[:] = kept
        return f"工作日历：取消 {day.isoformat()} 的调整"

    edited = await _save(actor, "calendar_override_remove", change, _day_state(rules, day),
                         lambda new: _day_state(new, day))
    return await _recompute(edited, day)


async def _recompute(edited: Edited, day: date) -> tuple[Edited, int]:
    if edited.version is None:
        return edited, 0
    _, moved = await clocks.recompute_all(
        edited.rules, spanning=day, note=f"{edited.version.summary}，重新计算答复期限")
    edited.message = f"已保存：{edited.version.summary}；{moved} 件办理中诉求的答复期限已重新计算。"
    return edited, moved


# --- keyword rules and the category → department table ----------------------------------

def _routing(documents: dict[str, Any]) -> dict:
    return documents["routing.yaml"]


def _rule_state(rules: Rules, name: str | None) -> dict:
    found = next((r for r in rules.routing.keyword_rules if r.name == name), None)
    if found is None:
        return {"规则": name or "", "关键词": "", "部门类型": "", "分类": ""}
    return {"规则": found.name, "关键词": "、".join(found.words),
            "部门类型": found.department_kind, "分类": found.category or ""}


async def edit_keyword_rule(rules: Rules, actor: Actor, form: KeywordRuleEdit) -> Edited:
    kinds = {d.kind for d in rules.departments.values()}
    if form.action != "remove":
        problems = {}
        if not form.name:
            problems["name"] = "请填写规则名称。"
        if not form.keywords():
            problems["words"] = "请至少填写一个关键词。"
        if form.department not in kinds:
            problems["department"] = "请选择有效的部门类型。"
        if form.category is not None and form.category not in rules.categories:
            problems["category"] = "请选择有效的分类。"
        if problems:
            raise ValidationFailed(problems)
    wanted = form.original if form.action != "add" else None

    def change(documents: dict[str, Any]) -> str:
        items = _routing(documents).setdefault("keyword_rules", [])
        names = [str(item.get("name")) for item in items]
        if wanted is not None and wanted not in names:
            raise ServiceError("没有这条关键词规则。", "original", "not_found")
        if form.action == "remove":
            items.pop(names.index(wanted))
            return f"删除关键词规则“{wanted}”"
        entry = {"name": form.name, "any": form.keywords(), "department": form.department}
        if form.category:
            entry["category"] = form.category
        if form.name in names and form.name != wanted:
            raise ServiceError("已有同名的关键词规则。", "name")
        if form.action == "add":
            items.append(entry)
            return f"新增关键词规则“{form.name}”"
        items[names.index(wanted)] = entry
        return f"修改关键词规则“{wanted}”"

    action = {"add": "keyword_rule_add", "update": "keyword_rule_change",
              "remove": "keyword_rule_remove"}[form.action]
    after_name = None if form.action == "remove" else form.name
    return await _save(actor, action, change, _rule_state(rules, wanted),
                       lambda new: _rule_state(new, after_name))


async def set_category_department(rules: Rules, actor: Actor,
                                  form: CategoryDepartment) -> Edited:
    if form.category not in rules.categories:
        raise ServiceError("请选择有效的分类。", "category")
    if form.department not in {d.kind for d in rules.departments.values()}:
        raise ServiceError("请选择有效的部门类型。", "department")

    def change(documents: dict[str, Any]) -> str:
        _routing(documents).setdefault("category_department", {})[form.category] = \
            form.department
        return f"分类“{form.category}”改由 {form.department} 承办"

    def state(new: Rules) -> dict:
        return {"分类": form.category,
                "部门类型": new.routing.category_department.get(form.category, "")}

    return await _save(actor, "category_department_change", change, state(rules), state)
