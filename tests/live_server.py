"""`minsheng serve` in its own process on a free port, on a test session's database: for the
browser tests and for outside clients that need a real address."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from app.settings import ROOT
from tests.conftest import TEST_VAR


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(database: str, probe: str = "/") -> Iterator[str]:
    """The server's base URL once `probe` answers 200; stopped on leaving."""
    port = free_port()
    env = {**os.environ, "MINSHENG_DEV": "1", "DATABASE_URL": database,
           "MINSHENG_RATE_LIMIT": "0", "MINSHENG_VAR_DIR": str(TEST_VAR)}
    log = tempfile.NamedTemporaryFile(prefix="minsheng-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(process, f"{base}{probe}", Path(log.name))
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


def _wait_for(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer {url} within 60 s:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@contextlib.asynccontextmanager
async def uvicorn_serving(app, **config) -> AsyncIterator[int]:
    """`app` behind a real uvicorn on loopback, in this process and event loop: its port."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_config=None, access_log=False, **config))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await task
