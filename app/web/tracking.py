"""A resident's view of one appeal, for the tracking login and for account holders alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.transactions import in_transaction

from app.domain.attachments import Occasion
from app.domain.states import AWAITING_RATING, Event, Status, allowed_events
from app.domain.types import Role
from app.models import Appeal, AppealEvent, AppealReply
from app.schemas import appeals as forms
from app.schemas.base import parse_form
from app.services import attachments, clocks, triage
from app.services.errors import ServiceError, ValidationFailed
from app.web import presenters, uploads
from app.web.context import rules_of
from app.web.render import render


async def appeal_page(request: Request, appeal: Appeal, action_base: str,
                      refused: dict | None = None) -> Response:
    await appeal.fetch_related("department", "category", "region")
    rules = rules_of(request)
    events = await AppealEvent.filter(appeal_id=appeal.id, public=True).order_by("id")
    replies = await AppealReply.filter(appeal_id=appeal.id).order_by("round")
    now = datetime.now(UTC)
    mark = presenters.deadline_mark(rules, appeal.status, appeal.type, appeal.reply_due_at, now)
    rejection = await triage.rejection(appeal) if appeal.status == Status.REJECTED else None
    redo_used = appeal.status in AWAITING_RATING and await clocks.redo_used(appeal)
    may = allowed_events(appeal.status, Role.RESIDENT, redo_used=redo_used)
    rating = None
    days = rules.policies.rating_window_days
    rating_lapsed = Event.RATE_OK in may and clocks.rating_window_over(appeal.replied_at, now,
                                                                        days)
    if Event.RATE_OK in may and not rating_lapsed:
        closes_at = clocks.rating_closes_at(appeal.replied_at, days)
        rating = {"redo": Event.RATE_UNSATISFIED in may,
                  "last_day": presenters.local_date(closes_at - timedelta(seconds=1))}
    return render(request, "track_view.html", {
        "appeal": appeal, "events": events, "mark": mark, "ratings": clocks.RATINGS,
        "action_base": action_base, "tracking_login": action_base == "/track",
        "replies": replies, "rating": rating, "rating_lapsed": rating_lapsed,
        "rejection": rejection,
        # A merged member's question is put to the main's resident (并单).
        "may_supply_info": Event.INFO_SUPPLIED in may and appeal.merged_into_id is None,
        "merged": appeal.merged_into_id is not None,
        "attachment_list": await uploads.listing(appeal, action_base, resident=True),
        "upload_policy": uploads.policy_of(request),
        "refused": refused or {},
    }, status=400 if refused else 200)


async def act_or_refuse(request: Request, appeal: Appeal, action_base: str, posted: str,
                        typed: dict[str, str], act: Callable[[], Awaitable[object]]) -> Response:
    """Do the resident's action; a refusal about a field comes back on the appeal's page
    beside the form `posted`, with what was typed kept."""
    try:
        await act()
    except ServiceError as exc:
        if exc.field is None or exc.code != "invalid":
            raise
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field: exc.message}
        return await appeal_page(request, await Appeal.get(id=appeal.id), action_base,
                                 {"form": posted, "errors": errors, "typed": typed})
    return RedirectResponse(f"{action_base}/appeal" if action_base == "/track" else action_base,
                            status_code=303)


async def supply_info(request: Request, appeal: Appeal, action_base: str, form) -> Response:
    """The resident's answer to a department's question, from either way of tracking, with
    its files: the answer and the files' rows are written together or not at all."""
    async def act() -> None:
        errors: dict[str, str] = {}
        try:
            info = parse_form(forms.InfoSupplied, {"text": form.get("info", "")})
        except ValidationFailed as exc:
            errors.update(exc.errors)
        files = await uploads.checked(request, form, errors)
        if errors:
            raise ValidationFailed(errors)
        rows = await uploads.stored_rows(request, files, account=appeal_resident(request),
                                         role=Role.RESIDENT, occasion=Occasion.INFO)
        async with in_transaction():
            await clocks.supply_info(rules_of(request), appeal, info)
            await attachments.insert(rows, appeal.id)

    typed = {"info": str(form.get("info", ""))}
    return await act_or_refuse(request, appeal, action_base, "info", typed, act)


def appeal_resident(request: Request):
    """The resident account acting, if they came through their account (not a tracking
    login): app.web.residents.current_resident has put it on the request."""
    account = getattr(request.state, "account", None)
    return account if account is not None and account.role == Role.RESIDENT else None


async def rate(request: Request, appeal: Appeal, action_base: str, form) -> Response:
    async def act() -> None:
        rating = parse_form(forms.Rating, form)
        await clocks.rate(rules_of(request), appeal, rating)

    typed = {key: str(form.get(key, "")) for key in ("rating", "reason")}
    return await act_or_refuse(request, appeal, action_base, "rating", typed, act)
