"""Revealing one masked value of an appeal (POST, with a reason), and the inspectors' list
of every reveal (/staff/reveals). The value is on the answering page only, never stored."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.models import Account, Appeal
from app.services import reveals
from app.services.errors import ServiceError, ValidationFailed
from app.web import access
from app.web.context import rules_of
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import _detail_page, _visible, staff_route

# Where the form was sent from, and so where the answer leads back to.
BACK = {"detail": "", "followup": "/followup"}


@staff_route("reveal")
async def reveal(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    if not access.may_reveal(account, appeal):
        raise HTTPException(404)
    back = str(form.get("back", "detail"))
    back = back if back in BACK else "detail"
    typed = {key: str(form.get(key, "")) for key in ("choice", "reason", "reason_text")}
    try:
        reason = reveals.reason_of(typed["reason"], typed["reason_text"])
        shown = await reveals.reveal(appeal, account, typed["choice"], reason,
                                     contact=access.sees_contact(account, appeal),
                                     limit=rules_of(request).detectors.reveal_daily_limit)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"_": exc.message}
        page = await _detail_page(request, account, await Appeal.get(id=appeal.id),
                                  {"form": "reveal", "errors": errors, "typed": typed})
        page.status_code = 429 if exc.code == "limit" else 400
        return page
    response = render(request, "reveal_shown.html", {
        "shown": shown, "back": f"/staff/appeals/{appeal.tracking_number}{BACK[back]}"})
    response.headers["Pragma"] = "no-cache"
    return response


@staff_route("reveal_log")
async def reveal_log(request: Request, account: Account) -> Response:
    chosen, errors = await reveals.parse_filter(request.query_params)
    rows, after, counts = [], None, []
    if "staff" not in errors:  # an unknown name lists nobody rather than everybody
        rows, after = await reveals.listed(chosen)
        counts = await reveals.per_person(chosen)
    params = chosen.params()
    return render(request, "reveal_log.html", {
        "counts": counts, "errors": errors,
        "rows": [{"at": r.at, "actor": r.actor_label, "number": r.appeal.tracking_number,
                  "where": f"{reveals.place_name(r.place)} 第 {r.position + 1} 处",
                  "kind": reveals.KIND_NAMES.get(r.kind, r.kind), "reason": r.reason}
                 for r in rows],
        "typed": {k: request.query_params.get(k, "") for k in ("staff", "from", "to")},
        "links": {"next": "?" + urlencode({**params, "after": after}) if after else None,
                  "first": "?" + urlencode(params) if chosen.after else None},
    })


routes = [
    Route("/staff/appeals/{tracking_number}/reveal", reveal, methods=["POST"], name="reveal"),
    Route("/staff/reveals", reveal_log, name="reveal_log"),
]
