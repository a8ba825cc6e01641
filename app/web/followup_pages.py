"""回访 pages (/staff/followup): the calls due, and the form a dispatcher fills in after one."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain.masking import mask_phone
from app.domain.outcomes import RATINGS
from app.models import Account, Appeal, AppealEvent
from app.schemas.base import parse_form
from app.schemas.followup import REACHED, SOLVED, Followup
from app.services import followup, reveals
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import access, flash
from app.web.context import rules_of
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import _visible, staff_route

BAD_CURSOR = "翻页参数无效，已回到第一页。"


@staff_route("followup_list")
async def followup_list(request: Request, account: Account) -> Response:
    rules, now = rules_of(request), datetime.now(UTC)
    errors = {}
    try:
        found = await followup.due(rules, now, request.query_params.get("after"))
    except ValueError:
        found, errors = await followup.due(rules, now), {"after": BAD_CURSOR}
    policy = rules.policies.followup
    return render(request, "followup_list.html", {
        "appeals": found.appeals, "total": found.total, "errors": errors,
        "phones": {a.id: mask_phone(a.contact_phone) for a in found.appeals},
        "policy": policy, "share": f"{policy.share:.0%}",
        "links": {"next": "?" + urlencode({"after": found.next_after})
                  if found.next_after else None,
                  "first": "?" if request.query_params.get("after") else None},
    })


async def _call_page(request: Request, appeal: Appeal, refused: dict | None = None,
                     status: int = 200) -> Response:
    await appeal.fetch_related("department")
    calls = await AppealEvent.filter(
        appeal_id=appeal.id, kind__in=["followup", "followup_unsolved"]).order_by("id")
    policy = rules_of(request).policies.followup
    return render(request, "followup_call.html", {
        "appeal": appeal, "phone": mask_phone(appeal.contact_phone), "calls": calls,
        "awaits": followup.awaits_call(appeal),
        "chosen": followup.is_selected(appeal, policy),
        "reopen_used": appeal.followup_reopened, "attempts_left":
        max(policy.attempts - appeal.followup_attempts, 0),
        "reached_choices": REACHED, "solved_choices": SOLVED, "ratings": RATINGS,
        "refused": refused or {},
        "may_reveal": access.may_reveal(request.state.account, appeal)
        and bool(appeal.contact_phone), "reveal_reasons": reveals.REASONS,
    }, status=status)


@staff_route("followup_call")
async def followup_call(request: Request, account: Account) -> Response:
    appeal = await _visible(account, request.path_params["tracking_number"])
    return await _call_page(request, appeal)


@staff_route("record_followup")
async def record_followup(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    typed = {key: str(form.get(key, "")) for key in Followup.model_fields}
    try:
        message = await followup.record(rules_of(request), appeal, Actor.of(account),
                                        parse_form(Followup, form))
    except ValidationFailed as exc:
        return await _call_page(request, appeal, {"errors": exc.errors, "typed": typed}, 400)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        status = 409 if exc.code in ("conflict", "illegal_transition") else 400
        fresh = await Appeal.get(id=appeal.id)
        return await _call_page(request, fresh, {"errors": {exc.field or "_": exc.message},
                                                 "typed": typed}, status)
    return flash.put(request, RedirectResponse("/staff/followup", status_code=303), message)


routes = [
    Route("/staff/followup", followup_list, name="followup_list"),
    Route("/staff/appeals/{tracking_number}/followup", followup_call, methods=["GET"],
          name="followup_call"),
    Route("/staff/appeals/{tracking_number}/followup", record_followup, methods=["POST"],
          name="record_followup"),
]
