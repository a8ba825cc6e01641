"""Pages for staff: the handler's queue, the triage queue, the inspector's list, an appeal."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from app.domain.attachments import Occasion
from app.domain.clock import explain_zh
from app.domain.masking import mask_email, mask_phone
from app.domain.states import OPEN, STATUS_LABELS, WITH_DEPARTMENT, Event
from app.domain.types import CHANNEL_LABELS, DEPARTMENT_ROLES, TYPE_LABELS, Role
from app.models import Account, Appeal, AppealEvent, AppealReply, Category, Department, Region
from app.schemas import staff as forms
from app.schemas.base import Input, parse_form
from app.schemas.benefits import ReplyWithEntry
from app.services import (
    attachments,
    audit,
    benefits,
    clocks,
    desk,
    detectors,
    exports,
    handling,
    lists,
    merging,
    misroutes,
    reveals,
    review,
    routing,
    supervision,
    triage,
)
from app.services.accounts import load_session
from app.services.errors import ServiceError, ValidationFailed
from app.services.replies import reply_aids
from app.services.workflow import Actor
from app.web import access, downloads, flash, presenters, uploads
from app.web.context import rules_of
from app.web.render import render
from app.web.security import SESSION_COOKIE, checked_form
from app.web.similar_pages import similar_context

Handler = Callable[[Request, Account], Awaitable[Response]]
# Where an account with a one-time password is sent until it has chosen its own.
CHANGE_PASSWORD = "/account/password"  # noqa: S105 - a path, not a password


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
            if account.must_change_password:
                return RedirectResponse(CHANGE_PASSWORD, status_code=303)
            if not access.may_use(account, name):
                raise HTTPException(404)
            request.state.flash = flash.read(request)
            return flash.shown(request, await handler(request, account))

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
    if session.account.must_change_password:
        return RedirectResponse(CHANGE_PASSWORD, status_code=303)
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
                                allowed=("status", "type", "overdue", "supervised",
                                         "similar"),
                                count=True)
    department = await account.department
    pinned = await supervision.pinned(account.department_id)
    return render(request, "queue.html", {
        **_listed(request, found), "action": "/staff/queue",
        "pinned": pinned, "supervised": {order.appeal_id for order in pinned},
        "title": f"{department.name if department else ''} 待办诉求",
        "statuses": {k: v for k, v in STATUS_LABELS.items() if k in WITH_DEPARTMENT},
    })


@staff_route("triage_queue")
async def triage_queue(request: Request, account: Account) -> Response:
    """Triage, most urgent first, each row saying why it waits; `reason` filters by that."""
    reason = request.query_params.get("reason", "").strip()
    base, bad_reason = lists.triage(), {}
    if reason in desk.REASONS:
        base = desk.waiting_because(base, reason)
    elif reason:
        reason, bad_reason = "", {"reason": desk.REASON_ERROR}
    found = await lists.listing(request.query_params, base,
                                lists.MOST_URGENT_FIRST, now=datetime.now(UTC),
                                allowed=("type", "overdue", "supervised", "similar"),
                                count=True)
    listed = _listed(request, found)
    listed["links"] = found.page.links({**found.filters.params(),
                                        **({"reason": reason} if reason else {})})
    listed["errors"] = {**listed["errors"], **bad_reason}
    return render(request, "triage_queue.html", {
        **listed, "action": "/staff/triage", "title": "待分派诉求",
        "reasons": desk.REASONS, "reason": reason,
        "waiting": await desk.triage_reasons(found.page.appeals),
    })


@staff_route("inspect_list")
async def inspect_list(request: Request, account: Account) -> Response:
    fmt = request.query_params.get("format")
    if fmt in exports.FORMATS:
        return await _export_appeals(request, account, fmt)
    # No total here: a COUNT(*) over every appeal of a city would scan on each visit.
    found = await lists.listing(request.query_params, Appeal.all(), lists.NEWEST_FIRST,
                                now=datetime.now(UTC), related=("department",))
    if fmt:
        found.errors["format"] = exports.FORMAT_ERROR
    return render(request, "inspect_list.html", {
        **_listed(request, found), "statuses": STATUS_LABELS, "types": TYPE_LABELS,
        "export_query": "".join(f"{urlencode(found.filters.params())}&"
                                if found.filters.params() else ""),
        "departments": await Department.filter(active=True).order_by("code")
        .values("code", "name"),
        "categories": await Category.filter(level=1).order_by("code").values("code", "name"),
        "regions": await Region.all().order_by("code").values("code", "name", "level"),
    })


async def _export_appeals(request: Request, account: Account, fmt: str) -> Response:
    """All the appeals the list's filters match (every page), as a file. A filter that
    cannot be used refuses the export rather than widen it."""
    if not access.may_use(account, "export_appeals"):
        raise HTTPException(404)
    now = datetime.now(UTC)
    filters, errors = lists.parse_filters(request.query_params)
    query, unknown = await lists.narrowed(Appeal.all(), filters, now)
    if errors or unknown:
        message = "未导出：" + "；".join({**errors, **unknown}.values())
        return render(request, "error.html", {"message": message}, status=400)
    entry = await exports.start_record(account, fmt, filters.params(), now)
    sheet = await exports.appeal_sheet(exports.batches(query, downloads.batch_size(request)),
                                       now)
    return await downloads.download(sheet, entry, fmt, exports.file_name(fmt, now))


@staff_route("export_log")
async def export_log(request: Request, account: Account) -> Response:
    """The exports made, newest first, paged by id (`?after=<id>`)."""
    found, message = await exports.log_page(request.query_params.get("after"))
    return render(request, "export_log.html", {
        **found, "errors": {"after": message} if message else {}})


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
        "channel": CHANNEL_LABELS.get(appeal.channel, ""),
        "mark": _marks(request, [appeal])[appeal.id], "explanation": explanation,
        "routing": appeal.routing if role in (Role.DISPATCHER, Role.INSPECTOR) else None,
        "max_due_at": clock.max_due_at,
        "extension_room": rules.policies.reply(appeal.type).max_extension_days
        - appeal.extension_days,
        "departments": departments, "categories": list(rules.categories),
        "may": access.buttons(account, appeal), "reject_reasons": triage.REJECT_REASONS,
        "replies": replies, "reply_of_event": _reply_of_event(events, replies),
        "attachment_list": await uploads.listing(
            appeal, f"/staff/appeals/{appeal.tracking_number}"),
        "upload_policy": uploads.policy_of(request),
        "reveal": _reveal_form(account, appeal, events, replies, shows_contact),
        **await _benefit_context(account, appeal),
        "merge": await _merge_context(account, appeal),
        **await similar_context(account, appeal, rules.routing.similar),
        **await _supervision_context(account, appeal),
        **await reply_aids(appeal, request.query_params.get("template", ""),
                           name=contact["name"]),
    })


async def _merge_context(account: Account, appeal: Appeal) -> dict:
    """并单: the appeal's group as this account may see it, and what it may do with it."""
    main, members = await merging.group_of(appeal)
    if main is not None and main.id != appeal.id and not access.may_see(account, main):
        main = None
    members = [m for m in members if access.may_see(account, m)]
    return {
        "main": main, "members": members,
        "may_merge": access.may_use(account, "merge_appeals")
        and merging.refusal_as_main(appeal) is None,
        "may_unmerge": access.may_use(account, "unmerge_appeal")
        and appeal.merged_into_id is not None and appeal.status in OPEN,
    }


