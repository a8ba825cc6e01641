"""Reply templates, the knowledge base and the head's review of replies (审核).

Shared templates and the knowledge base are the administrator's (/admin/templates,
/admin/knowledge); a department's own templates its head's (/staff/templates); staff who
answer search the knowledge base at /staff/knowledge. Permissions: app.web.access.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.models import Account, Appeal, Category, Department, KnowledgeEntry
from app.schemas import replies as forms
from app.schemas.base import parse_form
from app.services import replies, review
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import flash
from app.web.context import rules_of
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import NoFields, _act, staff_route


def _typed(form, model) -> dict[str, str]:
    return {key: str(form.get(key, "")) for key in model.model_fields}


def _errors(exc: ServiceError, default: str) -> dict[str, str]:
    return exc.errors if isinstance(exc, ValidationFailed) else {exc.field or default: exc.message}


def _edit_id(request: Request) -> int | None:
    raw = request.query_params.get("edit", "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


# --- templates: the administrator's shared ones, a head's department's ------------------

SCOPES = {"admin": ("/admin/templates", "共用答复模板"), "head": ("/staff/templates", "")}


async def _templates_page(request: Request, account: Account, scope: str,
                          refused: dict | None = None, status: int = 200) -> Response:
    department_id = account.department_id if scope == "head" else None
    base, title = SCOPES[scope]
    if scope == "head":
        department = await Department.get_or_none(id=department_id)
        title = f"{department.name if department else ''}答复模板"
    rows = await replies.templates_kept(department_id)
    typed = (refused or {}).get("typed")
    if typed is None and (chosen := _edit_id(request)) is not None:
        found = next((t for t in rows if t.id == chosen), None)
        if found is not None:
            typed = {"id": str(found.id), "title": found.title, "text": found.text}
    return render(request, "reply_templates.html", {
        "rows": rows, "base": base, "title": title, "scope": scope,
        "typed": typed or {}, "errors": (refused or {}).get("errors", {}),
        "placeholders": replies.PLACEHOLDERS}, status=status)


async def _template_save(request: Request, account: Account, scope: str) -> Response:
    form = await checked_form(request)
    department_id = account.department_id if scope == "head" else None
    try:
        saved = await replies.save_template(Actor.of(account), department_id,
                                            parse_form(forms.TemplateEdit, form))
    except ServiceError as exc:
        return await _templates_page(request, account, scope, {
            "typed": _typed(form, forms.TemplateEdit), "errors": _errors(exc, "title")}, 400)
    return flash.put(request, RedirectResponse(SCOPES[scope][0], status_code=303),
                     f"已保存答复模板「{saved.title}」")


async def _template_remove(request: Request, account: Account, scope: str) -> Response:
    form = await checked_form(request)
    department_id = account.department_id if scope == "head" else None
    try:
        title = await replies.remove_template(Actor.of(account), department_id,
                                              parse_form(forms.Remove, form).id)
    except ServiceError as exc:
        return await _templates_page(request, account, scope,
                                     {"typed": {}, "errors": _errors(exc, "id")}, 400)
    return flash.put(request, RedirectResponse(SCOPES[scope][0], status_code=303),
                     f"已删除答复模板「{title}」")


@staff_route("admin_templates")
async def admin_templates(request: Request, account: Account) -> Response:
    return await _templates_page(request, account, "admin")


@staff_route("admin_template_save")
async def admin_template_save(request: Request, account: Account) -> Response:
    return await _template_save(request, account, "admin")


@staff_route("admin_template_remove")
async def admin_template_remove(request: Request, account: Account) -> Response:
    return await _template_remove(request, account, "admin")


@staff_route("department_templates")
async def department_templates(request: Request, account: Account) -> Response:
    return await _templates_page(request, account, "head")


@staff_route("department_template_save")
async def department_template_save(request: Request, account: Account) -> Response:
    return await _template_save(request, account, "head")


@staff_route("department_template_remove")
async def department_template_remove(request: Request, account: Account) -> Response:
    return await _template_remove(request, account, "head")


# --- the knowledge base --------------------------------------------------------------------

async def _choices() -> dict:
    return {
        "categories": await Category.filter(level=1).order_by("code").values_list("name",
                                                                                   flat=True),
        "departments": await Department.filter(active=True).order_by("code")
        .values("code", "name"),
    }


@staff_route("knowledge_search")
async def knowledge_search(request: Request, account: Account) -> Response:
    """Current policy answers by words of the title or text, and by category."""
    try:
        chosen, errors = parse_form(forms.KnowledgeSearch, request.query_params), {}
        found = await replies.search(chosen, replies.today())
    except ServiceError as exc:
        chosen, errors = forms.KnowledgeSearch(), _errors(exc, "q")
        found = replies.Found([], False)
    return render(request, "knowledge.html", {
        "found": found, "chosen": chosen, "errors": errors,
        "typed": {key: request.query_params.get(key, "") for key in ("q", "category")},
        **await _choices()}, status=400 if errors else 200)


async def _knowledge_page(request: Request, refused: dict | None = None,
                          status: int = 200) -> Response:
    found = await replies.search(forms.KnowledgeSearch(), replies.today(), limit=500)
    expired = await _expired()
    typed = (refused or {}).get("typed")
    if typed is None and (chosen := _edit_id(request)) is not None:
        entry = await KnowledgeEntry.get_or_none(id=chosen) \
            .prefetch_related("category", "department")
        if entry is not None:
            typed = {"id": str(entry.id), "title": entry.title, "text": entry.text,
                     "category": entry.category.name if entry.category else "",
                     "department": entry.department.code if entry.department else "",
                     "valid_until": entry.valid_until.isoformat() if entry.valid_until else ""}
    return render(request, "knowledge_manage.html", {
        "rows": found.entries, "expired": expired, "typed": typed or {},
        "errors": (refused or {}).get("errors", {}), **await _choices()}, status=status)


async def _expired() -> list:
    return await KnowledgeEntry.filter(valid_until__lt=replies.today()) \
        .order_by("-valid_until", "-id").limit(200)


@staff_route("admin_knowledge")
async def admin_knowledge(request: Request, account: Account) -> Response:
    return await _knowledge_page(request)


@staff_route("admin_knowledge_save")
async def admin_knowledge_save(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    try:
        saved = await replies.save_entry(Actor.of(account),
                                         parse_form(forms.KnowledgeEdit, form))
    except ServiceError as exc:
        return await _knowledge_page(request, {"typed": _typed(form, forms.KnowledgeEdit),
                                               "errors": _errors(exc, "title")}, 400)
    return flash.put(request, RedirectResponse("/admin/knowledge", status_code=303),
                     f"已保存知识库条目「{saved.title}」")


@staff_route("admin_knowledge_remove")
async def admin_knowledge_remove(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    try:
        title = await replies.remove_entry(Actor.of(account), parse_form(forms.Remove, form).id)
    except ServiceError as exc:
        return await _knowledge_page(request, {"typed": {}, "errors": _errors(exc, "id")}, 400)
    return flash.put(request, RedirectResponse("/admin/knowledge", status_code=303),
                     f"已删除知识库条目「{title}」")


# --- the head's review of a reply (审核) ---------------------------------------------------

@staff_route("approve_reply")
async def approve_reply(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: NoFields) -> str:
        return await review.approve(rules_of(request), appeal, actor)

    return await _act(request, account, "approve_reply", NoFields, act)


@staff_route("revise_reply")
async def revise_reply(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Revise) -> str:
        return await review.revise(appeal, actor, data)

    return await _act(request, account, "revise_reply", forms.Revise, act)


routes = [
    Route("/staff/knowledge", knowledge_search, methods=["GET"], name="knowledge_search"),
    Route("/staff/templates", department_templates, methods=["GET"],
          name="department_templates"),
    Route("/staff/templates", department_template_save, methods=["POST"],
          name="department_template_save"),
    Route("/staff/templates/remove", department_template_remove, methods=["POST"],
          name="department_template_remove"),
    Route("/admin/templates", admin_templates, methods=["GET"], name="admin_templates"),
    Route("/admin/templates", admin_template_save, methods=["POST"],
          name="admin_template_save"),
    Route("/admin/templates/remove", admin_template_remove, methods=["POST"],
          name="admin_template_remove"),
    Route("/admin/knowledge", admin_knowledge, methods=["GET"], name="admin_knowledge"),
    Route("/admin/knowledge", admin_knowledge_save, methods=["POST"],
          name="admin_knowledge_save"),
    Route("/admin/knowledge/remove", admin_knowledge_remove, methods=["POST"],
          name="admin_knowledge_remove"),
    Route("/staff/appeals/{tracking_number}/approve-reply", approve_reply, methods=["POST"],
          name="approve_reply"),
    Route("/staff/appeals/{tracking_number}/revise-reply", revise_reply, methods=["POST"],
          name="revise_reply"),
]
