"""JSON API v1: the catalog, submission, and tracking for apps and 12345 phone agents.

Handlers stay thin: check the client's budget, read and check the body against the request
schema the OpenAPI document publishes (`app.web.openapi`), authenticate, call one service,
render JSON. Errors are `{"error": {"code", "message", "field"}}` with a 4xx status.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.domain.clock import to_local
from app.domain.states import EVENT_LABELS, STATUS_LABELS, Event, Status
from app.domain.types import TYPE_LABELS, AppealType, Role
from app.models import Appeal, AppealEvent
from app.services import accounts, clocks, intake
from app.services.errors import ServiceError, ValidationFailed
from app.web import openapi
from app.web.openapi import API_PREFIX, AUTH_FAILURE_COST, MAX_BODY_BYTES
from app.web.security import RateLimited, client_address

WWW_AUTHENTICATE = 'Basic realm="minsheng", charset="UTF-8"'
NOT_FOUND_MESSAGE = "未找到该诉求，或查询账号、密码不正确。"
TRACKING_NUMBER_RE = re.compile(r"MS\d{8}-\d{6,9}")
AUTH_HEADER_MAX = 1024
FIELD_LABELS = {
    "type": "诉求类型", "category": "分类", "region": "地区", "title": "标题", "body": "内容",
    "contact_name": "姓名", "contact_phone": "电话", "contact_email": "电子邮箱",
    "public": "是否公开", "named_unit": "被举报单位", "text": "补充内容", "rating": "评价",
    "reason": "理由",
}
TYPE_WORDS = {"string": "文字", "boolean": "true 或 false", "null": "null",
              "integer": "整数", "number": "数字", "object": "对象", "array": "列表"}
# Where a service names a field differently from the API.
SERVICE_FIELDS = {"info": "text"}
SERVICE_STATUS = {"not_found": 404, "conflict": 409, "illegal_transition": 409,
                  "forbidden": 403}


# --- errors ---------------------------------------------------------------------------

def _printable(text: str, limit: int = 100) -> str:
    """An echo of client text that can always be encoded (lone surrogates escaped)."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def error_response(status: int, code: str, message: str, field: str | None = None, *,
                   details: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message,
                             "field": _printable(field) if field is not None else None}
    if details:
        error["details"] = details
    response = JSONResponse({"error": error}, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, *,
                 details: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.details, self.headers = details, headers

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.field,
                              details=self.details, headers=self.headers)


