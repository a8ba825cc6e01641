"""Open311 GeoReport v2 at /open311/v2/ (app.services.open311 maps our data): each resource
in JSON and XML by its extension, errors as the specification writes them
([{"code", "description"}], or <errors><error>), plus minsheng_field naming the form field.

Every route charges the client address's budget. A POST needs the api_key the administrator
issued (app.services.api_clients): a missing, wrong or revoked key is 403, and each failure
counts against the client address, as a wrong password does on the other doors (the
limiter's "login" bucket, and the login back-off under the address). A POST with an
Idempotency-Key header is answered once per client application (app.services.idempotency):
a retry gets the first answer again, without the password."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET  # noqa: N817 - building documents, never parsing

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.services import api_clients, idempotency, open311, throttle
from app.services.errors import ServiceError
from app.services.open311 import Refused, bad
from app.services.throttle import LoginLocked
from app.web.api import read_limited
from app.web.context import rules_of, settings_of
from app.web.openapi import AUTH_FAILURE_COST, MAX_BODY_BYTES
from app.web.security import RateLimited, client_address

PREFIX = "/open311/v2"
FORMATS = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+08:00"  # when this endpoint's behaviour last changed
MAX_FIELDS = 40
# In XML a list is an element of elements: each list's item tag.
ITEM_TAGS = {"services": "service", "attributes": "attribute", "values": "value",
             "service_requests": "request", "errors": "error", "endpoints": "endpoint",
             "formats": "format"}
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
KEY_MESSAGE = "api_key 无效、缺失或已吊销。"


def is_open311(request: Request) -> bool:
    return request.url.path.startswith("/open311/") or request.url.path == "/open311"


# --- answers ----------------------------------------------------------------------------

def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_element(ITEM_TAGS[tag], item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))
    return element


def xml_text(root: str, value: Any) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + \
        ET.tostring(_element(root, value), encoding="unicode")


def answer(fmt: str, root: str, value: Any, status: int = 200, *,
           cache: str = "no-cache") -> Response:
    """`value` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        response: Response = Response(xml_text(root, value), status_code=status,
                                      media_type=FORMATS["xml"])
    else:
        response = JSONResponse(value, status_code=status)
    response.headers["Cache-Control"] = cache
    return response


def error_answer(fmt: str, refused: Refused, headers: dict[str, str] | None = None
                 ) -> Response:
    errors = [{"code": refused.status, "description": description,
               "minsheng_field": form_field} for description, form_field in refused.problems]
    response = answer(fmt if fmt in FORMATS else "json", "errors", errors, refused.status,
                      cache="no-store")
    response.headers.update(headers or {})
    return response


def http_error(request: Request, exc: Exception) -> Response:
    """Routing errors under /open311/ (unknown path or format, wrong method)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    if status == 405:
        return error_answer(fmt, bad(405, "不支持此操作方式。"))
    return error_answer(fmt, bad(404 if status == 404 else 400,
                                 "资源不存在。" if status == 404 else "请求无法处理。"))


def crash(request: Request) -> Response:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return error_answer(fmt, bad(500, "系统出现错误，请稍后再试。"))


def _too_many(fmt: str, what: str, retry_after: int) -> Response:
    return error_answer(fmt, bad(429, f"{what}，请 {retry_after} 秒后再试。"),
                        {"Retry-After": str(retry_after)})


Handler = Callable[[Request, str], Awaitable[Response]]


def endpoint(bucket: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Charge `bucket`, take the format from the path (404 unless json or xml), and answer
    every refusal as the specification says."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def wrapped(request: Request) -> Response:
            fmt = request.path_params.get("format", "")
            try:
                request.app.state.limiter.check(bucket, client_address(request))
                if fmt not in FORMATS:
                    raise bad(404, "格式只能是 json 或 xml。")
                return await handler(request, fmt)
            except Refused as exc:
                return error_answer(fmt, exc)
            except RateLimited as exc:
                return _too_many(fmt, "操作过于频繁", exc.retry_after)
            except LoginLocked as exc:
                return _too_many(fmt, "密钥错误次数过多", exc.retry_after)
            except ServiceError as exc:  # a bad or reused Idempotency-Key among them
                return error_answer(fmt, bad(409 if exc.code == "conflict" else 400,
                                             exc.message, exc.field))

        return wrapped

    return wrap


# --- reading a POST ---------------------------------------------------------------------

async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded body (UTF-8), each field once; anything else is a 400."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise bad(400, "请以 application/x-www-form-urlencoded（UTF-8）格式提交。")
    too_large = bad(413, f"提交的内容过大（上限 {MAX_BODY_BYTES // 1024} KB）。")
    body = await read_limited(request, MAX_BODY_BYTES, too_large)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS, errors="strict")
    except ValueError:  # not UTF-8, or too many fields
        raise bad(400, "提交的内容无法解析。") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise bad(400, f"字段 {key[:40]} 重复。", key[:40])
        if "\x00" in value:
            raise bad(400, f"字段 {key[:40]} 含有无效字符。", key[:40])
        form[key] = value
    return form


async def client_of(request: Request, key: str):
    """The client application of `key`, or 403. A failure costs AUTH_FAILURE_COST requests
    of the address's login budget and counts towards its back-off (LoginLocked: 429)."""
    limiter, address = request.app.state.limiter, client_address(request)
    limiter.check("login", address)

    async def verify():
        return await api_clients.authenticate(key)

    found = await throttle.attempt([f"open311:{address}"], verify)
    if found is None:
        limiter.check("login", address, AUTH_FAILURE_COST - 1)
        raise bad(403, KEY_MESSAGE, "api_key")
    return found


