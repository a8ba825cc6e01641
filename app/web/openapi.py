"""The OpenAPI 3.1 document of JSON API v1, generated from the route table of `app.web.api`
and the pydantic models the handlers parse requests and build answers with."""

from __future__ import annotations

import functools
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.domain.attachments import Kind
from app.schemas import appeals, responses
from app.schemas.base import REF_TEMPLATE, DocumentSchema

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024
AUTH_FAILURE_COST = 5  # a failed HTTP Basic attempt counts this many requests

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "Submission": appeals.Submission, "InfoSupplied": appeals.InfoSupplied,
    "Rating": appeals.Rating,
}
RESPONSE_MODELS: list[type[BaseModel]] = [responses.Catalog, responses.Receipt,
                                          responses.Appeal, responses.Error]


@functools.cache
def schemas() -> dict[str, Any]:
    """components.schemas: every request and response model, references resolved there."""
    wanted = [(m, "validation") for m in REQUEST_MODELS.values()]
    wanted += [(m, "serialization") for m in RESPONSE_MODELS]
    _, found = models_json_schema(wanted, ref_template=REF_TEMPLATE,
                                  schema_generator=DocumentSchema)
    defs = found["$defs"]
    # The error object stays written out inside Error, as clients have always read it.
    defs["Error"]["properties"]["error"] = defs.pop("ErrorBody")
    return defs


REQUEST_SCHEMAS = {name: schemas()[name] for name in REQUEST_MODELS}
SUBMISSION, INFO, RATING = (REQUEST_SCHEMAS[n] for n in ("Submission", "InfoSupplied", "Rating"))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(responses.Error)}}}


_RATE = {**_error("Too many requests from this client address; see Retry-After."),
         "headers": {"Retry-After": {"description": "Seconds to wait.",
                                     "schema": {"type": "integer", "minimum": 1}}}}
_NOT_YOURS = {
    **_error("No such appeal, no credentials, wrong credentials, or an appeal the caller "
             "does not own. All of these answer identically (same status, headers and "
             "body), so a caller learns nothing about which it was."),
    "headers": {"WWW-Authenticate": {
        "description": "Always `Basic realm=\"minsheng\", charset=\"UTF-8\"` on this 404.",
        "schema": {"type": "string"}}},
}
_BODY_ERRORS = {
    "400": _error("The body is not JSON (code bad_json) or not a JSON object (not_object)."),
    "413": _error(f"The body is larger than {MAX_BODY_BYTES} bytes (too_large)."),
    "415": _error("Content-Type is not application/json (charset, if given, utf-8)."),
    "422": _error("The JSON object breaks the schema (unknown_field, missing_field, "
                  "invalid_type, invalid) or the rules (invalid); `field` names the field."),
}
_TRACKING_PARAM = {"name": "tracking_number", "in": "path", "required": True,
                   "schema": {"type": "string", "examples": ["MS20250301-000123"]}}


_ATTACHMENT_PARAM = {"name": "attachment_id", "in": "path", "required": True,
                     "schema": {"type": "integer"}}
_FILE_ERRORS = {
    "400": _error("The body is not JSON (code bad_json) or not a JSON object (not_object), "
                  "or not valid multipart/form-data (bad_multipart)."),
    "413": _error(f"The body is larger than {MAX_BODY_BYTES} bytes, or (multipart) larger "
                  "than the attachments allow in all (too_large)."),
    "415": _error("Content-Type is not application/json (charset, if given, utf-8) or "
                  "multipart/form-data."),
    "422": _error("The JSON object breaks the schema (unknown_field, missing_field, "
                  "invalid_type, invalid) or the rules (invalid); a refused file is "
                  "`invalid` with `field` files; `field` names the field or part."),
}


def _multipart(body: type[BaseModel]) -> dict[str, Any]:
    return {
        "schema": {"type": "object", "required": ["json"], "properties": {
            "json": {**_ref(body), "description": "The same JSON object as an "
                                                  "application/json body."},
            "files": {"type": "array", "items": {"type": "string",
                                                 "contentMediaType": "application/octet-stream"},
                      "description": "Attachments: JPEG, PNG or WebP pictures or PDF files, "
                                     "at most MINSHENG_ATTACHMENT_MAX_FILES (default 5) of at "
                                     "most MINSHENG_ATTACHMENT_MAX_MB (default 5) MB each. The "
                                     "type is decided from the content; pictures are "
                                     "re-encoded without their metadata (EXIF, GPS)."}}},
        "encoding": {"json": {"contentType": "application/json"}},
    }


