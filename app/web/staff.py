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
from app.domain.states import STATUS_LABELS, WITH_DEPARTMENT, Event
from app.domain.types import TYPE_LABELS, Role
from app.models import Account, Appeal, AppealEvent, AppealReply, Category, Department, Region
from app.schemas import staff as forms
from app.schemas.base import parse_form
from app.services import audit, clocks, handling, lists, routing, triage
from app.services.accounts import load_session
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import access, presenters
from app.web.context import rules_of
from app.web.render import render
from app.web.security import SESSION_COOKIE, checked_form

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


def _marks(request: Request, appeals: list[Appeal]) -> dict[int, dict]:
    rules, now = rules_of(request), datetime.now(UTC)
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
    found = await lists.listing(request.query_params,
                                lists.department_queue(account.department_id),
                                lists.MOST_URGENT_FIRST, now=datetime.now(UTC),
                                allowed=("status", "type", "overdue"), count=True)
    department = await account.department
    return render(request, "queue.html", {
        **_listed(request, found), "action": "/staff/queue",
        "title": f"{department.name if department else ''} 待办诉求",
        "statuses": {k: v for k, v in STATUS_LABELS.items() if k in WITH_DEPARTMENT},
    })


@staff_route("triage_queue")
async def triage_queue(request: Request, account: Account) -> Response:
    found = await lists.listing(request.query_params, lists.triage(),
                                lists.MOST_URGENT_FIRST, now=datetime.now(UTC),
                                allowed=("type", "overdue"), count=True)
    return render(request, "queue.html", {
        **_listed(request, found), "action": "/staff/triage", "title": "待分派诉求",
    })


@staff_route("inspect_list")
async def inspect_list(request: Request, account: Account) -> Response:
    # No total here: a COUNT(*) over every appeal of a city would scan on each visit.
    found = await lists.listing(request.query_params, Appeal.all(), lists.NEWEST_FIRST,
                                now=datetime.now(UTC), related=("department",))
    return render(request, "inspect_list.html", {
        **_listed(request, found), "statuses": STATUS_LABELS, "types": TYPE_LABELS,
        "departments": await Department.filter(active=True).order_by("code")
        .values("code", "name"),
        "categories": await Category.filter(level=1).order_by("code").values("code", "name"),
        "regions": await Region.all().order_by("code").values("code", "name", "level"),
    })


def _listed(request: Request, found: lists.Listing) -> dict:
    appeals = found.page.appeals
    return {"appeals": appeals, "marks": _marks(request, appeals), "total": found.page.total,
            "links": found.links, "filters": found.filters, "errors": found.errors,
            "types": TYPE_LABELS}


async def _visible(account: Account, tracking_number: str) -> Appeal:
    appeal = await access.appeal_numbered(tracking_number)
    if appeal is None or not access.may_see(account, appeal):
        raise HTTPException(404)
    return appeal


@staff_route("appeal_detail")
async def appeal_detail(request: Request, account: Account) -> Response:
    appeal = await _visible(account, request.path_params["tracking_number"])
    return await _detail_page(request, account, appeal)


async def _detail_page(request: Request, account: Account, appeal: Appeal,
                       refused: dict | None = None) -> Response:
    await appeal.fetch_related("department", "category", "region", "named_unit")
    events = await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
    replies = await AppealReply.filter(appeal_id=appeal.id).order_by("round")
    rules = rules_of(request)
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
        "refused": refused or {},
        "appeal": appeal, "events": events, "contact": contact, "role": role.value,
        "mark": _marks(request, [appeal])[appeal.id], "explanation": explanation,
        "routing": appeal.routing if role in (Role.DISPATCHER, Role.INSPECTOR) else None,
        "max_due_at": clock.max_due_at,
        "extension_room": rules.policies.reply(appeal.type).max_extension_days
        - appeal.extension_days,
        "departments": departments, "categories": list(rules.categories),
        "may": access.buttons(account, appeal), "reject_reasons": triage.REJECT_REASONS,
        "replies": replies, "reply_of_event": _reply_of_event(events, replies),
    })


def _reply_of_event(events: list[AppealEvent], replies: list[AppealReply]) -> dict:
    """The reply each REPLY event of the trail gave, by the round the event names. Events
    written before replies were kept name none: the n-th of them gave round n, which is
    how migration 0004 numbered the one reply it could keep."""
    by_round = {reply.round: reply for reply in replies}
    said = [e for e in events if e.kind == Event.REPLY.value]
    found = {}
    for position, event in enumerate(said, start=1):
        round_ = (event.data or {}).get("round", position)
        if round_ in by_round:
            found[event.id] = by_round[round_]
    return found


# Refusals that concern the appeal as a whole, not a field: the error page says them.
NOT_A_FIELD = ("illegal_transition", "conflict", "not_found")


async def _act(request: Request, account: Account, posted: str, model, act, *,
               then: str | None = None) -> Response:
    """Parse the form `posted` of an appeal's page and act on it. A refusal about a field
    comes back on the appeal's page, beside that field, with what was typed kept."""
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    try:
        await act(appeal, Actor.of(account), parse_form(model, form))
    except ServiceError as exc:
        if exc.field is None or exc.code in NOT_A_FIELD:
            raise
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field: exc.message}
        typed = {key: str(form.get(key, "")) for key in model.model_fields}
        page = await _detail_page(request, account, await Appeal.get(id=appeal.id),
                                  {"form": posted, "errors": errors, "typed": typed})
        page.status_code = 400
        return page
    return RedirectResponse(then, status_code=303) if then else _back(appeal)


@staff_route("ask_info")
async def ask_info(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.AskInfo) -> None:
        await clocks.ask_info(appeal, actor, data)

    return await _act(request, account, "ask_info", forms.AskInfo, act)


@staff_route("request_extension")
async def request_extension(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.ExtensionRequest) -> None:
        await clocks.request_extension(rules_of(request), appeal, actor, data)

    return await _act(request, account, "extension", forms.ExtensionRequest, act)


@staff_route("decide_extension")
async def decide_extension(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.ExtensionDecision) -> None:
        await clocks.decide_extension(rules_of(request), appeal, actor, data)

    return await _act(request, account, "decision", forms.ExtensionDecision, act)


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
    async def act(appeal: Appeal, actor: Actor, data: forms.Reply) -> None:
        await handling.reply(appeal, actor, data)

    return await _act(request, account, "reply", forms.Reply, act)


@staff_route("reject_appeal")
async def reject_appeal(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Reject) -> None:
        await triage.reject(appeal, actor, data)

    return await _act(request, account, "reject", forms.Reject, act)


@staff_route("return_appeal")
async def return_appeal(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Return) -> None:
        await routing.return_to_triage(appeal, actor, data)

    return await _act(request, account, "return", forms.Return, act, then="/staff/queue")


@staff_route("route_appeal")
async def route_appeal(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Route) -> None:
        await routing.route_manual(rules_of(request), appeal, actor, data)

    return await _act(request, account, "route", forms.Route, act)


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
    Route("/staff/appeals/{tracking_number}/reject", reject_appeal, methods=["POST"],
          name="reject_appeal"),
    Route("/staff/appeals/{tracking_number}/ask-info", ask_info, methods=["POST"],
          name="ask_info"),
    Route("/staff/appeals/{tracking_number}/extension", request_extension, methods=["POST"],
          name="request_extension"),
    Route("/staff/appeals/{tracking_number}/extension/decision", decide_extension,
          methods=["POST"], name="decide_extension"),
]
