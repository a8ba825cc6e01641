"""A resident's view of one appeal, for the tracking login and for account holders alike."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from app.models import Appeal, AppealEvent
from app.services import clocks
from app.web import presenters
from app.web.render import render


async def appeal_page(request: Request, appeal: Appeal, action_base: str) -> Response:
    await appeal.fetch_related("department", "category", "region")
    events = await AppealEvent.filter(appeal_id=appeal.id, public=True).order_by("id")
    mark = presenters.deadline_mark(request.app.state.rules, appeal.status, appeal.type,
                                    appeal.reply_due_at, datetime.now(UTC))
    return render(request, "track_view.html", {
        "appeal": appeal, "events": events, "mark": mark, "ratings": clocks.RATINGS,
        "action_base": action_base, "tracking_login": action_base == "/track",
    })
