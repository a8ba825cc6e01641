"""Resident accounts: registration with a verified mail address, password reset, the
tracking-password reset of the quick channel, and login back-off shared by all processes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain.types import Role
from app.models import Account, Appeal, LoginThrottle, OneTimeToken
from app.notify import notices
from app.services.accounts import PASSWORD_MIN, hash_password
from app.services.errors import ServiceError, ValidationFailed
from app.services.intake import EMAIL_RE, PHONE_RE
from app.services.secrets import generate_password, hash_token
from app.services.workflow import now_utc

LIFETIME = {"verify": timedelta(hours=24), "reset": timedelta(hours=2),
            "tracking_reset": timedelta(hours=2)}
FREE_FAILURES = 5
MAX_LOCK = timedelta(minutes=15)


class LoginLocked(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


async def _issue(purpose: str, *, account: Account | None = None,
                 appeal: Appeal | None = None) -> str:
    token = secrets.token_urlsafe(32)
    await OneTimeToken.create(purpose=purpose, token_hash=hash_token(token), account=account,
                              appeal=appeal, expires_at=now_utc() + LIFETIME[purpose])
    return token


async def _spend(purpose: str, token: str) -> OneTimeToken | None:
    """Use a token once: the conditional update is the guard against a double click."""
    if not token or len(token) > 100:
        return None
    found = await OneTimeToken.get_or_none(token_hash=hash_token(token), purpose=purpose,
                                           used_at=None, expires_at__gt=now_utc())
    if found is None:
        return None
    spent = await OneTimeToken.filter(id=found.id, used_at=None).update(used_at=now_utc())
    return found if spent == 1 else None


def _link(path: str, token: str) -> str:
    return f"{notices.base_url()}{path}?token={token}"


async def register(email: str, password: str, phone: str = "", name: str = "") -> None:
    """Create an inactive account and mail the link that activates it. An address that is
    already registered gets the same answer and no account, so nobody learns who is here."""
    email, phone, name = email.strip().lower(), phone.strip(), name.strip()
    errors = {}
    if not EMAIL_RE.match(email):
        errors["email"] = "请填写有效的电子邮箱。"
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = "电话号码格式不正确。"
    if len(password) < PASSWORD_MIN:
        errors["password"] = f"密码至少 {PASSWORD_MIN} 位。"
    if len(name) > 50:
        errors["name"] = "称呼不能超过 50 个字。"
    if errors:
        raise ValidationFailed(errors)
    if await Account.exists(username=email):
        return
    async with in_transaction():
        account = await Account.create(username=email, email=email, phone=phone or None,
                                       display_name=name, role=Role.RESIDENT.value,
                                       password_hash=await hash_password(password), is_active=False)
        token = await _issue("verify", account=account)
        await notices.verification(email, _link("/account/verify", token), name=name)


async def verify(token: str) -> Account | None:
    async with in_transaction():
        spent = await _spend("verify", token)
        if spent is None:
            return None
        await Account.filter(id=spent.account_id).update(is_active=True)
        return await Account.get(id=spent.account_id)


async def request_reset(email: str) -> None:
    account = await Account.get_or_none(username=email.strip().lower(), role=Role.RESIDENT,
                                        is_active=True)
    if account is None:
        return
    async with in_transaction():
        token = await _issue("reset", account=account)
        await notices.password_reset(account.email, _link("/account/reset/confirm", token),
                                     name=account.display_name)


async def reset_password(token: str, password: str) -> bool:
    if len(password) < PASSWORD_MIN:
        raise ServiceError(f"密码至少 {PASSWORD_MIN} 位。", "password")
    async with in_transaction():
        spent = await _spend("reset", token)
        if spent is None:
            return False
        await Account.filter(id=spent.account_id).update(
            password_hash=await hash_password(password))
        await LoginThrottle.filter(key=_throttle_key(
            (await Account.get(id=spent.account_id)).username)).delete()
    return True


async def request_tracking_reset(tracking_number: str, email: str) -> None:
    """Only the mail address given at submission can get new tracking credentials."""
    email = email.strip().lower()
    appeal = await Appeal.get_or_none(tracking_number=tracking_number.strip().upper())
    if appeal is None or not email or appeal.contact_email.strip().lower() != email:
        return
    async with in_transaction():
        token = await _issue("tracking_reset", appeal=appeal)
        await notices.password_reset(appeal.contact_email, _link("/track/reset/confirm", token),
                                     tracking_number=appeal.tracking_number)


async def reset_tracking_password(token: str) -> tuple[Appeal, str] | None:
    async with in_transaction():
        spent = await _spend("tracking_reset", token)
        if spent is None:
            return None
        password = generate_password()
        await Appeal.filter(id=spent.appeal_id).update(tracker_secret_hash=hash_token(password))
        return await Appeal.get(id=spent.appeal_id), password


def _throttle_key(username: str) -> str:
    return hash_token(f"login:{username.strip().lower()}")


async def check_throttle(username: str, now: datetime | None = None) -> None:
    row = await LoginThrottle.get_or_none(key=_throttle_key(username))
    now = now or now_utc()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise LoginLocked(int((row.locked_until - now).total_seconds()) + 1)


async def record_failure(username: str) -> None:
    key, now = _throttle_key(username), now_utc()
    try:
        await LoginThrottle.get_or_create(key=key)
    except IntegrityError:
        pass  # created by a concurrent failure a moment ago
    async with in_transaction():
        row = await LoginThrottle.get(key=key).select_for_update()
        failures = row.failures + 1
        locked = None
        if failures > FREE_FAILURES:
            locked = now + min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_LOCK)
        await LoginThrottle.filter(key=key).update(failures=failures, locked_until=locked)


async def record_success(username: str) -> None:
    await LoginThrottle.filter(key=_throttle_key(username)).delete()
