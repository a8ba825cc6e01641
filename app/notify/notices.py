"""One function per notice: take the domain objects, render the mail, queue it.

Each one calls `enqueue` and so writes into the caller's open transaction: call them inside
the `in_transaction()` of the change the notice reports. Resident notices return whether a
row was queued; staff notices go to several recipients and return how many were queued.

A staff notice with a `dedupe_key` is queued once per (key, recipient): the row's key is the
given key plus a hash of the address, so running the sweep again, or two sweeps at once,
queues nothing more, and a recipient added later still gets theirs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from app.domain.masking import mask_free_text
from app.domain.types import TYPE_LABELS, AppealType
from app.models import Account, Appeal, Department
from app.notify import sms
from app.notify.outbox import DEDUPE_KEY_MAX, enqueue, render

_base_url = "http://127.0.0.1:8000"


def configure(base_url: str) -> None:
    """Where links in mails point (settings.base_url); called when the app or worker starts."""
    global _base_url
    _base_url = base_url.rstrip("/")


def base_url() -> str:
    return _base_url


def track_url() -> str:
    return f"{_base_url}/track"


def staff_url(tracking_number: str) -> str:
    return f"{_base_url}/staff/appeals/{tracking_number}"


# --- residents -------------------------------------------------------------------------


async def _resident_address(appeal: Appeal) -> str:
    if appeal.contact_email:
        return appeal.contact_email
    if appeal.resident_id:
        account = await Account.get_or_none(id=appeal.resident_id)
        if account is not None and account.email:
            return account.email
    return ""


async def _department_name(appeal: Appeal) -> str:
    if not appeal.department_id:
        return ""
    department = await Department.get_or_none(id=appeal.department_id)
    return department.name if department else ""


async def _to_resident(kind: str, template: str, to: str, **context: Any) -> bool:
    if not to:
        return False
    subject, text, html = render(template, **context)
    return await enqueue(kind=kind, to=to, subject=subject, text=text, html=html)


async def appeal_received(appeal: Appeal) -> bool:
    """The receipt: tracking number and how to track. Never the password. By mail and, to a
    mobile number, by SMS (app.notify.sms): True if either was queued."""
    texted = await sms.receipt(appeal, track_url())
    to = await _resident_address(appeal)
    return texted | await _to_resident(
        "receipt", "receipt", to,
        name=appeal.contact_name, tracking_number=appeal.tracking_number, title=appeal.title,
        submitted_at=appeal.submitted_at, due_at=appeal.reply_due_at,
        provisional=appeal.deadline_provisional, username=appeal.tracker_username or "",
        track_url=track_url(),
    )


async def appeal_replied(appeal: Appeal, *, redo_available: bool = True) -> bool:
    """"Your appeal was answered", with the reply; a 不满意 asks for a redo only if
    `redo_available` (the redo was not used yet)."""
    texted = await sms.replied(appeal, track_url())
    to = await _resident_address(appeal)
    return texted | await _to_resident(
        "replied", "replied", to,
        name=appeal.contact_name, tracking_number=appeal.tracking_number, title=appeal.title,
        department=await _department_name(appeal), reply=appeal.reply_text,
        replied_at=appeal.replied_at, track_url=track_url(), redo_available=redo_available,
    )


async def appeal_rejected(appeal: Appeal, reason: str, explanation: str) -> bool:
    """"Your appeal was not accepted" (不予受理), with the reason the resident may read."""
    to = await _resident_address(appeal)
    return await _to_resident(
        "rejected", "rejected", to,
        name=appeal.contact_name, tracking_number=appeal.tracking_number, title=appeal.title,
        reason=reason, explanation=explanation, track_url=track_url(),
    )


async def info_requested(appeal: Appeal, question: str) -> bool:
    """"A department asked you for more information", with the department's question."""
    texted = await sms.info_requested(appeal, track_url())
    to = await _resident_address(appeal)
    return texted | await _to_resident(
        "info_requested", "info_requested", to,
        name=appeal.contact_name, tracking_number=appeal.tracking_number, title=appeal.title,
        department=await _department_name(appeal), question=question, track_url=track_url(),
    )


