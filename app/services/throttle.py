"""Login back-off: one throttle for every door that checks a password — the staff and
resident login forms, the tracking login and the API's HTTP Basic.

Failures are counted per login name (hashed), in the database, so every app process and
every door sees the same count: a name locked on the web form is locked on the API, and
the other way round. Each failure past the free ones doubles the wait before the next
attempt is even checked. A name that does not exist is counted like one that does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.models import LoginThrottle
from app.services.secrets import hash_token
from app.services.workflow import now_utc

FREE_FAILURES = 5
MAX_LOCK = timedelta(minutes=15)
# A name with no failure for this long starts again with its free attempts: past MAX_LOCK the
# count only keeps the lock at its longest, and the rows of every name a stranger ever tried
# would otherwise be kept for ever.
FORGET_AFTER = timedelta(days=1)
PURGE_SECONDS = 3600.0
T = TypeVar("T")


class LoginLocked(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def account_name(username: str) -> str:
    """The name an account's password is counted under (staff and residents alike)."""
    return username.strip().lower()


def tracking_name(username: str) -> str:
    """The name a tracking login (quick channel) is counted under."""
    return f"track:{username.strip().lower()}"


def key(name: str) -> str:
    return hash_token(f"login:{name}")


def lock_for(failures: int) -> timedelta | None:
    if failures <= FREE_FAILURES:
        return None
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_LOCK)


async def check(*names: str, now: datetime | None = None) -> None:
    """Raise LoginLocked while any of the names is locked."""
    now = now or now_utc()
    until = await LoginThrottle.filter(key__in=[key(n) for n in names], locked_until__gt=now) \
        .values_list("locked_until", flat=True)
    if until:
        raise LoginLocked(int((max(until) - now).total_seconds()) + 1)


async def failed(*names: str) -> None:
    now = now_utc()
    for name in names:
        await _count_failure(key(name), now)


async def _count_failure(row_key: str, now: datetime) -> None:
    try:
        await LoginThrottle.get_or_create(key=row_key, defaults={"last_failed_at": now})
    except IntegrityError:
        pass  # created by a concurrent failure a moment ago
    async with in_transaction():
        row = await LoginThrottle.get_or_none(key=row_key).select_for_update()
        if row is not None:
            failures = row.failures + 1
            lock = lock_for(failures)
            await LoginThrottle.filter(key=row_key).update(
                failures=failures, locked_until=now + lock if lock else None,
                last_failed_at=now)
            return
    # Forgotten by the purge between the two steps (it had been quiet for a day): count anew.
    await _count_failure(row_key, now)


async def forget(*names: str) -> None:
    """A right password, or a new one: the count starts again."""
    await LoginThrottle.filter(key__in=[key(n) for n in names]).delete()


async def purge(*, at: datetime | None = None) -> int:
    """Forget the names that have not failed for FORGET_AFTER and are not locked (a periodic
    job of the worker); how many."""
    now = at or now_utc()
    quiet = Q(last_failed_at__lt=now - FORGET_AFTER) | Q(last_failed_at__isnull=True)
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    return await LoginThrottle.filter(quiet & unlocked).delete()


async def attempt(names: Iterable[str], verify: Callable[[], Awaitable[T | None]]) -> T | None:
    """Check the lock, verify, and count the outcome under every name given."""
    names = tuple(names)
    await check(*names)
    found = await verify()
    if found is None:
        await failed(*names)
    else:
        await forget(*names)
    return found
