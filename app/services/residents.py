"""Resident accounts: registration with a verified mail address, password reset, and the
tracking-password reset of the quick channel. A reset ends every session opened with the
old password."""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise.transactions import in_transaction

from app.domain.types import Role
from app.models import Account, Appeal, OneTimeToken
from app.notify import notices
from app.schemas.accounts import (
    NewPasswordForm,
    Register,
    ResetRequest,
    Token,
    TrackingResetRequest,
)
from app.services import throttle
from app.services.accounts import end_sessions, hash_password
from app.services.secrets import generate_password, hash_token
from app.services.workflow import now_utc

LIFETIME = {"verify": timedelta(hours=24), "reset": timedelta(hours=2),
            "tracking_reset": timedelta(hours=2)}


async def _issue(purpose: str, *, account: Account | None = None,
                 appeal: Appeal | None = None) -> str:
    token = secrets.token_urlsafe(32)
    await OneTimeToken.create(purpose=purpose, token_hash=hash_token(token), account=account,
                              appeal=appeal, expires_at=now_utc() + LIFETIME[purpose])
    return token


async def _spend(purpose: str, token: str) -> OneTimeToken | None:
    """Use a token once: the conditional update is the guard against a double click."""
    found = await OneTimeToken.get_or_none(token_hash=hash_token(token), purpose=purpose,
                                           used_at=None, expires_at__gt=now_utc())
    if found is None:
        return None
    spent = await OneTimeToken.filter(id=found.id, used_at=None).update(used_at=now_utc())
    return found if spent == 1 else None


def _link(path: str, token: str) -> str:
    return f"{notices.base_url()}{path}?token={token}"


async def register(form: Register) -> None:
    """Create an inactive account and mail the link that activates it. An address that is
    already registered gets the same answer and no account, so nobody learns who is here.
    Addresses are kept in lower case: they are the account's username."""
    email = form.email.lower()
    if await Account.exists(username=email):
        return
    async with in_transaction():
        account = await Account.create(username=email, email=email, phone=form.phone,
                                       display_name=form.name, role=Role.RESIDENT.value,
                                       password_hash=await hash_password(form.password),
                                       is_active=False)
        token = await _issue("verify", account=account)
        await notices.verification(email, _link("/account/verify", token), name=form.name)


async def verify(form: Token) -> Account | None:
    async with in_transaction():
        spent = await _spend("verify", form.token)
        if spent is None:
            return None
        await Account.filter(id=spent.account_id).update(is_active=True)
        return await Account.get(id=spent.account_id)


async def request_reset(form: ResetRequest) -> None:
    account = await Account.get_or_none(username=form.email.lower(), role=Role.RESIDENT,
                                        is_active=True)
    if account is None:
        return
    async with in_transaction():
        token = await _issue("reset", account=account)
        await notices.password_reset(account.email, _link("/account/reset/confirm", token),
                                     name=account.display_name)


async def reset_password(form: NewPasswordForm) -> bool:
    hashed = await hash_password(form.password)  # before the transaction: it takes ~0.2 s
    async with in_transaction():
        spent = await _spend("reset", form.token)
        if spent is None:
            return False
        account = await Account.get(id=spent.account_id)
        await Account.filter(id=account.id).update(password_hash=hashed)
        await end_sessions(account=account)
        await throttle.forget(throttle.account_name(account.username))
    return True


async def request_tracking_reset(form: TrackingResetRequest) -> None:
    """Only the mail address given at submission can get new tracking credentials."""
    email = form.email.lower()
    appeal = await Appeal.get_or_none(tracking_number=form.tracking_number.upper())
    if appeal is None or appeal.contact_email.strip().lower() != email:
        return
    async with in_transaction():
        token = await _issue("tracking_reset", appeal=appeal)
        await notices.password_reset(appeal.contact_email, _link("/track/reset/confirm", token),
                                     tracking_number=appeal.tracking_number)


async def reset_tracking_password(form: Token) -> tuple[Appeal, str] | None:
    async with in_transaction():
        spent = await _spend("tracking_reset", form.token)
        if spent is None:
            return None
        password = generate_password()
        await Appeal.filter(id=spent.appeal_id).update(tracker_secret_hash=hash_token(password))
        appeal = await Appeal.get(id=spent.appeal_id)
        await end_sessions(appeal=appeal)
        await throttle.forget(throttle.tracking_name(appeal.tracker_username))
        return appeal, password