async def _benefit_context(account: Account, appeal: Appeal) -> dict:
    """The appeal's 还利于民 entries (whoever sees the appeal), and whether this account may
    add one now (its department's handler or head, once the appeal is replied)."""
    may_record = (access.may_use(account, "record_benefit")
                  and account.department_id == appeal.department_id
                  and appeal.status in benefits.RECORDABLE)
    return {"benefit_entries": await benefits.of_appeal(appeal),
            "benefit_may": {"record": may_record,
                            "decide": access.may_use(account, "decide_benefit"),
                            "with_reply": access.may_use(account, "record_benefit")},
            "benefit_kinds": benefits.KINDS, "benefit_statuses": benefits.STATUSES,
            "yuan": benefits.yuan}


def _reveal_form(account: Account, appeal: Appeal, events: list[AppealEvent],
                 replies: list[AppealReply], shows_contact: bool) -> dict:
    """The masked values this account may reveal here (none: no form), and the reasons."""
    if not access.may_reveal(account, appeal):
        return {"choices": []}
    found = reveals.places(appeal, events, replies, contact=shows_contact)
    return {"choices": reveals.choices(found), "reasons": reveals.REASONS,
            "reason_max": reveals.REASON_TEXT_MAX}


async def _supervision_context(account: Account, appeal: Appeal) -> dict:
    """The appeal's open 督办 order, and which of its forms (and 催办) this account sees."""
    order = await supervision.open_order(appeal)
    live = appeal.status in supervision.LIVE_APPEAL
    status = order.status if order else None
    return {"order": order, "order_may": {
        "supervise": access.may_use(account, "supervise") and live and order is None
        and appeal.department_id is not None,
        "answer": access.may_use(account, "answer_supervision") and live and status == "issued"
        and order.department_id == account.department_id,
        "close": access.may_use(account, "close_supervision") and live and status == "answered",
        "reissue": access.may_use(account, "reissue_supervision") and live
        and status == "answered",
        "remind": access.may_use(account, "remind") and appeal.status in WITH_DEPARTMENT,
    }}


