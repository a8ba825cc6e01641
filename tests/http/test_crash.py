"""An unexpected error, through a real uvicorn server on loopback: our 500 page with
`Connection: close`, a clean close, the next connection served, and a log that names the
error's type and route but holds neither its message nor its traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.requests import Request
from starlette.routing import Route

from app.web.app import create_app
from tests import conftest
from tests.live_server import uvicorn_serving

SECRET = "居民李阿姨 电话 13812345678"


async def _boom(request: Request):
    raise RuntimeError(f"database went away while saving {SECRET}")


@pytest.fixture(params=["h11", "httptools"])
async def server(request, database, rules):
    app = create_app(conftest.test_settings(database), rules, manage_db=False)
    app.router.routes.extend([Route("/crash/{who}", _boom), Route("/api/v1/crash", _boom)])
    async with uvicorn_serving(app, http=request.param) as port:
        yield port


async def _request(reader, writer, path: str) -> tuple[int, dict[str, str], bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return status, headers, body


async def _crash_on_a_kept_alive_connection(port: int, path: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, headers, _ = await _request(reader, writer, "/track")
        assert status == 200 and headers.get("connection", "keep-alive") != "close"
        crashed = await _request(reader, writer, path)  # the same connection, kept alive
        closed = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    return crashed, closed


def _server_log(caplog) -> str:
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "asyncio"))]
    assert all(r.exc_info is None and not r.exc_text for r in records)
    return "\n".join(r.getMessage() for r in records)


async def test_crash_answers_our_page_closes_cleanly_and_logs_no_data(server, caplog):
    caplog.set_level(logging.INFO)
    (status, headers, body), rest = await _crash_on_a_kept_alive_connection(
        server, "/crash/someone")
    assert status == 500
    assert headers["connection"] == "close"
    assert "系统出现错误，请稍后再试。" in body.decode()
    assert headers["content-type"].startswith("text/html")
    assert rest == b""  # the server closed the connection after the answer, cleanly

    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    try:
        status, _, body = await _request(reader, writer, "/track")
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200 and "查询" in body.decode()

    text = _server_log(caplog)
    for leaked in ("Traceback", "Exception in ASGI application", "13812345678", "李阿姨",
                   "database went away"):
        assert leaked not in text
    crash_lines = [line for line in text.splitlines() if "RuntimeError" in line]
    assert crash_lines == ["unhandled RuntimeError on GET /crash/{who}"]  # the route, not path


async def test_api_crash_answers_json_and_closes(server, caplog):
    caplog.set_level(logging.INFO)
    (status, headers, body), rest = await _crash_on_a_kept_alive_connection(
        server, "/api/v1/crash")
    assert status == 500 and headers["connection"] == "close"
    assert headers["content-type"].startswith("application/json")
    assert b'"server_error"' in body
    assert rest == b""
    text = _server_log(caplog)
    assert "unhandled RuntimeError on GET /api/v1/crash" in text
    assert "13812345678" not in text and "Traceback" not in text
