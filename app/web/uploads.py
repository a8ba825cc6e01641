"""Reading the files of a web form or an API request: the attachments' policy and store of
this app, and the rows for what was stored."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.domain.attachments import EXTENSIONS, IMAGES, OCCASION_LABELS, Kind, Occasion, Policy
from app.models import Account, Attachment
from app.services import attachments
from app.services.errors import ValidationFailed
from app.web.context import settings_of


def closes_form(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A handler that reads a multipart form: the form's spooled files are closed after it,
    whatever happened (Starlette leaves that to the handler)."""
    @functools.wraps(handler)
    async def wrapped(request, *args, **kwargs) -> Response:
        try:
            return await handler(request, *args, **kwargs)
        finally:
            await request.close()

    return wrapped


def policy_of(request: HTTPConnection) -> Policy:
    return settings_of(request).attachments


def store_of(request: HTTPConnection) -> attachments.Store:
    return attachments.Store.of(settings_of(request))


async def checked(request: HTTPConnection, form, errors: dict[str, str]
                  ) -> list[attachments.Cleaned]:
    """The form's files checked and cleaned; a refusal is added to `errors` (the form's
    other fields' refusals), so that the page says everything at once."""
    try:
        return await attachments.prepare(form, policy_of(request))
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return []


async def stored_rows(request: HTTPConnection, files: list[attachments.Cleaned], *,
                      account: Account | None, role: str, occasion: Occasion
                      ) -> list[Attachment]:
    """Write the files to the store, and the unsaved rows that will point at them (the
    caller writes them in the transaction of its action)."""
    await store_of(request).put_all(files)
    return attachments.rows(files, account=account, role=role, occasion=occasion)


async def rows_of_form(request: HTTPConnection, form, *, account: Account | None, role: str,
                       occasion: Occasion) -> list[Attachment]:
    """Checked, cleaned and stored in one go; AttachmentsRefused if any file is refused."""
    files = await attachments.prepare(form, policy_of(request))
    return await stored_rows(request, files, account=account, role=role, occasion=occasion)


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


async def listing(appeal, base: str, *, resident: bool = False) -> list[dict]:
    """The appeal's attachments as its pages list them (`resident`: those the resident may
    see): `base` is where the page's own download route starts (/staff/appeals/<n>, /track,
    /account/appeals/<n>)."""
    return [{"id": a.id, "name": a.name, "url": f"{base}/attachments/{a.id}",
             "what": OCCASION_LABELS.get(Occasion(a.occasion), ""),
             "resident": a.role == "resident", "size": _size(a.size),
             "type": a.content_type, "at": a.created_at}
            for a in await attachments.of_appeal(appeal, resident=resident)]


# The file is data, never a page: no script, no plugin, no frame, its own sandbox.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


def content_disposition(name: str, kind: Kind) -> str:
    """Pictures may open in the browser; anything else is only ever downloaded."""
    how = "inline" if kind in IMAGES else "attachment"
    fallback = "attachment" + EXTENSIONS[kind]
    return f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(request: HTTPConnection, found: Attachment) -> Response:
    """The stored file, as its stored type, for someone already known to may see it."""
    try:
        data = store_of(request).read(found.sha256)
    except (OSError, ValueError):
        raise HTTPException(404) from None
    kind = Kind(found.content_type)
    return Response(data, media_type=kind.value, headers={
        **FILE_HEADERS, "Content-Disposition": content_disposition(found.name, kind)})
