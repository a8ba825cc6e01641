"""Tortoise configuration and schema migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

MODEL_MODULES = ["app.models"]


class PooledConnection(asyncpg.Connection):
    """Goes back to the pool without asyncpg's reset query (pg_advisory_unlock_all, CLOSE ALL,
    UNLISTEN *, RESET ALL): the app sets no session state, takes no advisory locks and opens
    no cursors or listeners, so that round trip on every release (a fifth of a submission's
    statements) bought nothing. An open transaction is still rolled back: asyncpg does that
    before, and apart from, the reset query."""

    def get_reset_query(self) -> str:
        return ""


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: Any = database_url
    if database_url.startswith("sqlite://"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    elif database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["credentials"]["connection_class"] = PooledConnection
    return {
        "connections": {"default": connection},
        "apps": {
            "minsheng": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        # UTC: SQLite compares times as text, so every stored time must share one offset.
        "timezone": "UTC",
    }


# For tortoise's own CLI (`tortoise makemigrations`), configured in pyproject.toml.
TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL") or "sqlite://var/minsheng.sqlite3"
)


async def upgrade(database_url: str) -> None:
    """Bring the database to the newest schema, in a context of its own so that a
    connection the process already has is left alone."""
    async with TortoiseContext():
        await migrate(config=tortoise_config(database_url))


async def connect(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def ping() -> None:
    """Open the connection now (Tortoise opens it at the first query)."""
    await Tortoise.get_connection("default").execute_query("SELECT 1")


async def disconnect() -> None:
    await Tortoise.close_connections()
