"""Time of the statistics by department (/staff/stats) and of a 100,000-row XLSX export over
1,000,000 appeals on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_stats.py [--appeals N] [--runs N]

A fresh database gets N appeals (COPY) received over the last 12 months, every department,
type and status, with what the statistics read: routing, acknowledgement, replies (events and
appeal_reply rows, late for a share), returns, granted extensions, 不满意 then redone, ratings
and 督办 orders. The table for the last full month and for the whole year is timed through
the functions the page calls (stats_scope, table, trend), median of --runs after a warm-up,
with each of its queries timed alone and the month's main query's plan printed (EXPLAIN
ANALYZE, BUFFERS). Then a real `python -m app.cli serve` process answers an inspector's GET
of /staff/stats for the month and an XLSX export of ~100,000 appeals (a date range): time and
the server's peak RSS growth (VmHWM after minus VmRSS before, the peak reset through
/proc/<pid>/clear_refs). The database is dropped afterwards.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from tortoise import connections

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain.clock import WorkingCalendar, to_local  # noqa: E402
from app.domain.types import Role  # noqa: E402
from app.models import AuditEntry  # noqa: E402
from app.rules import load_rules  # noqa: E402
from app.services import report, stats  # noqa: E402
from app.services.accounts import create_account  # noqa: E402
from app.services.reference import sync_rules  # noqa: E402
from tests.benchmarks.bench_exports import PASSWORD, free_port, login, memory_kb  # noqa: E402
from tests.benchmarks.machine import describe  # noqa: E402

SERVER = os.environ.get("MINSHENG_BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parents[2]
TYPES = ["consultation", "help", "complaint", "report", "suggestion", "evaluation"]
TYPE_WEIGHTS = [25, 20, 35, 5, 10, 5]
APPEAL_COLUMNS = [
    "tracking_number", "type", "title", "body", "contact_name", "contact_phone",
    "contact_email", "is_public", "status", "tracker_secret_hash", "submitted_at",
    "assigned_at", "acknowledged_at", "ack_due_at", "reply_due_at", "warn_at",
    "deadline_provisional", "sla_state", "ack_late", "extension_days",
    "extension_requested_days", "info_request", "replied_at", "reply_text", "closed_at",
    "rating", "updated_at", "department_id", "region_id", "category_id", "first_reply_at",
    "first_reply_due_at", "first_reply_days", "return_count", "was_extended", "was_redone",
    "channel"]
CHANNELS, CHANNEL_WEIGHTS = ["web", "quick", "api", "phone"], [30, 15, 5, 50]
EVENT_COLUMNS = ["appeal_id", "kind", "from_status", "to_status", "actor_label",
                 "department_id", "at", "note", "public"]
REPLY_COLUMNS = ["appeal_id", "round", "text", "at", "actor_label", "department_id"]
ORDER_COLUMNS = ["appeal_id", "department_id", "status", "round", "reason", "days",
                 "issued_at", "due_at", "answer_text", "answered_at", "closed_at"]
RATINGS = ["satisfied", "basically_satisfied", "unsatisfied"]
H = timedelta(hours=1)
D = timedelta(days=1)


class Rows:
    """One appeal's rows (its id known: a fresh table numbers them from 1 in COPY order)."""

    def __init__(self, rng: random.Random, now: datetime, departments, categories, workdays):
        self.rng, self.now, self.workdays = rng, now, workdays
        self.departments, self.categories = departments, categories
        self.appeals, self.events, self.replies, self.orders = [], [], [], []

    def event(self, appeal: int, kind: str, department, at: datetime, a="", b="") -> None:
        self.events.append((appeal, kind, a, b, "基准", department, at, "", True))

    def add(self, i: int, appeal: int, count: int, shuffled: bool) -> None:
        rng, now = self.rng, self.now
        # As they arrive, ids grow with time (a month's rows sit together on disk), unless
        # --shuffled scatters them over the year, the worst case for a month's scan.
        submitted = now - D * (rng.uniform(0, 365) if shuffled
                               else 365 * (1 - (i + rng.random()) / count))
        age = (now - submitted).days
        department, region = rng.choice(self.departments)
        kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
        assigned = acked = ack_due = replied = closed = None
        status, rating, extension = "triage", "", 0
        returns, redone = 0, False
        due = submitted + D * 15
        if rng.random() < 0.01 and age < 20:
            department = None  # back in triage
        else:
            assigned = submitted + H * rng.uniform(0.5, 24)
            ack_due = assigned + D
            self.event(appeal, "route", department, assigned, "triage", "assigned")
            if rng.random() < 0.08:
                back = assigned + H * rng.uniform(1, 30)
                self.event(appeal, "return", department, back, "assigned", "triage")
                returns = 1
                department, region = rng.choice(self.departments)
                assigned = back + H * rng.uniform(1, 12)
                ack_due = assigned + D
                self.event(appeal, "route", department, assigned, "triage", "assigned")
            acked = assigned + H * rng.uniform(0.2, 36)
            if acked > now:
                acked = None
            else:
                self.event(appeal, "acknowledge", department, acked, "assigned", "accepted")
            status = "assigned" if acked is None else "accepted"
            if acked is not None and rng.random() < 0.05:
                extension = 5
                due += D * 7
                self.event(appeal, "extension_grant", department, acked + D * 3)
            late = rng.random() < 0.12
            replied = submitted + D * (rng.uniform(15, 30) if late else rng.uniform(1, 14))
            if extension and late:
                replied += D * 7
            if acked is None or replied > now or (age < 30 and rng.random() < 0.3):
                replied = None
            else:
                status = "replied"
                self.event(appeal, "reply", department, replied, "accepted", "replied")
                self.replies.append((appeal, 1, "已办理，答复如下。" * 4, replied, "基准",
                                     department))
                if replied + D * 5 < now:
                    status, closed = "closed", replied + D * 5
                    if rng.random() < 0.7:
                        rating = rng.choices(RATINGS, [60, 25, 15])[0]
                    if rating == "unsatisfied" and rng.random() < 0.6:
                        self.event(appeal, "rate_unsatisfied", department, closed,
                                   "replied", "accepted")
                        redone = True
                        again = closed + D * rng.uniform(1, 10)
                        if again < now:
                            self.replies.append((appeal, 2, "重办答复。" * 6, again, "基准",
                                                 department))
        if department is not None and rng.random() < 0.01:
            issued = submitted + D * rng.uniform(2, 10)
            order_due = issued + D * 5
            answered = issued + D * rng.uniform(1, 8) if rng.random() < 0.8 else None
            if issued < now:
                if answered is not None and answered > now:
                    answered = None
                self.orders.append((appeal, department, "answered" if answered else "issued",
                                    1, "群众反映强烈，请加快办理。", 5, issued, order_due,
                                    "已加快办理。" if answered else "", answered, None))
        self.appeals.append((
            f"MSB{i:012d}", kind, "标题", "内容", "", "13800000000", "", False, status, "",
            submitted, assigned, acked, ack_due, due, due - D * 2, False, "ok", False,
            extension, extension, "", replied, "答复" if replied else "", closed, rating,
            submitted, department, region, rng.choice(self.categories),
            # The facts the services keep on the row (app.services.handling, workflow).
            replied, due if replied else None,
            self.workdays(submitted, replied) if replied else None, returns,
            bool(extension), redone, rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]))


