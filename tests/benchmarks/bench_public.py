"""Time of the public pages (/public, /public/stats) over 1,000,000 appeals on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_public.py [--appeals N] [--runs N]
2>/dev/null (the server's access log goes to stderr).

A fresh database gets N appeals with everything the statistics read (bench_stats.populate,
received over the last 12 months), then a publication row for about a fifth of them (a
replied appeal, never a report; one in twenty of those withdrawn again): title and question
cut from the real messages of ../shared/data/appeals_train.csv (read here only), a reply, and
the bigrams (search_text.grams, as app.services.publication writes them); the GIN index is
dropped for the load and built after it, then VACUUM ANALYZE.

A real `python -m app.cli serve` process answers anonymous GETs: /public with no filter, each
filter, word searches and page 2 by key; /public/stats for last month and for the year (the
first request of a period computes the scorecard, the next ones within a minute are the
in-process cache's, app.services.scorecards.Cache). p50 / p95 of --runs after a warm-up.
The scorecards' own cost without the cache (scorecards.scorecard) is timed too, and the plan
of the slowest /public query is printed; then the open data files, made by the first request
of the day (when no worker made them first) and read by the next. The database is dropped
afterwards.
"""

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain import search_text  # noqa: E402
from app.services import public_replies, scorecards  # noqa: E402
from tests.benchmarks.bench_search import messages  # noqa: E402
from tests.benchmarks.bench_stats import bench_database, populate, start_serve, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GIN = "publication_search_grams_gin"
OPEN_DATA = ROOT / "var" / "bench" / "open_data"  # bench_stats.start_serve's var dir
SHARE = 0.25  # of replied appeals (about 80% of all): about a fifth of all appeals
WITHDRAWN = 0.05
COLUMNS = ["appeal_id", "status", "title", "question", "reply", "type", "department_id",
           "region_id", "category_id", "submitted_at", "replied_at", "published_at",
           "approver_label", "updated_at", "search_grams"]
REPLIES = ["经核查，您反映的问题属实，我单位已责令相关责任单位限期整改，并将持续跟踪督促落实。",
           "您好，经调查了解，该问题已列入今年的民生实事项目，预计年底前完成施工，感谢您的监督。",
           "经现场核实，相关路段的照明设施已修复，后续将加强日常巡查，如有问题请继续反映。",
           "关于您咨询的政策，根据有关规定，符合条件的群众可携带身份证明到社区服务中心办理。"]


async def publish(url: str) -> dict[str, int]:
    """Publication rows for a share of the replied appeals (COPY, lexemes loaded as text)."""
    texts = messages()
    rng = random.Random(13)
    conn = await asyncpg.connect(url)
    try:
        gin = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = $1", GIN)
        await conn.execute(f"DROP INDEX {GIN}")
        await conn.execute("ALTER TABLE publication ALTER COLUMN search_grams DROP DEFAULT, "
                           "ALTER COLUMN search_grams TYPE text")
        candidates = await conn.fetch(
            "SELECT id, type, department_id, region_id, category_id, submitted_at, "
            "first_reply_at FROM appeal WHERE first_reply_at IS NOT NULL "
            "AND type <> 'report' ORDER BY id")
        rows = []
        for a in candidates:
            if rng.random() >= SHARE:
                continue
            title, detail = rng.choice(texts)
            length = rng.randint(60, 400)
            begin = rng.randrange(max(1, len(detail) - length))
            question = detail[begin:begin + length]
            title = (title or detail[:rng.randint(12, 30)])[:100]
            reply = rng.choice(REPLIES)
            published = a["first_reply_at"] + timedelta(days=rng.uniform(1, 5))
            status = "unpublished" if rng.random() < WITHDRAWN else "published"
            rows.append((a["id"], status, title, question, reply, a["type"],
                         a["department_id"], a["region_id"], a["category_id"],
                         a["submitted_at"], a["first_reply_at"], published, "基准", published,
                         search_text.grams(title, f"{question} {reply}")))
            if len(rows) >= 20_000:
                await conn.copy_records_to_table("publication", records=rows, columns=COLUMNS)
                rows = []
        if rows:
            await conn.copy_records_to_table("publication", records=rows, columns=COLUMNS)
        await conn.execute("ALTER TABLE publication ALTER COLUMN search_grams TYPE tsvector "
                           "USING search_grams::tsvector, "
                           "ALTER COLUMN search_grams SET DEFAULT ''")
        t0 = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(gin)
        print(f"publication GIN index built in {time.perf_counter() - t0:.1f} s")
        await conn.execute("VACUUM (ANALYZE) publication")
        return {s: await conn.fetchval("SELECT COUNT(*) FROM publication WHERE status = $1", s)
                for s in ("published", "unpublished")}
    finally:
        await conn.close()


def summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return (f"p50 {statistics.median(times) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, "
            f"max {times[-1] * 1000:6.1f} ms")


async def timed_get(client: httpx.AsyncClient, params: dict[str, str], runs: int,
                    path: str = "/public") -> tuple[list[float], float, httpx.Response]:
    t0 = time.perf_counter()
    response = await client.get(path, params=params)  # warm-up (or the cache's first fill)
    first = time.perf_counter() - t0
    assert response.status_code == 200, response.text[:300]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = await client.get(path, params=params)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    return times, first, response


