"""JSON API v1: the catalog, submission, and tracking for apps and 12345 phone agents.

Handlers stay thin: check the client's budget, parse the body into the request model the
OpenAPI document publishes (`app.schemas`, strictly: JSON types must match), authenticate,
call one service, and answer through a response model of `app.schemas.responses`.
Errors are `{"error": {"code", "message", "field"}}` with a 4xx status.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from app.domain.attachments import FIELD, Occasion
from app.domain.clock import to_local
from app.domain.states import EVENT_LABELS, STATUS_LABELS, Event, Status
from app.domain.types import TYPE_LABELS, AppealType, Channel, Role
from app.models import Appeal, AppealEvent, AppealReply
from app.schemas import appeals as bodies
from app.schemas import responses
from app.schemas.base import InputError, parse, printable
from app.services import (
    accounts,
    attachments,
    clocks,
    idempotency,
    intake,
    publication,
    triage,
)
from app.services.errors import ServiceError, ValidationFailed
from app.services.throttle import LoginLocked
from app.web import openapi, uploads
from app.web.context import rules_of
from app.web.openapi import API_PREFIX, AUTH_FAILURE_COST, MAX_BODY_BYTES
from app.web.security import RateLimited, client_address

WWW_AUTHENTICATE = 'Basic realm="minsheng", charset="UTF-8"'
NOT_FOUND_MESSAGE = "未找到该诉求，或查询账号、密码不正确。"
TRACKING_NUMBER_RE = re.compile(r"MS\d{8}-\d{6,9}")
AUTH_HEADER_MAX = 1024
# Where a service names a field differently from the API.
SERVICE_FIELDS = {"info": "text"}
SERVICE_STATUS = {"not_found": 404, "conflict": 409, "illegal_transition": 409,
                  "forbidden": 403, "bad_key": 400}


# --- errors ---------------------------------------------------------------------------

def error_response(status: int, code: str, message: str, field: str | None = None, *,
                   details: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    error = responses.Error(error=responses.ErrorBody(
        code=code, message=message, field=printable(field) if field is not None else None,
        details=details or [])).model_dump()
    if not details:
        del error["error"]["details"]
    response = JSONResponse(error, status_code=status, headers=headers)
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
    if isinstance(exc, InputError):
        return input_error_response(exc)
    field = SERVICE_FIELDS.get(exc.field or "", exc.field)
    details = None
    if isinstance(exc, ValidationFailed):
        details = [{"field": SERVICE_FIELDS.get(k, k), "message": v}
                   for k, v in exc.errors.items()]
    code = exc.code if exc.code in ("conflict", "illegal_transition") else "invalid"
    return error_response(SERVICE_STATUS.get(exc.code, 422), code, exc.message, field,
                          details=details)


def input_error_response(exc: InputError) -> JSONResponse:
    """A refused body: the first problem in `code`/`field`/`message`, all in `details`."""
    details = [{"field": f, "message": m} for f, m in exc.errors.items()]
    return error_response(422, exc.codes[exc.field], exc.message, exc.field,
                          details=details if len(details) > 1 else None)


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
    too_large = ApiError(413, "too_large", f"提交的内容过大（上限 {MAX_BODY_BYTES // 1024} KB）。")
    return decode_json(await read_limited(request, MAX_BODY_BYTES, too_large))


async def read_limited(request: Request, limit: int, too_large: Exception) -> bytes:
    """The body, refused with `too_large` as soon as it is declared or read past `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constants)
    except _DuplicateKey as exc:
        raise ApiError(400, "bad_json", "JSON 中有重复的字段。", exc.key) from None
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and JSONDecodeError
        raise ApiError(400, "bad_json", "提交的内容不是有效的 JSON。") from None


Body = TypeVar("Body", bound=BaseModel)


async def read_object(request: Request) -> dict[str, Any]:
    value = await read_json(request)
    if not isinstance(value, dict):
        raise ApiError(400, "not_object", "提交的内容必须是 JSON 对象。")
    return value


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_parts(request: Request) -> tuple[dict[str, Any], Any]:
    """The request's JSON object, and its multipart form if it came as one: the object in
    the part `json` (what an application/json body would be), files in parts `files`."""
    if _media(request) != "multipart/form-data":
        return await read_object(request), None
    try:
        form = await request.form()
    except HTTPException:  # Starlette's word for a body that is not multipart after all
        raise ApiError(400, "bad_multipart", "提交的内容不是有效的 multipart/form-data。") \
            from None
    unknown = [key for key in form if key not in ("json", FIELD)]
    if unknown:
        raise ApiError(422, "unknown_field", f"不认识的部分“{printable(unknown[0], 40)}”。",
                       unknown[0])
    raw = form.get("json")
    if raw is None:
        raise ApiError(422, "missing_field", "请在 json 部分提交 JSON 对象。", "json")
    data = await raw.read(MAX_BODY_BYTES + 1) if isinstance(raw, UploadFile) \
        else raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"json 部分过大（上限 {MAX_BODY_BYTES // 1024} KB）。",
                       "json")
    value = decode_json(data)
    if not isinstance(value, dict):
        raise ApiError(400, "not_object", "json 部分必须是 JSON 对象。", "json")
    return value, form


async def files_of(request: Request, form: Any, *, occasion: Occasion,
                   account=None) -> list:
    """The stored files' unsaved rows (none without a form); AttachmentsRefused (422, field
    `files`) if any is refused."""
    if form is None:
        return []
    return await uploads.rows_of_form(request, form, account=account, role=Role.RESIDENT,
                                      occasion=occasion)


async def read_body(request: Request, model: type[Body]) -> Body:
    """The request's JSON object as `model`, strictly: unknown fields, wrong JSON types and
    broken limits are refused (`InputError`) with the field named."""
    return parse(model, await read_object(request), strict=True)


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
    the number exists, so neither the answer nor its timing tells the two apart. Wrong
    passwords count towards the login back-off of the web forms (raises LoginLocked)."""
    if credentials is None:
        return None
    found = await accounts.authenticate_basic(*credentials)
    if isinstance(found, Appeal):  # tracking credentials open their own appeal only
        return found if found.tracking_number == number else None
    if found is None or found.role != Role.RESIDENT:
        return None
    if not TRACKING_NUMBER_RE.fullmatch(number):
        return None
    return await Appeal.get_or_none(tracking_number=number, resident_id=found.id)


async def owned_appeal(request: Request) -> Appeal:
    """Charge the client, authenticate, and return the appeal or answer the uniform 404.
    A failure costs AUTH_FAILURE_COST requests in all (one already charged). A login name
    locked by failed passwords (on any door) answers 429 with Retry-After, even with the
    right password, as the web login forms do."""
    limiter, client = request.app.state.limiter, client_address(request)
    limiter.check("login", client)
    try:
        appeal = await _authorised(request.path_params["tracking_number"],
                                   _basic_credentials(request))
    except LoginLocked as exc:
        raise ApiError(429, "rate_limited", f"登录失败次数过多，请 {exc.retry_after} 秒后再试。",
                       headers={"Retry-After": str(exc.retry_after)}) from None
    if appeal is None:
        limiter.check("login", client, AUTH_FAILURE_COST - 1)
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE,
                       headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    return appeal


# --- rendering --------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat() if value is not None else None


def _status(key: str) -> responses.Status:
    return responses.Status(key=key, label=STATUS_LABELS[Status(key)])


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
    replies = await AppealReply.filter(appeal_id=appeal.id).order_by("round", "id") \
        .values("text", "at")
    return responses.Appeal(
        tracking_number=appeal.tracking_number,
        status=_status(appeal.status),
        type=responses.KeyLabel(key=appeal.type, label=TYPE_LABELS[AppealType(appeal.type)]),
        category=appeal.category.name if appeal.category else None,
        region=responses.Region(code=appeal.region.code, name=appeal.region.name),
        department=appeal.department.name if appeal.department else None,
        title=appeal.title,
        body=appeal.body,
        submitted_at=iso(appeal.submitted_at),
        due_at=iso(appeal.reply_due_at),
        deadline_provisional=appeal.deadline_provisional,
        timeline=[responses.TimelineEntry(kind=e["kind"], label=_event_label(e["kind"]),
                                          at=iso(e["at"])) for e in events],
        reply=responses.Reply(text=appeal.reply_text, replied_at=iso(appeal.replied_at))
        if appeal.reply_text else None,
        replies=[responses.Reply(text=r["text"], replied_at=iso(r["at"])) for r in replies],
        info_request=appeal.info_request if appeal.status == Status.AWAITING_INFO else None,
        rating=appeal.rating or None,
        rejection=await _rejection(appeal),
        attachments=[responses.AttachmentInfo(
            id=a.id, name=a.name, type=a.content_type, size=a.size, occasion=a.occasion,
            created_at=iso(a.created_at),
            url=f"{API_PREFIX}/appeals/{appeal.tracking_number}/attachments/{a.id}")
            for a in await attachments.of_appeal(appeal, resident=True)],
        public=appeal.is_public,
    ).model_dump()


async def _rejection(appeal: Appeal) -> responses.Rejection | None:
    if appeal.status != Status.REJECTED:
        return None
    found = await triage.rejection(appeal)
    return responses.Rejection(reason=found["reason"], label=found["label"],
                               explanation=found["explanation"]) if found else None


def private_json(content: Any, status: int = 200, headers: dict[str, str] | None = None
                 ) -> JSONResponse:
    response = JSONResponse(content, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- endpoints --------------------------------------------------------------------------

@endpoint
async def catalog(request: Request) -> Response:
    request.app.state.limiter.check("api", client_address(request))
    rules = rules_of(request)
    body = responses.Catalog(
        types=[responses.KeyLabel(key=t.value, label=label) for t, label in TYPE_LABELS.items()],
        regions=[responses.CatalogRegion(code=r.code, name=r.name, parent=r.parent_code,
                                         level=r.level) for r in rules.regions.values()],
        categories=[responses.CatalogCategory(name=name, children=list(children))
                    for name, children in rules.categories.items()],
        hot_topics=list(rules.hot_topics),
        departments=[responses.CatalogDepartment(code=d.code, name=d.name, region=d.region_code)
                     for d in rules.departments.values()],
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "public, max-age=300"})


def _receipt(receipt: intake.Receipt, password: str | None) -> dict[str, Any]:
    appeal = receipt.appeal
    return responses.Receipt(
        tracking_number=appeal.tracking_number,
        username=receipt.username,
        password=password,
        status=_status(appeal.status),
        due_at=iso(appeal.reply_due_at),
        deadline_provisional=appeal.deadline_provisional,
        department=receipt.department_name,
        password_recovery=None if password else idempotency.password_recovery(appeal),
    ).model_dump()


def _submitted(answer: idempotency.Answer) -> Response:
    headers = {"Location": f"{API_PREFIX}/appeals/{answer.body['tracking_number']}"}
    if answer.replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return private_json(answer.body, answer.status, headers)


@endpoint
@uploads.closes_form
async def submit(request: Request) -> Response:
    request.app.state.limiter.check("submit", client_address(request))
    rules = rules_of(request)
    key = idempotency.parse_key(request.headers.getlist(idempotency.HEADER))
    value, form = await read_parts(request)
    claim = None
    if key is not None:
        claim = idempotency.Claim("api", key, idempotency.fingerprint(
            value, await idempotency.file_digests(form, FIELD)))
        replayed = await idempotency.replay(claim)
        if replayed is not None:
            return _submitted(replayed)
    submission = intake.validate(value, rules, strict=True)
    rows = await files_of(request, form, occasion=Occasion.SUBMISSION)
    return _submitted(await idempotency.submit(rules, submission, claim=claim, render=_receipt,
                                               channel=Channel.API, attachments=rows))


@endpoint
async def show(request: Request) -> Response:
    appeal = await owned_appeal(request)
    return private_json(await appeal_view(appeal))


@endpoint
@uploads.closes_form
async def supply_info(request: Request) -> Response:
    appeal = await owned_appeal(request)
    value, form = await read_parts(request)
    info = parse(bodies.InfoSupplied, value, strict=True)
    rows = await files_of(request, form, occasion=Occasion.INFO,
                          account=appeal.resident if appeal.resident_id else None)
    async with in_transaction():
        await clocks.supply_info(rules_of(request), appeal, info)
        await attachments.insert(rows, appeal.id)
    return private_json(await appeal_view(appeal))


@endpoint
async def rate(request: Request) -> Response:
    appeal = await owned_appeal(request)
    rating = await read_body(request, bodies.Rating)
    await clocks.rate(rules_of(request), appeal, rating)
    return private_json(await appeal_view(appeal))


@endpoint
async def withdraw_consent(request: Request) -> Response:
    appeal = await owned_appeal(request)
    await publication.withdraw_consent(appeal)
    return private_json(await appeal_view(appeal))


@endpoint
async def attachment(request: Request) -> Response:
    appeal = await owned_appeal(request)
    found = await attachments.one_of(appeal, request.path_params["attachment_id"])
    if found is None or not attachments.resident_sees(found, appeal):
        return not_found_response()
    return uploads.file_response(request, found)


@endpoint
async def document(request: Request) -> Response:
    request.app.state.limiter.check("api", client_address(request))
    return JSONResponse(openapi.document(routes), headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route(f"{API_PREFIX}/catalog", catalog, methods=["GET"], name="api_catalog"),
    Route(f"{API_PREFIX}/appeals", submit, methods=["POST"], name="api_submit"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}", show, methods=["GET"], name="api_show"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/info", supply_info, methods=["POST"],
          name="api_info"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/rating", rate, methods=["POST"],
          name="api_rating"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/consent-withdrawal", withdraw_consent,
          methods=["POST"], name="api_consent_withdrawal"),
    Route(f"{API_PREFIX}/appeals/{{tracking_number}}/attachments/{{attachment_id:int}}",
          attachment, methods=["GET"], name="api_attachment"),
    Route(f"{API_PREFIX}/openapi.json", document, methods=["GET"], name="api_openapi"),
]


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")