@dataclass(frozen=True)
class Operation:
    """What the document says about one route of `app.web.api.routes`, by route name."""

    operation_id: str
    summary: str
    ok: tuple[str, type[BaseModel] | None, str]  # status, body model (None: any), description
    description: str = ""
    body: type[BaseModel] | None = None
    tracking: bool = False  # HTTP Basic on an appeal's tracking number
    errors: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    files: bool = False  # the body may also come as multipart/form-data with files
    download: bool = False  # the answer is a stored file, not JSON
    parameters: list[dict[str, Any]] = field(default_factory=list)  # e.g. request headers

    def render(self) -> dict[str, Any]:
        status, model, said = self.ok
        schema = _ref(model) if model is not None else {"type": "object"}
        answer: dict[str, Any] = {"description": said,
                                  "content": {"application/json": {"schema": schema}}}
        if self.download:
            answer["content"] = {kind.value: {"schema": {"type": "string",
                                                         "contentMediaType": kind.value}}
                                 for kind in Kind}
        if self.headers:
            answer["headers"] = self.headers
        found: dict[str, Any] = {"operationId": self.operation_id, "summary": self.summary}
        if self.description:
            found["description"] = self.description
        found["security"] = [{"tracking": []}] if self.tracking else []
        if self.tracking:
            found["parameters"] = [_TRACKING_PARAM]
        if self.body is not None:
            found["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref(self.body)}}}
            if self.files:
                found["requestBody"]["content"]["multipart/form-data"] = _multipart(self.body)
        if self.download:
            found["parameters"] = [_TRACKING_PARAM, _ATTACHMENT_PARAM]
        if self.parameters:
            found["parameters"] = [*found.get("parameters", []), *self.parameters]
        body_errors = {**_BODY_ERRORS, **_FILE_ERRORS} if self.files else _BODY_ERRORS
        errors = {**(body_errors if self.body is not None else {}),
                  **({"404": _NOT_YOURS} if self.tracking else {}), **self.errors,
                  "429": _RATE}
        found["responses"] = {status: answer, **dict(sorted(errors.items()))}
        return found


IDEMPOTENCY_NOTE = (
    "Safe retries: send a header `Idempotency-Key` (1-200 visible ASCII characters, e.g. a "
    "UUID made once per appeal) and resend the identical request, with the same key, when "
    "the answer did not arrive (timeout, dropped connection, 5xx). Within 24 hours the same "
    "key with the same body stores nothing new and answers the first answer again: 201, the "
    "same tracking number and username, header `Idempotent-Replayed: true`; the password is "
    "null there (it is shown only once and never stored) and `password_recovery` says how to "
    "get a new one: the tracking reset at /track/reset with the tracking number and the "
    "contact e-mail given at submission (without an e-mail: the 12345 hotline). The same key "
    "with another body is refused with 409 (`field` Idempotency-Key). The body is compared "
    "as parsed JSON (key order and whitespace do not matter) plus, for multipart, each file's "
    "name and bytes. Only a stored submission is remembered: after a refusal (4xx) fix the "
    "body and send it again with the same key. After 24 hours a key counts as new. Replays "
    "count towards the rate limit.")
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes the submission safe to retry; see the operation's description.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200,
               "pattern": "^[\\x21-\\x7e]{1,200}$"},
}

