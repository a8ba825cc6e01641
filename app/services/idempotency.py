"""Safe retries: a POST that creates an appeal and carries an `Idempotency-Key` header is
answered once; a retry with the same key and the same body within 24 hours gets the first
answer again (same tracking number, status 201, header `Idempotent-Replayed: true`), a retry
with the same key and another body is refused (409).

How a door uses it (app.web.api.submit; app.web.open311 the same way with its own scope
"open311:<client id>" and its own answer format):

    key = idempotency.parse_key(request.headers.getlist(idempotency.HEADER))  # BadKey: 400
    claim = None
    if key is not None:
        claim = idempotency.Claim("api", key, idempotency.fingerprint(
            value, await idempotency.file_digests(form)))
        replayed = await idempotency.replay(claim)  # KeyReused: 409; else stored or None
        if replayed is not None:
            return <replayed.body as replayed.status, header REPLAYED_HEADER: "true">
    submission = intake.validate(...)                # a refused body stores no record
    answer = await idempotency.submit(rules, submission, claim=claim, render=render,
                                      status=201, channel=..., attachments=...)
    return <answer.body as answer.status, REPLAYED_HEADER if answer.replayed>

`render(receipt, password)` builds the door's answer body (JSON-able) from an
intake.Receipt; it is called twice: with the password for the answer sent now, and with
`password=None` for the answer stored for retries, which must then carry
`password_recovery(receipt.appeal)` (how to get a new password: the tracking reset by the
contact mail, /track/reset) instead. The password is never stored.

Why it is safe: the record is inserted by intake.submit in the same transaction (on
PostgreSQL the same statement) as the appeal, its events and its receipt mail, under the
unique (scope, key). Concurrent retries each prepare a submission, then block on that unique
key until the first commits; they fail, roll back everything of theirs, and replay the first
answer. If the first rolls back instead, the next one goes through. A crash leaves both the
appeal and its record, or neither. (A retry that lost the race costs a tracking number:
numbers are reserved apart from the submission, as for any failed submission.)

Only successful answers are stored: a refused request can be fixed and sent again with the
same key. Records older than WINDOW are ignored (and deleted when their key comes again)
and purged by the worker (`purge`, by the created_at index).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from app.domain.types import Channel
from app.models import IdempotencyRecord
from app.rules import Rules
from app.services import intake
from app.services.errors import ServiceError
from app.services.workflow import now_utc

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WINDOW = timedelta(hours=24)
PURGE_SECONDS = 600.0
KEY_RE = re.compile(r"[\x21-\x7e]{1,200}")
FILE_CHUNK = 64 * 1024

Render = Callable[[intake.Receipt, str | None], Any]


class BadKey(ServiceError):
    """The header is not 1–200 visible ASCII characters (or came more than once): 400."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key 须为 1 至 200 个可见 ASCII 字符（不含空格），"
                         "且只能给出一个。", HEADER, "bad_key")


class KeyReused(ServiceError):
    """The key was used within 24 hours for another request body: 409."""

    def __init__(self) -> None:
        super().__init__("该 Idempotency-Key 已用于另一份不同的提交内容；"
                         "新的提交请使用新的 Idempotency-Key。", HEADER, "conflict")


@dataclass(frozen=True)
class Claim:
    scope: str  # "api", or "open311:<client id>" (at most 40 characters)
    key: str  # as parse_key returned it
    fingerprint: str  # fingerprint(...) of the request


@dataclass(frozen=True)
class Answer:
    body: Any  # what render returned (with the password), or the stored answer (without)
    status: int
    replayed: bool


def parse_key(values: Sequence[str] | str | None) -> str | None:
    """The key from the header's values (`request.headers.getlist(HEADER)`); None without
    the header; BadKey unless exactly one value of 1–200 visible ASCII characters."""
    if values is None or isinstance(values, str):
        values = [] if values is None else [values]
    if not values:
        return None
    if len(values) > 1 or not KEY_RE.fullmatch(values[0]):
        raise BadKey()
    return values[0]


