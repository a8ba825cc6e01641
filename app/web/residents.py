"""Pages for residents with an account: register, verify, log in, my appeals, resets."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain.types import Role
from app.models import Account, Appeal
from app.schemas import accounts as forms
from app.schemas.base import InputError, parse_form
from app.services import accounts, lists, residents
from app.web import access, tracking, uploads
from app.web.context import settings_of
from app.web.render import render, session_redirect
from app.web.security import SESSION_COOKIE, checked_form, client_address
from app.web.tracking import appeal_page

SENT = "如果信息无误，我们已向该邮箱发送邮件，请在有效期内打开邮件中的链接。"


def _invalid(request: Request, message: str) -> Response:
    return render(request, "message.html", {"title": "链接无效", "message": message},
                  status=400)


async def current_resident(request: Request) -> Account | None:
    session = await accounts.load_session(request.cookies.get(SESSION_COOKIE))
    if session is None or session.account is None or session.account.role != Role.RESIDENT:
        return None
    request.state.account = session.account
    return session.account


async def register_form(request: Request) -> Response:
    return render(request, "account_register.html", {"values": {}, "errors": {}})


async def register(request: Request) -> Response:
    request.app.state.limiter.check("register", client_address(request))
    form = await checked_form(request)
    values = {k: str(form.get(k, "")) for k in ("email", "phone", "name")}
    try:
        data = parse_form(forms.Register, form)
        await residents.register(data)
    except InputError as exc:
        return render(request, "account_register.html", {"values": values,
                                                          "errors": exc.errors}, status=400)
    return render(request, "message.html", {"title": "请查收邮件", "message": SENT})


async def verify_form(request: Request) -> Response:
    # A GET never spends the token: mail scanners open links too.
    return render(request, "token_confirm.html", {
        "title": "激活账号", "action": "/account/verify", "button": "激活我的账号",
        "token": request.query_params.get("token", ""), "password": False})


async def verify(request: Request) -> Response:
    token = _token(await checked_form(request))
    account = await residents.verify(token) if token else None
    if account is None:
        return _invalid(request, "链接已失效或已使用，请重新注册或找回密码。")
    return render(request, "message.html", {"title": "账号已激活",
                                            "message": "您的账号已激活，现在可以登录了。"})


async def login_form(request: Request) -> Response:
    return render(request, "account_login.html", {"error": ""})


async def login(request: Request) -> Response:
    request.app.state.limiter.check("login", client_address(request))
    form = await checked_form(request)
    try:
        login = parse_form(forms.ResidentLogin, form)
    except InputError:  # refused like wrong credentials: nothing more is said
        login = None
    account = login and await accounts.authenticate_throttled(login.email.lower(),
                                                              login.password)
    if account is None or account.role != Role.RESIDENT:
        return render(request, "account_login.html",
                      {"error": "邮箱或密码不正确，或账号尚未激活。"}, status=400)
    token = await accounts.open_session(account=account)
    return session_redirect(request, SESSION_COOKIE, token, "/account/appeals")


async def my_appeals(request: Request) -> Response:
    account = await current_resident(request)
    if account is None:
        return RedirectResponse("/account/login", status_code=303)
    found = await lists.listing(request.query_params, lists.own(account.id), lists.NEWEST_FIRST,
                                now=datetime.now(UTC), allowed=(), related=("department",))
    return render(request, "account_appeals.html", {
        "appeals": found.page.appeals, "links": found.links, "errors": found.errors})


async def _own(request: Request) -> Appeal:
    account = await current_resident(request)
    appeal = await access.appeal_numbered(request.path_params["tracking_number"])
    if account is None or appeal is None or appeal.resident_id != account.id:
        raise HTTPException(404)
    return appeal


async def my_appeal(request: Request) -> Response:
    appeal = await _own(request)
    return await appeal_page(request, appeal, f"/account/appeals/{appeal.tracking_number}")


@uploads.closes_form
async def my_info(request: Request) -> Response:
    form = await checked_form(request)
    appeal = await _own(request)
    return await tracking.supply_info(request, appeal, _page(appeal), form)


async def my_rating(request: Request) -> Response:
    form = await checked_form(request)
    appeal = await _own(request)
    return await tracking.rate(request, appeal, _page(appeal), form)


def _page(appeal: Appeal) -> str:
    return f"/account/appeals/{appeal.tracking_number}"


async def reset_form(request: Request) -> Response:
    return render(request, "reset_request.html", {"action": "/account/reset",
                                                  "tracking": False})


async def reset(request: Request) -> Response:
    request.app.state.limiter.check("reset", client_address(request))
    form = await checked_form(request)
    try:
        await residents.request_reset(parse_form(forms.ResetRequest, form))
    except InputError:
        pass  # the same answer for an address that cannot be anyone's
    return render(request, "message.html", {"title": "请查收邮件", "message": SENT})


def _token(form) -> forms.Token | None:
    """A mailed link's token; None for one that cannot be ours (it reads as spent)."""
    try:
        return parse_form(forms.Token, form)
    except InputError:
        return None


