"""`minsheng apiclients` against a fresh database, on either engine: the key is the last
line and works, list shows the prefix never the key, revoke ends it, and each change is in
the audit log under "命令行"."""

import asyncio

import pytest

from tests.conftest import USE_PG, drop_pg_database, fresh_database_url
from tests.integration.test_accounts_cli import _database_rows
from tests.integration.test_cli_database import minsheng


def _run(url: str, *args: str):
    return asyncio.to_thread(minsheng, url, *args)


@pytest.fixture
async def fresh(tmp_path):
    url = await fresh_database_url(tmp_path)
    assert (await _run(url, "db", "upgrade")).returncode == 0
    yield url
    if USE_PG:
        await drop_pg_database(url)


async def test_create_list_revoke(fresh):
    import hashlib

    made = await _run(fresh, "apiclients", "create", "市民通App")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("ms311-") and len(key) == 38
    rows = await _database_rows(fresh, "SELECT id, name, key_hash, revoked_at FROM api_client")
    assert len(rows) == 1
    client_id, name, stored, revoked = rows[0]
    assert name == "市民通App" and revoked is None
    assert stored == hashlib.sha256(key.encode()).hexdigest()

    listed = await _run(fresh, "apiclients", "list")
    assert listed.returncode == 0
    assert "市民通App" in listed.stdout and key[:12] in listed.stdout and key not in listed.stdout
    assert "有效" in listed.stdout

    revoked = await _run(fresh, "apiclients", "revoke", str(client_id))
    assert revoked.returncode == 0, revoked.stderr
    assert "已吊销" in (await _run(fresh, "apiclients", "list")).stdout
    again = await _run(fresh, "apiclients", "revoke", str(client_id))
    assert again.returncode == 1 and "已吊销" in again.stderr
    nobody = await _run(fresh, "apiclients", "revoke", "999")
    assert nobody.returncode == 1 and "999" in nobody.stderr
    blank = await _run(fresh, "apiclients", "create", "  ")
    assert blank.returncode == 1 and "请填写应用名称" in blank.stderr

    audit = await _database_rows(fresh, "SELECT action, actor_label FROM audit_entry ORDER BY id")
    assert audit == [("api_client_create", "命令行"), ("api_client_revoke", "命令行")]
