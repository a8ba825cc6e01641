"""Migrating an empty database gives exactly what the models describe, on this engine."""

import sqlite3

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from app import db
from app.db import tortoise_config
from tests.conftest import USE_PG, drop_pg_database, fresh_database_url


async def _columns(url: str) -> dict[str, set[str]]:
    if url.startswith("sqlite://"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            return {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
        finally:
            conn.close()
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = 'public'")
    finally:
        await conn.close()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


def _model_columns() -> dict[str, set[str]]:
    return {
        model._meta.db_table: set(model._meta.fields_db_projection.values())
        for model in Tortoise.apps.get_models_iterable()
    }


async def test_models_and_migrations_agree(database):
    config = tortoise_config(database)
    autodetector = MigrationAutodetector(Tortoise.apps, config["apps"])
    pending = await autodetector.changes()
    assert pending == [], "models changed without a migration: run `tortoise makemigrations`"


async def test_empty_database_migrates_to_exactly_the_models(database, tmp_path):
    url = await fresh_database_url(tmp_path)
    try:
        await db.upgrade(url)
        columns = await _columns(url)
    finally:
        if USE_PG:
            await drop_pg_database(url)
    ours = {t: c for t, c in columns.items() if t != "tortoise_migrations"}
    assert ours == _model_columns()
    assert "tortoise_migrations" in columns


async def test_upgrade_twice_is_harmless(database):
    await db.upgrade(database)  # the session database is already at head
    assert "appeal" in await _columns(database)
