"""The PostgreSQL pool returns connections without asyncpg's reset query, but still clean."""

import pytest
from tortoise import connections

from app.db import PooledConnection
from tests.conftest import USE_PG, unique

pytestmark = pytest.mark.skipif(not USE_PG, reason="asyncpg's pool is PostgreSQL's")


async def test_pool_uses_the_lean_connection_class(database):
    client = connections.get("default")
    async with client.acquire_connection() as conn:
        assert isinstance(conn, PooledConnection)
        assert conn.get_reset_query() == ""


async def test_a_transaction_left_open_is_rolled_back_on_release(database):
    client = connections.get("default")
    title = unique("未提交")
    async with client.acquire_connection() as conn:
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pool_probe (title text)")
        await conn.execute("INSERT INTO pool_probe VALUES ($1)", title)
    # Every pooled connection, not only the one we left: none may see the row or be mid-transaction.
    for _ in range(client.pool_maxsize):
        async with client.acquire_connection() as conn:
            assert not conn.is_in_transaction()
            exists = await conn.fetchval("SELECT to_regclass('pg_temp.pool_probe') IS NOT NULL")
            if exists:
                assert await conn.fetchval("SELECT count(*) FROM pool_probe WHERE title = $1",
                                           title) == 0
