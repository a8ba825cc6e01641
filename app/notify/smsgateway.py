"""Sending SMS: to the operator's Kannel gateway over its HTTP sendsms interface, or to
.txt files when no gateway is configured (demo, development).

Kannel's smsbox takes `POST /cgi-bin/sendsms` with the text as a `text/plain; charset=UTF-8`
body and the other parameters in `X-Kannel-*` headers (username, password, to, from,
coding=2 for UCS-2, which carries Chinese). Unlike the GET form, that keeps the gateway
login, the number and the text out of the URL, and so out of every access log on the way.
Kannel answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery"); anything
else is an error the worker records and retries. Errors and log lines carry the outbox id
and kind, never a number or a text.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.notify.sms import mask_phones
from app.settings import Settings

log = logging.getLogger("minsheng.sms")
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
SENDSMS_PATH = "/cgi-bin/sendsms"


class SmsGatewayError(Exception):
    pass


def sendsms_url(configured: str) -> str:
    """SMS_KANNEL_URL may be the smsbox's address or its full sendsms URL."""
    url = configured.strip().rstrip("/")
    if urlsplit(url).path in ("", "/"):
        url += SENDSMS_PATH
    return url


class KannelTransport:
    """One HTTP client (keep-alive) per batch."""

    def __init__(self, settings: Settings):
        self.url = sendsms_url(settings.sms_kannel_url)
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=TIMEOUT)

    async def __aenter__(self) -> KannelTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def _headers(self, to: str) -> dict[str, str]:
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-Kannel-Username": self.settings.sms_user,
            "X-Kannel-Password": self.settings.sms_password,
            "X-Kannel-To": to,
            "X-Kannel-Coding": "2",
        }
        if self.settings.sms_from:
            headers["X-Kannel-From"] = self.settings.sms_from
        return headers

    async def send(self, to: str, text: str, outbox_id: int, kind: str) -> None:
        try:
            response = await self.client.post(self.url, content=text.encode("utf-8"),
                                              headers=self._headers(to))
        except httpx.HTTPError as exc:
            raise SmsGatewayError(_describe(type(exc).__name__, str(exc))) from None
        answer = " ".join(response.text.split())
        if response.status_code not in (200, 202):
            raise SmsGatewayError(_describe(f"HTTP {response.status_code}", answer))
        log.info("sms %s (%s) accepted by the gateway: %s", outbox_id, kind,
                 mask_phones(answer[:80]))


def _describe(what: str, detail: str) -> str:
    detail = mask_phones(" ".join(detail.split()))[:200]
    return f"{what}: {detail}" if detail else what


class FileTransport:
    """No gateway configured: each SMS becomes <var_dir>/sms/outbox-<id>.txt."""

    def __init__(self, settings: Settings):
        self.folder = Path(settings.var_dir) / "sms"

    async def __aenter__(self) -> FileTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, to: str, text: str, outbox_id: int, kind: str) -> None:
        path = self.folder / f"outbox-{outbox_id:08d}.txt"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(f"To: {to}\nKind: {kind}\n\n{text}\n", encoding="utf-8")
        os.replace(temporary, path)
        log.info("sms %s (%s) written to %s", outbox_id, kind, path.name)


def open_sms_transport(settings: Settings) -> KannelTransport | FileTransport:
    if settings.sms_kannel_url:
        return KannelTransport(settings)
    return FileTransport(settings)