def working_days_of(now: datetime, calendar: WorkingCalendar):
    """working_days_between for the benchmark's two years, by a running count per day."""
    first = to_local(now).date() - timedelta(days=800)
    running, count = {}, 0
    for n in range(900):
        day = first + timedelta(days=n)
        count += calendar.is_working(day)
        running[day] = count

    def between(a: datetime, b: datetime) -> int:
        return running[to_local(b).date()] - running[to_local(a).date()]
    return between


async def populate(url: str, count: int, now: datetime, calendar: WorkingCalendar,
                   shuffled: bool = False) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        departments = [(r["id"], r["region_id"]) for r in
                       await conn.fetch("SELECT id, region_id FROM department")]
        categories = [r["id"] for r in await conn.fetch("SELECT id FROM category WHERE level = 1")]
        first = await conn.fetchval("SELECT COALESCE(MAX(id), 0) + 1 FROM appeal")
        rng = random.Random(7)
        step = 100_000
        workdays = working_days_of(now, calendar)
        for start in range(0, count, step):
            rows = Rows(rng, now, departments, categories, workdays)
            for i in range(start, min(count, start + step)):
                rows.add(i, first + i, count, shuffled)
            await conn.copy_records_to_table("appeal", records=rows.appeals,
                                             columns=APPEAL_COLUMNS)
            for table, records, columns in (("appeal_event", rows.events, EVENT_COLUMNS),
                                            ("appeal_reply", rows.replies, REPLY_COLUMNS),
                                            ("supervision_order", rows.orders, ORDER_COLUMNS)):
                await conn.copy_records_to_table(table, records=records, columns=columns)
        assert await conn.fetchval("SELECT MAX(id) FROM appeal") == first + count - 1
        counts = {}
        for table in ("appeal", "appeal_event", "appeal_reply", "supervision_order"):
            # As autovacuum keeps a live database: hint bits set and the visibility map
            # written, instead of an autovacuum storm in the middle of the timings.
            await conn.execute(f"VACUUM (ANALYZE) {table}")
            counts[table] = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return counts
    finally:
        await conn.close()


