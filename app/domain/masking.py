"""Masking of personal data shown to staff."""

import re
from dataclasses import dataclass


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


KIND_LABELS = {"email": "邮箱", "id": "身份证号", "mobile": "手机号", "landline": "电话"}


@dataclass(frozen=True)
class Found:
    """One piece of personal data in a text: its kind, where it is, and how it is masked."""

    kind: str  # a key of KIND_LABELS
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        if self.kind == "email":
            return mask_email(self.value)
        if self.kind == "id":
            return mask_id_number(self.value)
        if self.kind == "mobile":
            return mask_phone(re.sub(r"\D", "", self.value)[-11:])
        return mask_phone(self.value)


def find_personal_data(text: str | None) -> list[Found]:
    """Every phone number, e-mail address and ID number in `text`, in order: the one
    detector for what staff see masked and what is redacted before anything is published."""
    return [Found(next(k for k, v in m.groupdict().items() if v), m.start(), m.end(), m[0])
            for m in _IN_TEXT.finditer(text or "")]


def mask_free_text(text: str | None) -> str:
    """`text` with every phone number, e-mail address and ID number in it masked."""
    text = text or ""
    parts, last = [], 0
    for found in find_personal_data(text):
        parts += [text[last:found.start], found.masked]
        last = found.end
    return "".join(parts) + text[last:]
