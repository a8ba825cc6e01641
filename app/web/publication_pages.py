"""Published replies (app.services.publication): the approvers' queue and page for
dispatchers and inspectors, and the resident's withdrawal of consent (tracking login and
account alike)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain import redaction
from app.domain.masking import mask_free_text
from app.models import Account, Appeal
from app.services import accounts, publication
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor
from app.web import flash, tracking
from app.web.render import render
from app.web.residents import _own
from app.web.security import checked_form
from app.web.staff import _visible, staff_route

BAD_CURSOR = "翻页参数无效，已回到第一页。"
TRACK_COOKIE = "ms_track"  # app.web.public's tracking session
WITHDRAWN = "已撤回公开同意，该诉求不会公开"
WITHDRAWN_AND_DOWN = "已撤回公开同意，已公开的答复已撤下"


@staff_route("publication_queue")
async def publication_queue(request: Request, account: Account) -> Response:
    errors = {}
    try:
        found = await publication.queue(request.query_params.get("after"))
    except ValueError:
        found, errors = await publication.queue(), {"after": BAD_CURSOR}
    return render(request, "publication_queue.html", {
        "items": found.items, "total": found.total, "errors": errors,
        "updated_flag": publication.UPDATED_FLAG,
        "links": {"next": "?" + urlencode({"after": found.next_after})
                  if found.next_after else None,
                  "first": "?" if request.query_params.get("after") else None},
    })


def _masked(piece: str, kind: str | None) -> str:
    """A piece of the original as staff see it: masked, also where only redaction finds a
    number (1 3 8 …, 一三八…): its first three and last four characters kept."""
    shown = mask_free_text(piece)
    if kind in redaction.MUST_NOT_REMAIN and kind != "plate" and shown == piece \
            and len(piece) > 7:
        return f"{piece[:3]}****{piece[-4:]}"
    return shown


def _pieces(text: str, known: set[str]) -> list[tuple[str, str | None, str]]:
    """The original as staff see it (masked), each redacted piece with its kind's label."""
    return [(_masked(piece, kind), kind, redaction.KIND_LABELS.get(kind or "", ""))
            for piece, kind in redaction.pieces(text, known)]


async def _page(request: Request, appeal: Appeal, refused: dict | None = None,
                status: int = 200) -> Response:
    await appeal.fetch_related("department")
    made = publication.draft(appeal)
    known = publication.known_names(appeal)
    typed = (refused or {}).get("typed") or {}
    return render(request, "publication_page.html", {
        "appeal": appeal, "refused": refused or {},
        "cannot": publication.refusal(appeal),
        "published": await publication.publication_of(appeal),
        "original": {"title": _pieces(appeal.title, known),
                     "question": _pieces(appeal.body, known),
                     "reply": _pieces(appeal.reply_text, known)},
        "draft": {key: typed.get(key, getattr(made, key)) for key in publication.FIELDS},
        "counts": {key: len(spans) for key, spans in made.spans.items()},
        "fields": publication.FIELDS, "marks": redaction.MARKS,
        "kind_labels": redaction.KIND_LABELS, "title_max": publication.TITLE_MAX,
        "reason_max": publication.REASON_MAX,
    }, status=status)


@staff_route("publication_page")
async def publication_page(request: Request, account: Account) -> Response:
    appeal = await _visible(account, request.path_params["tracking_number"])
    return await _page(request, appeal)


async def _refused(request: Request, appeal: Appeal, form: str, exc: ServiceError,
                   typed: dict) -> Response:
    if exc.code == "not_found":
        raise exc
    errors = exc.errors if isinstance(exc, ValidationFailed) else {"_": exc.message}
    status = 409 if exc.code in ("conflict", "illegal_transition") else 400
    fresh = await Appeal.get(id=appeal.id)
    return await _page(request, fresh, {"form": form, "errors": errors, "typed": typed},
                       status)


def _seen(text: str) -> datetime | None:
    """The reply's time the approver's page showed (None: not said, or not a time)."""
    try:
        seen = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return seen if seen is None or seen.tzinfo is not None else None


@staff_route("publication_approve")
async def publication_approve(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    typed = {key: str(form.get(key, "")) for key in publication.FIELDS}
    try:
        await publication.approve(appeal, Actor.of(account), **typed,
                                  seen_replied_at=_seen(str(form.get("replied_at", ""))))
    except ServiceError as exc:
        return await _refused(request, appeal, "approve", exc, typed)
    target = RedirectResponse(f"/staff/publication/{appeal.tracking_number}", status_code=303)
    return flash.put(request, target, "已公开发布")


@staff_route("publication_unpublish")
async def publication_unpublish(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    appeal = await _visible(account, request.path_params["tracking_number"])
    typed = {"reason": str(form.get("reason", ""))}
    try:
        await publication.unpublish(appeal, Actor.of(account), typed["reason"])
    except ServiceError as exc:
        return await _refused(request, appeal, "unpublish", exc, typed)
    target = RedirectResponse(f"/staff/publication/{appeal.tracking_number}", status_code=303)
    return flash.put(request, target, "已撤下公开答复")


# --- the resident ---------------------------------------------------------------------------

async def _withdraw(request: Request, appeal: Appeal, action_base: str) -> Response:
    async def act() -> None:
        await publication.withdraw_consent(appeal)

    return await tracking.act_or_refuse(request, appeal, action_base, "consent", {}, act)


async def track_withdraw(request: Request) -> Response:
    await checked_form(request)
    session = await accounts.load_session(request.cookies.get(TRACK_COOKIE))
    if session is None or session.appeal is None:
        return RedirectResponse("/track", status_code=303)
    return await _withdraw(request, session.appeal, "/track")


async def account_withdraw(request: Request) -> Response:
    await checked_form(request)
    appeal = await _own(request)
    return await _withdraw(request, appeal, f"/account/appeals/{appeal.tracking_number}")


routes = [
    Route("/staff/publication", publication_queue, methods=["GET"], name="publication_queue"),
    Route("/staff/publication/{tracking_number}", publication_page, methods=["GET"],
          name="publication_page"),
    Route("/staff/publication/{tracking_number}/approve", publication_approve,
          methods=["POST"], name="publication_approve"),
    Route("/staff/publication/{tracking_number}/unpublish", publication_unpublish,
          methods=["POST"], name="publication_unpublish"),
    Route("/track/consent-withdrawal", track_withdraw, methods=["POST"],
          name="track_consent_withdrawal"),
    Route("/account/appeals/{tracking_number}/consent-withdrawal", account_withdraw,
          methods=["POST"], name="account_consent_withdrawal"),
]
