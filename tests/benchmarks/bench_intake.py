"""Benchmark: POST /api/v1/appeals on real uvicorn servers, SQLite and PostgreSQL, against a
bare Starlette endpoint on the same machine in the same run.

    .venv/bin/python tests/benchmarks/bench_intake.py [--count 3000] [--seconds 30]
        [--concurrency 16 64] [--engines sqlite postgres bare] [--pg-maxsize N]

Each engine gets a fresh database (`minsheng db upgrade` + `minsheng rules load`; PostgreSQL:
a new database on MINSHENG_BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432,
dropped afterwards) and its own `python -m app.cli serve` process with MINSHENG_DEV=1 and
MINSHENG_RATE_LIMIT=0. Every appeal carries an e-mail address, so each one is validated,
numbered, classified, routed and stored with its events and its receipt row in the outbox.
The bare endpoint parses the same JSON and answers 201 from the same uvicorn settings.
Load comes from this process: N concurrent keep-alive connections speaking minimal HTTP/1.1
(see Connection), bounded by --count requests and --seconds. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("MINSHENG_BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
SHARED_APPEALS = ROOT.parent / "shared" / "data" / "appeals_train.csv"
SEED_CORPUS = ROOT / "classifier" / "data" / "seed_corpus.csv"
REGIONS = ["990102", "990121", "990221", "990222"]
BODY = {
    "type": "complaint",
    "region": "990102",
    "title": "小区电梯坏了一个月物业公司不修",
    "body": "我们小区3号楼电梯坏了一个多月，物业公司一直推脱不修，老人上下楼很困难，请管一管。",
    "contact_phone": "13812345678",
    "public": False,
}


def sample_texts(kind: str) -> list[tuple[str, str]]:
    """(title, body) pairs the load cycles through: one short complaint, our seed corpus, or
    the shared real appeals (../shared, absent outside development; never committed)."""
    if kind == "short":
        return [(BODY["title"], BODY["body"])]
    path = SHARED_APPEALS if kind == "shared" else SEED_CORPUS
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(r["title"].strip()[:80], r["detail"].strip()[:5000]) for r in rows]
    return [(t, b) for t, b in pairs if t and len(b) >= 10]


# --- the bare endpoint, run by this same file in a subprocess --------------------------------

def bare_app():
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def submit(request: Request) -> JSONResponse:
        data = await request.json()
        return JSONResponse({"tracking_number": "MS00000000-000000", "title": data["title"]},
                            status_code=201)

    return Starlette(routes=[Route("/api/v1/appeals", submit, methods=["POST"])])


def serve_bare(port: int) -> None:
    import uvicorn

    # the same uvicorn settings as `minsheng serve`
    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="info", proxy_headers=True)


# --- machine -----------------------------------------------------------------------------------

def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def versions() -> str:
    found = []
    for name in ("starlette", "uvicorn", "tortoise-orm", "asyncpg", "argon2-cffi",
                 "scikit-learn", "jieba"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    extras = [n for n in ("uvloop", "httptools") if _importable(n)]
    found.append("uvloop/httptools: " + (", ".join(extras) if extras else "not installed"))
    return ", ".join(found)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


async def pg_version() -> str:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


# --- servers -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MINSHENG_", "SMTP_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": database_url, "MINSHENG_DEV": "1", "MINSHENG_RATE_LIMIT": "0",
                "MINSHENG_CLASSIFIER_PROCESSES": str(CLASSIFIER_PROCESSES[0]),
                "PYTHONPATH": str(ROOT)})
    return env


def prepare(database_url: str) -> None:
    env = server_env(database_url)
    for args in (["db", "upgrade"], ["rules", "load"]):
        subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], port: int, log: Path):
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            wait_ready(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


# --- load --------------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    concurrency: int
    ok: int
    elapsed: float
    latencies: list[float]
    errors: Counter = field(default_factory=Counter)
    probes: list[float] = field(default_factory=list)  # GET /api/v1/catalog during the run
    server_cpu: float = 0.0  # CPU seconds the server process used during the run
    client_cpu: float = 0.0

    def cpu_ms(self, seconds: float) -> float:
        return seconds / self.ok * 1000 if self.ok else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float, values: list[float] | None = None) -> float:
        values = self.latencies if values is None else values
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to post JSON.

    httpx spent more CPU per request than a bare Starlette endpoint does; on a 2-core
    machine the load generator then measured itself. This costs a few tens of microseconds.
    """

    def __init__(self, host: str, port: int, path: str):
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, payload: bytes) -> int:
        return await self.request("POST", self.path, payload)

    async def request(self, method: str, path: str, payload: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        self.writer.write(head.encode() + payload)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            status = int(raw[9:12])
            length, close = 0, False
            for line in raw.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


CLASSIFIER_PROCESSES = [1]  # set from --classifier-processes
TEXTS: list[tuple[str, str]] = [(BODY["title"], BODY["body"])]


async def load(url: str, concurrency: int, count: int, seconds: float, tag: str) -> Result:
    latencies: list[float] = []
    errors: Counter = Counter()
    numbers = itertools.count()
    address = url.split("//", 1)[1]
    host_port, path = address.split("/", 1)
    host, port = host_port.rsplit(":", 1)
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        connection = Connection(host, int(port), "/" + path)
        try:
            while True:
                i = next(numbers)
                if i >= count or time.perf_counter() > deadline:
                    return
                title, text = TEXTS[i % len(TEXTS)]
                body = {**BODY, "title": f"{title} {tag}-{i}", "body": text,
                        "region": REGIONS[i % len(REGIONS)],
                        "contact_email": f"r{i}.{tag}@example.cn"}
                payload = json.dumps(body, ensure_ascii=False).encode()
                started = time.perf_counter()
                try:
                    status = await asyncio.wait_for(connection.post(payload), 60)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    errors[type(exc).__name__] += 1
                    connection.close()
                    continue
                took = time.perf_counter() - started
                if status == 201:
                    latencies.append(took)
                else:
                    errors[status] += 1
        finally:
            connection.close()

    probes: list[float] = []
    running = True

    async def probe() -> None:
        # A cheap GET that needs no database, every 50 ms: how long the server's event loop
        # keeps a request waiting while submissions (and their classification) are under way.
        connection = Connection(host, int(port), "/api/v1/catalog")
        try:
            while running:
                started = time.perf_counter()
                with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                    await connection.request("GET", "/api/v1/catalog")
                    probes.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
        finally:
            connection.close()

    started = time.perf_counter()
    prober = asyncio.create_task(probe())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    running = False
    await prober
    return Result("", concurrency, len(latencies), elapsed, latencies, errors, probes)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (uvicorn's workers), Linux;
    0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu(child) for child in children(pid))


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


async def drive(name: str, port: int, args, pid: int) -> list[Result]:
    url = f"http://127.0.0.1:{port}/api/v1/appeals"
    results = []
    for concurrency in args.concurrency:
        tag = uuid.uuid4().hex[:8]
        await load(url, concurrency, args.warmup, 60, f"w{tag}")  # warm connections and caches
        server, client = process_cpu(pid), time.process_time()
        result = await load(url, concurrency, args.count, args.seconds, tag)
        result.server_cpu = process_cpu(pid) - server
        result.client_cpu = time.process_time() - client
        result.name = name
        results.append(result)
        print(f"  {name:<10} c={concurrency:<3} {result.rate:8.1f}/s  p50 {result.pct(.5):7.1f} ms"
              f"  p99 {result.pct(.99):7.1f} ms  ({result.ok} in {result.elapsed:.1f} s; CPU/appeal"
              f" server {result.cpu_ms(result.server_cpu):.1f} ms,"
              f" client {result.cpu_ms(result.client_cpu):.1f} ms;"
              f" GET probe p50 {result.pct(.5, result.probes):.1f} ms"
              f" p99 {result.pct(.99, result.probes):.1f} ms"
              f"{', errors ' + str(dict(result.errors)) if result.errors else ''})", flush=True)
    return results


# --- engines -----------------------------------------------------------------------------------

async def bench_app(name: str, database_url: str, args, logs: Path) -> list[Result]:
    prepare(database_url)
    port = free_port()
    with running([sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                  "--workers", str(args.workers if name == "postgres" else 1)],
                 server_env(database_url), port, logs / f"{name}.log") as process:
        results = await drive(name, port, args, process.pid)
    stored = await count_rows(database_url)
    print(f"  {name:<10} stored: {stored[0]} appeals, {stored[1]} outbox rows "
          f"(answered 201: {sum(r.ok for r in results)} + warm-up)", flush=True)
    return results


async def count_rows(database_url: str) -> tuple[int, int]:
    queries = ("SELECT count(*) FROM appeal", "SELECT count(*) FROM outbox_message")
    if database_url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db:
            return tuple(db.execute(q).fetchone()[0] for q in queries)  # type: ignore[return-value]
    import asyncpg

    conn = await asyncpg.connect(database_url.split("?")[0])
    try:
        return tuple([await conn.fetchval(q) for q in queries])  # type: ignore[return-value]
    finally:
        await conn.close()


async def bench_bare(args, logs: Path) -> list[Result]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)]
    with running(command, server_env("sqlite://unused"), port, logs / "bare.log") as process:
        return await drive("bare", port, args, process.pid)


