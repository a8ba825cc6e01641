"""Changing the calendar moves running deadlines, and says so on each appeal."""

import os
import shutil
import subprocess
import sys
from datetime import timedelta

from app.domain.clock import to_local
from app.models import Appeal, AppealEvent, RulesVersion
from app.rules import load_rules
from app.settings import ROOT
from tests.factories import submit


async def test_new_holiday_moves_running_deadlines_and_logs_it(database, rules, tmp_path):
    assert not await RulesVersion.exists(), \
        "a test left a rules version in the shared database: recompute would read it"
    appeal = await submit(rules=rules, region="990102", type="consultation")
    closed = await submit(rules=rules, region="990102", type="consultation")
    await Appeal.filter(id=closed.id).update(status="closed")
    # Declare the first working day of the window a holiday.
    first = to_local(appeal.submitted_at).date() + timedelta(days=1)
    while not rules.calendar.day(first).working:
        first += timedelta(days=1)
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", folder)
    (folder / "calendar.yaml").write_text(
        f'overrides:\n  - date: "{first.isoformat()}"\n    working: false\n'
        f'    reason: 临时停工日\n', encoding="utf-8")
    changed = load_rules(folder)
    assert not changed.calendar.day(first).working

    env = {**os.environ, "DATABASE_URL": database, "MINSHENG_DEV": "1",
           "MINSHENG_RULES_DIR": str(folder)}
    run = subprocess.run([sys.executable, "-m", "app.cli", "sla", "recompute"], env=env,
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "调整了" in run.stdout

    moved = await Appeal.get(id=appeal.id)
    assert to_local(moved.reply_due_at).date() > to_local(appeal.reply_due_at).date()
    event = await AppealEvent.get(appeal_id=appeal.id, kind="deadline_moved")
    assert event.data["old_due_at"] == appeal.reply_due_at.isoformat()
    assert (await Appeal.get(id=closed.id)).reply_due_at == closed.reply_due_at
    assert not await AppealEvent.exists(appeal_id=closed.id, kind="deadline_moved")
