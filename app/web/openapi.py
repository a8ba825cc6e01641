"""The OpenAPI 3.1 document of JSON API v1, and the request schemas the API enforces.

The request schemas below are not a description written after the fact: `app.web.api`
validates every request body against exactly these dictionaries (a small interpreter for
the keywords used here: type, enum, maxLength, pattern, required, additionalProperties).
Anything the document says about a body, the server does.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from app.domain.states import STATUS_LABELS
from app.domain.types import AppealType
from app.services.clocks import RATINGS

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024
AUTH_FAILURE_COST = 5  # a failed HTTP Basic attempt counts this many requests

# No U+0000 anywhere: PostgreSQL cannot store it, and no resident types it.
NO_NUL = "^[^\\u0000]*$"


def _text(max_length: int, description: str, *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length,
            "pattern": NO_NUL, "description": description}


SUBMISSION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "region", "title", "body"],
    "properties": {
        "type": {"type": "string", "enum": [t.value for t in AppealType],
                 "description": "诉求类型 appeal type (see catalog.types)."},
        "category": _text(50, "一级分类 first-level category name from catalog.categories; "
                              "null or empty lets the classifier decide.", nullable=True),
        "region": _text(12, "Region code from catalog.regions."),
        "title": _text(100, "标题; must not be blank after trimming."),
        "body": _text(5000, "内容; at least 10 characters after trimming."),
        "contact_name": _text(50, "姓名 (optional).", nullable=True),
        "contact_phone": _text(32, "电话; at least one of contact_phone and contact_email "
                                   "is required.", nullable=True),
        "contact_email": _text(254, "电子邮箱; at least one of contact_phone and "
                                    "contact_email is required.", nullable=True),
        "public": {"type": "boolean",
                   "description": "Whether the appeal may be published (default false)."},
        "named_unit": _text(40, "举报对象: the department code (catalog.departments) a report "
                                "is about; required when type is report, ignored otherwise.",
                            nullable=True),
    },
}

INFO: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": _text(2000, "补充内容: at least 5 characters after trimming."),
    },
}

RATING: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rating"],
    "properties": {
        "rating": {"type": "string", "enum": list(RATINGS),
                   "description": "满意 / 基本满意 / 不满意."},
        "reason": _text(2000, "Required (at least 5 characters) when rating is unsatisfied; "
                              "不满意 reopens the appeal once for a redo.", nullable=True),
    },
}

REQUEST_SCHEMAS = {"Submission": SUBMISSION, "InfoSupplied": INFO, "Rating": RATING}

_KEY_LABEL = {
    "type": "object", "additionalProperties": False, "required": ["key", "label"],
    "properties": {"key": {"type": "string"}, "label": {"type": "string"}},
}
_TIME = {"type": "string", "format": "date-time",
         "description": "ISO 8601 with offset, Asia/Shanghai (+08:00)."}
_NULLABLE_TIME = {**_TIME, "type": ["string", "null"]}

RESPONSE_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "additionalProperties": False, "required": ["error"],
        "properties": {"error": {
            "type": "object", "additionalProperties": False,
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "enum": [
                    "bad_json", "not_object", "unknown_field", "missing_field",
                    "invalid_type", "invalid", "illegal_transition", "conflict",
                    "not_found", "method_not_allowed", "unsupported_media_type",
                    "too_large", "rate_limited", "server_error"]},
                "message": {"type": "string", "description": "Chinese, for the resident."},
                "field": {"type": ["string", "null"],
                          "description": "The request field to blame, if any."},
                "details": {
                    "type": "array",
                    "description": "Every field problem found, when there are several.",
                    "items": {"type": "object", "additionalProperties": False,
                              "required": ["field", "message"],
                              "properties": {"field": {"type": "string"},
                                             "message": {"type": "string"}}},
                },
            },
        }},
    },
    "KeyLabel": _KEY_LABEL,
    "Catalog": {
        "type": "object", "additionalProperties": False,
        "required": ["types", "regions", "categories", "hot_topics", "departments"],
        "properties": {
            "types": {"type": "array", "items": {"$ref": "#/components/schemas/KeyLabel"}},
            "regions": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["code", "name", "parent", "level"],
                "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"},
                    "parent": {"type": ["string", "null"]},
                    "level": {"type": "string", "enum": ["province", "city", "county"]}}}},
            "categories": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "children"],
                "properties": {"name": {"type": "string"},
                               "children": {"type": "array", "items": {"type": "string"}}}}},
            "hot_topics": {"type": "array", "items": {"type": "string"}},
            "departments": {
                "type": "array", "description": "Units a report (举报) may name.",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["code", "name", "region"],
                          "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                         "region": {"type": "string"}}}},
        },
    },
    "Receipt": {
        "type": "object", "additionalProperties": False,
        "required": ["tracking_number", "username", "password", "status", "due_at",
                     "deadline_provisional", "department"],
        "properties": {
            "tracking_number": {"type": "string"},
            "username": {"type": "string", "description": "Tracking username (HTTP Basic)."},
            "password": {"type": "string",
                         "description": "Tracking password; shown this once, stored hashed."},
            "status": {"$ref": "#/components/schemas/Status"},
            "due_at": _NULLABLE_TIME,
            "deadline_provisional": {"type": "boolean"},
            "department": {"type": ["string", "null"]},
        },
    },
    "Status": {**_KEY_LABEL, "properties": {
        "key": {"type": "string", "enum": [s.value for s in STATUS_LABELS]},
        "label": {"type": "string"}}},
    "Appeal": {
        "type": "object", "additionalProperties": False,
        "required": ["tracking_number", "status", "type", "category", "region", "department",
                     "title", "body", "submitted_at", "due_at", "deadline_provisional",
                     "timeline", "reply", "info_request", "rating"],
        "properties": {
            "tracking_number": {"type": "string"},
            "status": {"$ref": "#/components/schemas/Status"},
            "type": {"$ref": "#/components/schemas/KeyLabel"},
            "category": {"type": ["string", "null"]},
            "region": {"type": "object", "additionalProperties": False,
                       "required": ["code", "name"],
                       "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
            "department": {"type": ["string", "null"]},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "submitted_at": _TIME,
            "due_at": _NULLABLE_TIME,
            "deadline_provisional": {"type": "boolean"},
            "timeline": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["kind", "label", "at"],
                "properties": {"kind": {"type": "string"}, "label": {"type": "string"},
                               "at": _TIME}}},
            "reply": {"oneOf": [{"type": "null"}, {
                "type": "object", "additionalProperties": False,
                "required": ["text", "replied_at"],
                "properties": {"text": {"type": "string"}, "replied_at": _NULLABLE_TIME}}]},
            "info_request": {"type": ["string", "null"],
                             "description": "What the department asked for, while the "
                                            "status is awaiting_info; else null."},
            "rating": {"type": ["string", "null"], "enum": [*RATINGS, None]},
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


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
_BASIC = [{"tracking": []}]


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema}"}}}}


PATHS: dict[str, Any] = {
    f"{API_PREFIX}/catalog": {"get": {
        "operationId": "getCatalog", "summary": "Everything a submission form needs",
        "security": [],
        "responses": {"200": _json("Catalog", "Types, regions, categories, hot topics, "
                                              "departments."),
                      "429": _RATE},
    }},
    f"{API_PREFIX}/appeals": {"post": {
        "operationId": "submitAppeal", "summary": "Submit an appeal (no account needed)",
        "description": "Validated, numbered, stored and routed in one transaction. The "
                       "response carries the tracking credentials once; keep them.",
        "security": [],
        "requestBody": _body("Submission"),
        "responses": {
            "201": {**_json("Receipt", "Stored and routed."),
                    "headers": {"Location": {"schema": {"type": "string"},
                                             "description": "The appeal's API URL."}}},
            **_BODY_ERRORS, "429": _RATE},
    }},
    f"{API_PREFIX}/appeals/{{tracking_number}}": {"get": {
        "operationId": "getAppeal", "summary": "Status, deadline, public timeline, reply",
        "security": _BASIC, "parameters": [_TRACKING_PARAM],
        "responses": {"200": _json("Appeal", "The appeal as its owner sees it."),
                      "404": _NOT_YOURS, "429": _RATE},
    }},
    f"{API_PREFIX}/appeals/{{tracking_number}}/info": {"post": {
        "operationId": "supplyInfo", "summary": "Supply the information a department asked for",
        "security": _BASIC, "parameters": [_TRACKING_PARAM], "requestBody": _body("InfoSupplied"),
        "responses": {"200": _json("Appeal", "Supplied; the clock runs again."),
                      **_BODY_ERRORS, "404": _NOT_YOURS,
                      "409": _error("The appeal is not awaiting information "
                                    "(illegal_transition), or changed meanwhile (conflict)."),
                      "429": _RATE},
    }},
    f"{API_PREFIX}/appeals/{{tracking_number}}/rating": {"post": {
        "operationId": "rateReply", "summary": "Rate the reply",
        "security": _BASIC, "parameters": [_TRACKING_PARAM], "requestBody": _body("Rating"),
        "responses": {"200": _json("Appeal", "Rated: closed, or reopened once for a redo."),
                      **_BODY_ERRORS, "404": _NOT_YOURS,
                      "409": _error("The appeal has no reply to rate (illegal_transition), "
                                    "or changed meanwhile (conflict)."),
                      "429": _RATE},
    }},
    f"{API_PREFIX}/openapi.json": {"get": {
        "operationId": "getOpenAPI", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "429": _RATE},
    }},
}

DESCRIPTION = f"""\
JSON API v1 of 民声 Minsheng, for apps, mini-programs and 12345 phone agents.

* **Bodies** are JSON objects sent as `Content-Type: application/json` (UTF-8), at most
  {MAX_BODY_BYTES} bytes. Unknown fields are refused (422 `unknown_field`), never ignored;
  wrong JSON types are refused (422 `invalid_type`). Text must be valid Unicode without
  U+0000. A refused request stores nothing.
* **Errors** are always `{{"error": {{"code", "message", "field"}}}}` with a 4xx status
  (`message` is Chinese; `field` names the request field to blame, or is null).
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
* Times are ISO 8601 with offset, in Asia/Shanghai.
"""


def document() -> dict[str, Any]:
    return deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "民声 Minsheng API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": PATHS,
        "components": {
            "schemas": {**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS},
            "securitySchemes": {"tracking": {
                "type": "http", "scheme": "basic",
                "description": "Tracking username/password of the appeal, or a resident "
                               "account that owns it."}},
        },
    })
