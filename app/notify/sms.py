"""SMS notices to residents: the receipt, the request for information and the reply notice.

Each is one short text in Simplified Chinese (`templates/sms_*.txt`), queued in the outbox
with channel "sms" in the caller's transaction, exactly like mail, and sent by the same
worker. A text carries only the tracking number, the tracking username and the /track link:
never the password, and nothing the resident or a department wrote (a title, a question or a
reply may hold an ID number or somebody's phone number) — the resident reads those after
logging in. Texts go to mainland mobile numbers only; a landline gets none.
"""

from __future__ import annotations

import re
from typing import Any

from app.models import Appeal
from app.notify.outbox import enqueue, env

# One SMS holds 70 UCS-2 characters; a longer text goes in parts of 67.
SEGMENT = 70
PART = 67
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")


def mobile_number(phone: str | None) -> str:
    """The 11-digit mainland mobile number `phone` is, or "" (landlines, anything else)."""
    digits = _SEPARATORS.sub("", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    return digits if _MOBILE.fullmatch(digits) else ""


def mask_phones(text: str) -> str:
    """`text` with every mobile number in it masked (for log lines and stored errors)."""
    return _PHONE_IN_TEXT.sub(lambda m: f"{m[0][:-11]}{m[0][-11:-8]}****{m[0][-4:]}", text)


def segments(text: str) -> int:
    """How many SMS the text takes in UCS-2."""
    return 1 if len(text) <= SEGMENT else -(-len(text) // PART)


def render_text(template: str, **context: Any) -> str:
    """`templates/sms_<template>.txt` on one line."""
    return " ".join(env.get_template(f"sms_{template}.txt").render(**context).split())


async def _queue(kind: str, appeal: Appeal, track_url: str, *, dedupe_key: str | None = None,
                 **context: Any) -> bool:
    to = mobile_number(appeal.contact_phone)
    if not to:
        return False
    text = render_text(kind, tracking_number=appeal.tracking_number, track_url=track_url,
                       **context)
    return await enqueue(kind=kind, to=to, subject="", text=text, html="",
                         dedupe_key=dedupe_key, channel="sms")


async def receipt(appeal: Appeal, track_url: str) -> bool:
    """Tracking number and username; the password is never sent. Queued once per appeal."""
    return await _queue("receipt", appeal, track_url,
                        dedupe_key=f"sms:receipt:{appeal.tracking_number}",
                        username=appeal.tracker_username or "")


async def info_requested(appeal: Appeal, track_url: str) -> bool:
    return await _queue("info_requested", appeal, track_url)


async def replied(appeal: Appeal, track_url: str) -> bool:
    return await _queue("replied", appeal, track_url)