def _reset_confirm_page(token: str) -> dict:
    return {"title": "设置新密码", "action": "/account/reset/confirm", "button": "保存新密码",
            "token": token, "password": True}


async def reset_confirm_form(request: Request) -> Response:
    return render(request, "token_confirm.html",
                  _reset_confirm_page(request.query_params.get("token", "")))


async def reset_confirm(request: Request) -> Response:
    form = await checked_form(request)
    token = _token(form)
    typed = token.token if token else ""
    try:
        data = parse_form(forms.NewPasswordForm, {"token": typed,
                                                  "password": form.get("password", "")})
    except InputError as exc:
        return render(request, "token_confirm.html", {
            **_reset_confirm_page(typed), "errors": exc.errors}, status=400)
    done = await residents.reset_password(data)
    if not done:
        return _invalid(request, "链接已失效或已使用，请重新找回密码。")
    return render(request, "message.html", {"title": "密码已更新", "message": "请用新密码登录。"})


async def _logged_in(request: Request) -> Account | None:
    """Any account's own session (residents and staff alike)."""
    session = await accounts.load_session(request.cookies.get(SESSION_COOKIE))
    if session is None or session.account is None:
        return None
    request.state.account = session.account
    return session.account


async def password_form(request: Request) -> Response:
    if await _logged_in(request) is None:
        return RedirectResponse("/account/login", status_code=303)
    return render(request, "account_password.html", {"errors": {}})


async def change_password(request: Request) -> Response:
    """The current password is checked behind the login back-off like any other door; the
    new one ends every other session of the account."""
    form = await checked_form(request)
    account = await _logged_in(request)
    if account is None:
        return RedirectResponse("/account/login", status_code=303)
    try:
        data = parse_form(forms.PasswordChange, form)
    except InputError as exc:
        return render(request, "account_password.html", {"errors": exc.errors}, status=400)
    if await accounts.authenticate_throttled(account.username, data.current) is None:
        return render(request, "account_password.html",
                      {"errors": {"current": "当前密码不正确。"}}, status=400)
    refusal = accounts.password_refusal(data.password, current=data.current,
                                        dev_mode=settings_of(request).dev_mode)
    if refusal is not None:
        return render(request, "account_password.html",
                      {"errors": {"password": refusal}}, status=400)
    await accounts.set_password(account, data.password,
                                keep=request.cookies.get(SESSION_COOKIE))
    return render(request, "message.html", {
        "title": "密码已修改", "message": "新密码已生效，其他设备上的登录已全部退出。"})


async def tracking_reset_form(request: Request) -> Response:
    return render(request, "reset_request.html", {"action": "/track/reset", "tracking": True})


async def tracking_reset(request: Request) -> Response:
    request.app.state.limiter.check("reset", client_address(request))
    form = await checked_form(request)
    try:
        data = parse_form(forms.TrackingResetRequest, form)
        await residents.request_tracking_reset(data)
    except InputError:
        pass  # the same answer whatever was typed
    return render(request, "message.html", {"title": "请查收邮件", "message": SENT})


async def tracking_reset_confirm_form(request: Request) -> Response:
    return render(request, "token_confirm.html", {
        "title": "重置查询密码", "action": "/track/reset/confirm", "button": "生成新的查询密码",
        "token": request.query_params.get("token", ""), "password": False})


async def tracking_reset_confirm(request: Request) -> Response:
    token = _token(await checked_form(request))
    result = await residents.reset_tracking_password(token) if token else None
    if result is None:
        return _invalid(request, "链接已失效或已使用，请重新申请。")
    appeal, password = result
    return render(request, "tracking_reset_done.html", {"appeal": appeal, "password": password})


routes = [
    Route("/account/register", register_form, methods=["GET"]),
    Route("/account/register", register, methods=["POST"], name="account_register"),
    Route("/account/verify", verify_form, methods=["GET"]),
    Route("/account/verify", verify, methods=["POST"], name="account_verify"),
    Route("/account/login", login_form, methods=["GET"]),
    Route("/account/login", login, methods=["POST"], name="account_login"),
    Route("/account/appeals", my_appeals, methods=["GET"]),
    Route("/account/appeals/{tracking_number}", my_appeal, methods=["GET"]),
    Route("/account/appeals/{tracking_number}/info", my_info, methods=["POST"],
          name="account_info"),
    Route("/account/appeals/{tracking_number}/rating", my_rating, methods=["POST"],
          name="account_rating"),
    Route("/account/reset", reset_form, methods=["GET"]),
    Route("/account/reset", reset, methods=["POST"], name="account_reset"),
    Route("/account/reset/confirm", reset_confirm_form, methods=["GET"]),
    Route("/account/reset/confirm", reset_confirm, methods=["POST"], name="account_reset_confirm"),
    Route("/account/password", password_form, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"], name="account_password"),
    Route("/track/reset", tracking_reset_form, methods=["GET"]),
    Route("/track/reset", tracking_reset, methods=["POST"], name="tracking_reset"),
    Route("/track/reset/confirm", tracking_reset_confirm_form, methods=["GET"]),
    Route("/track/reset/confirm", tracking_reset_confirm, methods=["POST"],
          name="tracking_reset_confirm"),
]