def fingerprint(value: Any, files: Iterable[tuple[str, str]] = ()) -> str:
    """SHA-256 (hex) of the request's canonical form: its parsed JSON object (or a door's
    parsed fields) as JSON with sorted keys and no spaces, together with the attached files
    in order as (file name, SHA-256 of the bytes) — file_digests. Key order, whitespace and
    escapes do not matter; the same object sent as application/json or as the `json` part
    of a multipart form without files is the same request."""
    canonical = json.dumps({"object": value, "files": [list(f) for f in files]},
                           ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


async def file_digests(form: Any, field: str = "files") -> list[tuple[str, str]]:
    """(file name, SHA-256 hex of its bytes) of each file of a multipart form's `field`, in
    order; [] without a form. Each file is read through and rewound for its later reader."""
    if form is None:
        return []
    found = []
    for item in form.getlist(field):
        if isinstance(item, str):
            found.append(("", hashlib.sha256(item.encode("utf-8", "surrogatepass")).hexdigest()))
            continue
        digest = hashlib.sha256()
        await item.seek(0)
        while chunk := await item.read(FILE_CHUNK):
            digest.update(chunk)
        await item.seek(0)
        found.append((item.filename or "", digest.hexdigest()))
    return found


def password_recovery(appeal) -> str:
    """What a replayed answer says instead of the password (Chinese, for the resident)."""
    said = "查询密码只在第一次答复中显示，不会重复提供。"
    if appeal.contact_email:
        return (said + "如已遗失，请打开 /track/reset，填写受理编号和提交时留下的电子邮箱，"
                "按邮件中的链接生成新的查询密码。")
    return said + "本诉求没有留电子邮箱，无法在线找回查询密码，请拨打 12345 热线。"


async def replay(claim: Claim | None, *, at: datetime | None = None) -> Answer | None:
    """The stored answer of a live record of this claim's key (live: younger than WINDOW at
    `at`, default now); None if there is none (a stale one is deleted on the way);
    KeyReused if the key was used for another body."""
    if claim is None:
        return None
    found = await IdempotencyRecord.get_or_none(scope=claim.scope, key=claim.key)
    if found is None:
        return None
    cutoff = (at or now_utc()) - WINDOW
    if found.created_at <= cutoff:
        await IdempotencyRecord.filter(id=found.id, created_at__lte=cutoff).delete()
        return None
    if found.fingerprint != claim.fingerprint:
        raise KeyReused()
    return Answer(found.response, found.status_code, True)


async def submit(rules: Rules, submission: intake.Submission, *, claim: Claim | None,
                 render: Render, status: int = 201, resident=None,
                 at: datetime | None = None, channel: Channel = Channel.WEB,
                 attachments: list | None = None) -> Answer:
    """intake.submit, once per claim: the appeal and the claim's record in one transaction;
    or, when the key is already taken (now, or by a retry that was quicker), the first
    answer (`replayed`), or KeyReused. Without a claim, just intake.submit."""
    options = {"resident": resident, "at": at, "channel": channel, "attachments": attachments}
    if claim is None:
        receipt = await intake.submit(rules, submission, **options)
        return Answer(render(receipt, receipt.password), status, False)
    earlier = await replay(claim)
    if earlier is not None:
        return earlier

    def record(receipt: intake.Receipt) -> dict[str, Any]:
        return {"scope": claim.scope, "key": claim.key, "fingerprint": claim.fingerprint,
                "status_code": status, "response": render(receipt, None),
                "created_at": now_utc()}

    try:
        receipt = await intake.submit(rules, submission, idempotency=record, **options)
    except IntegrityError:
        earlier = await replay(claim)
        if earlier is None:
            raise
        return earlier
    return Answer(render(receipt, receipt.password), status, False)


async def purge(*, at: datetime | None = None) -> int:
    """Delete the records older than WINDOW (a periodic job of the worker); how many."""
    return await IdempotencyRecord.filter(created_at__lt=(at or now_utc()) - WINDOW).delete()
