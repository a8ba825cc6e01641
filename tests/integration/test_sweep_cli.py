"""`minsheng sweep --at ISO-8601` sweeps as of another instant (replaying a missed night)."""

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from app.domain.clock import to_local
from app.models import Appeal, AppealEvent
from app.services import clocks
from app.settings import ROOT
from tests.factories import OWN, make_appeal


async def minsheng(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "MINSHENG_DEV": "1"}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app.cli", *args], env=env,
        capture_output=True, text=True, timeout=300, cwd=ROOT)


async def _replied_days_ago(rules, days: int) -> Appeal:
    """A replied appeal whose reply was given `days` ago (so `--at` can replay the past)."""
    appeal = (await make_appeal("replied", OWN, rules=rules)).appeal
    await Appeal.filter(id=appeal.id).update(replied_at=appeal.replied_at - timedelta(days=days))
    return await Appeal.get(id=appeal.id)


async def test_sweep_at_a_day_after_the_window_closes_an_unrated_reply_once(database, rules):
    appeal = await _replied_days_ago(rules, rules.policies.rating_window_days + 3)
    closes = clocks.rating_closes_at(appeal.replied_at, rules.policies.rating_window_days)
    at = to_local(closes + timedelta(days=1)).isoformat()

    first = await minsheng(database, "sweep", "--at", at)
    assert first.returncode == 0, first.stderr
    assert "评价期满办结" in first.stdout
    second = await minsheng(database, "sweep", "--at", at)
    assert second.returncode == 0, second.stderr
    assert "评价期满办结 0 件" in second.stdout

    stored = await Appeal.get(id=appeal.id)
    assert stored.status == "closed"
    assert to_local(stored.closed_at).isoformat() == at
    assert await AppealEvent.filter(appeal_id=appeal.id, kind="lapse").count() == 1


async def test_sweep_before_the_window_ends_leaves_the_reply_open(database, rules):
    appeal = await _replied_days_ago(rules, rules.policies.rating_window_days + 1)
    closes = clocks.rating_closes_at(appeal.replied_at, rules.policies.rating_window_days)
    naive_beijing = to_local(closes - timedelta(minutes=1)).replace(tzinfo=None).isoformat()
    done = await minsheng(database, "sweep", "--at", naive_beijing)
    assert done.returncode == 0, done.stderr
    assert (await Appeal.get(id=appeal.id)).status == "replied"


async def test_sweep_at_refuses_an_instant_still_to_come(database, rules):
    """What a sweep does cannot be undone: replaying tomorrow would close ratings and send
    overdue notices early, and the real ones would never go out."""
    appeal = (await make_appeal("replied", OWN, rules=rules)).appeal
    closes = clocks.rating_closes_at(appeal.replied_at, rules.policies.rating_window_days)
    done = await minsheng(database, "sweep", "--at", to_local(closes + timedelta(days=1))
                          .isoformat())
    assert done.returncode == 2
    assert "不能晚于现在" in done.stderr
    assert (await Appeal.get(id=appeal.id)).status == "replied"
    assert not await AppealEvent.filter(appeal_id=appeal.id, kind="lapse").exists()


async def test_sweep_at_refuses_a_time_it_cannot_read(database):
    done = await minsheng(database, "sweep", "--at", "下周一")
    assert done.returncode == 2
    assert "时间格式有误" in done.stderr


async def test_sweep_at_refuses_an_instant_at_the_end_of_the_calendar(database):
    for at in ("0001-01-01T00:00:00", "9999-12-31T23:00:00-05:00"):
        done = await minsheng(database, "sweep", "--at", at)
        assert done.returncode == 2, done.stderr
        assert "时间格式有误" in done.stderr
