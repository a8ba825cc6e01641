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
