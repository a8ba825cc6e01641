"""Time of staff search (/staff/search) over 1,000,000 appeals on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_search.py [--appeals N] [--runs N]

A fresh database (migrated) gets N appeals by COPY, received over the last 12 months in
every department, type and category, each with a title and a body cut from the real
messages of ../shared/data/appeals_train.csv (read here only, never stored in the
repository), a contact phone, and the search columns intake writes (search_grams,
phone_key: the same functions). The GIN index is dropped for the load and built after it,
as a bulk load would do, then ANALYZE.

Timed through the function the page calls (app.services.search.search, with the base query
of app.web.access.visible_appeals): a two-character phrase (frequent and rarer), a
six-character phrase, two words, a phone number and a tracking number, for an inspector
(all appeals) and for a handler (one department), first page and the next; --runs each
after a warm-up, median and p95. EXPLAIN (ANALYZE, BUFFERS) of the main ones. Then a real
`python -m app.cli serve` answers GET /staff/search for the same queries over HTTP.
The database is dropped afterwards.
"""

import argparse
import asyncio
import csv
import hashlib
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain import search_text  # noqa: E402
from app.domain.types import Role  # noqa: E402
from app.services import lists, search  # noqa: E402
from app.services.accounts import create_account  # noqa: E402
from app.web import access  # noqa: E402
from tests.benchmarks.bench_exports import PASSWORD, login  # noqa: E402
from tests.benchmarks.bench_stats import bench_database, start_serve, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT.parent / "shared" / "data" / "appeals_train.csv"
GIN = "appeal_search_grams_gin"
TYPES = ["consultation", "help", "complaint", "report", "suggestion", "evaluation"]
TYPE_WEIGHTS = [25, 20, 35, 5, 10, 5]
STATUSES = ["assigned", "accepted", "replied", "closed"]
STATUS_WEIGHTS = [5, 10, 15, 70]
COLUMNS = ["tracking_number", "type", "title", "body", "contact_name", "contact_phone",
           "contact_email", "is_public", "status", "tracker_secret_hash", "submitted_at",
           "reply_due_at", "deadline_provisional", "sla_state", "ack_late", "extension_days",
           "extension_requested_days", "info_request", "reply_text", "rating", "updated_at",
           "department_id", "region_id", "category_id", "search_grams", "phone_key"]
# What is searched: (label, q). Frequencies are those of the source messages.
PHRASES = [("2 chars, frequent (小区 ~9%)", "小区"),
           ("2 chars, rarer (噪音 ~2.6%)", "噪音"),
           ("6 chars (小区物业管理 ~0.1%)", "小区物业管理"),
           ("7 chars (拖欠农民工工资 ~0.2%)", "拖欠农民工工资"),
           ("two words (电梯 维修)", "电梯 维修")]


def messages() -> list[tuple[str, str]]:
    with MESSAGES.open(encoding="utf-8") as f:
        return [(row["title"], row["detail"]) for row in csv.DictReader(f) if row["detail"]]


def appeal_rows(rng: random.Random, texts, start: int, stop: int, count: int, now: datetime,
                departments, categories) -> list[tuple]:
    rows = []
    for i in range(start, stop):
        title, detail = rng.choice(texts)
        length = rng.randint(60, 400)
        begin = rng.randrange(max(1, len(detail) - length))
        body = detail[begin:begin + length]
        title = (title or detail[:rng.randint(12, 30)])[:100]
        submitted = now - timedelta(days=365 * (1 - (i + rng.random()) / count))
        department, region = rng.choice(departments)
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        rows.append((
            f"MS{20000000 + i // 100000:08d}-{i % 100000:06d}",
            rng.choices(TYPES, TYPE_WEIGHTS)[0], title, body, "", phone, "", False,
            rng.choices(STATUSES, STATUS_WEIGHTS)[0], "", submitted,
            submitted + timedelta(days=15), False, "ok", False, 0, 0, "", "", "", submitted,
            department, region, rng.choice(categories),
            search_text.grams(title, body), phone_key_fast(phone)))
    return rows


def phone_key_fast(phone: str) -> str:
    # The same key as search_text.phone_key for a plain 11-digit number.
    return hashlib.sha256(f"minsheng-phone:{phone}".encode()).hexdigest()


