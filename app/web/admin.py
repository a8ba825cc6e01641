"""Administration under /admin/ (staff accounts), and the audit log inspectors read at
/staff/audit. An administrator sees no appeal's content here: these pages show accounts and
departments only. Permissions are app.web.access.ROUTE_ROLES, as on every staff page."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.functions import Count

from app.domain.types import ROLE_LABELS, Role
from app.models import Account, Department
from app.schemas import admin as forms
from app.schemas.base import parse_form
from app.services import administration, audit_log, exports
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import flash
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import staff_route

# The administrator's landing page: one line per section (others add theirs here).
SECTIONS = [
    ("/admin/accounts", "工作人员账号", "新建账号，修改角色或所属部门，停用账号，重置密码。"),
    ("/admin/departments", "部门", "按区划查看部门，启用或停用（停用后在办诉求退回分派中心）。"),
    ("/admin/hot-topics", "热门话题", "快速通道上的热门话题：新增、删除、调整顺序。"),
    ("/admin/calendar", "工作日历", "放假或调休上班的调整；保存后重新计算办理中诉求的答复期限。"),
    ("/admin/routing", "分派规则", "关键词规则和分类 → 承办部门对照表。"),
    ("/admin/reference", "规则版本", "当前规则版本及每次修改的记录。"),
    ("/admin/templates", "答复模板", "各部门共用的答复模板（部门自己的模板由部门负责人维护）。"),
    ("/admin/knowledge", "知识库", "政策解答：标题、内容、分类、部门和有效期；过期条目不再显示。"),
    ("/admin/api-clients", "Open311 应用密钥", "第三方应用提交诉求的密钥：发放、吊销。"),
]
DONE = {"changed": "已保存修改", "disabled": "账号已停用，其登录已全部退出", "reset": "密码已重置"}
ROLES = {role.value: ROLE_LABELS[role] for role in forms.STAFF_ROLE_ORDER}


def _typed(form, model) -> dict[str, str]:
    return {key: str(form.get(key, "")) for key in model.model_fields}


async def _departments() -> list[dict]:
    return await Department.filter(active=True).order_by("code").values("code", "name")


async def _account(request: Request) -> Account:
    found = await administration.staff_account(request.path_params["account_id"])
    if found is None:
        raise HTTPException(404)
    return found


@staff_route("admin_home")
async def admin_home(request: Request, account: Account) -> Response:
    counts = await Account.filter(role__in=list(ROLES), is_active=True).group_by("role") \
        .annotate(n=Count("id")).values("role", "n")
    by_role = {row["role"]: row["n"] for row in counts}
    return render(request, "admin_home.html", {
        "sections": SECTIONS, "roles": ROLES, "by_role": by_role})


@staff_route("admin_accounts")
async def admin_accounts(request: Request, account: Account) -> Response:
    """Staff accounts by username, searchable, a page at a time (`?after=<username>`)."""
    try:
        search, errors = parse_form(forms.AccountSearch, request.query_params), {}
    except ValidationFailed as exc:
        search, errors = forms.AccountSearch(), exc.errors
    rows, after = await administration.staff_page(search)
    chosen = {key: value for key, value in search.model_dump(exclude={"after"}).items()
              if value}
    return render(request, "admin_accounts.html", {
        "rows": rows, "errors": errors, "search": search, "roles": ROLES,
        "departments": await _departments(),
        "links": {"next": "?" + urlencode({**chosen, "after": after}) if after else None,
                  "first": "?" + urlencode(chosen) if search.after else None},
    })


def _new_page(request: Request, departments: list[dict], typed: dict | None = None,
              errors: dict | None = None, status: int = 200) -> Response:
    return render(request, "admin_account_new.html", {
        "typed": typed or {}, "errors": errors or {}, "roles": ROLES,
        "departments": departments}, status=status)


@staff_route("admin_account_new")
async def admin_account_new(request: Request, account: Account) -> Response:
    return _new_page(request, await _departments())


@staff_route("admin_account_create")
async def admin_account_create(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    try:
        made, password = await administration.create_staff(
            Actor.of(account), parse_form(forms.AccountCreate, form))
    except ServiceError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else \
            {exc.field or "username": exc.message}
        return _new_page(request, await _departments(), _typed(form, forms.AccountCreate),
                         errors, 400)
    return _password_page(request, made, password, "账号已创建")


def _password_page(request: Request, made: Account, password: str, title: str) -> Response:
    """The one-time password, shown this once (the page is never cached)."""
    return render(request, "admin_password.html", {
        "title": title, "target": made, "password": password,
        "role": ROLE_LABELS.get(Role(made.role), made.role)})


async def _account_page(request: Request, target: Account, typed: dict | None = None,
                        errors: dict | None = None, status: int = 200) -> Response:
    department = target.department.code if target.department else ""
    return render(request, "admin_account.html", {
        "target": target, "roles": ROLES, "departments": await _departments(),
        "typed": typed or {"role": target.role, "department": department,
                           "name": target.display_name},
        "errors": errors or {},
        "itself": target.id == getattr(request.state.account, "id", None)}, status=status)


@staff_route("admin_account")
async def admin_account(request: Request, account: Account) -> Response:
    return await _account_page(request, await _account(request))


async def _act(request: Request, account: Account, model, act, done: str) -> Response:
    """Act on the account of the page; a refusal comes back on the page, beside its field,
    with what was typed kept."""
    form = await checked_form(request)
    target = await _account(request)
    try:
        data = parse_form(model, form) if model else None
        result = await act(Actor.of(account), target, data)
    except ServiceError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else \
            {exc.field or "account": exc.message}
        typed = _typed(form, model) if model else None
        return await _account_page(request, await _account(request), typed, errors, 400)
    if isinstance(result, str):  # a new one-time password
        return _password_page(request, target, result,
                              "账号已重新启用" if done == "enabled" else "密码已重置")
    return flash.put(request, RedirectResponse(f"/admin/accounts/{target.id}",
                                               status_code=303), DONE[done])


@staff_route("admin_account_change")
async def admin_account_change(request: Request, account: Account) -> Response:
    return await _act(request, account, forms.AccountChange, administration.change_staff,
                      "changed")


@staff_route("admin_account_disable")
async def admin_account_disable(request: Request, account: Account) -> Response:
    async def act(actor: Actor, target: Account, _: None) -> None:
        await administration.disable_staff(actor, target)

    return await _act(request, account, None, act, "disabled")


@staff_route("admin_account_enable")
async def admin_account_enable(request: Request, account: Account) -> Response:
    async def act(actor: Actor, target: Account, _: None) -> str:
        return await administration.enable_staff(actor, target)

    return await _act(request, account, None, act, "enabled")


@staff_route("admin_account_reset")
async def admin_account_reset(request: Request, account: Account) -> Response:
    async def act(actor: Actor, target: Account, _: None) -> str:
        return await administration.reset_staff(actor, target)

    return await _act(request, account, None, act, "reset")


@staff_route("audit_log")
async def audit_page(request: Request, account: Account) -> Response:
    """Every audited action, newest first, by action, a page at a time; read-only."""
    try:
        chosen, errors = parse_form(forms.AuditFilter, request.query_params), {}
    except ValidationFailed as exc:
        chosen, errors = forms.AuditFilter(), exc.errors
    rows, after = await audit_log.page(chosen.action, chosen.after)
    entries = []
    for entry in rows:
        details = entry.details or {}
        if entry.action == "export":
            what, filters = exports.describe(details)
            subject = f"{what}（{str(details.get('format', '')).upper()}，" \
                      f"{details.get('rows', 0)} 行）"
            entries.append((entry, subject, [("筛选条件", None, filters)]))
        else:
            subject = details.get("account") or details.get("summary", "")  # reference edits
            entries.append((entry, subject, audit_log.changes(details)))
    action = {"action": chosen.action} if chosen.action else {}
    return render(request, "audit_log.html", {
        "entries": entries, "errors": errors, "chosen": chosen,
        "actions": audit_log.ACTION_LABELS, "roles": ROLES,
        "links": {"next": "?" + urlencode({**action, "after": after}) if after else None,
                  "first": "?" + urlencode(action) if chosen.after else None},
    })


routes = [
    Route("/admin/", admin_home, methods=["GET"], name="admin_home"),
    Route("/admin/accounts", admin_accounts, methods=["GET"], name="admin_accounts"),
    Route("/admin/accounts/new", admin_account_new, methods=["GET"], name="admin_account_new"),
    Route("/admin/accounts/new", admin_account_create, methods=["POST"],
          name="admin_account_create"),
    Route("/admin/accounts/{account_id:int}", admin_account, methods=["GET"],
          name="admin_account"),
    Route("/admin/accounts/{account_id:int}", admin_account_change, methods=["POST"],
          name="admin_account_change"),
    Route("/admin/accounts/{account_id:int}/disable", admin_account_disable,
          methods=["POST"], name="admin_account_disable"),
    Route("/admin/accounts/{account_id:int}/enable", admin_account_enable, methods=["POST"],
          name="admin_account_enable"),
    Route("/admin/accounts/{account_id:int}/reset", admin_account_reset, methods=["POST"],
          name="admin_account_reset"),
    Route("/staff/audit", audit_page, methods=["GET"], name="audit_log"),
]
