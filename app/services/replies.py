"""Reply templates and the knowledge base (知识库) of policy answers.

Templates: shared ones (no department) kept by the administrator, a department's own kept by
its head. A handler inserts one into a reply; its placeholders are filled then. Knowledge
entries are kept by the administrator; handlers and dispatchers search them, and the reply
form suggests those that match the appeal's category or the words that routed it. An entry
past its `valid_until` is shown nowhere. Every change is audited with before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.domain.clock import to_local
from app.models import Appeal, Category, Department, KnowledgeEntry, ReplyTemplate
from app.schemas.replies import KnowledgeEdit, KnowledgeSearch, TemplateEdit
from app.services import audit_log, review
from app.services.errors import ServiceError
from app.services.workflow import Actor, now_utc

NO_NAME = "群众"
PLACEHOLDERS = {"{姓名}": "the resident's name", "{受理编号}": "the tracking number",
                "{部门}": "the department's name"}
SUGGESTIONS = 5
SEARCH_LIMIT = 50
SUGGESTION_WORDS = 4
NO_TEMPLATE = "没有这个答复模板。"
NO_ENTRY = "没有这条知识库条目。"


def fill(text: str, *, name: str, number: str, department: str) -> str:
    """The template's text with its placeholders filled; a missing name is 「群众」."""
    for mark, value in (("{姓名}", name.strip() or NO_NAME), ("{受理编号}", number),
                        ("{部门}", department)):
        text = text.replace(mark, value)
    return text


def today(at: datetime | None = None) -> date:
    return to_local(at or now_utc()).date()


def _current(on: date) -> Q:
    return Q(valid_until__isnull=True) | Q(valid_until__gte=on)


# --- templates -----------------------------------------------------------------------------

async def usable(department_id: int | None) -> list[ReplyTemplate]:
    """What a handler of the department may insert: its own templates, then the shared."""
    query = Q(department_id__isnull=True)
    if department_id is not None:
        query |= Q(department_id=department_id)
    rows = await ReplyTemplate.filter(query).order_by("title", "id")
    return sorted(rows, key=lambda t: t.department_id is None)


async def inserted(appeal: Appeal, template_id: str, *, name: str) -> str:
    """The text of template `template_id` (as the query string gave it) for this appeal;
    `name` is the resident's name as this reader may see it (a report's reporter: none)."""
    if not template_id.isdigit() or len(template_id) > 9:
        raise ServiceError(NO_TEMPLATE, "template", "not_a_template")
    template = await ReplyTemplate.get_or_none(id=int(template_id))
    if template is None or template.department_id not in (None, appeal.department_id):
        raise ServiceError(NO_TEMPLATE, "template", "not_a_template")
    return (await filled(appeal, [template], name=name))[0][1]


async def filled(appeal: Appeal, templates: list[ReplyTemplate], *,
                 name: str) -> list[tuple[ReplyTemplate, str]]:
    """Each template with its text as it would be inserted into this appeal's reply."""
    department = await Department.get_or_none(id=appeal.department_id) \
        if appeal.department_id else None
    return [(t, fill(t.text, name=name, number=appeal.tracking_number,
                     department=department.name if department else "")) for t in templates]


async def templates_kept(department_id: int | None) -> list[ReplyTemplate]:
    """The templates one keeper keeps: the shared ones (None) or a department's."""
    if department_id is None:
        return await ReplyTemplate.filter(department_id__isnull=True).order_by("title", "id")
    return await ReplyTemplate.filter(department_id=department_id).order_by("title", "id")


async def template_kept(department_id: int | None, template_id: int) -> ReplyTemplate:
    template = await ReplyTemplate.get_or_none(id=template_id)
    if template is None or template.department_id != department_id:
        raise ServiceError(NO_TEMPLATE, "id")
    return template


async def _template_state(template: ReplyTemplate) -> dict[str, Any]:
    department = await Department.get_or_none(id=template.department_id) \
        if template.department_id else None
    return {"模板名称": template.title,
            "适用范围": f"{department.name}（{department.code}）" if department else "共用",
            "模板内容": template.text}


async def save_template(actor: Actor, department_id: int | None,
                        form: TemplateEdit) -> ReplyTemplate:
    async with in_transaction():
        if form.id is None:
            template, before = ReplyTemplate(department_id=department_id), None
        else:
            template = await template_kept(department_id, form.id)
            before = await _template_state(template)
        template.title, template.text = form.title, form.text
        template.updated_at, template.updated_by = now_utc(), actor.label[:80]
        await template.save()
        after = await _template_state(template)
        if after != before:
            verb = "新增" if before is None else "修改"
            await audit_log.record(actor, "reply_template_create" if before is None
                                   else "reply_template_change", {
                "before": before, "after": after, "template": template.id,
                "summary": f"{verb}答复模板「{template.title}」"})
    return template


async def remove_template(actor: Actor, department_id: int | None, template_id: int) -> str:
    async with in_transaction():
        template = await template_kept(department_id, template_id)
        before = await _template_state(template)
        await template.delete()
        await audit_log.record(actor, "reply_template_remove", {
            "before": before, "after": {}, "template": template_id,
            "summary": f"删除答复模板「{template.title}」"})
    return template.title


