"""Published replies (公开答复): the approval workflow.

1. An appeal enters the queue once answered (replied or closed) when its resident agreed to
   publish (Appeal.is_public, the form's 同意公开), it is not a report (举报 are never
   published) and it has no publication yet, or its reply changed since the approved one
   (a redo's new reply: flagged 答复已更新; the publication keeps the approved text until
   someone approves again).
2. `draft` redacts title, question and reply automatically (app.domain.redaction).
3. A dispatcher or an inspector reads the draft beside the original, corrects it and
   approves: `approve` checks the edited text again (no phone, ID, mail, plate or long number,
   nor the resident's own name, phone or mail, may remain) and writes the Publication row
   (status "published") and the appeal's event (kind "published") in one transaction.
4. `unpublish` (an approver, with a reason) and `withdraw_consent` (the resident, at any
   time; before publication it keeps the appeal out of the queue) set status "unpublished",
   each with its event.

Public pages, feeds, open data and Open311 read only Publication rows with status
"published": the appeal's own text never reaches them.
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain import redaction
from app.domain.search_text import grams
from app.domain.states import ANSWERED, Event
from app.domain.types import AppealType
from app.models import Appeal, Publication
from app.services.detectors import Sql
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.lists import PAGE_SIZE, read_seek_cursor, seek_cursor
from app.services.workflow import RESIDENT, Actor, now_utc, transition

PUBLISHED = "published"
UNPUBLISHED = "unpublished"
TITLE_MAX = 100
REASON_MAX = 200
UPDATED_FLAG = "答复已更新"
FIELDS = {"title": "标题", "question": "诉求内容", "reply": "答复"}
NOT_ANSWERED = "该诉求尚未答复，不能公开。"
REPORT_REFUSED = "举报类诉求一律不公开。"
NO_CONSENT = "群众未同意公开（或已撤回同意），不能公开。"
NOT_PUBLISHED = "该诉求的答复目前未公开。"
NO_CONSENT_TO_WITHDRAW = "该诉求未同意公开，无需撤回。"
REASON_ERROR = "请填写撤下的理由。"
REPLY_CHANGED = "答复已更新，请刷新页面，按新的答复重新审核。"
REASON_TOO_LONG = f"理由最多 {REASON_MAX} 个字。"


@dataclass(frozen=True)
class Draft:
    """The auto-redacted text of an appeal, and what was taken out of each part."""

    title: str
    question: str
    reply: str
    spans: dict[str, list[redaction.Span]]


@dataclass
class QueueItem:
    appeal: Appeal
    updated: bool  # published before, the reply changed since


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int
    next_after: str | None


def refusal(appeal: Appeal) -> str | None:
    """Why `appeal` cannot be published now (None: it can)."""
    if appeal.type == AppealType.REPORT:
        return REPORT_REFUSED
    if not appeal.is_public:
        return NO_CONSENT
    if appeal.status not in ANSWERED or not appeal.reply_text:
        return NOT_ANSWERED
    return None


def known_names(appeal: Appeal) -> set[str]:
    """Names to redact wherever they stand in the appeal's texts: the resident's own, and
    every name found in one of them (我叫王五 in the question, 王五 again in the reply)."""
    names = {appeal.contact_name.strip()} if len(appeal.contact_name.strip()) >= 2 else set()
    for text in (appeal.title, appeal.body, appeal.reply_text):
        names |= redaction.names_in(text)
    return names


def draft(appeal: Appeal) -> Draft:
    """The appeal's title, question and current reply, redacted automatically."""
    parts = {"title": appeal.title, "question": appeal.body, "reply": appeal.reply_text}
    known = known_names(appeal)
    redacted = {key: redaction.redact(text, known) for key, text in parts.items()}
    return Draft(redacted["title"][0], redacted["question"][0], redacted["reply"][0],
                 {key: found[1] for key, found in redacted.items()})


def _own_values(appeal: Appeal) -> list[tuple[str, str]]:
    return redaction.own_values(appeal.contact_name, appeal.contact_email, appeal.contact_phone)


def check_text(appeal: Appeal, texts: dict[str, str]) -> dict[str, str]:
    """Field errors (in Chinese) for an approver's edited title, question and reply."""
    errors: dict[str, str] = {}
    own = _own_values(appeal)
    for key, text in texts.items():
        if not text.strip():
            errors[key] = f"请填写{FIELDS[key]}。"
            continue
        if key == "title" and len(text) > TITLE_MAX:
            errors[key] = f"标题最多 {TITLE_MAX} 个字（含替换标记）。"
            continue
        left = redaction.leftovers(text)
        if left:
            kinds = "、".join(dict.fromkeys(redaction.KIND_LABELS[s.kind] for s in left))
            errors[key] = (f"{FIELDS[key]}中仍有{kinds}（第 {left[0].start + 1} 个字起），"
                           "请删除或改为替换标记后再发布。")
            continue
        label = redaction.own_value_in(text, own)
        if label:
            errors[key] = f"{FIELDS[key]}中仍有{label}，请删除后再发布。"
    return errors


def _refuse_unless_publishable(appeal: Appeal) -> None:
    said = refusal(appeal)
    if said is not None:
        code = "forbidden" if said in (REPORT_REFUSED, NO_CONSENT) else "illegal_transition"
        raise ServiceError(said, None, code)


def _counts(texts: dict[str, str]) -> dict[str, int]:
    """How many marks of each kind the published text holds (the event's data)."""
    counts: dict[str, int] = {}
    for kind, mark in redaction.MARKS.items():
        n = sum(text.count(mark) for text in texts.values())
        if n:
            counts[kind] = n
    return counts


