"""Tortoise configuration and schema migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

MODEL_MODULES = ["app.models"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
        connection: Any = database_url
    else:
        connection = database_url
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


async def disconnect() -> None:
    await Tortoise.close_connections()