# --- endpoints --------------------------------------------------------------------------

@endpoint("api")
async def discovery(request: Request, fmt: str) -> Response:
    base = settings_of(request).base_url.rstrip("/")
    return answer(fmt, "discovery", {
        "changeset": CHANGESET, "contact": "民声平台管理员",
        "key_service": "api_key 由平台管理员发放（系统管理 → Open311 应用密钥）。",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}{PREFIX}",
                       "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }, cache="public, max-age=300")


@endpoint("api")
async def service_list(request: Request, fmt: str) -> Response:
    return answer(fmt, "services", await open311.services(rules_of(request)),
                  cache="public, max-age=300")


@endpoint("api")
async def service_definition(request: Request, fmt: str) -> Response:
    found = await open311.definition(rules_of(request), request.path_params["code"])
    if found is None:
        raise bad(404, "service_code 不存在。", "service_code")
    return answer(fmt, "service_definition", found, cache="public, max-age=300")


@endpoint("submit")
async def post_request(request: Request, fmt: str) -> Response:
    form = await read_form(request)
    client = await client_of(request, form.get("api_key", ""))
    key = idempotency.parse_key(request.headers.getlist(idempotency.HEADER))
    claim = open311.claim(client.id, key, form)
    made = await idempotency.replay(claim)
    if made is None:
        rules = rules_of(request)
        submission = await open311.submission(rules, form)
        made = await open311.post(rules, submission, settings_of(request).secret_key,
                                  claim=claim)
    response = answer(fmt, "service_requests", [made.body], made.status, cache="no-store")
    if made.replayed:
        response.headers[idempotency.REPLAYED_HEADER] = "true"
    return response


@endpoint("api")
async def request_list(request: Request, fmt: str) -> Response:
    query = open311.request_query(request.query_params)
    return answer(fmt, "service_requests", await open311.requests(query),
                  cache="public, max-age=60")


@endpoint("api")
async def one_request(request: Request, fmt: str) -> Response:
    found = await open311.one_request(request.path_params["request_id"])
    if found is None:
        raise bad(404, "没有这个已公开的诉求。", "service_request_id")
    return answer(fmt, "service_requests", [found], cache="public, max-age=60")


@endpoint("api")
async def token(request: Request, fmt: str) -> Response:
    sent = request.path_params["token"]
    number = open311.number_of_token(sent, settings_of(request).secret_key)
    if number is None:
        raise bad(404, "token 不存在。", "token")
    return answer(fmt, "service_requests", [{"service_request_id": number, "token": sent}],
                  cache="no-store")


routes = [
    # Service discovery is usually found beside the versions, and here under v2 too.
    Route("/open311/discovery.{format}", discovery, methods=["GET"],
          name="open311_root_discovery"),
    Route(f"{PREFIX}/discovery.{{format}}", discovery, methods=["GET"],
          name="open311_discovery"),
    Route(f"{PREFIX}/services.{{format}}", service_list, methods=["GET"],
          name="open311_services"),
    Route(f"{PREFIX}/services/{{code}}.{{format}}", service_definition, methods=["GET"],
          name="open311_service"),
    Route(f"{PREFIX}/requests.{{format}}", request_list, methods=["GET"],
          name="open311_requests"),
    Route(f"{PREFIX}/requests.{{format}}", post_request, methods=["POST"],
          name="open311_post"),
    Route(f"{PREFIX}/requests/{{request_id}}.{{format}}", one_request, methods=["GET"],
          name="open311_request"),
    Route(f"{PREFIX}/tokens/{{token}}.{{format}}", token, methods=["GET"],
          name="open311_token"),
]