def not_found_response() -> JSONResponse:
    """One answer for every tracking failure: nothing tells them apart."""
    return error_response(404, "not_found", NOT_FOUND_MESSAGE,
                          headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def rate_limited_response(retry_after: int) -> JSONResponse:
    return error_response(429, "rate_limited", f"操作过于频繁，请 {retry_after} 秒后再试。",
                          headers={"Retry-After": str(retry_after)})


def service_error_response(exc: ServiceError) -> JSONResponse:
    if exc.code == "not_found":
        return not_found_response()
    field = SERVICE_FIELDS.get(exc.field or "", exc.field)
    details = None
    if isinstance(exc, ValidationFailed):
        details = [{"field": SERVICE_FIELDS.get(k, k), "message": v}
                   for k, v in exc.errors.items()]
    code = exc.code if exc.code in ("conflict", "illegal_transition") else "invalid"
    return error_response(SERVICE_STATUS.get(exc.code, 422), code, exc.message, field,
                          details=details)


def http_error_response(exc: Exception) -> JSONResponse:
    """Routing errors under /api/ (unknown path, wrong method) as JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    if status == 405:
        return error_response(405, "method_not_allowed", "不支持此操作方式。", headers=headers)
    if status == 404:
        return error_response(404, "not_found", "接口不存在。", headers=headers)
    return error_response(status, "invalid", "请求无法处理。", headers=headers)


def crash_response() -> JSONResponse:
    return error_response(500, "server_error", "系统出现错误，请稍后再试。")


Handler = Callable[[Request], Awaitable[Response]]


def endpoint(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except RateLimited as exc:
            return rate_limited_response(exc.retry_after)
        except ServiceError as exc:
            return service_error_response(exc)

    return wrapped


# --- reading and checking bodies --------------------------------------------------------

class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request) -> Any:
    media, _, params = request.headers.get("content-type", "").partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != "application/json" or charset not in ("", "utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type",
                       "请以 application/json（UTF-8）格式提交。")
    declared = request.headers.get("content-length")
    too_large = ApiError(413, "too_large", f"提交的内容过大（上限 {MAX_BODY_BYTES // 1024} KB）。")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constants)
    except _DuplicateKey as exc:
        raise ApiError(400, "bad_json", "JSON 中有重复的字段。", exc.key) from None
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and JSONDecodeError
        raise ApiError(400, "bad_json", "提交的内容不是有效的 JSON。") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _problem(name: str, value: Any, spec: dict[str, Any]) -> tuple[str, str] | None:
    """(code, message) for one property, by the schema's own keywords."""
    label = FIELD_LABELS.get(name, name)
    allowed = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    found = _json_type(value)
    if found not in allowed and not (found == "integer" and "number" in allowed):
        wanted = "或".join(TYPE_WORDS[t] for t in allowed)
        return "invalid_type", f"{label}（{name}）应为{wanted}。"
    if value is None:
        return None
    if "enum" in spec and value not in spec["enum"]:
        choices = "、".join(map(str, spec["enum"]))
        return "invalid", f"{label}（{name}）的取值无效，可选：{choices}。"
    if isinstance(value, str):
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            return "invalid", f"{label}不能超过 {spec['maxLength']} 个字。"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "invalid", f"{label}含有无效的字符。"
        if "pattern" in spec and not re.search(spec["pattern"], value):
            return "invalid", f"{label}含有不允许的字符。"
    return None


def check(value: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Hold a parsed body to a request schema of `app.web.openapi`; every problem found is
    listed in `details`, the first one named in `field`."""
    if not isinstance(value, dict):
        raise ApiError(400, "not_object", "提交的内容必须是 JSON 对象。")
    properties = schema["properties"]
    problems: list[tuple[str, str, str]] = []  # code, field, message
    for key in value:
        if key not in properties:
            problems.append(("unknown_field", key, f"不认识的字段“{_printable(key, 40)}”。"))
    for name in schema.get("required", []):
        if name not in value:
            problems.append(("missing_field", name,
                             f"缺少必填字段 {name}（{FIELD_LABELS.get(name, name)}）。"))
    for name, spec in properties.items():
        if name in value:
            found = _problem(name, value[name], spec)
            if found is not None:
                problems.append((found[0], name, found[1]))
    if problems:
        code, field, message = problems[0]
        details = [{"field": _printable(f), "message": m} for _, f, m in problems]
        raise ApiError(422, code, message, field, details=details if len(details) > 1 else None)
    return value


# --- authentication ---------------------------------------------------------------------

def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header or len(header) > AUTH_HEADER_MAX:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password or "\x00" in decoded:
        return None
    return username, password


async def _authorised(number: str, credentials: tuple[str, str] | None) -> Appeal | None:
    """The appeal if these credentials may open it. The same work is done whether or not
    the number exists, so neither the answer nor its timing tells the two apart."""
    if credentials is None:
        return None
    username, password = credentials
    appeal = await accounts.authenticate_tracking(username, password)
    if appeal is not None:  # tracking credentials open their own appeal and nothing else
        return appeal if appeal.tracking_number == number else None
    account = await accounts.authenticate(username, password)
    if account is None or account.role != Role.RESIDENT:
        return None
    if not TRACKING_NUMBER_RE.fullmatch(number):
        return None
    return await Appeal.get_or_none(tracking_number=number, resident_id=account.id)


async def owned_appeal(request: Request) -> Appeal:
    """Charge the client, authenticate, and return the appeal or answer the uniform 404.
    A failure costs AUTH_FAILURE_COST requests in all (one already charged)."""
    limiter, client = request.app.state.limiter, client_address(request)
    limiter.check("login", client)
    appeal = await _authorised(request.path_params["tracking_number"],
                               _basic_credentials(request))
    if appeal is None:
        limiter.check("login", client, AUTH_FAILURE_COST - 1)
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE,
                       headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    return appeal


# --- rendering --------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat() if value is not None else None


def _status(key: str) -> dict[str, str]:
    try:
        label = STATUS_LABELS[Status(key)]
    except ValueError:
        label = key
    return {"key": key, "label": label}


def _event_label(kind: str) -> str:
    if kind == "submitted":
        return "提交诉求"
    try:
        return EVENT_LABELS[Event(kind)]
    except (ValueError, KeyError):
        return kind


async def appeal_view(appeal: Appeal) -> dict[str, Any]:
    appeal = await Appeal.get(id=appeal.id).prefetch_related("department", "category", "region")
    events = await AppealEvent.filter(appeal_id=appeal.id, public=True).order_by("id") \
        .values("kind", "at")
    replied = bool(appeal.reply_text)
    return {
        "tracking_number": appeal.tracking_number,
        "status": _status(appeal.status),
        "type": {"key": appeal.type, "label": TYPE_LABELS.get(AppealType(appeal.type),
                                                              appeal.type)},
        "category": appeal.category.name if appeal.category else None,
        "region": {"code": appeal.region.code, "name": appeal.region.name},
        "department": appeal.department.name if appeal.department else None,
        "title": appeal.title,
        "body": appeal.body,
        "submitted_at": iso(appeal.submitted_at),
        "due_at": iso(appeal.reply_due_at),
        "deadline_provisional": appeal.deadline_provisional,
        "timeline": [{"kind": e["kind"], "label": _event_label(e["kind"]), "at": iso(e["at"])}
                     for e in events],
        "reply": {"text": appeal.reply_text, "replied_at": iso(appeal.replied_at)}
        if replied else None,
        "info_request": appeal.info_request if appeal.status == Status.AWAITING_INFO else None,
        "rating": appeal.rating or None,
    }


def private_json(content: Any, status: int = 200, headers: dict[str, str] | None = None
                 ) -> JSONResponse:
    response = JSONResponse(content, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- endpoints --------------------------------------------------------------------------

@endpoint
async def catalog(request: Request) -> Response:
    request.app.state.limiter.check("api", client_address(request))
    rules = request.app.state.rules
    body = {
        "types": [{"key": t.value, "label": label} for t, label in TYPE_LABELS.items()],
        "regions": [{"code": r.code, "name": r.name, "parent": r.parent_code, "level": r.level}
                    for r in rules.regions.values()],
        "categories": [{"name": name, "children": list(children)}
                       for name, children in rules.categories.items()],
        "hot_topics": list(rules.hot_topics),
        "departments": [{"code": d.code, "name": d.name, "region": d.region_code}
                        for d in rules.departments.values()],
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


@endpoint
async def submit(request: Request) -> Response:
    request.app.state.limiter.check("submit", client_address(request))
    raw = check(await read_json(request), openapi.SUBMISSION)
    rules = request.app.state.rules
    submission = intake.validate({key: raw.get(key) for key in intake.FIELDS}, rules)
    receipt = await intake.submit(rules, submission)
    appeal = receipt.appeal
    body = {
        "tracking_number": appeal.tracking_number,
        "username": receipt.username,
        "password": receipt.password,
        "status": _status(appeal.status),
        "due_at": iso(appeal.reply_due_at),
        "deadline_provisional": appeal.deadline_provisional,
        "department": receipt.department_name,
    }
    return private_json(body, 201,
                        {"Location": f"{API_PREFIX}/appeals/{appeal.tracking_number}"})


@endpoint
async def show(request: Request) -> Response:
    appeal = await owned_appeal(request)
    return private_json(await appeal_view(appeal))


@endpoint
async def supply_info(request: Request) -> Response:
    appeal = await owned_appeal(request)
    raw = check(await read_json(request), openapi.INFO)
    await clocks.supply_info(request.app.state.rules, appeal, raw["text"])
    return private_json(await appeal_view(appeal))


@endpoint
async def rate(request: Request) -> Response:
    appeal = await owned_appeal(request)
    raw = check(await read_json(request), openapi.RATING)
    await clocks.rate(request.app.state.rules, appeal, raw["rating"], raw.get("reason") or "")
    return private_json(await appeal_view(appeal))


@endpoint
async def document(request: Request) -> Response:
    request.app.state.limiter.check("api", client_address(request))
    return JSONResponse(openapi.document(), headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route(f"{API_PREFIX}/catalog", catalog, methods=["GET"], name="api_catalog"),
    Route(f"{API_PREFIX}/appeals", submit, methods=["POST"], name="api_submit"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}", show, methods=["GET"], name="api_show"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/info", supply_info, methods=["POST"],
          name="api_info"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/rating", rate, methods=["POST"],
          name="api_rating"),
    Route(f"{API_PREFIX}/openapi.json", document, methods=["GET"], name="api_openapi"),
]


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")
