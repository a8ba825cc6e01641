"""Time of the list pages (app.services.lists) over 1,000,000 appeals on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_lists.py [--appeals N] [--runs N]

A fresh database gets N appeals (COPY) over two years, every department, region, category,
type and status: most are finished; the open ones are recent and some are past their reply
deadline (a share of those awaiting the resident, who are not overdue). Each list is timed
through the same functions its handler calls (`lists.listing`: parse the query string, narrow,
seek one page), median of --runs after one warm-up, and its plan printed (EXPLAIN ANALYZE)
to show the index it uses. Page 200 of the inspector's list is reached by following 199
cursors. The inspector's page 1 and page 200 are also timed through HTTP, on a real uvicorn
server in this process. The database is dropped afterwards.
"""

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain.types import Role  # noqa: E402
from app.models import Appeal  # noqa: E402
from app.rules import load_rules  # noqa: E402
from app.services import lists  # noqa: E402
from app.services.accounts import create_account  # noqa: E402
from app.services.reference import sync_rules  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.benchmarks.machine import describe  # noqa: E402

SERVER = os.environ.get("MINSHENG_BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench-password-123"
# status: share of all appeals (open ones are recent, finished ones anywhere in two years)
STATUSES = {"closed": 0.82, "replied": 0.04, "rejected": 0.03, "accepted": 0.06,
            "assigned": 0.025, "awaiting_info": 0.015, "triage": 0.01}
OPEN = {"accepted", "assigned", "awaiting_info", "triage"}
TYPES = ["consultation", "help", "complaint", "report", "suggestion", "evaluation"]
TYPE_WEIGHTS = [25, 20, 35, 5, 10, 5]
COLUMNS = ["tracking_number", "type", "title", "body", "contact_name", "contact_phone",
           "contact_email", "is_public", "status", "tracker_secret_hash", "submitted_at",
           "reply_due_at", "warn_at", "deadline_provisional", "sla_state", "ack_late",
           "extension_days", "extension_requested_days", "info_request", "reply_text",
           "rating", "updated_at", "department_id", "region_id", "category_id", "resident_id",
           "ack_due_at"]


async def populate(url: str, count: int, now: datetime, resident: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        departments = [(r["id"], r["region_id"]) for r in
                       await conn.fetch("SELECT id, region_id FROM department")]
        categories = [r["id"] for r in await conn.fetch("SELECT id FROM category WHERE level = 1")]
        rng = random.Random(7)
        statuses, weights = list(STATUSES), list(STATUSES.values())

        def row(i: int):
            status = rng.choices(statuses, weights)[0]
            department, region = rng.choice(departments)
            if status in OPEN:
                submitted = now - timedelta(days=rng.uniform(0, 40))
            else:
                submitted = now - timedelta(days=rng.uniform(20, 730))
            due = submitted + timedelta(days=rng.uniform(7, 28))
            return (f"MSB{i:012d}", rng.choices(TYPES, TYPE_WEIGHTS)[0], "标题", "内容", "",
                    "13800000000", "", False, status, "", submitted, due, due - timedelta(days=2),
                    False, "ok", False, 0, 0, "", "", "", submitted,
                    None if status == "triage" else department, region,
                    rng.choice(categories), resident if i % 2000 == 0 else None,
                    submitted + timedelta(days=1))

        step = 100_000
        for start in range(0, count, step):
            await conn.copy_records_to_table(
                "appeal", records=[row(i) for i in range(start, min(count, start + step))],
                columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE appeal")
    finally:
        await conn.close()


async def timed(runs: int, call) -> tuple[float, object]:
    result = await call()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


async def plan(query) -> str:
    rows = await query.explain("text", analyze=True, buffers=True)
    lines = [r["QUERY PLAN"] for r in rows]
    return "\n".join("      " + line for line in lines)


async def the_query(base, params, order, cursor, now):
    filters, _ = lists.parse_filters(params)
    query, _ = await lists.narrowed(base, filters, now)
    if cursor:
        query = lists.after(query, order, *lists.decode_cursor(order, cursor))
    return query


async def case(label, base, order, params, *, now, runs, cursor=None, count=False,
               related=()):
    query_string = {**params, **({"after": cursor} if cursor else {})}

    async def call():
        return await lists.listing(query_string, base, order, now=now, count=count,
                                   related=related)

    ms, found = await timed(runs, call)
    assert not found.errors, found.errors
    total = f", total {found.page.total:,}" if found.page.total is not None else ""
    print(f"\n{label}: {ms:.2f} ms (median of {runs}); {len(found.page.appeals)} rows{total}")
    query = await the_query(base, params, order, cursor, now)
    print(await plan(query.order_by(*order.fields()).limit(lists.PAGE_SIZE + 1)))
    if count:
        print("    count:")
        conn = Appeal._meta.db
        sql = query.count().sql(params_inline=True)
        rows = await conn.execute_query_dict(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        print("\n".join("      " + r["QUERY PLAN"] for r in rows))
    return found


async def cursor_of_page(base, order, params, number, now) -> str:
    cursor = None
    for _ in range(number - 1):
        found = await lists.listing({**params, **({"after": cursor} if cursor else {})},
                                    base, order, now=now)
        cursor = found.page.next_after
    return cursor


async def over_http(url: str, runs: int, cursor: str) -> None:
    from app.web.app import create_app

    settings = Settings.from_env({"MINSHENG_DEV": "1", "DATABASE_URL": url,
                                  "MINSHENG_RATE_LIMIT": "0",
                                  "MINSHENG_VAR_DIR": str(ROOT / "var" / "bench")})
    app = create_app(settings, load_rules(ROOT / "routing_rules"), manage_db=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    username = f"inspector-{uuid.uuid4().hex[:6]}"
    await create_account(username, PASSWORD, Role.INSPECTOR, display_name=username)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            login = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
            answer = await client.post("/login", data={"csrf_token": token,
                                                        "username": username,
                                                        "password": PASSWORD})
            assert answer.status_code == 303, answer.text
            for label, params in (("page 1", {}), ("page 200", {"after": cursor})):
                async def get(params=params):
                    response = await client.get("/staff/appeals", params=params)
                    assert response.status_code == 200 and "MSB" in response.text
                    return response

                ms, _ = await timed(runs, get)
                print(f"HTTP GET /staff/appeals {label}: {ms:.2f} ms (median of {runs}, "
                      f"whole request over TCP: session, query, template)")
    finally:
        server.should_exit = True
        await task


async def main(count: int, runs: int) -> None:
    print(describe())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        print(f"PostgreSQL {await admin.fetchval('SHOW server_version')}; {count:,} appeals")
        await db.upgrade(url)
        await db.connect(url)
        await sync_rules(load_rules(ROOT / "routing_rules"))
        resident = await create_account(f"bench-{uuid.uuid4().hex[:6]}@example.cn", PASSWORD,
                                        Role.RESIDENT)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await populate(url, count, now, resident.id)
        print(f"populate: {time.perf_counter() - t0:.1f} s")
        conn = Appeal._meta.db
        department = (await conn.execute_query_dict(
            "SELECT d.id, d.code FROM department d JOIN appeal a ON a.department_id = d.id "
            "GROUP BY d.id, d.code ORDER BY count(*) DESC LIMIT 1"))[0]
        new, due, everything = lists.NEWEST_FIRST, lists.MOST_URGENT_FIRST, Appeal.all()
        inspector = {"now": now, "runs": runs, "related": ("department",)}

        await case("inspector's list, page 1", everything, new, {}, **inspector)
        t0 = time.perf_counter()
        cursor = await cursor_of_page(everything, new, {}, 200, now)
        print(f"\n(following 199 cursors to page 200 took {time.perf_counter() - t0:.2f} s)")
        await case("inspector's list, page 200", everything, new, {}, cursor=cursor,
                   **inspector)
        await case("inspector's list, overdue", everything, new, {"overdue": "1"},
                   **inspector)
        overdue_2 = await cursor_of_page(everything, new, {"overdue": "1"}, 2, now)
        await case("inspector's list, overdue, page 2", everything, new, {"overdue": "1"},
                   cursor=overdue_2, **inspector)
        since = (now - timedelta(days=90)).date().isoformat()
        until = (now - timedelta(days=60)).date().isoformat()
        for params in ({"status": "accepted"}, {"status": "rejected"}, {"type": "evaluation"},
                       {"department": department["code"]}, {"category": "c05"},
                       {"region": "990100"}, {"region": "990102"},
                       {"submitted_from": since, "submitted_to": until},
                       {"type": "report", "department": department["code"]},
                       {"status": "accepted", "region": "990200"}):
            await case(f"inspector's list, {params}", everything, new, params, **inspector)

        queue = {"now": now, "runs": runs, "count": True}
        found = await case(f"handler's queue ({department['code']}), page 1",
                           lists.department_queue(department["id"]), due, {}, **queue)
        await case(f"handler's queue ({department['code']}), page 2",
                   lists.department_queue(department["id"]), due, {},
                   cursor=found.page.next_after, **queue)
        await case(f"handler's queue ({department['code']}), overdue",
                   lists.department_queue(department["id"]), due, {"overdue": "1"}, **queue)
        await case("triage list, page 1", lists.triage(), due, {}, **queue)
        await case("resident's own list", lists.own(resident.id), new, {}, now=now, runs=runs,
                   related=("department",))

        print()
        await over_http(url, runs, cursor)
        await db.disconnect()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.runs))
