"""Bodies the JSON API answers with. Handlers build every answer through these models, and
the OpenAPI document publishes the same models, so the two cannot drift apart."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.domain import states
from app.domain.attachments import Kind
from app.schemas.appeals import RatingKey
from app.schemas.base import Output

AttachmentKind = Literal[tuple(k.value for k in Kind)]  # type: ignore[valid-type]
StatusKey = Literal[tuple(s.value for s in states.Status)]  # type: ignore[valid-type]
ErrorCode = Literal["bad_json", "bad_multipart", "not_object", "unknown_field",
                    "missing_field", "invalid_type", "invalid", "illegal_transition",
                    "conflict", "not_found",
                    "method_not_allowed", "unsupported_media_type", "too_large",
                    "rate_limited", "server_error"]
TIME_NOTE = "ISO 8601 with offset, Asia/Shanghai (+08:00)."
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description=TIME_NOTE)]
NullableTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"},
                                           description=TIME_NOTE)]


class KeyLabel(Output):
    key: str
    label: str


class Status(Output):
    key: StatusKey
    label: str


class CatalogRegion(Output):
    code: str
    name: str
    parent: str | None
    level: Literal["province", "city", "county"]


class CatalogCategory(Output):
    name: str
    children: list[str]


class CatalogDepartment(Output):
    code: str
    name: str
    region: str


class Catalog(Output):
    types: list[KeyLabel]
    regions: list[CatalogRegion]
    categories: list[CatalogCategory]
    hot_topics: list[str]
    departments: Annotated[list[CatalogDepartment],
                           Field(description="Units a report (举报) may name.")]


class Receipt(Output):
    tracking_number: str
    username: Annotated[str, Field(description="Tracking username (HTTP Basic).")]
    password: Annotated[str | None, Field(
        description="Tracking password; shown this once, stored hashed. Null in an answer "
                    "replayed for an Idempotency-Key (see password_recovery).")]
    status: Status
    due_at: NullableTime
    deadline_provisional: bool
    department: str | None
    password_recovery: Annotated[str | None, Field(
        description="Null when the password is shown. In a replayed answer (header "
                    "Idempotent-Replayed: true): how to get a new password (Chinese) - the "
                    "tracking reset at /track/reset with the tracking number and the contact "
                    "e-mail given at submission.")] = None


class Region(Output):
    code: str
    name: str


class TimelineEntry(Output):
    kind: str
    label: str
    at: Time


class Reply(Output):
    text: str
    replied_at: NullableTime


class Rejection(Output):
    reason: Annotated[str, Field(description="不予受理 reason key: no_substance, "
                                             "out_of_scope, other_channel, duplicate, other.")]
    label: str
    explanation: str


class AttachmentInfo(Output):
    id: int
    name: Annotated[str, Field(description="The name it was sent under, made safe, ending "
                                           "as its real type does.")]
    type: Annotated[AttachmentKind, Field(description="Decided from the content.")]
    size: Annotated[int, Field(description="Bytes, as stored (pictures re-encoded).")]
    occasion: Literal["submission", "info", "reply"]
    created_at: Time
    url: Annotated[str, Field(description="Download it here, with the same credentials.")]


class Appeal(Output):
    tracking_number: str
    status: Status
    type: KeyLabel
    category: str | None
    region: Region
    department: str | None
    title: str
    body: str
    submitted_at: Time
    due_at: NullableTime
    deadline_provisional: bool
    timeline: list[TimelineEntry]
    reply: Annotated[Reply | None, Field(description="The current reply, if any.")]
    replies: Annotated[list[Reply], Field(
        description="Every reply given, oldest first: a redo adds one, it never overwrites "
                    "the first.")]
    info_request: Annotated[str | None, Field(
        description="What the department asked for, while the status is awaiting_info; "
                    "else null.")]
    rating: RatingKey | None
    rejection: Annotated[Rejection | None, Field(
        description="Why the appeal was not accepted (不予受理), when the status is "
                    "rejected; else null.")]
    attachments: Annotated[list[AttachmentInfo], Field(
        description="Files the resident sent and those the department sent with its reply, "
                    "oldest first.")]
    public: Annotated[bool, Field(
        description="The resident agrees to publish the question and the reply (redacted "
                    "and approved by staff first; reports never). POST "
                    ".../consent-withdrawal withdraws it.")] = False


class FieldProblem(Output):
    field: str
    message: str


class ErrorBody(Output):
    code: ErrorCode
    message: Annotated[str, Field(description="Chinese, for the resident.")]
    field: Annotated[str | None, Field(description="The request field to blame, if any.")]
    details: Annotated[list[FieldProblem], Field(
        description="Every field problem found, when there are several.")] = None


class Error(Output):
    error: ErrorBody
