"""Pages for residents: home, the submission form and receipt, tracking."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain.attachments import Occasion
from app.domain.types import TYPE_LABELS, Channel, Role
from app.models import Department
from app.schemas import accounts as account_forms
from app.schemas import appeals as forms
from app.schemas.base import InputError, form_values, parse_form
from app.services import accounts, intake
from app.services.errors import ValidationFailed
from app.web import tracking, uploads
from app.web.context import rules_of
from app.web.render import render, session_redirect
from app.web.residents import current_resident
from app.web.security import SESSION_COOKIE, checked_form, client_address
from app.web.tracking import appeal_page

TRACK_COOKIE = "ms_track"


def _form_context(request: Request) -> dict:
    rules = rules_of(request)
    regions = [
        {"code": r.code, "label": " / ".join(p.name for p in rules.region_path(r.code))}
        for r in rules.regions.values()
    ]
    return {"types": TYPE_LABELS, "regions": regions, "categories": list(rules.categories),
            "upload_policy": uploads.policy_of(request)}


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def submit_form(request: Request) -> Response:
    units = await Department.filter(active=True).order_by("code").values("code", "name")
    return render(request, "submit.html",
                  {**_form_context(request), "values": {}, "errors": {}, "units": units})


@uploads.closes_form
async def submit(request: Request) -> Response:
    request.app.state.limiter.check("submit", client_address(request))
    form = await checked_form(request)
    values = _typed(form, forms.Submission)
    rules = rules_of(request)
    errors: dict[str, str] = {}
    try:
        submission = intake.validate(form_values(forms.Submission, form), rules)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    files = await uploads.checked(request, form, errors)
    if errors:
        units = await Department.filter(active=True).order_by("code").values("code", "name")
        return render(request, "submit.html",
                      {**_form_context(request), "values": values, "errors": errors,
                       "units": units}, status=400)
    resident = await current_resident(request)
    rows = await uploads.stored_rows(request, files, account=resident, role=Role.RESIDENT,
                                     occasion=Occasion.SUBMISSION)
    receipt = await intake.submit(rules, submission, resident=resident, attachments=rows)
    return render(request, "receipt.html", {"receipt": receipt})


QUICK_TYPES = forms.QUICK_TYPES


def _typed(form, model) -> dict[str, str]:
    """What the person typed, to fill the form in again."""
    return {key: str(form.get(key, "")) for key in model.model_fields}


async def quick_form(request: Request) -> Response:
    topics = rules_of(request).hot_topics
    topic = request.query_params.get("topic", "")
    values = {"title": topic if topic in topics else "", "type": "consultation"}
    return render(request, "quick.html", {**_form_context(request), "topics": topics,
                                          "quick_types": QUICK_TYPES, "values": values,
                                          "errors": {}})


@uploads.closes_form
async def quick_submit(request: Request) -> Response:
    """The quick channel: a short form, no account; credentials on a printable receipt."""
    request.app.state.limiter.check("submit", client_address(request))
    form = await checked_form(request)
    values = _typed(form, forms.QuickSubmission)
    rules = rules_of(request)
    errors: dict[str, str] = {}
    try:
        submission = intake.validate(form_values(forms.QuickSubmission, form), rules,
                                     model=forms.QuickSubmission)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    files = await uploads.checked(request, form, errors)
    if errors:
        return render(request, "quick.html", {
            **_form_context(request), "topics": rules.hot_topics, "quick_types": QUICK_TYPES,
            "values": values, "errors": errors}, status=400)
    resident = await current_resident(request)
    rows = await uploads.stored_rows(request, files, account=resident, role=Role.RESIDENT,
                                     occasion=Occasion.SUBMISSION)
    receipt = await intake.submit(rules, submission, resident=resident, channel=Channel.QUICK,
                                  attachments=rows)
    return render(request, "receipt.html", {"receipt": receipt})


def _login(form) -> account_forms.Login | None:
    """The credentials of a login form; a refused form reads like wrong credentials."""
    try:
        return parse_form(account_forms.Login, form)
    except InputError:
        return None


async def track_form(request: Request) -> Response:
    return render(request, "track_login.html", {"error": ""})


async def track_login(request: Request) -> Response:
    request.app.state.limiter.check("login", client_address(request))
    form = await checked_form(request)
    login = _login(form)
    appeal = login and await accounts.authenticate_tracking_throttled(login.username,
                                                                      login.password)
    if appeal is None:
        return render(request, "track_login.html",
                      {"error": "查询账号或密码不正确。"}, status=400)
    token = await accounts.open_session(appeal=appeal)
    return session_redirect(request, TRACK_COOKIE, token, "/track/appeal")


async def track_view(request: Request) -> Response:
    session = await accounts.load_session(request.cookies.get(TRACK_COOKIE))
    if session is None or session.appeal is None:
        return RedirectResponse("/track", status_code=303)
    return await appeal_page(request, session.appeal, "/track")


async def _tracked(request: Request):
    session = await accounts.load_session(request.cookies.get(TRACK_COOKIE))
    return session.appeal if session is not None else None


@uploads.closes_form
async def track_info(request: Request) -> Response:
    form = await checked_form(request)
    appeal = await _tracked(request)
    if appeal is None:
        return RedirectResponse("/track", status_code=303)
    return await tracking.supply_info(request, appeal, "/track", form)


async def track_rating(request: Request) -> Response:
    form = await checked_form(request)
    appeal = await _tracked(request)
    if appeal is None:
        return RedirectResponse("/track", status_code=303)
    return await tracking.rate(request, appeal, "/track", form)


async def track_logout(request: Request) -> Response:
    await checked_form(request)
    await accounts.close_session(request.cookies.get(TRACK_COOKIE))
    response = RedirectResponse("/track", status_code=303)
    response.delete_cookie(TRACK_COOKIE)
    return response


async def login_form(request: Request) -> Response:
    return render(request, "login.html", {"error": "", "next": _safe_next(request)})


def _safe_next(request: Request, value: str | None = None) -> str:
    target = value if value is not None else request.query_params.get("next", "")
    # Only local paths: never an open redirect.
    return target if target.startswith(("/staff", "/admin/")) and "//" not in target \
        else "/staff"


async def login(request: Request) -> Response:
    request.app.state.limiter.check("login", client_address(request))
    form = await checked_form(request)
    login = _login(form)
    account = login and await accounts.authenticate_throttled(login.username, login.password)
    target = _safe_next(request, str(form.get("next", "")))
    if account is None or account.role == "resident":
        return render(request, "login.html",
                      {"error": "用户名或密码不正确。", "next": target}, status=400)
    token = await accounts.open_session(account=account)
    if account.must_change_password:  # a one-time password: their own one first
        target = "/account/password"
    return session_redirect(request, SESSION_COOKIE, token, target)


async def logout(request: Request) -> Response:
    await checked_form(request)
    await accounts.close_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


routes = [
    Route("/", home, name="home"),
    Route("/submit", submit_form, methods=["GET"], name="submit_form"),
    Route("/submit", submit, methods=["POST"], name="submit"),
    Route("/quick", quick_form, methods=["GET"], name="quick_form"),
    Route("/quick", quick_submit, methods=["POST"], name="quick_submit"),
    Route("/track", track_form, methods=["GET"], name="track_form"),
    Route("/track", track_login, methods=["POST"], name="track_login"),
    Route("/track/appeal", track_view, methods=["GET"], name="track_view"),
    Route("/track/info", track_info, methods=["POST"], name="track_info"),
    Route("/track/rating", track_rating, methods=["POST"], name="track_rating"),
    Route("/track/logout", track_logout, methods=["POST"], name="track_logout"),
    Route("/login", login_form, methods=["GET"], name="login_form"),
    Route("/login", login, methods=["POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