async def explain(url: str, params: dict[str, str]) -> None:
    """The plan of the list's main query for `params`, as the page builds it."""
    query, _, errors = await public_replies.asked(params, datetime.now(UTC))
    assert not errors, errors
    sql = query.order_by("-id").limit(public_replies.PAGE_SIZE + 1) \
        .values(*public_replies.COLUMNS).sql(params_inline=True)
    conn = await asyncpg.connect(url)
    try:
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    finally:
        await conn.close()
    print(f"\n  EXPLAIN (ANALYZE, BUFFERS) {params}:")
    print("\n".join("    " + r[0] for r in plan))


async def main(count: int, runs: int) -> None:
    url, rules, drop = await bench_database(count)
    process = None
    try:
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        counts = await populate(url, count, now, rules.calendar)
        print(f"populate: {time.perf_counter() - t0:.1f} s — "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        t0 = time.perf_counter()
        published = await publish(url)
        print(f"publish: {time.perf_counter() - t0:.1f} s — "
              + ", ".join(f"{s} {n:,}" for s, n in published.items()))

        conn = await asyncpg.connect(url)
        busiest = await conn.fetchrow(
            "SELECT d.code, d.id, COUNT(*) AS n FROM publication p JOIN department d "
            "ON d.id = p.department_id GROUP BY d.code, d.id ORDER BY n DESC LIMIT 1")
        county = await conn.fetchval("SELECT code FROM region WHERE level = 'county' "
                                     "ORDER BY code LIMIT 1")
        category = await conn.fetchval("SELECT code FROM category WHERE level = 1 "
                                       "ORDER BY code LIMIT 1")
        await conn.close()
        last = scorecards.default_period(now)
        year = str(datetime.now(UTC).year)
        minimum, cell = rules.detectors.stats_min_volume, rules.detectors.public_min_cell

        print(f"\nscorecards.scorecard() without the cache, {min(runs, 5)} runs each:")
        for label, key in (("month", last.key), ("year", year)):
            period = scorecards.period_of(key, now)[0]
            times = []
            for _ in range(min(runs, 5)):
                t0 = time.perf_counter()
                card = await scorecards.scorecard(period, now, minimum, cell)
                times.append(time.perf_counter() - t0)
            print(f"  {label:6} {key:8} {summary(times)}  ({len(card.departments)} "
                  f"departments, {len(card.regions)} regions, {len(card.months)} months)")

        shutil.rmtree(OPEN_DATA, ignore_errors=True)  # another run's files, of another database
        process, base = await start_serve(url)
        cases = [
            ("no filter", {}),
            (f"department {busiest['code']} ({busiest['n']:,} rows)",
             {"department": busiest["code"]}),
            ("region 990100 (city, with its counties)", {"region": "990100"}),
            (f"region {county} (county)", {"region": county}),
            (f"category {category}", {"category": category}),
            (f"month {last.key}", {"month": last.key}),
            ("words 小区 (2 chars, frequent)", {"q": "小区"}),
            ("words 噪音 (2 chars, rarer)", {"q": "噪音"}),
            ("words 小区物业管理 (6 chars)", {"q": "小区物业管理"}),
            ("words 电梯 维修 (two words)", {"q": "电梯 维修"}),
            ("words 噪音 + region 990100", {"q": "噪音", "region": "990100"}),
        ]
        print(f"\nGET over HTTP (python -m app.cli serve, anonymous), {runs} runs each after "
              "a warm-up:")
        worst = (0.0, {})
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for label, params in cases:
                times, _, response = await timed_get(client, params, runs)
                print(f"  /public {label:44} {summary(times)}")
                worst = max(worst, (sorted(times)[round(0.95 * len(times)) - 1], params),
                            key=lambda w: w[0])
                if label in ("no filter", cases[1][0], "words 小区 (2 chars, frequent)"):
                    after = public_next(response.text)
                    times, _, _ = await timed_get(client, {**params, "after": after}, runs)
                    print(f"  /public {label + ', page 2 by key':44} {summary(times)}")
            for label, key in (("month", last.key), ("year", year)):
                times, first, _ = await timed_get(client, {"period": key}, runs,
                                                  "/public/stats")
                print(f"  /public/stats {label} {key:8} first (computes) {first * 1000:.0f} ms;"
                      f" then {summary(times)}")
            for name in ("published", "scorecards"):
                made = []
                for _ in range(2):  # the first of the day writes the file, the next reads it
                    t0 = time.perf_counter()
                    response = await client.get(f"/public/data/{name}.csv")
                    made.append(time.perf_counter() - t0)
                    assert response.status_code == 200
                print(f"  /public/data/{name}.csv: first of the day {made[0]:.1f} s (writes "
                      f"{len(response.content) / 1e6:.1f} MB), then {made[1] * 1000:.0f} ms")
        if worst[0] > 0.05:
            await explain(url, dict(worst[1]))
        await db.disconnect()
    finally:
        stop(process)
        shutil.rmtree(OPEN_DATA, ignore_errors=True)
        await drop()


def public_next(page: str) -> str:
    marker = 'rel="next"'
    link = page[:page.index(marker)].rsplit('href="', 1)[1].split('"', 1)[0]
    return link.replace("&amp;", "&").split("after=", 1)[1].split("&", 1)[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.runs))