# --- the knowledge base --------------------------------------------------------------------

@dataclass
class Found:
    entries: list[KnowledgeEntry]
    more: bool


async def search(form: KnowledgeSearch, on: date, limit: int = SEARCH_LIMIT) -> Found:
    """Current entries whose title or text holds every word of `q` (split on spaces), of the
    category if one is chosen; newest first. The base is small (policy answers, not appeals):
    a LIKE scan is enough here."""
    query = KnowledgeEntry.filter(_current(on))
    for word in form.q.split()[:5]:
        query = query.filter(Q(title__icontains=word) | Q(text__icontains=word))
    if form.category:
        category = await Category.get_or_none(name=form.category, level=1)
        if category is None:
            raise ServiceError("请选择有效的分类。", "category")
        query = query.filter(category_id=category.id)
    rows = await query.order_by("-updated_at", "-id").limit(limit + 1) \
        .prefetch_related("category", "department")
    return Found(rows[:limit], len(rows) > limit)


def _routing_words(appeal: Appeal) -> list[str]:
    """The words that routed the appeal (the classifier's explanation), longest first."""
    candidates = (appeal.routing or {}).get("candidates") or []
    words = {str(w) for c in candidates[:1] for w in (c.get("words") or []) if len(str(w)) >= 2}
    return sorted(words, key=lambda w: (-len(w), w))[:SUGGESTION_WORDS]


async def suggestions(appeal: Appeal, on: date, limit: int = SUGGESTIONS) -> list[KnowledgeEntry]:
    """Current entries of the appeal's category, or whose title holds one of the words that
    routed it; never another department's own entries."""
    matches = Q(category_id=appeal.category_id) if appeal.category_id else None
    for word in _routing_words(appeal):
        like = Q(title__icontains=word)
        matches = like if matches is None else matches | like
    if matches is None:
        return []
    mine = Q(department_id__isnull=True)
    if appeal.department_id is not None:
        mine |= Q(department_id=appeal.department_id)
    return await KnowledgeEntry.filter(matches, mine, _current(on)) \
        .order_by("-updated_at", "-id").limit(limit)


async def entry(entry_id: int) -> KnowledgeEntry:
    found = await KnowledgeEntry.get_or_none(id=entry_id)
    if found is None:
        raise ServiceError(NO_ENTRY, "id")
    return found


async def _entry_state(found: KnowledgeEntry) -> dict[str, Any]:
    category = await Category.get_or_none(id=found.category_id) if found.category_id else None
    department = await Department.get_or_none(id=found.department_id) \
        if found.department_id else None
    return {"标题": found.title, "内容": found.text,
            "分类": category.name if category else "",
            "部门": f"{department.name}（{department.code}）" if department else "",
            "有效期至": found.valid_until.isoformat() if found.valid_until else "长期有效"}


async def save_entry(actor: Actor, form: KnowledgeEdit) -> KnowledgeEntry:
    category = department = None
    if form.category:
        category = await Category.get_or_none(name=form.category, level=1)
        if category is None:
            raise ServiceError("请选择有效的分类。", "category")
    if form.department:
        department = await Department.get_or_none(code=form.department)
        if department is None:
            raise ServiceError("请选择有效的部门。", "department")
    async with in_transaction():
        if form.id is None:
            found, before = KnowledgeEntry(), None
        else:
            found = await entry(form.id)
            before = await _entry_state(found)
        found.title, found.text, found.valid_until = form.title, form.text, form.valid_until
        found.category_id = category.id if category else None
        found.department_id = department.id if department else None
        found.updated_at, found.updated_by = now_utc(), actor.label[:80]
        await found.save()
        after = await _entry_state(found)
        if after != before:
            verb = "新增" if before is None else "修改"
            await audit_log.record(actor, "knowledge_create" if before is None
                                   else "knowledge_change", {
                "before": before, "after": after, "entry": found.id,
                "summary": f"{verb}知识库条目「{found.title}」"})
    return found


async def remove_entry(actor: Actor, entry_id: int) -> str:
    async with in_transaction():
        found = await entry(entry_id)
        before = await _entry_state(found)
        await found.delete()
        await audit_log.record(actor, "knowledge_remove", {
            "before": before, "after": {}, "entry": entry_id,
            "summary": f"删除知识库条目「{found.title}」"})
    return found.title


async def reply_aids(appeal: Appeal, template_id: str, *, name: str) -> dict[str, Any]:
    """For the appeal's page: the templates to insert (`?template=ID` fills the reply box;
    `name` is the resident's name as the reader may see it), the knowledge base's
    suggestions, and the reply waiting for the head's review, if any."""
    prefill, refusal = "", ""
    if template_id:
        try:
            prefill = await inserted(appeal, template_id, name=name)
        except ServiceError as exc:
            refusal = exc.message
    return {"reply_templates": await filled(appeal, await usable(appeal.department_id),
                                            name=name),
            "reply_prefill": prefill, "template_refusal": refusal,
            "suggestions": await suggestions(appeal, today()),
            "pending_reply": await review.pending(appeal)}
