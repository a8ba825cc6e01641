"""Times compare as instants whatever offset they were written or asked with (SQLite keeps
them as text)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Appeal
from tests.factories import submit

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_deadline_written_in_shanghai_time_compares_with_utc_now(database, rules):
    appeal = await submit(rules=rules)
    due = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)  # 01:00 UTC
    await Appeal.filter(id=appeal.id).update(reply_due_at=due)
    utc_after = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)  # text-wise "01:30" < "09:00"
    assert await Appeal.filter(id=appeal.id, reply_due_at__lt=utc_after).exists()
    shanghai_before = datetime(2026, 11, 22, 8, 59, tzinfo=SHANGHAI)
    assert not await Appeal.filter(id=appeal.id, reply_due_at__lt=shanghai_before).exists()
    stored = (await Appeal.get(id=appeal.id)).reply_due_at
    assert stored == due and stored.utcoffset() == timedelta(0)
