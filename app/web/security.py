"""CSRF tokens, cookies and per-client rate limits."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque

from starlette.requests import Request

CSRF_COOKIE = "ms_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "ms_session"


class CsrfFailed(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


def csrf_token(request: Request) -> str:
    """The visitor's token (double-submit cookie); a new one when there is none yet."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 43:
        token = request.state.__dict__.setdefault("new_csrf", secrets.token_urlsafe(32))
    return token


async def checked_form(request: Request):
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise CsrfFailed()
    return form


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RateLimiter:
    """A sliding window per (bucket, client). Per process: behind several processes the
    effective limit is the sum, which the reverse proxy's own limit should cap."""

    def __init__(self, per_minute: int, scale: dict[str, int] | None = None):
        self.per_minute = per_minute
        # Buckets allowed a multiple of the limit: reading public pages is cheap, and many
        # residents may share one carrier address.
        self.scale = scale or {}
        self.hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, bucket: str, client: str, cost: int = 1) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        window = self.hits[(bucket, client)]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) + cost > self.per_minute * self.scale.get(bucket, 1):
            raise RateLimited(max(1, int(60 - (now - window[0])) + 1))
        window.extend([now] * cost)
        if len(self.hits) > 100_000:  # bound memory against address churn
            self.hits.clear()
