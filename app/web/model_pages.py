"""/staff/models: the classifier's versions and the log of promotions, rejections and rollbacks,
with their figures on the city's held-out slice (app.services.model_versions). Read-only;
inspectors and administrators (app.web.access)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.models import Account
from app.services import model_versions
from app.web.render import render
from app.web.staff import staff_route


@staff_route("model_versions")
async def models_page(request: Request, account: Account) -> Response:
    versions, events = await model_versions.history()
    return render(request, "models.html", {
        "versions": versions, "events": events, "statuses": model_versions.STATUSES,
        "actions": model_versions.ACTIONS, "share": model_versions.HELD_OUT_SHARE,
    })


routes = [Route("/staff/models", models_page, methods=["GET"], name="model_versions")]
