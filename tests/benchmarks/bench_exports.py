"""Time and server memory of the inspector's exports (CSV and XLSX) on PostgreSQL.

Run by hand: .venv/bin/python tests/benchmarks/bench_exports.py [--appeals N] [--batch N]

A fresh database gets N appeals (bench_lists' COPY); a uvicorn server runs in a separate
process, and an inspector downloads the whole list (no filter: every appeal) as CSV and as
XLSX, the body read in chunks and thrown away. For each: wall time, bytes, the rows the audit
log counted, and the server process's peak RSS growth (VmHWM after the export minus VmRSS
before it, the peak reset through /proc/<pid>/clear_refs). The database is dropped afterwards.
"""

import argparse
import asyncio
import os
import re
import socket
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
from app.models import AuditEntry  # noqa: E402
from app.rules import load_rules  # noqa: E402
from app.services.accounts import create_account  # noqa: E402
from app.services.reference import sync_rules  # noqa: E402
from tests.benchmarks.bench_lists import populate  # noqa: E402
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_server(url: str, batch: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port), str(batch),
                                str(ROOT)], cwd=ROOT)
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


async def export(client: httpx.AsyncClient, pid: int, fmt: str) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # restart the peak-RSS count
    before = memory_kb(pid, "VmRSS")
    t0 = time.perf_counter()
    size = 0
    async with client.stream("GET", "/staff/appeals", params={"format": fmt}) as response:
        assert response.status_code == 200, await response.aread()
        async for chunk in response.aiter_raw():
            size += len(chunk)
    seconds = time.perf_counter() - t0
    growth = memory_kb(pid, "VmHWM") - before
    entry = await AuditEntry.filter(action="export").order_by("-id").first()
    print(f"{fmt.upper()} export: {seconds:.2f} s, {size / 1e6:.1f} MB, "
          f"{entry.details['rows']:,} rows audited; server RSS {before / 1024:.0f} MB before, "
          f"peak growth {growth / 1024:.1f} MB")


async def main(count: int, batch: int) -> None:
    print(describe())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    process = None
    try:
        print(f"PostgreSQL {await admin.fetchval('SHOW server_version')}; {count:,} appeals; "
              f"batches of {batch:,}")
        await db.upgrade(url)
        await db.connect(url)
        await sync_rules(load_rules(ROOT / "routing_rules"))
        resident = await create_account(f"bench-{uuid.uuid4().hex[:6]}@example.cn", PASSWORD,
                                        Role.RESIDENT)
        t0 = time.perf_counter()
        await populate(url, count, datetime.now(UTC), resident.id)
        print(f"populate: {time.perf_counter() - t0:.1f} s")
        username = f"inspector-{uuid.uuid4().hex[:6]}"
        await create_account(username, PASSWORD, Role.INSPECTOR, display_name=username)
        process, base = await start_server(url, batch)
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            await login(client, username)
            for fmt in ("csv", "xlsx"):
                await export(client, process.pid, fmt)
        await db.disconnect()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.batch))