async def populate(url: str, count: int, now: datetime) -> None:
    assert phone_key_fast("13800000000") == search_text.phone_key("13800000000")
    texts = messages()
    conn = await asyncpg.connect(url)
    try:
        departments = [(r["id"], r["region_id"]) for r in
                       await conn.fetch("SELECT id, region_id FROM department")]
        categories = [r["id"] for r in await conn.fetch("SELECT id FROM category WHERE level = 1")]
        gin = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = $1", GIN)
        await conn.execute(f"DROP INDEX {GIN}")
        # COPY's binary format has no tsvector encoder in asyncpg: load the lexemes as text
        # and convert the column once (the application inserts them as text parameters).
        await conn.execute("ALTER TABLE appeal ALTER COLUMN search_grams DROP DEFAULT, "
                           "ALTER COLUMN search_grams TYPE text")
        rng = random.Random(12)
        step = 50_000
        for start in range(0, count, step):
            rows = appeal_rows(rng, texts, start, min(count, start + step), count, now,
                               departments, categories)
            await conn.copy_records_to_table("appeal", records=rows, columns=COLUMNS)
        t0 = time.perf_counter()
        await conn.execute("ALTER TABLE appeal ALTER COLUMN search_grams TYPE tsvector "
                           "USING search_grams::tsvector, "
                           "ALTER COLUMN search_grams SET DEFAULT ''")
        print(f"column converted to tsvector in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute(gin)
        print(f"GIN index built in {time.perf_counter() - t0:.1f} s")
        await conn.execute("VACUUM ANALYZE appeal")
        sizes = await conn.fetchrow(
            "SELECT pg_size_pretty(pg_table_size('appeal')) AS t, "
            f"pg_size_pretty(pg_relation_size('{GIN}')) AS g, "
            "pg_size_pretty(pg_total_relation_size('appeal')) AS all")
        print(f"appeal table {sizes['t']} (with TOAST), GIN index {sizes['g']}, "
              f"total with all indexes {sizes['all']}")
    finally:
        await conn.close()


def summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return (f"median {statistics.median(times) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, "
            f"max {times[-1] * 1000:6.1f} ms")


async def timed(account, params: dict[str, str], runs: int) -> tuple[str, int, str | None]:
    base = access.visible_appeals
    found = await search.search(params, base(account), now=datetime.now(UTC))  # warm-up
    assert not found.errors, found.errors
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        found = await search.search(params, base(account), now=datetime.now(UTC))
        times.append(time.perf_counter() - t0)
    page = found.listing.page
    return summary(times), len(page.appeals), page.next_after


async def explain(url: str, account, q: str) -> None:
    query, _ = search.by_query(access.visible_appeals(account), q)
    sql = query.order_by(*lists.NEWEST_FIRST.fields()).limit(lists.PAGE_SIZE + 1) \
        .only(*lists.COLUMNS).sql(params_inline=True)
    conn = await asyncpg.connect(url)
    try:
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    finally:
        await conn.close()
    print(f"  EXPLAIN ({account.role}, q={q}):")
    for row in plan:
        print("    " + row[0])


async def main(count: int, runs: int) -> None:
    url, _, drop = await bench_database(count)
    process = None
    try:
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await populate(url, count, now)
        print(f"populate: {time.perf_counter() - t0:.1f} s")
        conn = await asyncpg.connect(url)
        sample = await conn.fetchrow(
            "SELECT a.tracking_number, a.contact_phone, d.code FROM appeal a "
            "JOIN department d ON d.id = a.department_id WHERE a.id = $1", count // 3)
        await conn.close()
        inspector = await create_account(f"inspector-{uuid.uuid4().hex[:6]}", PASSWORD,
                                         Role.INSPECTOR)
        handler = await create_account(f"handler-{uuid.uuid4().hex[:6]}", PASSWORD,
                                       Role.HANDLER, department_code=sample["code"])
        queries = [*PHRASES, ("phone number", sample["contact_phone"]),
                   ("tracking number", sample["tracking_number"])]
        print(f"\nsearch.search(), {runs} runs each after a warm-up:")
        for who in (inspector, handler):
            for label, q in queries:
                said, rows, after = await timed(who, {"q": q}, runs)
                print(f"  {who.role:9} {label:34} {said}  ({rows} rows on page 1)")
                if after:
                    said, rows, _ = await timed(who, {"q": q, "after": after}, runs)
                    print(f"  {who.role:9} {label + ', page 2':34} {said}")
            said, rows, _ = await timed(who, {"q": "噪音", "region": "990100",
                                              "type": "complaint"}, runs)
            print(f"  {who.role:9} {'噪音 + region 990100 + complaint':34} {said}")
        print()
        for who, q in ((inspector, "小区"), (inspector, "噪音"), (inspector, "小区物业管理"),
                       (handler, "噪音"), (inspector, sample["contact_phone"])):
            await explain(url, who, q)

        process, base = await start_serve(url)
        print(f"\nGET /staff/search over HTTP (python -m app.cli serve), {runs} runs each:")
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for who in (inspector, handler):
                await login(client, who.username)
                for label, q in queries:
                    await client.get("/staff/search", params={"q": q})
                    times = []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        response = await client.get("/staff/search", params={"q": q})
                        times.append(time.perf_counter() - t0)
                        assert response.status_code == 200
                    print(f"  {who.role:9} {label:34} {summary(times)}")
                client.cookies.clear()
        await db.disconnect()
    finally:
        stop(process)
        await drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.runs))
