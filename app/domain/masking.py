"""Masking of personal data shown to staff."""

import re


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str | None) -> str:
    if not email:
        return ""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return f"{value[:3]}{'*' * max(len(value) - 7, 0)}{value[-4:]}" if len(value) > 7 else "****"


# Contacts written into free text (a title, a reply), most specific first: an e-mail, an
# 18-digit ID number, a mobile number (with +86 or separators), a landline with area code.
_IN_TEXT = re.compile(
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
    r"|(?<![\dA-Za-z])(?P<id>\d{17}[\dXx])(?![\dA-Za-z])"
    r"|(?<!\d)(?P<mobile>(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)"
    r"|(?<!\d)(?P<landline>0\d{2,3}[- ]?\d{7,8})(?!\d)"
)


def _mask_found(found: re.Match) -> str:
    if found["email"]:
        return mask_email(found["email"])
    if found["id"]:
        return mask_id_number(found["id"])
    if found["mobile"]:
        return mask_phone(re.sub(r"\D", "", found["mobile"])[-11:])
    return mask_phone(found["landline"])


def mask_free_text(text: str | None) -> str:
    """`text` with every phone number, e-mail address and ID number in it masked."""
    return _IN_TEXT.sub(_mask_found, text or "")
