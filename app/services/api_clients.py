"""Open311 client applications (app.models.public.ApiClient), as an administrator manages
them on /admin/api-clients or with `minsheng apiclients`: issue a key, list, revoke.

A key is random, shown once when issued, and stored as its SHA-256 only (plus its first
characters, so the administrator can tell keys apart). Each issue and revocation writes its
audit entry in the same transaction. A revoked key stops working at once, in every process:
every request looks its key up in the database."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.models import ApiClient
from app.services import audit_log
from app.services.errors import ServiceError
from app.services.secrets import hash_token, random_text
from app.services.workflow import Actor, now_utc

KEY_PREFIX = "ms311-"
KEY_RANDOM = 32  # letters of secrets.ALPHABET: about 158 bits
SHOWN_PREFIX = 12  # "ms311-" and six random letters
NAME_MAX = 80
KEY_MAX = 200


def new_key() -> str:
    return KEY_PREFIX + random_text(KEY_RANDOM)


def _snapshot(client: ApiClient) -> dict:
    return {"name": client.name, "key_prefix": client.key_prefix,
            "revoked": client.revoked_at is not None}


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ServiceError("请填写应用名称。", "name")
    if len(name) > NAME_MAX or "\x00" in name:
        raise ServiceError(f"应用名称不能超过 {NAME_MAX} 个字。", "name")
    return name


async def issue(actor: Actor, name: str) -> tuple[ApiClient, str]:
    """A new client application and its key (returned once, never stored in clear)."""
    name = _name(name)
    key = new_key()
    async with in_transaction():
        client = await ApiClient.create(name=name, key_prefix=key[:SHOWN_PREFIX],
                                        key_hash=hash_token(key), created_at=now_utc(),
                                        created_by=actor.label[:80])
        await audit_log.record(actor, "api_client_create", {
            "summary": f"{client.name}（{client.key_prefix}…）", "api_client_id": client.id,
            "before": None, "after": _snapshot(client)})
    return client, key


async def revoke(actor: Actor, client: ApiClient) -> ApiClient:
    if client.revoked_at is not None:
        raise ServiceError("该密钥已吊销。", "client")
    before = _snapshot(client)
    async with in_transaction():
        # Only the first of two concurrent revocations changes the row (and is audited).
        changed = await ApiClient.filter(id=client.id, revoked_at=None) \
            .update(revoked_at=now_utc())
        if not changed:
            raise ServiceError("该密钥已吊销。", "client")
        await client.refresh_from_db()
        await audit_log.record(actor, "api_client_revoke", {
            "summary": f"{client.name}（{client.key_prefix}…）", "api_client_id": client.id,
            "before": before, "after": _snapshot(client)})
    return client


async def get(client_id: int) -> ApiClient | None:
    if not 0 < client_id < 2**31:
        return None
    return await ApiClient.get_or_none(id=client_id)


async def all_clients() -> list[ApiClient]:
    """Every client application, newest first (a handful: the admin issues each by hand)."""
    return await ApiClient.all().order_by("-id")


async def authenticate(key: str) -> ApiClient | None:
    """The client application whose key this is, if not revoked; its last use noted."""
    if not key or len(key) > KEY_MAX or not key.startswith(KEY_PREFIX):
        return None
    client = await ApiClient.get_or_none(key_hash=hash_token(key), revoked_at=None)
    if client is not None:
        client.last_used_at = now_utc()
        await ApiClient.filter(id=client.id).update(last_used_at=client.last_used_at)
    return client
