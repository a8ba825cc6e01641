"""Staff search (app.services.search): the bigrams of each appeal's title and body and a hash
of its contact phone's digits, filled here for the appeals already stored; an index by phone
key; and on PostgreSQL a GIN index over the bigrams, a tsvector column (one lexeme per
bigram, written by the application: no text-search parser or locale decides what a Chinese
"word" is). SQLite searches title and body with LIKE and needs no index of its own."""

# The SQL below is text of our own; the values go in as parameters.
# ruff: noqa: S608
from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.domain.search_text import grams, phone_key
from app.models.fields import GramsField

BATCH = 2000
GIN = "CREATE INDEX IF NOT EXISTS appeal_search_grams_gin ON appeal USING gin (search_grams)"


async def _backfill(apps, editor) -> None:
    client = editor.client
    postgres = client.capabilities.dialect == "postgres"
    marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
    last = 0
    while True:
        rows = await client.execute_query_dict(
            f"SELECT id, title, body, contact_phone FROM appeal WHERE id > {marks[0]} "
            f"ORDER BY id LIMIT {BATCH}", [last])
        if not rows:
            return
        update = (f"UPDATE appeal SET search_grams = {marks[0]}, phone_key = {marks[1]} "
                  f"WHERE id = {marks[2]}")
        await client.execute_many(update, [
            [grams(r["title"], r["body"]), phone_key(r["contact_phone"]), r["id"]]
            for r in rows])
        last = rows[-1]["id"]


async def _gin_index(apps, editor) -> None:
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script(GIN)


async def _drop_gin_index(apps, editor) -> None:
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script("DROP INDEX IF EXISTS appeal_search_grams_gin")


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0013_sms')]

    initial = False

    operations = [
        ops.AddField(model_name='Appeal', name='search_grams',
                     field=GramsField(default='', db_default='')),
        ops.AddField(model_name='Appeal', name='phone_key',
                     field=fields.CharField(default='', db_default='', max_length=64)),
        ops.RunPython(_backfill, ops.RunPython.noop),
        ops.AddIndex(model_name='Appeal',
                     index=Index(fields=['phone_key', 'submitted_at', 'id'])),
        ops.RunPython(_gin_index, _drop_gin_index),
    ]
