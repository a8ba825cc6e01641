"""Time and server memory of the inspector's exports (CSV and XLSX) on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_exports.py [--appeals N] [--batch N]
    [--url postgres://.../db] [--root DIR ...] [--rounds N] [--since YYYY-MM-DD]

A fresh database gets N appeals (bench_lists' COPY); a uvicorn server runs in a separate
process, and an inspector downloads the whole list (no filter: every appeal) as CSV and as
XLSX, the body read in chunks and thrown away. For each: wall time, rows per second, the
server's CPU time (with that of the XLSX writer process it waited for), bytes, the rows the
audit log counted, the server process's peak RSS growth (VmHWM after the export minus
VmRSS before it, the peak reset through /proc/<pid>/clear_refs), and how long another
user's page (GET /login, every 0.2 s meanwhile) waits. The database is dropped afterwards.

To compare two versions of the code on the same data: --url names a database kept between
runs (populated up to N appeals the first time, never dropped), and each --root is a copy of
the project whose server is measured; the roots take turns, round after round (--rounds).
--since YYYY-MM-DD exports only the appeals received from that day on (a date range of a
large database).
"""

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain.types import Role  # noqa: E402
from app.models import Appeal, AuditEntry  # noqa: E402
from app.rules import load_rules  # noqa: E402
from app.services.accounts import create_account  # noqa: E402
from app.services.reference import sync_rules  # noqa: E402
from tests.benchmarks.bench_lists import COLUMNS, populate  # noqa: E402
from tests.benchmarks.machine import describe  # noqa: E402

SERVER = os.environ.get("MINSHENG_BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench-password-123"
SERVE = """
import sys
from pathlib import Path
import uvicorn
from app.rules import load_rules
from app.settings import Settings
from app.web.app import create_app
url, port, batch, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
settings = Settings.from_env({"MINSHENG_DEV": "1", "DATABASE_URL": url,
                              "MINSHENG_RATE_LIMIT": "0",
                              "MINSHENG_VAR_DIR": str(root / "var" / "bench")})
app = create_app(settings, load_rules(root / "routing_rules"), manage_db=True)
app.state.export_batch_size = batch
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def cpu_seconds(pid: int) -> float:
    """CPU time of the process and of its children it has waited for (an XLSX writer)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_server(url: str, batch: int, root: Path = ROOT
                       ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port), str(batch),
                                str(root)], cwd=root)
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


async def login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = await client.post("/login", data={"csrf_token": token, "username": username,
                                               "password": PASSWORD})
    assert answer.status_code == 303, answer.text


async def export(client: httpx.AsyncClient, pid: int, fmt: str,
                 params: dict[str, str] | None = None) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # restart the peak-RSS count
    before = memory_kb(pid, "VmRSS")
    cpu = cpu_seconds(pid)
    t0 = time.perf_counter()
    size = 0
    waits: list[float] = []
    probe = asyncio.create_task(meanwhile(client, waits))
    try:
        async with client.stream("GET", "/staff/appeals",
                                 params={**(params or {}), "format": fmt}) as response:
            assert response.status_code == 200, await response.aread()
            async for chunk in response.aiter_raw():
                size += len(chunk)
    finally:
        probe.cancel()
    seconds = time.perf_counter() - t0
    growth = memory_kb(pid, "VmHWM") - before
    cpu = cpu_seconds(pid) - cpu
    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    rows = entry.details["rows"]
    print(f"{fmt.upper()} export: {seconds:.2f} s, {rows / seconds:,.0f} rows/s, "
          f"server CPU {cpu:.2f} s, {size / 1e6:.1f} MB, {rows:,} rows audited; server RSS "
          f"{before / 1024:.0f} MB before, peak growth {growth / 1024:.1f} MB; load "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    if waits:
        print(f"    meanwhile GET /login: median {statistics.median(waits) * 1000:.0f} ms, "
              f"slowest {max(waits) * 1000:.0f} ms ({len(waits)} requests)", flush=True)


async def meanwhile(client: httpx.AsyncClient, waits: list[float]) -> None:
    """Another user's page, every 0.2 s while the export runs: how long each one waits."""
    while True:
        t0 = time.perf_counter()
        await client.get("/login")
        waits.append(time.perf_counter() - t0)
        await asyncio.sleep(0.2)


async def prepare(url: str, count: int) -> None:
    """Migrate and fill `url` up to `count` appeals (a kept database is filled once)."""
    await db.upgrade(url)
    await db.connect(url)
    await sync_rules(load_rules(ROOT / "routing_rules"))
    if await Appeal.all().count() >= count:
        return
    resident = await create_account(f"bench-{uuid.uuid4().hex[:6]}@example.cn", PASSWORD,
                                    Role.RESIDENT)
    await default_later_columns(url)
    t0 = time.perf_counter()
    await populate(url, count, datetime.now(UTC), resident.id)
    print(f"populate: {time.perf_counter() - t0:.1f} s")


async def default_later_columns(url: str) -> None:
    """bench_lists' COPY names the columns the appeal had then: a NOT NULL column added
    since (a flag, a count, a code) gets its model's default, false, 0 or "", for the COPY."""
    conn = await asyncpg.connect(url)
    try:
        for row in await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'appeal' AND is_nullable = 'NO' AND column_default IS NULL "
                "AND data_type IN ('boolean', 'smallint', 'integer', 'character varying')"):
            if row["column_name"] not in COLUMNS:
                value = {"boolean": "FALSE", "character varying": "''"}.get(row["data_type"], "0")
                await conn.execute(f'ALTER TABLE appeal ALTER COLUMN "{row["column_name"]}" '
                                   f"SET DEFAULT {value}")
    finally:
        await conn.close()


async def measure(url: str, root: Path, batch: int, username: str,
                  params: dict[str, str]) -> None:
    print(f"server code: {root}")
    process, base = await start_server(url, batch, root)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            await login(client, username)
            for fmt in ("csv", "xlsx"):
                await export(client, process.pid, fmt, params)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def main(count: int, batch: int, kept: str | None, roots: list[Path],
               rounds: int, since: str | None) -> None:
    print(describe())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    if kept:
        url = kept
    else:
        url = f"{SERVER}/minsheng_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    try:
        print(f"PostgreSQL {await admin.fetchval('SHOW server_version')}; {count:,} appeals; "
              f"batches of {batch:,}")
        await prepare(url, count)
        username = f"inspector-{uuid.uuid4().hex[:6]}"
        await create_account(username, PASSWORD, Role.INSPECTOR, display_name=username)
        for turn in range(rounds):
            print(f"round {turn + 1}")
            for root in roots:
                await measure(url, root, batch, username,
                              {"submitted_from": since} if since else {})
        await db.disconnect()
    finally:
        if not kept:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                "WITH (FORCE)")
        await admin.close()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--url", help="a database to keep (and fill once)")
    parser.add_argument("--root", type=Path, action="append",
                        help="a copy of the project to serve (repeat to compare)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--since", help="export only appeals received from this day on")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.batch, arguments.url,
                     arguments.root or [ROOT], arguments.rounds, arguments.since))