class Recorder:
    """The SQL the statistics send, caught on their way to the connection."""

    def __init__(self):
        self.client = connections.get("default")
        self.original = self.client.execute_query_dict
        self.queries: list[tuple[str, list]] = []

    async def record(self, query, values=None):
        self.queries.append((query, list(values or [])))
        return await self.original(query, values)

    def __enter__(self):
        self.client.execute_query_dict = self.record
        return self

    def __exit__(self, *exc):
        self.client.execute_query_dict = self.original


async def page(params: dict[str, str], now: datetime, min_volume: int):
    scope, errors = await stats.stats_scope(params, now)
    assert not errors, errors
    # As /staff/stats asks for it: the trend from the table's own scan.
    found = await stats.table(scope, now, "reply", min_volume, with_trend=True)
    return found, found.months


async def time_page(label: str, params: dict[str, str], now: datetime, min_volume: int,
                    runs: int, url: str, explain: bool) -> None:
    t0 = time.perf_counter()
    with Recorder() as recorder:
        found, months = await page(params, now, min_volume)
    warm = time.perf_counter() - t0
    if warm > 20:  # keep the whole run near 15 minutes
        runs = 1
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await page(params, now, min_volume)
        times.append(time.perf_counter() - t0)
    print(f"\n{label} {params}: median {statistics.median(times):.3f} s of {runs} "
          f"(min {min(times):.3f}, max {max(times):.3f}); {len(found.rows)} departments, "
          f"{found.total.counts['received']:,} received, {len(months)} months; "
          f"warm-up {warm:.2f} s")
    if warm > 60:
        print("  (too slow to time each query alone)")
        return
    conn = await asyncpg.connect(url)
    try:
        for query, values in recorder.queries:
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", *values)
            lines = [r[0] for r in plan]
            total = next((x for x in lines if x.startswith("Execution Time")), "")
            print(f"  query {' '.join(query.split())[:90]}… — {total}")
        if explain:
            query, values = recorder.queries[0]
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", *values)
            print("\n  EXPLAIN (ANALYZE, BUFFERS) of the by-department query:")
            print("\n".join("    " + r[0] for r in plan))
    finally:
        await conn.close()


async def time_report(month, now: datetime, rules, runs: int) -> None:
    """The monthly report as /staff/report builds it, and its XLSX, median of `runs`."""
    built, sheets = [], []
    for _ in range(runs + 1):  # the first warms up
        t0 = time.perf_counter()
        found = await report.monthly(month, now, rules)
        built.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        data = await report.xlsx(found)
        sheets.append(time.perf_counter() - t0)
    print(f"\nreport {month:%Y-%m}: monthly() median {statistics.median(built[1:]):.3f} s, "
          f"xlsx() median {statistics.median(sheets[1:]):.3f} s ({len(data) / 1e6:.2f} MB) "
          f"of {runs}; {len(found.late):,} answered late, {len(found.overdue):,} overdue, "
          f"{len(found.orders):,} 督办")