OPERATIONS: dict[str, Operation] = {
    "api_catalog": Operation(
        "getCatalog", "Everything a submission form needs",
        ("200", responses.Catalog, "Types, regions, categories, hot topics, departments.")),
    "api_submit": Operation(
        "submitAppeal", "Submit an appeal (no account needed)",
        ("201", responses.Receipt, "Stored and routed."),
        description="Validated, numbered, stored and routed in one transaction. The "
                    "response carries the tracking credentials once; keep them.\n\n"
                    + IDEMPOTENCY_NOTE,
        body=appeals.Submission, files=True, parameters=[_IDEMPOTENCY_KEY],
        headers={"Location": {"schema": {"type": "string"},
                              "description": "The appeal's API URL."},
                 "Idempotent-Replayed": {
                     "schema": {"type": "string", "enum": ["true"]},
                     "description": "Present (true) when this is the stored first answer to "
                                    "an earlier request with the same Idempotency-Key."}},
        errors={"400": _error("The body is not JSON (code bad_json) or not a JSON object "
                              "(not_object), or not valid multipart/form-data "
                              "(bad_multipart), or the Idempotency-Key header is not 1-200 "
                              "visible ASCII characters or came twice (invalid, field "
                              "Idempotency-Key)."),
                "409": _error("The Idempotency-Key was used within 24 hours for a different "
                              "body (conflict, field Idempotency-Key); nothing was stored.")}),
    "api_show": Operation(
        "getAppeal", "Status, deadline, public timeline, reply",
        ("200", responses.Appeal, "The appeal as its owner sees it."), tracking=True),
    "api_info": Operation(
        "supplyInfo", "Supply the information a department asked for",
        ("200", responses.Appeal, "Supplied; the clock runs again."),
        body=appeals.InfoSupplied, tracking=True, files=True,
        errors={"409": _error("The appeal is not awaiting information "
                              "(illegal_transition), or changed meanwhile (conflict).")}),
    "api_rating": Operation(
        "rateReply", "Rate the reply",
        ("200", responses.Appeal, "Rated: closed, or reopened once for a redo."),
        body=appeals.Rating, tracking=True,
        errors={"409": _error("The appeal has no reply to rate, or its rating window has "
                              "closed (illegal_transition), or changed meanwhile "
                              "(conflict).")}),
    "api_consent_withdrawal": Operation(
        "withdrawConsent", "Withdraw the consent to publish",
        ("200", responses.Appeal, "Withdrawn (`public` false): never published from now on, "
                                  "and taken down if it was."),
        description="No body. The appeal's question and reply are published only with the "
                    "resident's consent, redacted and approved by staff; this withdraws it.",
        tracking=True,
        errors={"409": _error("The appeal has no consent to withdraw (illegal_transition), "
                              "or changed meanwhile (conflict).")}),
    "api_attachment": Operation(
        "getAttachment", "Download one of the appeal's attachments",
        ("200", None, "The file, as its stored type (Content-Disposition, nosniff, a "
                      "sandbox Content-Security-Policy)."),
        tracking=True, download=True),
    "api_openapi": Operation("getOpenAPI", "This document", ("200", None, "OpenAPI 3.1")),
}

DESCRIPTION = f"""\
JSON API v1 of 民声 Minsheng, for apps, mini-programs and 12345 phone agents.

* **Bodies** are JSON objects sent as `Content-Type: application/json` (UTF-8), at most
  {MAX_BODY_BYTES} bytes. Unknown fields are refused (422 `unknown_field`), never ignored;
  wrong JSON types are refused (422 `invalid_type`). Text must be valid Unicode without
  U+0000, and is trimmed before its length is checked. A refused request stores nothing.
* **Errors** are always `{{"error": {{"code", "message", "field"}}}}` with a 4xx status
  (`message` is Chinese; `field` names the request field to blame, or is null; `details`
  lists every field problem when there are several).
* **Authentication**: the tracking endpoints take HTTP Basic with either the tracking
  username and password issued by `POST /api/v1/appeals` (they open that appeal only), or
  a resident account that owns the appeal. Every failure — no credentials, wrong
  credentials, an unknown tracking number, someone else's appeal — answers the same `404`
  with the same body and the same `WWW-Authenticate: Basic` header, so nothing can be
  learnt from the answer. On the tracking endpoints this 404 comes before any check of the
  body, so a stranger never learns more than that.
* **No CSRF tokens**: the API sets and reads no cookies; credentials travel in every
  request, so a third-party page cannot ride on a browser's session.
* **Rate limits**: every endpoint is limited per client address (MINSHENG_RATE_LIMIT
  requests per minute; submission, tracking and the catalog/document each have their own
  budget, shared with the web pages' submission and login). A failed HTTP Basic attempt
  counts as {AUTH_FAILURE_COST} requests, so password guessing is slowed and then refused.
  Over the limit: `429` with `Retry-After` (seconds).
* **Attachments**: submission and information may instead be sent as
  `multipart/form-data`, the JSON object in a part `json` and files in parts `files`
  (stored with the appeal or the information, or not at all). Listed in the appeal's
  `attachments`, downloaded with the same credentials.
* **Safe retries**: `POST /api/v1/appeals` takes an `Idempotency-Key` header; a retry with
  the same key and body within 24 hours answers the first answer again (see that operation).
* Times are ISO 8601 with offset, in Asia/Shanghai.
"""


def paths(routes: list) -> dict[str, Any]:
    """One path item per route of the table; a route without an Operation is an error."""
    found: dict[str, Any] = {}
    for route in routes:
        operation = OPERATIONS[route.name].render()
        for method in sorted(route.methods - {"HEAD"}):
            found.setdefault(route.path, {})[method.lower()] = deepcopy(operation)
    return found


def document(routes: list) -> dict[str, Any]:
    """The whole document for `routes`, the route table of `app.web.api`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "民声 Minsheng API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths(routes),
        "components": {
            "schemas": deepcopy(schemas()),
            "securitySchemes": {"tracking": {
                "type": "http", "scheme": "basic",
                "description": "Tracking username/password of the appeal, or a resident "
                               "account that owns it."}},
        },
    }
