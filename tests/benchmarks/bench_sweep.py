"""Time of one SLA sweep over 1,000,000 open appeals on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_sweep.py [--appeals N]

A fresh database gets N open appeals (COPY), spread over every department: most are far from
their deadline, 0.3% have just passed their warning time and 0.2% their deadline. The first
sweep marks those and queues their notices; the second finds nothing new (the steady state
of a worker sweeping every few minutes). The database is dropped afterwards.
"""

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.rules import load_rules  # noqa: E402
from app.services.reference import sync_rules  # noqa: E402
from app.services.sweep import sweep  # noqa: E402
from tests.benchmarks.machine import describe  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
RULES = Path(__file__).resolve().parents[2] / "routing_rules"


async def populate(url: str, count: int, now: datetime) -> None:
    conn = await asyncpg.connect(url)
    try:
        departments = [r["id"] for r in await conn.fetch("SELECT id FROM department")]
        region = await conn.fetchval("SELECT id FROM region LIMIT 1")
        rng = random.Random(7)
        columns = ["tracking_number", "type", "title", "body", "contact_name", "contact_phone",
                   "contact_email", "is_public", "status", "tracker_secret_hash", "submitted_at",
                   "reply_due_at", "warn_at", "deadline_provisional", "sla_state", "ack_late",
                   "extension_days", "extension_requested_days", "info_request", "reply_text",
                   "rating", "updated_at", "department_id", "region_id", "ack_due_at",
                   "acknowledged_at"]

        def row(i: int):
            roll = rng.random()
            if roll < 0.002:
                due = now - timedelta(hours=rng.uniform(1, 48))
            elif roll < 0.005:
                due = now + timedelta(hours=rng.uniform(1, 40))
            else:
                due = now + timedelta(days=rng.uniform(3, 30))
            warn = due - timedelta(days=2)
            submitted = due - timedelta(days=21)
            return (f"MSB{i:012d}", "complaint", "标题", "内容", "", "13800000000", "", False,
                    "accepted", "", submitted, due, warn, False, "ok", False, 0, 0, "", "", "",
                    submitted, rng.choice(departments), region, submitted + timedelta(days=1),
                    submitted + timedelta(hours=3))

        step = 100_000
        for start in range(0, count, step):
            await conn.copy_records_to_table(
                "appeal", records=[row(i) for i in range(start, min(count, start + step))],
                columns=columns)
        await conn.execute("ANALYZE appeal")
    finally:
        await conn.close()


async def main(count: int) -> None:
    print(describe())
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        version = await admin.fetchval("SHOW server_version")
        print(f"PostgreSQL {version}; {count:,} open appeals")
        await db.upgrade(url)
        await db.connect(url)
        await sync_rules(load_rules(RULES))
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await populate(url, count, now)
        print(f"populate: {time.perf_counter() - t0:.1f} s")
        for label in ("first sweep (marks the new crossings)", "second sweep (steady state)"):
            t0 = time.perf_counter()
            report = await sweep(now=now)
            elapsed = time.perf_counter() - t0
            print(f"{label}: {elapsed:.2f} s — warned {report.warned}, overdue "
                  f"{report.overdue}, ack late {report.ack_late}, digests {report.digests}, "
                  f"notices {report.notices}")
        await db.disconnect()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().appeals))