def _reply_of_event(events: list[AppealEvent], replies: list[AppealReply]) -> dict:
    """The reply each REPLY event of the trail gave, by the round the event names. Events
    written before replies were kept name none: the n-th of them gave round n, which is
    how migration 0004 numbered the one reply it could keep."""
    by_round = {reply.round: reply for reply in replies}
    said = [e for e in events if e.kind in (Event.REPLY.value, Event.APPROVE_REPLY.value)]
    found = {}
    for position, event in enumerate(said, start=1):
        round_ = (event.data or {}).get("round", position)
        if round_ in by_round:
            found[event.id] = by_round[round_]
    return found


# Refusals that concern the appeal as a whole, not a field: said above the page's forms.
NOT_A_FIELD = ("illegal_transition", "conflict", "not_found")


class NoFields(Input):
    """A form that is only a button (签收)."""


async def _act(request: Request, account: Account, posted: str, model, act, *,
               then: str | None = None, read: Callable | None = None) -> Response:
    """Parse the form `posted` of an appeal's page and act on it. A refusal about a field
    comes back on the appeal's page, beside that field, with what was typed kept. `read`
    turns the submitted form into the model's values (a field sent several times)."""
    form = await checked_form(request)
    if read is not None:
        form = read(form)
    appeal = await _visible(account, request.path_params["tracking_number"])
    try:
        data = parse_form(model, form)
        said = await act(appeal, Actor.of(account), data)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        if isinstance(exc, ValidationFailed):
            errors = exc.errors
        else:  # about the appeal as a whole (someone acted first): above the forms
            field = exc.field if exc.field and exc.code not in NOT_A_FIELD else "_"
            errors = {field: exc.message}
        typed = {key: str(form.get(key, "")) for key in model.model_fields}
        page = await _detail_page(request, account, await Appeal.get(id=appeal.id),
                                  {"form": posted, "errors": errors, "typed": typed})
        page.status_code = 409 if exc.code in ("conflict", "illegal_transition") else 400
        return page
    response = RedirectResponse(then, status_code=303) if then else _back(appeal)
    return flash.put(request, response, said or flash.done(posted, data))


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
        "misroutes": await misroutes.by_category_month(datetime.now(UTC)),
        "misroute_definition": misroutes.DEFINITION,
    })


@staff_route("detectors")
async def detectors_page(request: Request, account: Account) -> Response:
    thresholds = rules_of(request).detectors
    scope, errors = await detectors.scope_of(request.query_params, datetime.now(UTC),
                                             thresholds)
    return render(request, "detectors.html", {
        "summaries": await detectors.overview(scope, thresholds), "scope": scope,
        "errors": errors, "unassigned": detectors.UNASSIGNED,
        "departments": await Department.filter(active=True).order_by("code")
        .values("code", "name"),
    })


