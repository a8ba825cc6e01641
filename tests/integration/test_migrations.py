"""Migrating an empty database gives exactly what the models describe, on this engine; data
migrations keep what older versions stored."""

import sqlite3

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from app import db
from app.db import tortoise_config
from app.models import Appeal, AppealReply
from app.schemas import staff
from app.schemas.base import parse
from app.services import handling
from tests.conftest import USE_PG, drop_pg_database, fresh_database_url
from tests.factories import (
    OWN,
    REPLY,
    SECOND_REPLY,
    as_before_replies_were_kept,
    handler_of,
    make_appeal,
    rerun_reply_backfill,
)


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


async def _kept(appeal: Appeal) -> list[tuple]:
    return [(r.round, r.text, r.actor_id, r.actor_label, r.department_id) for r in
            await AppealReply.filter(appeal_id=appeal.id).order_by("round")]


async def test_an_appeal_answered_before_replies_were_kept_gets_its_reply_as_round_one(
        database, rules):
    replied = (await make_appeal("replied", OWN, rules=rules)).appeal
    redone = (await make_appeal("redo", OWN, rules=rules)).appeal
    current = (await make_appeal("replied", OWN, rules=rules)).appeal
    before = {a.id: await _kept(a) for a in (replied, redone, current)}
    for appeal in (replied, redone):
        await as_before_replies_were_kept(appeal)
        assert await _kept(appeal) == []

    await rerun_reply_backfill(database)
    for appeal in (replied, redone, current):
        assert await _kept(appeal) == before[appeal.id]
    assert (await Appeal.get(id=redone.id)).rating == ""

    await rerun_reply_backfill(database)
    assert await AppealReply.filter(appeal_id=replied.id).count() == 1


async def test_a_backfilled_appeal_redone_keeps_both_replies(database, rules):
    made = await make_appeal("redo", OWN, rules=rules)
    await as_before_replies_were_kept(made.appeal)
    await rerun_reply_backfill(database)
    await handling.reply(await Appeal.get(id=made.appeal.id), await handler_of(OWN),
                         parse(staff.Reply, {"reply": SECOND_REPLY}))
    assert [r[:2] for r in await _kept(made.appeal)] == [(1, REPLY), (2, SECOND_REPLY)]
    assert (await Appeal.get(id=made.appeal.id)).reply_text == SECOND_REPLY


FACTS = ("first_reply_at", "first_reply_due_at", "first_reply_days", "return_count",
         "was_extended", "was_redone")


async def test_the_facts_backfill_finds_what_the_services_wrote(database, rules):
    """Migration 0007 fills the statistics' facts from replies and events: wiped and filled
    again, each appeal has what the services wrote (a redo's round-1 deadline excepted:
    before 0007 it was not kept, and the redo's stands in)."""
    import importlib
    from types import SimpleNamespace

    from tortoise import connections

    from app.services import routing

    facts = importlib.import_module("migrations.0007_appeal_facts")
    replied = (await make_appeal("replied", OWN, rules=rules)).appeal
    redone = (await make_appeal("redo", OWN, rules=rules)).appeal
    returned = (await make_appeal("accepted", OWN, rules=rules)).appeal
    await routing.return_to_triage(returned, await handler_of(OWN),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))
    ids = [replied.id, redone.id, returned.id]
    before = {a["id"]: a for a in await Appeal.filter(id__in=ids).values("id", *FACTS)}
    assert before[replied.id]["first_reply_days"] is not None
    assert before[returned.id]["return_count"] == 1 and before[redone.id]["was_redone"]

    await Appeal.filter(id__in=ids).update(first_reply_at=None, first_reply_due_at=None,
                                           first_reply_days=None, return_count=0,
                                           was_extended=False, was_redone=False)
    client = connections.get("default")
    for statement in facts.BACKFILL:
        await client.execute_query(statement)
    await facts._working_days(None, SimpleNamespace(client=client))

    after = {a["id"]: a for a in await Appeal.filter(id__in=ids).values("id", *FACTS)}
    assert after[replied.id] == before[replied.id]
    assert after[returned.id] == before[returned.id]
    redo_after, redo_before = after[redone.id], before[redone.id]
    assert redo_after.pop("first_reply_due_at") == (await Appeal.get(id=redone.id)).reply_due_at
    redo_before.pop("first_reply_due_at")
    assert redo_after == redo_before


OLD_ROWS = [
    "INSERT INTO region (code, name, level) VALUES ('990001', '旧县', 3)",
    "INSERT INTO account (username, password_hash, role, display_name, is_active, created_at) "
    "VALUES ('old-handler', 'x', 'handler', '', TRUE, '2020-01-01 00:00:00+00:00')",
    "INSERT INTO appeal (tracking_number, type, region_id, title, body, contact_name, "
    "contact_phone, contact_email, is_public, status, tracker_secret_hash, submitted_at, "
    "deadline_provisional, sla_state, ack_late, extension_days, extension_requested_days, "
    "info_request, reply_text, rating, updated_at) VALUES ('MS20200101-000001', 'help', "
    "(SELECT id FROM region WHERE code = '990001'), '旧诉求', '内容', '', '', '', FALSE, "
    "'triage', '', '2020-01-01 00:00:00+00:00', FALSE, 'ok', FALSE, 0, 0, '', '', '', "
    "'2020-01-01 00:00:00+00:00')",
]


async def test_a_database_with_rows_upgrades_from_an_older_schema(database, tmp_path):
    """Columns added later (NOT NULL with a default) must not trip over rows already there:
    a database at 0006 with an account and an appeal upgrades to the newest schema."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.api import migrate

    url = await fresh_database_url(tmp_path)
    try:
        async with TortoiseContext():
            await migrate(config=tortoise_config(url), target="minsheng.0006_audit")
            client = Tortoise.get_connection("default")
            for statement in OLD_ROWS:
                await client.execute_query(statement)
        await db.upgrade(url)
        async with TortoiseContext():
            await Tortoise.init(config=tortoise_config(url))
            client = Tortoise.get_connection("default")
            appeal = (await client.execute_query_dict(
                "SELECT return_count, was_extended, was_redone, channel, first_reply_at "
                "FROM appeal"))[0]
            account = (await client.execute_query_dict(
                "SELECT must_change_password FROM account"))[0]
    finally:
        if USE_PG:
            await drop_pg_database(url)
    # SQLite answers booleans as 0 and 1.
    assert {**appeal, "was_extended": bool(appeal["was_extended"]),
            "was_redone": bool(appeal["was_redone"])} == {
        "return_count": 0, "was_extended": False, "was_redone": False, "channel": "",
        "first_reply_at": None}
    assert account["must_change_password"] in (False, 0)