@contextlib.asynccontextmanager
async def pg_database(maxsize: int | None):
    import asyncpg

    name = f"minsheng_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"{PG_SERVER}/{name}" + (f"?minsize=1&maxsize={maxsize}" if maxsize else "")
    finally:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def main(args) -> None:
    print("POST /api/v1/appeals benchmark")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, "
          f"Python {platform.python_version()} on {platform.platform()}")
    print(f"versions: {versions()}")
    print(f"load average before: {load_average()} (other work on the machine skews the figures;"
          " the ratio to bare Starlette, measured in the same conditions, less so)")
    if "postgres" in args.engines:
        print(f"PostgreSQL {await pg_version()} at {PG_SERVER.rsplit('@', 1)[-1]}"
              + (f", tortoise pool maxsize={args.pg_maxsize}" if args.pg_maxsize else
                 ", tortoise pool defaults"))
    CLASSIFIER_PROCESSES[0] = args.classifier_processes
    print(f"classifier processes per server process: {args.classifier_processes}"
          + (" (classifying in a thread)" if args.classifier_processes == 0 else ""))
    TEXTS[:] = sample_texts(args.texts)
    mean = sum(len(t) + len(b) for t, b in TEXTS) / len(TEXTS)
    print(f"texts: {args.texts} ({len(TEXTS)} distinct, mean {mean:.0f} characters)")
    print(f"load: minimal HTTP/1.1 keep-alive connections from this process, up to {args.count} requests or "
          f"{args.seconds:.0f} s per run after {args.warmup} warm-up requests\n", flush=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        logs = Path(tmp)
        if "bare" in args.engines:
            results += await bench_bare(args, logs)
        if "sqlite" in args.engines:
            results += await bench_app("sqlite", f"sqlite://{logs / 'bench.sqlite3'}", args,
                                       logs)
        if "postgres" in args.engines:
            async with pg_database(args.pg_maxsize) as url:
                results += await bench_app("postgres", url, args, logs)
    print(f"load average after: {load_average()}")
    bare = {r.concurrency: r for r in results if r.name == "bare"}
    print("\nengine      clients  appeals/s    p50 ms    p99 ms   vs bare   server CPU ms/req"
          " (all its processes)")
    for r in results:
        ratio = f"{r.rate / bare[r.concurrency].rate:7.1%}" if r.concurrency in bare else "   -"
        cpu = r.cpu_ms(r.server_cpu)
        print(f"{r.name:<10} {r.concurrency:>8} {r.rate:10.1f} {r.pct(.5):9.1f} "
              f"{r.pct(.99):9.1f}   {ratio}   {cpu:10.2f}")
    for r in results:
        if r.name == "postgres" and r.concurrency == 64:
            met = r.rate >= 300 and r.pct(.99) < 250
            print(f"\ntarget on PostgreSQL at 64 clients (>= 300/s, p99 < 250 ms): "
                  f"{'met' if met else 'NOT met'}")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="requests per run at most")
    parser.add_argument("--seconds", type=float, default=30, help="seconds per run at most")
    parser.add_argument("--warmup", type=int, default=100, help="requests before each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--workers", type=int, default=1,
                        help="app processes for PostgreSQL (server CPU sums them)")
    parser.add_argument("--engines", nargs="+", default=["bare", "sqlite", "postgres"],
                        choices=["bare", "sqlite", "postgres"])
    parser.add_argument("--pg-maxsize", type=int, default=None,
                        help="tortoise/asyncpg pool size for PostgreSQL (default: tortoise's)")
    parser.add_argument("--texts", choices=["short", "seed", "shared"], default="short",
                        help="what the appeals say: one short complaint (default), the seed "
                             "corpus, or the real appeals in ../shared/data")
    parser.add_argument("--classifier-processes", type=int, default=1,
                        help="MINSHENG_CLASSIFIER_PROCESSES for the app (0: in a thread)")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.bare_server:
        serve_bare(arguments.bare_server)
    else:
        asyncio.run(main(arguments))