@staff_route("detector_list")
async def detector_list(request: Request, account: Account) -> Response:
    detector = detectors.BY_KEY.get(request.query_params.get("detector", ""))
    if detector is None:
        raise HTTPException(404)
    thresholds = rules_of(request).detectors
    scope, errors = await detectors.scope_of(request.query_params, datetime.now(UTC),
                                             thresholds)
    fmt = request.query_params.get("format")
    if fmt in exports.FORMATS:
        return await _export_detector(request, account, fmt, detector, scope, errors)
    if fmt:
        errors["format"] = exports.FORMAT_ERROR
    after, bad_cursor = detectors.cursor_of(request.query_params)
    found = await detectors.listing(detector, scope, thresholds, after)
    params = {"detector": detector.key, **scope.params()}
    links = {"next": "?" + urlencode({**params, "after": found.next_after})
             if found.next_after else None,
             "first": "?" + urlencode(params) if after else None}
    return render(request, "detector_list.html", {
        "detector": detector, "definition": detector.describe(thresholds), "scope": scope,
        "appeals": found.appeals, "marks": _marks(request, found.appeals), "total": found.total,
        "links": links, "errors": {**errors, **bad_cursor},
        "overview": "?" + urlencode(scope.params()),
        "department": await detectors.department_label(scope),
    })


async def _export_detector(request: Request, account: Account, fmt: str,
                           detector: detectors.Detector, scope: detectors.Scope,
                           errors: dict[str, str]) -> Response:
    """Every appeal of the detector's list (all its pages), as a file."""
    if not access.may_use(account, "export_detector_list"):
        raise HTTPException(404)
    if (refusal := downloads.refused(request, errors)) is not None:
        return refusal
    thresholds, now = rules_of(request).detectors, datetime.now(UTC)

    def where(sql: detectors.Sql) -> str:
        return (f"{scope.where(sql)} AND {detector.base or '1 = 1'} "
                f"AND {detector.condition(sql, thresholds)}")

    entry = await exports.start_record(account, fmt, {"detector": detector.key,
                                                      **scope.params()}, now, "detector")
    sheet = await exports.appeal_sheet(
        exports.matching(where, downloads.batch_size(request)), now, detector.title[:31])
    return await downloads.download(sheet, entry, fmt,
                                    exports.file_name(fmt, now, f"detector-{detector.key}"))


def _back(appeal: Appeal) -> RedirectResponse:
    return RedirectResponse(f"/staff/appeals/{appeal.tracking_number}", status_code=303)


@staff_route("acknowledge")
async def acknowledge(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: NoFields) -> None:
        await handling.acknowledge(appeal, actor)

    return await _act(request, account, "acknowledge", NoFields, act)


@staff_route("reply")
@uploads.closes_form
async def reply(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: ReplyWithEntry) -> str:
        # 还利于民, if given, is checked before anything is stored: a bad amount sends nothing.
        entry = data.entry()
        checked = benefits.check(entry, prefix="benefit_") if entry else None
        # The reply's files are stored first; their rows go with the reply or not at all.
        rows = await uploads.rows_of_form(request, await request.form(), account=account,
                                          role=account.role, occasion=Occasion.REPLY)
        async with in_transaction():
            # Straight to the resident, or to the head first where the department asks (审核).
            said = await review.reply(rules_of(request), appeal, actor, data)
            await attachments.insert(rows, appeal.id)
            if checked is not None:
                await benefits.record(appeal, actor, checked)
        return f"{said}；已登记还利于民，待核实" if checked else said

    return await _act(request, account, "reply", ReplyWithEntry, act)


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
    async def act(appeal: Appeal, actor: Actor, data: forms.Route) -> str:
        # The picker sends a department's name (or its code): the service takes the code.
        department = await desk.department_named(data.department)
        await routing.route_manual(rules_of(request), appeal, actor,
                                   data.model_copy(update={"department": department.code}))
        return flash.done("route", data, department.name)

    return await _act(request, account, "route", forms.Route, act)


@staff_route("merge_appeals")
async def merge_appeals(request: Request, account: Account) -> Response:
    """并单: the ticked similar appeals (and any typed numbers) follow this one from now on."""
    async def act(appeal: Appeal, actor: Actor, data: forms.Merge) -> str:
        merged = await merging.merge_numbers(appeal, data.members, actor)
        return f"已将 {len(merged)} 件诉求并入本件，随本件一并办理。"

    def read(form) -> dict:
        ticked = [str(v) for v in form.getlist("members")]
        return {"members": " ".join(v for v in ticked if v)}

    return await _act(request, account, "merge", forms.Merge, act, read=read)