async def verification(to: str, link: str, *, name: str = "", valid_hours: int = 24) -> bool:
    """The link that activates a resident account."""
    return await _to_resident("verification", "verification", to, name=name, link=link,
                              valid_hours=valid_hours)


async def password_reset(to: str, link: str, *, name: str = "", valid_hours: int = 2,
                         tracking_number: str | None = None) -> bool:
    """A password-reset link (an account, or a quick-channel appeal's tracking login)."""
    return await _to_resident("password_reset", "password_reset", to, name=name, link=link,
                              valid_hours=valid_hours, tracking_number=tracking_number)


# --- staff -----------------------------------------------------------------------------


def _addresses(recipients: Iterable[Any]) -> list[str]:
    """Addresses (strings, or objects with `.email`), without blanks and duplicates."""
    seen: dict[str, str] = {}
    for item in recipients:
        address = item if isinstance(item, str) else getattr(item, "email", "") or ""
        address = address.strip()
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


def recipient_key(dedupe_key: str, address: str) -> str:
    """The stored key of one recipient's copy of a keyed notice."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]
    key = f"{dedupe_key}>{digest}"
    if len(key) > DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key too long (at most {DEDUPE_KEY_MAX - 17} characters)")
    return key


def _masked(value: Any, key: str = "") -> Any:
    """What people wrote, with phones, mail addresses and ID numbers masked: staff mail never
    holds them in clear (links are left alone)."""
    if isinstance(value, str):
        return value if key.endswith("url") else mask_free_text(value)
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


async def _to_staff(kind: str, recipients: Iterable[Any], dedupe_key: str | None,
                    context: dict[str, Any]) -> int:
    subject, text, html = render(kind, **_masked(context))
    queued = 0
    for address in _addresses(recipients):
        key = recipient_key(dedupe_key, address) if dedupe_key else None
        queued += await enqueue(kind=kind, to=address, subject=subject, text=text, html=html,
                                dedupe_key=key)
    return queued


def _type_label(appeal_type: str) -> str:
    try:
        return TYPE_LABELS[AppealType(appeal_type)]
    except ValueError:
        return appeal_type


def _staff_context(appeal: Appeal, department: Department | None) -> dict[str, Any]:
    return {
        "tracking_number": appeal.tracking_number, "title": appeal.title,
        "type_label": _type_label(appeal.type),
        "department": department.name if department is not None else "承办部门",
        "staff_url": staff_url(appeal.tracking_number),
    }


async def deadline_warning(appeal: Appeal, department: Department | None,
                           recipients: Iterable[Any], due_at: datetime,
                           dedupe_key: str | None) -> int:
    """The reply deadline is near: to the handler(s) and the department head."""
    return await _to_staff("deadline_warning", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "due_at": due_at})


async def ack_late(appeal: Appeal, department: Department | None, recipients: Iterable[Any],
                   ack_due_at: datetime, dedupe_key: str | None) -> int:
    """Assigned but not acknowledged (签收) in time: to the handler(s) and department head."""
    return await _to_staff("ack_late", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "ack_due_at": ack_due_at})


async def overdue(appeal: Appeal, department: Department | None, recipients: Iterable[Any],
                  due_at: datetime, dedupe_key: str | None) -> int:
    """The reply is overdue: to the handler(s), the department head and the inspectors."""
    return await _to_staff("overdue", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "due_at": due_at})


def _digest_item(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        number = item["tracking_number"]
        return {"tracking_number": number, "title": item.get("title", ""),
                "due_at": item.get("due_at"), "url": item.get("url") or staff_url(number)}
    return {"tracking_number": item.tracking_number, "title": item.title,
            "due_at": item.reply_due_at, "url": staff_url(item.tracking_number)}


async def daily_digest(department: Department, due_soon: Sequence[Any], overdue: Sequence[Any],
                       day: date, recipients: Iterable[Any] | None = None,
                       dedupe_key: str | None = None) -> int:
    """One mail a day per department: what is due soon and what is overdue.

    Items are Appeals (their reply deadline is shown) or dicts with tracking_number, title,
    due_at. Recipients default to the department's mailbox; the key to
    `digest:<department id>:<day>`, so the digest of a day is queued once.
    """
    context = {
        "department": department.name, "day": day,
        "due_soon": [_digest_item(i) for i in due_soon],
        "overdue": [_digest_item(i) for i in overdue],
        "queue_url": f"{_base_url}/staff/queue",
    }
    recipients = [department.email] if recipients is None else recipients
    key = dedupe_key or f"digest:{department.id}:{day.isoformat()}"
    return await _to_staff("daily_digest", recipients, key, context)


async def supervision_issued(appeal: Appeal, department: Department | None,
                             recipients: Iterable[Any], reason: str, due_at: datetime,
                             dedupe_key: str | None) -> int:
    """督办 issued (or re-issued): to the department's mailbox and handlers."""
    return await _to_staff("supervision_issued", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "reason": reason,
                            "due_at": due_at})


