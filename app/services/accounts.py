"""Accounts, passwords and server-side sessions."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from app.domain.types import DEPARTMENT_ROLES, Role
from app.models import Account, Appeal, Department, WebSession
from app.schemas.limits import PASSWORD_MIN
from app.services import throttle
from app.services.errors import ServiceError
from app.services.secrets import hash_token, token_matches
from app.services.workflow import now_utc
from app.settings import DEMO_PASSWORD

HASHER = PasswordHasher(type=Type.ID)  # argon2id, at the library's recommended cost
_DUMMY_HASH = HASHER.hash("minsheng-dummy-password")
SESSION_LIFETIME = timedelta(hours=12)
TRACKING_LIFETIME = timedelta(hours=2)


async def hash_password(password: str) -> str:
    # argon2id costs ~0.2 s of CPU by design: off the event loop, or every request waits.
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(stored: str, password: str) -> bool:
    return await asyncio.to_thread(_verify_now, stored, password)


def _verify_now(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_account(username: str, password: str, role: Role, *, display_name: str = "",
                         department_code: str | None = None, email: str | None = None) -> Account:
    if len(password) < PASSWORD_MIN:
        raise ServiceError(f"密码至少 {PASSWORD_MIN} 位。", "password")
    department = None
    if role in DEPARTMENT_ROLES:
        department = await Department.get_or_none(code=department_code or "")
        if department is None:
            raise ServiceError("部门办理人和部门负责人必须属于一个部门。", "department")
    return await Account.create(username=username, password_hash=await hash_password(password),
                                role=role.value, display_name=display_name,
                                department=department, email=email)


def password_refusal(password: str, *, dev_mode: bool, current: str | None = None) -> str | None:
    """Why a password someone chose for themself cannot be used, or None."""
    if len(password) < PASSWORD_MIN:
        return f"密码至少 {PASSWORD_MIN} 位。"
    if password == DEMO_PASSWORD and not dev_mode:
        return "不能使用演示环境的公开密码，请另设一个。"
    if current is not None and password == current:
        return "新密码不能与当前密码相同。"
    return None


async def set_password(account: Account, password: str, *, keep: str | None = None) -> None:
    """A new password ends every session of the account but `keep` (the session token of
    the person changing it, if they are logged in), and replaces a one-time password an
    administrator handed out (app.services.administration)."""
    if len(password) < PASSWORD_MIN:
        raise ServiceError(f"密码至少 {PASSWORD_MIN} 位。", "password")
    account.password_hash = await hash_password(password)
    account.must_change_password = False
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password"])
        await end_sessions(account=account, keep=keep)
        await throttle.forget(throttle.account_name(account.username))


async def deactivate(account: Account) -> None:
    """A disabled account is logged out everywhere at once."""
    account.is_active = False
    async with in_transaction():
        await account.save(update_fields=["is_active"])
        await end_sessions(account=account)


async def end_sessions(*, account: Account | None = None, appeal: Appeal | None = None,
                       keep: str | None = None) -> int:
    """End every session of the account (or tracking session of the appeal) but `keep`."""
    if (account is None) == (appeal is None):
        raise ValueError("end the sessions of one account or of one appeal")
    sessions = WebSession.filter(account_id=account.id) if account is not None \
        else WebSession.filter(appeal_id=appeal.id)
    if keep:
        sessions = sessions.exclude(token_hash=hash_token(keep))
    return await sessions.delete()


def _may_be_stored(model, field: str, name: str) -> bool:
    """Whether `name` could be in the column at all: a longer one (or one holding U+0000,
    which PostgreSQL refuses) is nobody's, and must not reach the query."""
    return len(name) <= model._meta.fields_map[field].max_length and "\x00" not in name


async def authenticate(username: str, password: str) -> Account | None:
    """The same work whether or not the account exists, so timing reveals nothing."""
    username = username.strip()
    account = await Account.get_or_none(username=username, is_active=True) \
        if _may_be_stored(Account, "username", username) else None
    ok = await _verify(account.password_hash if account else _DUMMY_HASH, password)
    return account if ok and account is not None else None


async def authenticate_tracking(username: str, password: str) -> Appeal | None:
    username = username.strip().lower()
    appeal = await Appeal.get_or_none(tracker_username=username) \
        if _may_be_stored(Appeal, "tracker_username", username) else None
    ok = token_matches(password.strip().lower(), appeal.tracker_secret_hash if appeal else "")
    return appeal if ok else None


async def open_session(*, account: Account | None = None, appeal: Appeal | None = None) -> str:
    token = secrets.token_urlsafe(32)
    lifetime = SESSION_LIFETIME if account else TRACKING_LIFETIME
    await WebSession.create(token_hash=hash_token(token), account=account, appeal=appeal,
                            expires_at=now_utc() + lifetime)
    return token


async def load_session(token: str | None) -> WebSession | None:
    if not token or len(token) > 100:
        return None
    session = await WebSession.get_or_none(
        token_hash=hash_token(token), expires_at__gt=now_utc()
    ).prefetch_related("account", "appeal")
    if session is not None and session.account is not None and not session.account.is_active:
        return None
    return session


async def close_session(token: str | None) -> None:
    if token:
        await WebSession.filter(token_hash=hash_token(token)).delete()


async def authenticate_throttled(username: str, password: str) -> Account | None:
    """authenticate, behind the login back-off (raises throttle.LoginLocked)."""
    return await throttle.attempt([throttle.account_name(username)],
                                  lambda: authenticate(username, password))


async def authenticate_tracking_throttled(username: str, password: str) -> Appeal | None:
    return await throttle.attempt([throttle.tracking_name(username)],
                                  lambda: authenticate_tracking(username, password))


async def authenticate_basic(username: str, password: str) -> Account | Appeal | None:
    """HTTP Basic on the API: tracking credentials or an account's, behind the same
    back-off as the login forms. A failure counts under both names, so whichever door a
    guesser uses, the real login behind that name is the one that gets locked."""
    names = throttle.tracking_name(username), throttle.account_name(username)
    await throttle.check(*names)
    found: Account | Appeal | None = await authenticate_tracking(username, password)
    if found is None:
        found = await authenticate(username, password)
    if found is None:
        await throttle.failed(*names)
    else:
        await throttle.forget(names[0] if isinstance(found, Appeal) else names[1])
    return found
