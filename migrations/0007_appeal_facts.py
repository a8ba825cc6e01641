"""The facts the statistics count, kept on the appeal row (app.models.appeals): round 1's
first reply, its deadline and working days, and the return / extension / redo marks. Filled
here from the replies and events already written.

Round 1's deadline is known only for appeals not redone (reply_due_at is still it); for one
redone before this migration the redo's deadline stands in, as the statistics counted it
until now. Working days are counted on the national calendar (chinesecalendar), without
the administrator's day overrides, which live in the rules and not in the database.
"""

# The SQL below is text of our own; the values in it are integers we computed.
# ruff: noqa: S608
from collections import defaultdict

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from app.domain.clock import WorkingCalendar, working_days_between
from app.models.fields import UtcDatetimeField

FIRST_REPLY = ("(SELECT MIN(r.at) FROM appeal_reply r "
               "WHERE r.appeal_id = appeal.id AND r.round = 1)")


def _has(kind: str) -> str:
    return f"EXISTS (SELECT 1 FROM appeal_event e WHERE e.appeal_id = appeal.id " \
           f"AND e.kind = '{kind}')"


BACKFILL = [
    f"UPDATE appeal SET first_reply_at = {FIRST_REPLY} "
    "WHERE id IN (SELECT appeal_id FROM appeal_reply WHERE round = 1)",
    "UPDATE appeal SET first_reply_due_at = reply_due_at WHERE first_reply_at IS NOT NULL",
    "UPDATE appeal SET return_count = (SELECT COUNT(*) FROM appeal_event e "
    "WHERE e.appeal_id = appeal.id AND e.kind = 'return') "
    "WHERE id IN (SELECT appeal_id FROM appeal_event WHERE kind = 'return')",
    f"UPDATE appeal SET was_extended = TRUE WHERE {_has('extension_grant')}",
    f"UPDATE appeal SET was_redone = TRUE WHERE {_has('rate_unsatisfied')}",
]
BATCH = 5000


async def _working_days(apps, editor) -> None:
    client = editor.client
    calendar = WorkingCalendar()
    placeholder = "$1" if client.capabilities.dialect == "postgres" else "?"
    last = 0
    while True:
        query = ("SELECT id, submitted_at, first_reply_at FROM appeal WHERE "
                 f"first_reply_at IS NOT NULL AND id > {placeholder} ORDER BY id LIMIT {BATCH}")
        rows = await client.execute_query_dict(query, [last])
        if not rows:
            return
        ids = defaultdict(list)
        for row in rows:
            days = working_days_between(_utc(row["submitted_at"]), _utc(row["first_reply_at"]),
                                        calendar)
            ids[int(days)].append(str(int(row["id"])))
        for days, some in ids.items():
            await client.execute_query(
                f"UPDATE appeal SET first_reply_days = {days} WHERE id IN ({', '.join(some)})")
        last = rows[-1]["id"]


def _utc(value):
    from datetime import UTC, datetime
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0006_audit')]

    initial = False

    operations = [
        ops.AddField(model_name='Appeal', name='first_reply_at',
                     field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
        ops.AddField(model_name='Appeal', name='first_reply_due_at',
                     field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
        ops.AddField(model_name='Appeal', name='first_reply_days',
                     field=fields.SmallIntField(null=True)),
        ops.AddField(model_name='Appeal', name='return_count',
                     field=fields.SmallIntField(default=0, db_default=0)),
        ops.AddField(model_name='Appeal', name='was_extended',
                     field=fields.BooleanField(default=False, db_default=False)),
        ops.AddField(model_name='Appeal', name='was_redone',
                     field=fields.BooleanField(default=False, db_default=False)),
        # The door an appeal came in by; "" for those received before it was recorded.
        ops.AddField(model_name='Appeal', name='channel',
                     field=fields.CharField(default='', db_default='', max_length=8)),
        ops.RunSQL(BACKFILL, reverse_sql=ops.RunSQL.noop),
        ops.RunPython(_working_days, ops.RunPython.noop),
    ]
