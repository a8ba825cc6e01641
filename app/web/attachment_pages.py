"""Downloading attachments, for whoever may see the appeal (else 404), with headers that
keep a browser from running anything; and the cap on a multipart body's size."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.domain.attachments import MB
from app.models import Account, Appeal
from app.services import accounts
from app.services import attachments as service
from app.web import residents, uploads
from app.web.api import error_response
from app.web.public import TRACK_COOKIE
from app.web.render import render
from app.web.staff import _visible, staff_route
from app.web.uploads import policy_of


async def _serve(request: Request, appeal: Appeal, *, resident: bool = False) -> Response:
    found = await service.one_of(appeal, request.path_params["attachment_id"])
    if found is None or (resident and not service.resident_sees(found, appeal)):
        raise HTTPException(404)
    return uploads.file_response(request, found)


@staff_route("attachment")
async def staff_attachment(request: Request, account: Account) -> Response:
    appeal = await _visible(account, request.path_params["tracking_number"])
    return await _serve(request, appeal)


async def tracked_attachment(request: Request) -> Response:
    """The tracking login's own appeal only; any other number or id is a 404."""
    session = await accounts.load_session(request.cookies.get(TRACK_COOKIE))
    if session is None or session.appeal is None:
        raise HTTPException(404)
    return await _serve(request, session.appeal, resident=True)


async def own_attachment(request: Request) -> Response:
    return await _serve(request, await residents._own(request), resident=True)


class BodyLimit:
    """A multipart body larger than the attachments allow is refused before it is read:
    by its Content-Length (a browser always sends one for a form), or once more bytes
    than that limit have arrived."""

    def __init__(self, app: ASGIApp, limit: int | None = None) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        limit = self.limit or policy_of(HTTPConnection(scope)).body_limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, receive, send, limit)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)


def _is_multipart(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.lower().startswith(b"multipart/")


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    message = f"提交的内容过大（上限 {limit // MB} MB），请减少附件后重试。"
    if scope["path"].startswith("/api/"):
        response: Response = error_response(413, "too_large", message)
    else:
        response = render(Request(scope, receive), "error.html", {"message": message},
                          status=413)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


routes = [
    Route("/staff/appeals/{tracking_number}/attachments/{attachment_id:int}", staff_attachment,
          methods=["GET"], name="attachment"),
    Route("/track/attachments/{attachment_id:int}", tracked_attachment, methods=["GET"],
          name="track_attachment"),
    Route("/account/appeals/{tracking_number}/attachments/{attachment_id:int}", own_attachment,
          methods=["GET"], name="own_attachment"),
]