async def start_serve(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MINSHENG_DEV": "1", "DATABASE_URL": url, "MINSHENG_RATE_LIMIT": "0",
           "MINSHENG_VAR_DIR": str(ROOT / "var" / "bench")}
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            try:
                if (await client.get("/login")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError("the server exited")
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def server_pid(process: subprocess.Popen) -> int:
    # uvicorn with one worker serves in the process it was started in.
    return process.pid


async def measured_get(client: httpx.AsyncClient, pid: int, label: str, path: str,
                       params: dict[str, str]) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = memory_kb(pid, "VmRSS")
    t0 = time.perf_counter()
    size = 0
    async with client.stream("GET", path, params=params) as response:
        assert response.status_code == 200, (await response.aread())[:500]
        async for chunk in response.aiter_raw():
            size += len(chunk)
    seconds = time.perf_counter() - t0
    growth = memory_kb(pid, "VmHWM") - before
    print(f"{label}: {seconds:.2f} s, {size / 1e6:.2f} MB; server RSS {before / 1024:.0f} MB "
          f"before, peak growth {growth / 1024:.1f} MB")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())

async def bench_database(count: int):
    """Print the machine and load; make a new database, migrated, connected and holding
    routing_rules. Returns (url, rules, drop): `drop()` removes it and prints the load."""
    print(describe())
    print(f"load average before: {loadavg()}")
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"load average after: {loadavg()}")

    try:
        print(f"PostgreSQL {await admin.fetchval('SHOW server_version')}; {count:,} appeals")
        await db.upgrade(url)
        await db.connect(url)
        rules = load_rules(ROOT / "routing_rules")
        await sync_rules(rules)
    except BaseException:
        await drop()
        raise
    return url, rules, drop


def stop(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.terminate()
        process.wait(timeout=30)



async def main(count: int, runs: int, shuffled: bool) -> None:
    url, rules, drop = await bench_database(count)
    process = None
    try:
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        counts = await populate(url, count, now, rules.calendar, shuffled)
        print(f"populate: {time.perf_counter() - t0:.1f} s — "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        last = now.date().replace(day=1) - timedelta(days=1)
        month = {"from": last.replace(day=1).isoformat(), "to": last.isoformat()}
        year = {"from": (now.date() - timedelta(days=364)).isoformat(),
                "to": now.date().isoformat()}
        minimum = rules.detectors.stats_min_volume
        await time_page("month", month, now, minimum, runs, url, explain=True)
        await time_page("year", year, now, minimum, runs, url, explain=False)
        await time_report(last.replace(day=1), now, rules, runs)

        username = f"inspector-{uuid.uuid4().hex[:6]}"
        await create_account(username, PASSWORD, Role.INSPECTOR, display_name=username)
        process, base = await start_serve(url)
        pid = server_pid(process)
        print()
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            await login(client, username)
            for label, params in (("month", month), ("year", year)):
                for _ in range(2):  # the second is the one a returning inspector waits for
                    await measured_get(client, pid, f"GET /staff/stats ({label}, HTTP)",
                                       "/staff/stats", params)
            report_month = {"month": last.strftime("%Y-%m")}
            await measured_get(client, pid, "GET /staff/report (month, HTTP)", "/staff/report",
                               report_month)
            await measured_get(client, pid, "GET /staff/report XLSX (month, HTTP)",
                               "/staff/report", {**report_month, "format": "xlsx"})
            start = now.date() - timedelta(days=200)
            window = {"submitted_from": start.isoformat(),
                      "submitted_to": (start + timedelta(days=36)).isoformat(),
                      "format": "xlsx"}
            await measured_get(client, pid, f"XLSX export {window}", "/staff/appeals", window)
        entry = await AuditEntry.filter(action="export").order_by("-id").first()
        print(f"XLSX export: {entry.details.get('rows', 0):,} rows audited" if entry
              else "XLSX export: no audit entry")
        await db.disconnect()
    finally:
        stop(process)
        await drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shuffled", action="store_true",
                        help="receipt times in random order of id (worst case for a month)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.runs, arguments.shuffled))
