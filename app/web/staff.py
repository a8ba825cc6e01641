"""Pages for staff: the handler's queue, the triage queue, the inspector's list, an appeal."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain.clock import explain_zh
from app.domain.masking import mask_email, mask_phone
from app.domain.states import OPEN, STATUS_LABELS, Status
from app.domain.types import TYPE_LABELS, Role
from app.models import Account, Appeal, AppealEvent, Department
from app.services import audit, clocks, handling, routing
from app.services.accounts import load_session
from app.services.errors import ServiceError
from app.services.workflow import Actor
from app.web import access, presenters
from app.web.render import render
from app.web.security import SESSION_COOKIE, checked_form

PAGE_SIZE = 50
Handler = Callable[[Request, Account], Awaitable[Response]]


def staff_route(name: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Load the session and apply access.ROUTE_ROLES: login if none, 404 if not allowed."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            session = await load_session(request.cookies.get(SESSION_COOKIE))
            if session is None or session.account is None:
                target = quote(request.url.path) if request.method == "GET" else "/staff"
                return RedirectResponse(f"/login?next={target}", status_code=303)
            account = session.account
            request.state.account = account
            if not access.may_use(account, name):
                raise HTTPException(404)
            return await handler(request, account)

        return endpoint

    return wrap


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def _marks(request: Request, appeals: list[Appeal]) -> dict[int, dict]:
    rules, now = request.app.state.rules, datetime.now(UTC)
    return {a.id: presenters.deadline_mark(rules, a.status, a.type, a.reply_due_at, now)
            for a in appeals}


async def staff_home(request: Request) -> Response:
    session = await load_session(request.cookies.get(SESSION_COOKIE))
    if session is None or session.account is None:
        return RedirectResponse("/login", status_code=303)
    target = access.HOME_BY_ROLE.get(Role(session.account.role))
    if target is None:
        request.state.account = session.account
        return render(request, "error.html", {"message": "此账号没有可用的工作台。"})
    return RedirectResponse(request.url_for(target).path, status_code=303)


@staff_route("handler_queue")
async def handler_queue(request: Request, account: Account) -> Response:
    page = _page(request)
    query = Appeal.filter(department_id=account.department_id,
                          status__in=[Status.ASSIGNED, Status.ACCEPTED, Status.AWAITING_INFO])
    total = await query.count()
    appeals = await query.order_by("reply_due_at", "id").offset((page - 1) * PAGE_SIZE) \
        .limit(PAGE_SIZE)
    department = await account.department
    return render(request, "queue.html", {
        "title": f"{department.name if department else ''} 待办诉求",
        "appeals": appeals, "marks": _marks(request, appeals), "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    })


@staff_route("triage_queue")
async def triage_queue(request: Request, account: Account) -> Response:
    page = _page(request)
    query = Appeal.filter(status=Status.TRIAGE)
    total = await query.count()
    appeals = await query.order_by("reply_due_at", "id").offset((page - 1) * PAGE_SIZE) \
        .limit(PAGE_SIZE)
    return render(request, "queue.html", {
        "title": "待分派诉求", "appeals": appeals, "marks": _marks(request, appeals),
        "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
    })


@staff_route("inspect_list")
async def inspect_list(request: Request, account: Account) -> Response:
    page = _page(request)
    query = Appeal.all()
    status = request.query_params.get("status", "")
    if status in STATUS_LABELS:
        query = query.filter(status=status)
    department = request.query_params.get("department", "")
    if department:
        query = query.filter(department__code=department)
    type_ = request.query_params.get("type", "")
    if type_ in TYPE_LABELS:
        query = query.filter(type=type_)
    overdue = request.query_params.get("overdue") == "1"
    if overdue:
        query = query.filter(status__in=list(OPEN), reply_due_at__lt=datetime.now(UTC))
    # No COUNT(*) here: over every appeal of a city it would scan the table on each visit.
    appeals = await query.order_by("-submitted_at", "-id").offset((page - 1) * PAGE_SIZE) \
        .limit(PAGE_SIZE + 1).prefetch_related("department")
    more = len(appeals) > PAGE_SIZE
    appeals = appeals[:PAGE_SIZE]
    departments = await Department.filter(active=True).order_by("code").values("code", "name")
    return render(request, "inspect_list.html", {
        "appeals": appeals, "marks": _marks(request, appeals), "total": None, "page": page,
        "pages": page + 1 if more else page, "statuses": STATUS_LABELS,
        "types": TYPE_LABELS, "departments": departments,
        "filters": {"status": status, "department": department, "type": type_,
                    "overdue": overdue},
    })


async def _visible(account: Account, tracking_number: str) -> Appeal:
    appeal = await Appeal.get_or_none(tracking_number=tracking_number)
    if appeal is None or not access.may_see(account, appeal):
        raise HTTPException(404)
    return appeal


@staff_route("appeal_detail")
async def appeal_detail(request: Request, account: Account) -> Response:
    appeal = await _visible(account, request.path_params["tracking_number"])
    await appeal.fetch_related("department", "category", "region", "named_unit")
    events = await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
    rules = request.app.state.rules
    role = Role(account.role)
    shows_contact = access.sees_contact(account, appeal)
    contact = {
        "name": appeal.contact_name if shows_contact else "",
        "phone": mask_phone(appeal.contact_phone) if shows_contact else "",
        "email": mask_email(appeal.contact_email) if shows_contact else "",
        "hidden": not shows_contact,
    }
    clock = await clocks.clock_for(rules, appeal)
    explanation = explain_zh(clock.deadline)
    departments = []
    if access.may_use(account, "route_appeal"):
        departments = await Department.filter(active=True).exclude(
            id=appeal.named_unit_id or 0).order_by("code").values("code", "name")
    return render(request, "appeal_detail.html", {
        "appeal": appeal, "events": events, "contact": contact, "role": role.value,
        "mark": _marks(request, [appeal])[appeal.id], "explanation": explanation,
        "routing": appeal.routing if role in (Role.DISPATCHER, Role.INSPECTOR) else None,
        "max_due_at": clock.max_due_at,
        "extension_room": rules.policies.reply(appeal.type).max_extension_days
        - appeal.extension_days,
        "departments": departments, "categories": list(rules.categories), "may": {
            name: access.may_use(account, name)
            for name in ("acknowledge", "reply", "return_appeal", "route_appeal", "ask_info",
                         "request_extension", "decide_extension")
        },
    })


@staff_route("ask_info")
async def ask_info(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    await clocks.ask_info(appeal, Actor.of(account), str(form.get("question", "")))
    return _back(appeal)


@staff_route("request_extension")
async def request_extension(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    raw = str(form.get("days", ""))
    if not raw.isdigit():
        raise ServiceError("请填写延期的工作日天数。", "days")
    await clocks.request_extension(request.app.state.rules, appeal, Actor.of(account), int(raw),
                                   str(form.get("reason", "")))
    return _back(appeal)


@staff_route("decide_extension")
async def decide_extension(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    decision = str(form.get("decision", ""))
    if decision not in ("grant", "refuse"):
        raise ServiceError("请选择批准或不批准。", "decision")
    await clocks.decide_extension(request.app.state.rules, appeal, Actor.of(account),
                                  decision == "grant", str(form.get("note", "")))
    return _back(appeal)


@staff_route("returns_stats")
async def returns_stats(request: Request, account: Account) -> Response:
    return render(request, "returns.html", {
        "by_department": await audit.returns_by_department(),
        "by_category": await audit.returns_by_category(),
    })


def _back(appeal: Appeal) -> RedirectResponse:
    return RedirectResponse(f"/staff/appeals/{appeal.tracking_number}", status_code=303)


@staff_route("acknowledge")
async def acknowledge(request: Request, account: Account) -> Response:
    await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    await handling.acknowledge(appeal, Actor.of(account))
    return _back(appeal)


@staff_route("reply")
async def reply(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    await handling.reply(appeal, Actor.of(account), str(form.get("reply", "")))
    return _back(appeal)


@staff_route("return_appeal")
async def return_appeal(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    await routing.return_to_triage(appeal, Actor.of(account), str(form.get("reason", "")))
    return RedirectResponse("/staff/queue", status_code=303)


@staff_route("route_appeal")
async def route_appeal(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    await routing.route_manual(request.app.state.rules, appeal, str(form.get("department", "")),
                               Actor.of(account), str(form.get("note", "")).strip(),
                               str(form.get("category", "")).strip() or None)
    return _back(appeal)


routes = [
    Route("/staff", staff_home, name="staff_home"),
    Route("/staff/queue", handler_queue, name="handler_queue"),
    Route("/staff/triage", triage_queue, name="triage_queue"),
    Route("/staff/appeals", inspect_list, name="inspect_list"),
    Route("/staff/returns", returns_stats, name="returns_stats"),
    Route("/staff/appeals/{tracking_number}", appeal_detail, name="appeal_detail"),
    Route("/staff/appeals/{tracking_number}/acknowledge", acknowledge, methods=["POST"],
          name="acknowledge"),
    Route("/staff/appeals/{tracking_number}/reply", reply, methods=["POST"], name="reply"),
    Route("/staff/appeals/{tracking_number}/return", return_appeal, methods=["POST"],
          name="return_appeal"),
    Route("/staff/appeals/{tracking_number}/route", route_appeal, methods=["POST"],
          name="route_appeal"),
    Route("/staff/appeals/{tracking_number}/ask-info", ask_info, methods=["POST"],
          name="ask_info"),
    Route("/staff/appeals/{tracking_number}/extension", request_extension, methods=["POST"],
          name="request_extension"),
    Route("/staff/appeals/{tracking_number}/extension/decision", decide_extension,
          methods=["POST"], name="decide_extension"),
]
