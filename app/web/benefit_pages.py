"""还利于民 pages: an entry added on a replied appeal, the inspectors' list where entries are
verified (核实) or rejected, and the public totals (/public/benefits). Permissions:
app.web.access; the reply form's own entry is app.web.staff.reply's."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.models import Account, Appeal
from app.schemas import benefits as forms
from app.schemas.base import parse_form
from app.services import benefits
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import flash
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import _act, staff_route

RECORDED = "已登记还利于民，待纪检/效能监察核实"
VERIFIED = "已核实该条还利于民记录"
REJECTED = "已驳回该条还利于民记录"
STATUS_ERROR = "状态筛选无效，已显示待核实的记录。"


@staff_route("record_benefit")
async def record_benefit(request: Request, account: Account) -> Response:
    async def act(appeal: Appeal, actor: Actor, data: forms.Entry) -> str:
        await benefits.record(appeal, actor, data)
        return RECORDED

    return await _act(request, account, "benefit", forms.Entry, act)


def _status_of(request: Request) -> tuple[str, dict[str, str]]:
    status = request.query_params.get("status", benefits.PENDING)
    if status == "all":
        return "", {}
    if status not in benefits.STATUSES:
        return benefits.PENDING, {"status": STATUS_ERROR}
    return status, {}


async def _list_page(request: Request, refused: dict | None = None,
                     status_code: int = 200) -> Response:
    status, errors = _status_of(request)
    after = request.query_params.get("after", "")
    try:
        found = await benefits.listed(status, after)
    except ServiceError as exc:
        errors["after"] = "翻页位置无效，已回到第一页。" if exc.field == "entry" else exc.message
        after, found = "", await benefits.listed(status, "")
    chosen = status or "all"
    return render(request, "staff_benefits.html", {
        "found": found, "status": chosen, "errors": errors, "refused": refused or {},
        "statuses": benefits.STATUSES, "kinds": benefits.KINDS, "yuan": benefits.yuan,
        "query": urlencode({"status": chosen, **({"after": after} if after else {})}),
        "links": {"next": "?" + urlencode({"status": chosen, "after": found.next_after})
                  if found.next_after else None,
                  "first": "?" + urlencode({"status": chosen}) if after else None},
    }, status=status_code)


@staff_route("benefits_list")
async def benefits_list(request: Request, account: Account) -> Response:
    """Entries by status (pending first of all: what waits for a decision), oldest first."""
    return await _list_page(request)


@staff_route("decide_benefit")
async def decide_benefit(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    try:
        data = parse_form(forms.Decision, form)
        entry = await benefits.entry_numbered(data.entry)
        if data.decision == "verify":
            await benefits.verify(entry, Actor.of(account), data.note)
            said = VERIFIED
        elif data.decision == "reject":
            await benefits.reject(entry, Actor.of(account), data.note)
            said = REJECTED
        else:
            raise ServiceError("请选择核实或驳回。", "decision")
    except ServiceError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) \
            else {exc.field or "_": exc.message}
        return await _list_page(request, {
            "entry": str(form.get("entry", "")), "errors": errors,
            "typed": {"note": str(form.get("note", ""))}}, 409 if exc.code == "decided" else 400)
    back = request.query_params.get("back", "")
    target = "/staff/benefits" + (f"?{back}" if back.startswith("status=") else "")
    return flash.put(request, RedirectResponse(target, status_code=303), said)


def _year_of(request: Request) -> tuple[int | None, str]:
    raw = request.query_params.get("year", "").strip()
    if not raw:
        return None, ""
    if raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2100:
        return int(raw), ""
    return None, "年份无效，已显示全部年份。"


async def public_benefits(request: Request) -> Response:
    """Verified totals only: by year, and by department and region (of a year, or all)."""
    year, error = _year_of(request)
    totals = await benefits.public_totals(year)
    return render(request, "public_benefits.html", {
        "totals": totals, "error": error, "kinds": benefits.KINDS})


routes = [
    Route("/staff/appeals/{tracking_number}/benefits", record_benefit, methods=["POST"],
          name="record_benefit"),
    Route("/staff/benefits", benefits_list, methods=["GET"], name="benefits_list"),
    Route("/staff/benefits/decision", decide_benefit, methods=["POST"], name="decide_benefit"),
    Route("/public/benefits", public_benefits, methods=["GET"], name="public_benefits"),
]
