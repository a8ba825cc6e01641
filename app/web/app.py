"""The Starlette application: settings, rules, routes and error pages."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import db
from app.notify import notices
from app.rules import Rules
from app.services import predictor, scorecards
from app.services.errors import ServiceError
from app.services.model_versions import model_root
from app.services.throttle import LoginLocked
from app.settings import Settings
from app.web import (
    admin,
    admin_api_clients,
    admin_reference,
    api,
    attachment_pages,
    benefit_pages,
    desk,
    followup_pages,
    hotspot_pages,
    model_pages,
    open311,
    public,
    public_pages,
    publication_pages,
    reply_pages,
    report_pages,
    residents,
    reveal_pages,
    search_pages,
    staff,
    stats_pages,
)
from app.web.accesslog import AccessLog
from app.web.context import keep_in_app
from app.web.render import render
from app.web.security import CsrfFailed, RateLimited, RateLimiter
from app.worker import BackgroundWorker, periodic_jobs

log = logging.getLogger("minsheng.web")
STATIC = Path(__file__).parent / "static"
CRASH_MESSAGE = "系统出现错误，请稍后再试。"


async def _not_found(request: Request, exc: Exception) -> Response:
    if api.is_api(request):
        return api.http_error_response(exc)
    if open311.is_open311(request):
        return open311.http_error(request, exc)
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = "页面不存在，或您无权查看。" if status == 404 else "请求无法处理。"
    if status == 405:
        message = "不支持此操作方式。"
    return render(request, "error.html", {"message": message}, status=status)


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    return render(request, "error.html",
                  {"message": "页面已过期或来源不明，请返回刷新页面后重新提交。"}, status=403)


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    if api.is_api(request):
        return api.rate_limited_response(exc.retry_after)
    return _too_many(request, f"操作过于频繁，请 {exc.retry_after} 秒后再试。", exc.retry_after)


async def _login_locked(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginLocked)
    return _too_many(request, f"登录失败次数过多，请 {exc.retry_after} 秒后再试。",
                     exc.retry_after)


def _too_many(request: Request, message: str, retry_after: int) -> Response:
    response = render(request, "error.html", {"message": message}, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if api.is_api(request):
        return api.service_error_response(exc)
    status = {"not_found": 404, "conflict": 409, "illegal_transition": 409}.get(exc.code, 400)
    return render(request, "error.html", {"message": exc.message}, status=status)


def _crash_page(request: Request) -> Response:
    if api.is_api(request):
        return api.crash_response()
    if open311.is_open311(request):
        return open311.crash(request)
    try:
        return render(request, "error.html", {"message": CRASH_MESSAGE}, status=500)
    except Exception:  # noqa: BLE001 - the page itself failed: a plain answer will do
        return PlainTextResponse(CRASH_MESSAGE, status_code=500)


def _route_of(scope: Scope) -> str:
    """The matched route's template (/track/appeal, /api/v1/appeals/{tracking_number}):
    never the path as sent, which can carry whatever a visitor typed."""
    return getattr(scope.get("route"), "path", None) or "(no route)"


class _Crash:
    """The last word on an unexpected error, inside the access log.

    One log line with the error's type and route: never its message or traceback, which
    can carry a resident's data. Our 500 page with `Connection: close`, so a keep-alive
    client is told to reconnect rather than finding the connection dropped under its next
    request. Nothing is re-raised (Starlette's own error middleware would re-raise it, and
    the server would log the traceback). If the response had already started, it is left
    unfinished and the server closes the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - this is the place that answers them all
            log.error("unhandled %s on %s %s", type(exc).__name__, scope["method"],
                      _route_of(scope))
            if started:
                return
            response = _crash_page(Request(scope))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)


# The public pages (/public …) allow this many times MINSHENG_RATE_LIMIT per address.
PUBLIC_RATE_SCALE = 4


def create_app(settings: Settings, rules: Rules, *, manage_db: bool = True) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if manage_db:
            await db.connect(settings.database_url)
            # The model folder is watched even before a first promotion (model_versions).
            await predictor.start(model_root(settings.model_dir, settings.var_dir),
                                  settings.var_dir / "seed-model",
                                  settings.classifier_processes)
        # What is loaded by now (the model, jieba's dictionary, routes, ORM metadata) lives as
        # long as the process: keep it out of the collector's full passes, which otherwise
        # walk it all and stall every request in flight.
        # The database's rules, not the files', from the start; then a check every few
        # seconds, so an edit made through another process reaches this one.
        live = app.state.live_rules
        await live.refresh()
        stop_checking = asyncio.Event()
        checking = asyncio.create_task(live.keep_fresh(stop_checking,
                                                       app.state.rules_check_seconds))
        gc.freeze()
        worker = None
        if settings.inprocess_worker:
            worker = BackgroundWorker(settings, periodic_jobs(settings, live))
            worker.start()
        try:
            yield
        finally:
            stop_checking.set()
            await checking
            if worker is not None:
                await worker.stop()
            if manage_db:
                await predictor.stop()
                await db.disconnect()

    app = Starlette(
        routes=[*public.routes, *public_pages.routes,
                *residents.routes, *staff.routes, *stats_pages.routes,
                *report_pages.routes, *admin.routes, *admin_reference.routes,
                *admin_api_clients.routes,
                *desk.routes, *followup_pages.routes, *reveal_pages.routes, *search_pages.routes,
                *attachment_pages.routes, *reply_pages.routes, *benefit_pages.routes,
                *publication_pages.routes, *model_pages.routes, *hotspot_pages.routes,
                *api.routes, *open311.routes,
                Mount("/static", StaticFiles(directory=STATIC), name="static")],
        exception_handlers={
            404: _not_found,
            405: _not_found,
            HTTPException: _not_found,
            CsrfFailed: _csrf_failed,
            RateLimited: _rate_limited,
            LoginLocked: _login_locked,
            ServiceError: _service_error,
        },
        lifespan=lifespan,
        middleware=[Middleware(AccessLog), Middleware(_Crash),
                    Middleware(attachment_pages.BodyLimit)],
    )
    keep_in_app(app, settings, rules)
    app.state.limiter = RateLimiter(settings.rate_limit, scale={"public": PUBLIC_RATE_SCALE})
    app.state.scorecards = scorecards.Cache()
    notices.configure(settings.base_url)
    return app