async def approve(appeal: Appeal, actor: Actor, title: str, question: str, reply: str, *,
                  seen_replied_at: datetime | None = None) -> Publication:
    """Publish the approver's (edited) redacted text of `appeal`. Refused: a report, no
    consent, no reply (ServiceError); personal data left in the text (ValidationFailed);
    a reply newer than the one the approver read (`seen_replied_at`: Conflict)."""
    _refuse_unless_publishable(appeal)
    if seen_replied_at is not None and seen_replied_at != appeal.replied_at:
        raise Conflict(REPLY_CHANGED)
    texts = {"title": title.strip(), "question": question.strip(), "reply": reply.strip()}
    errors = check_text(appeal, texts)
    if errors:
        raise ValidationFailed(errors)
    at = now_utc()
    row = {"status": PUBLISHED, **texts, "type": appeal.type,
           "department_id": appeal.department_id, "region_id": appeal.region_id,
           "category_id": appeal.category_id, "submitted_at": appeal.submitted_at,
           "replied_at": appeal.replied_at, "published_at": at,
           "approved_by": actor.account, "approver_label": actor.label, "updated_at": at,
           "search_grams": grams(texts["title"], f"{texts['question']} {texts['reply']}")}
    try:
        async with in_transaction():
            # The appeal's row first: a consent withdrawn meanwhile makes this a Conflict.
            await transition(appeal, Event.PUBLISH, actor, at=at, guard={"is_public": True},
                             note="答复经审核后公开发布（已隐去个人信息）",
                             data={"marks": _counts(texts)})
            found = await Publication.select_for_update().get_or_none(appeal_id=appeal.id)
            if found is None:
                found = await Publication.create(appeal_id=appeal.id, **row)
            else:
                await found.update_from_dict(row).save()
    except IntegrityError:  # another approver created it at the same moment
        raise Conflict() from None
    return found


def reason_of(text: str) -> str:
    reason = (text or "").strip()
    if not reason or "\x00" in reason:
        raise ValidationFailed({"reason": REASON_ERROR})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": REASON_TOO_LONG})
    return reason


async def _take_down(appeal: Appeal, at: datetime) -> int:
    return await Publication.filter(appeal_id=appeal.id, status=PUBLISHED) \
        .update(status=UNPUBLISHED, updated_at=at)


async def unpublish(appeal: Appeal, actor: Actor, reason: str) -> None:
    """Take the publication of `appeal` down, with the approver's reason on the trail."""
    reason = reason_of(reason)
    at = now_utc()
    async with in_transaction():
        if await _take_down(appeal, at) != 1:
            raise ServiceError(NOT_PUBLISHED, None, "illegal_transition")
        await transition(appeal, Event.UNPUBLISH, actor, at=at, note=f"撤下公开答复：{reason}",
                         data={"reason": reason})


async def withdraw_consent(appeal: Appeal) -> bool:
    """The resident withdraws consent: never published from now on, taken down if it was.
    True if a publication was taken down."""
    if not appeal.is_public:
        raise ServiceError(NO_CONSENT_TO_WITHDRAW, None, "illegal_transition")
    at = now_utc()
    async with in_transaction():
        await transition(appeal, Event.CONSENT_WITHDRAWN, RESIDENT, at=at,
                         guard={"is_public": True}, changes={"is_public": False},
                         note="群众撤回公开同意")
        taken_down = await _take_down(appeal, at) == 1
    return taken_down


async def publication_of(appeal: Appeal) -> Publication | None:
    return await Publication.get_or_none(appeal_id=appeal.id)


# --- the queue -----------------------------------------------------------------------------

def _waiting(sql: Sql) -> str:
    """SQL (aliases `a`, `p`): answered, consented, not a report, not yet published or
    answered again since."""
    answered = ", ".join(f"'{s.value}'" for s in sorted(ANSWERED))
    # `a.is_public AND a.type <> 'report'` word for word as the partial index of migration
    # 0016 says it, so both engines can prove the index covers the query.
    return (f"a.status IN ({answered}) AND a.is_public AND a.type <> 'report' "
            "AND a.reply_text <> '' "
            "AND (p.id IS NULL OR p.replied_at < a.replied_at)")


def _cursor(appeal: Appeal) -> str:
    return seek_cursor(appeal.replied_at, appeal.id)


async def queue(after: str | None = None, size: int = PAGE_SIZE) -> QueuePage:
    """What waits for approval, the longest-answered first, a page after the cursor
    `after` (ValueError for a cursor this list did not make)."""
    seek = read_seek_cursor(after)
    sql = Sql()
    where = _waiting(sql)
    tables = "appeal a LEFT JOIN publication p ON p.appeal_id = a.id"
    db = connections.get("default")
    counted = await db.execute_query_dict(f"SELECT COUNT(*) AS n FROM {tables} WHERE {where}",
                                          list(sql.params))
    if seek is not None:
        where += (f" AND a.replied_at >= {sql.param(seek[0])} AND (a.replied_at > "
                  f"{sql.param(seek[0])} OR a.id > {sql.param(seek[1])})")
    rows = await db.execute_query_dict(
        f"SELECT a.id, p.id AS publication_id FROM {tables} WHERE {where} "
        f"ORDER BY a.replied_at, a.id LIMIT {int(size) + 1}", sql.params)
    ids = [int(r["id"]) for r in rows]
    before = {int(r["id"]) for r in rows if r["publication_id"] is not None}
    found = {a.id: a for a in await Appeal.filter(id__in=ids[:size])
             .prefetch_related("department")}
    items = [QueueItem(found[i], i in before) for i in ids[:size] if i in found]
    more = len(ids) > size and items
    return QueuePage(items, int(counted[0]["n"]),
                     _cursor(items[-1].appeal) if more else None)
