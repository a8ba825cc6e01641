"""One-time messages after a staff action ("已签收", "已分派至…"): a signed cookie set on the
redirect, read by the next staff page (app.web.staff.staff_route) and shown once by
base.html. Signed with the secret key, so nobody can make the platform say their words."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from app.web.context import settings_of
from app.web.render import secure_cookies

COOKIE = "ms_flash"
MAX_CHARS = 200


def _signature(request: Request, payload: str) -> str:
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:32]


def put(request: Request, response: Response, message: str) -> Response:
    """Have the next page say `message` once."""
    payload = base64.urlsafe_b64encode(message[:MAX_CHARS].encode()).decode().rstrip("=")
    response.set_cookie(COOKIE, f"{payload}.{_signature(request, payload)}", httponly=True,
                        samesite="lax", secure=secure_cookies(request))
    return response


def read(request: Request) -> str | None:
    """The message waiting for this page, if any and if it is ours."""
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(request, payload)):
        return None
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def shown(request: Request, response: Response) -> Response:
    """After a page was answered: a page (not a redirect) has shown the message; forget it."""
    if COOKIE in request.cookies and not 300 <= response.status_code < 400:
        response.delete_cookie(COOKIE)
    return response


def done(posted: str, data: object, department_name: str | None = None) -> str:
    """What the next page says after the staff form `posted` succeeded."""
    if posted == "route":
        return f"已分派至{department_name}" if department_name else "已分派"
    if posted == "decision":
        return "已批准延期" if getattr(data, "decision", "") == "grant" else "已不批准延期"
    return DONE.get(posted, "操作已完成")


DONE = {
    "acknowledge": "已签收",
    "reply": "已答复",
    "return": "已退回至分派中心",
    "reject": "已不予受理，理由将告知群众",
    "ask_info": "已请群众补充材料，等待期间暂停计时",
    "extension": "已提交延期申请，等待审批",
    "supervise": "已发出督办",
    "answer_supervision": "已提交督办反馈",
    "close_supervision": "已结束督办",
    "reissue_supervision": "已再次督办",
    "remind": "已催办",
    "followup": "已记录回访",
}