@staff_route("unmerge_appeal")
async def unmerge_appeal(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Unmerge) -> str:
        await merging.unmerge(appeal, actor, data.reason)
        return "已撤销并单，本件恢复单独办理。"

    return await _act(request, account, "unmerge", forms.Unmerge, act)


@staff_route("supervise")
async def supervise(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Supervise) -> None:
        await supervision.issue(rules_of(request), appeal, actor, data)

    return await _act(request, account, "supervise", forms.Supervise, act)


@staff_route("answer_supervision")
async def answer_supervision(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.SupervisionAnswer) -> None:
        order = await supervision.open_order(appeal)
        if order is not None and order.department_id != account.department_id:
            raise HTTPException(404)  # another department's order
        await supervision.answer(appeal, actor, data)

    return await _act(request, account, "answer_supervision", forms.SupervisionAnswer, act)


@staff_route("close_supervision")
async def close_supervision(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.SupervisionClose) -> None:
        await supervision.close(appeal, actor, data)

    return await _act(request, account, "close_supervision", forms.SupervisionClose, act)


@staff_route("reissue_supervision")
async def reissue_supervision(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Supervise) -> None:
        await supervision.reissue(rules_of(request), appeal, actor, data)

    return await _act(request, account, "reissue_supervision", forms.Supervise, act)


@staff_route("remind")
async def remind(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Reminder) -> None:
        await supervision.remind(appeal, actor, data)

    return await _act(request, account, "remind", forms.Reminder, act)


@staff_route("supervision_list")
async def supervision_list(request: Request, account: Account) -> Response:
    """Orders newest first, by state; a handler sees only those of their own department."""
    try:
        chosen = parse_form(forms.SupervisionFilter, dict(request.query_params))
        errors = {}
    except ValidationFailed as exc:
        chosen, errors = forms.SupervisionFilter(), exc.errors
    department = account.department_id if Role(account.role) in DEPARTMENT_ROLES else None
    orders, after = await supervision.listed(chosen, department)
    query = {"status": chosen.status or "", "after": after} if after else None
    return render(request, "supervision_list.html", {
        "orders": orders, "errors": errors, "filters": chosen, "now": datetime.now(UTC),
        "statuses": supervision.LIST_STATUSES,
        "links": {"next": "?" + urlencode(query) if query else None,
                  "first": "?" + urlencode({"status": chosen.status or ""})
                  if chosen.after else None},
    })


routes = [
    Route("/staff", staff_home, name="staff_home"),
    Route("/staff/queue", handler_queue, name="handler_queue"),
    Route("/staff/triage", triage_queue, name="triage_queue"),
    Route("/staff/appeals", inspect_list, name="inspect_list"),
    Route("/staff/audit/exports", export_log, name="export_log"),
    Route("/staff/returns", returns_stats, name="returns_stats"),
    Route("/staff/detectors", detectors_page, name="detectors"),
    Route("/staff/detectors/list", detector_list, name="detector_list"),
    Route("/staff/supervision", supervision_list, name="supervision_list"),
    Route("/staff/appeals/{tracking_number}", appeal_detail, name="appeal_detail"),
    Route("/staff/appeals/{tracking_number}/merge", merge_appeals, methods=["POST"],
          name="merge_appeals"),
    Route("/staff/appeals/{tracking_number}/unmerge", unmerge_appeal, methods=["POST"],
          name="unmerge_appeal"),
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
    Route("/staff/appeals/{tracking_number}/supervise", supervise, methods=["POST"],
          name="supervise"),
    Route("/staff/appeals/{tracking_number}/supervision/answer", answer_supervision,
          methods=["POST"], name="answer_supervision"),
    Route("/staff/appeals/{tracking_number}/supervision/close", close_supervision,
          methods=["POST"], name="close_supervision"),
    Route("/staff/appeals/{tracking_number}/supervision/reissue", reissue_supervision,
          methods=["POST"], name="reissue_supervision"),
    Route("/staff/appeals/{tracking_number}/remind", remind, methods=["POST"], name="remind"),
]
