"""Rendering a page: templates, the CSRF cookie, security headers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from app.domain.masking import mask_free_text
from app.schemas import limits
from app.web import presenters
from app.web.context import settings_of
from app.web.security import CSRF_COOKIE, csrf_token

TEMPLATES = Path(__file__).parent / "templates"
# auto_reload off: templates ship with the code, and checking their mtime on every render
# cost a stat() per template per request.
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  auto_reload=False)
env.filters.update(
    local_time=presenters.local_time,
    local_date=presenters.local_date,
    status_label=presenters.status_label,
    type_label=presenters.type_label,
    event_label=presenters.event_label,
    # Staff pages: phones, mail addresses and ID numbers in what people wrote, masked.
    masked=mask_free_text,
)
env.globals["limits"] = limits  # one set of limits for the models and the forms' maxlength

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def secure_cookies(request: Request) -> bool:
    return settings_of(request).base_url.startswith("https://")


def render(request: Request, name: str, context: dict | None = None,
           status: int = 200) -> HTMLResponse:
    token = csrf_token(request)
    ctx = {
        "request": request,
        "csrf_token": token,
        "account": getattr(request.state, "account", None),
        "now": datetime.now(UTC),
        **(context or {}),
    }
    response = HTMLResponse(env.get_template(name).render(ctx), status_code=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies(request))
    return response


def session_redirect(request: Request, cookie: str, token: str, target: str) -> RedirectResponse:
    """After a login: the session cookie, and on to `target`."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie, token, httponly=True, samesite="lax",
                        secure=secure_cookies(request))
    return response
