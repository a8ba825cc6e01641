"""Building and sending mail: SMTP through aiosmtplib, or .eml files when no server is set.

A transport is opened once per batch (`async with open_transport(settings) as t`) and sends
message after message on that connection. Errors propagate to the worker, which records
them; logs carry the outbox id and kind, never an address or a body.
"""

from __future__ import annotations

import logging
import os
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib

from app.notify.outbox import now_utc
from app.settings import Settings

log = logging.getLogger("minsheng.mail")
TLS_MODES = ("none", "starttls", "tls")
SENDER_NAME = "民声"
TIMEOUT = 30.0


class MailConfigError(Exception):
    pass


def _domain(address: str) -> str:
    _, addr = parseaddr(address)
    domain = addr.rpartition("@")[2]
    return domain or "minsheng.localhost"


def message_id(outbox_id: int, settings: Settings) -> str:
    """Stable for one outbox row, so a resend after a crash is recognisably the same mail."""
    return f"<outbox-{outbox_id}@{_domain(settings.mail_from)}>"


def _sender(settings: Settings) -> Address | str:
    name, addr = parseaddr(settings.mail_from)
    if not addr or "@" not in addr:
        return settings.mail_from
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name or SENDER_NAME, username=username, domain=domain)


def build_message(row: Any, settings: Settings) -> EmailMessage:
    """multipart/alternative (text, then HTML), UTF-8, headers RFC 2047-encoded as needed."""
    msg = EmailMessage()
    msg["From"] = _sender(settings)
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(now_utc())
    msg["Message-ID"] = message_id(row.id, settings)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Minsheng-Kind"] = row.kind
    msg.set_content(row.text_body, subtype="plain", charset="utf-8")
    msg.add_alternative(row.html_body, subtype="html", charset="utf-8")
    return msg


class Transport(Protocol):
    async def send(self, message: EmailMessage, outbox_id: int, kind: str) -> None: ...


class SmtpTransport:
    def __init__(self, settings: Settings):
        mode = (settings.smtp_tls or "none").strip().lower()
        if mode not in TLS_MODES:
            raise MailConfigError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}")
        self.client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=mode == "tls",
            start_tls=mode == "starttls",
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            timeout=TIMEOUT,
        )

    async def __aenter__(self) -> SmtpTransport:
        await self.client.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.client.is_connected:
                await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()

    async def send(self, message: EmailMessage, outbox_id: int, kind: str) -> None:
        if not self.client.is_connected:
            await self.client.connect()
        await self.client.send_message(message)


class FileTransport:
    """No SMTP server configured (demo): each mail becomes <var_dir>/mail/<id>.eml."""

    def __init__(self, settings: Settings):
        self.folder = Path(settings.var_dir) / "mail"

    async def __aenter__(self) -> FileTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, message: EmailMessage, outbox_id: int, kind: str) -> None:
        path = self.folder / f"outbox-{outbox_id:08d}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)
        log.info("mail %s (%s) written to %s", outbox_id, kind, path.name)


def open_transport(settings: Settings) -> SmtpTransport | FileTransport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings)


_ADDRESS = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")


def short_error(exc: BaseException, limit: int = 300) -> str:
    """What went wrong, briefly, with any address masked; never the message body."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({str(r.code) for r in exc.recipients})
        text = f"recipients refused ({', '.join(codes)})"
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
    else:
        text = str(exc)
    text = _ADDRESS.sub("***@***", " ".join(text.split()))
    result = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return result[:limit]