async def supervision_escalated(appeal: Appeal, department: Department | None,
                                recipients: Iterable[Any], reason: str, due_at: datetime,
                                dedupe_key: str | None) -> int:
    """督办 unanswered past its deadline: to the department (head) and the inspectors."""
    return await _to_staff("supervision_escalated", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "reason": reason,
                            "due_at": due_at})


async def reminder(appeal: Appeal, department: Department | None, recipients: Iterable[Any],
                   note: str, sender: str) -> int:
    """催办: to the department holding the appeal. Each reminder is its own mail."""
    return await _to_staff("reminder", recipients, None,
                           {**_staff_context(appeal, department), "note": note,
                            "sender": sender, "due_at": appeal.reply_due_at})


async def review_requested(appeal: Appeal, department: Department | None,
                           heads: Iterable[Any], author: str, dedupe_key: str) -> int:
    """A reply waits for review (审核): to the department's heads."""
    return await _to_staff("review_requested", heads, dedupe_key,
                           {**_staff_context(appeal, department), "author": author,
                            "due_at": appeal.reply_due_at})


async def review_returned(appeal: Appeal, department: Department | None, author: Any,
                          author_name: str, head: str, note: str, dedupe_key: str) -> int:
    """The head returned a reply for revision: to the handler who wrote it, with the note."""
    return await _to_staff("review_returned", [author], dedupe_key,
                           {**_staff_context(appeal, department), "author": author_name,
                            "head": head, "note": note, "due_at": appeal.reply_due_at})


async def followup_reopened(appeal: Appeal, department: Department | None,
                            recipients: Iterable[Any], note: str, dedupe_key: str) -> int:
    """回访: the resident said the problem is not solved, and the appeal is the department's
    again with a new deadline."""
    return await _to_staff("followup_reopened", recipients, dedupe_key,
                           {**_staff_context(appeal, department), "note": note,
                            "due_at": appeal.reply_due_at})


def hotspot_url(hotspot_id: int) -> str:
    return f"{_base_url}/staff/hotspots/{hotspot_id}"


async def hotspot_found(hotspot: Any, region: str, recipients: Iterable[Any],
                        dedupe_key: str | None) -> int:
    """未诉先办: a hotspot's heat reached the threshold (app.services.hotspots), to the
    dispatchers and inspectors, once per hotspot. Figures and top words only, and the
    representative title masked: no resident's contact or name."""
    growth = (hotspot.appeal_count - hotspot.previous_count) / max(hotspot.previous_count, 1)
    return await _to_staff("hotspot_found", recipients, dedupe_key, {
        "label": hotspot.label, "words": list(hotspot.words or []), "title": hotspot.title,
        "region": region, "period_days": hotspot.period_days, "count": hotspot.appeal_count,
        "previous": hotspot.previous_count, "growth": growth, "people": hotspot.people,
        "departments": list(hotspot.departments or []), "heat": hotspot.heat,
        "hotspot_url": hotspot_url(hotspot.id), "list_url": f"{_base_url}/staff/hotspots",
    })
