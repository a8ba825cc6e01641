"""Shared fixtures: a fresh database (SQLite, or PostgreSQL with MINSHENG_TEST_PG=1), the
app, HTTP clients, staff accounts. Nothing of ours is mocked; only the cost of argon2id in this
process is turned down (below)."""

from __future__ import annotations

import html
import itertools
import os
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher, Type

from app import db
from app.domain.types import Role
from app.rules import load_rules
from app.services import accounts
from app.settings import ROOT, Settings

USE_PG = os.environ.get("MINSHENG_TEST_PG") == "1"
PG_SERVER = os.environ.get("MINSHENG_TEST_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
SHARED = ROOT.parent / "shared"
# One var directory per engine, so the two suites can run at the same time (.ci/run).
TEST_VAR = ROOT / "var" / ("test-pg" if USE_PG else "test")
PASSWORD = "correct-horse-battery"

# argon2id at the library's recommended cost takes ~0.2 s of CPU per hash or check, by design,
# and the suite makes thousands: most of its time. In this process it runs at its lowest cost.
# Each hash carries its own parameters, so hashes written by the CLIs and servers the tests
# start (at the real cost, which test_accounts_cli checks) still verify here, and the reverse.
accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
accounts._DUMMY_HASH = accounts.HASHER.hash("minsheng-dummy-password")
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:6]}"


async def create_pg_database() -> str:
    name = f"minsheng_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{PG_SERVER}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_database_url(tmp: Path) -> str:
    if USE_PG:
        return await create_pg_database()
    return f"sqlite://{tmp / f'{uuid.uuid4().hex}.sqlite3'}"


@pytest.fixture(scope="session")
def rules():
    return load_rules(ROOT / "routing_rules")


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory):
    url = await fresh_database_url(tmp_path_factory.mktemp("db"))
    yield url
    if USE_PG:
        await drop_pg_database(url)


@pytest.fixture(scope="session")
async def database(database_url, rules):
    """The test session's database, migrated, with routing_rules loaded."""
    from app.services.reference import sync_rules

    await db.upgrade(database_url)
    await db.connect(database_url)
    await sync_rules(rules)
    yield database_url
    await db.disconnect()


def test_settings(database_url: str, **extra: str) -> Settings:
    env = {"MINSHENG_DEV": "1", "DATABASE_URL": database_url, "MINSHENG_RATE_LIMIT": "0",
           "MINSHENG_VAR_DIR": str(TEST_VAR)}
    env.update(extra)
    return Settings.from_env(env)


@pytest.fixture(scope="session")
async def app(database, rules):
    """The app as `serve` runs it, routing with the bundled seed model."""
    from app.services import predictor
    from app.web.app import create_app

    settings = test_settings(database)
    await predictor.start(None, settings.var_dir / "seed-model")
    yield create_app(settings, rules, manage_db=False)
    predictor.install(None)


def make_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://testserver", follow_redirects=False)


@pytest.fixture
async def client(app):
    async with make_client(app) as c:
        yield c


@pytest.fixture
def new_client(app):
    """A factory for more independent browsers (each with its own cookies)."""
    made = []

    def factory() -> httpx.AsyncClient:
        c = make_client(app)
        made.append(c)
        return c

    yield factory


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, path: str, data: dict, page: str = "/"):
    token = await csrf(client, page)
    return await client.post(path, data={"csrf_token": token, **data})


async def make_staff(role: Role, department_code: str | None = None) -> str:
    """A staff account's username, for login(); tests.factories.make_staff gives the row."""
    from tests import factories

    return (await factories.make_staff(role, department_code)).username


async def login(client: httpx.AsyncClient, username: str) -> None:
    response = await post_form(client, "/login", {"username": username, "password": PASSWORD},
                               "/login")
    assert response.status_code == 303, response.text


GOOD_APPEAL = {
    "type": "complaint",
    "region": "990100",
    "category": "城乡建设",
    "title": "小区电梯坏了一个月物业公司不修",
    "body": "我们小区3号楼电梯坏了一个多月，物业公司一直推脱不修，老人上下楼很困难，请管一管。",
    "contact_name": "李阿姨",
    "contact_phone": "13812345678",
    "contact_email": "",
}


async def submit_appeal(client: httpx.AsyncClient, **overrides) -> dict:
    response = await post_form(client, "/submit", {**GOOD_APPEAL, **overrides}, "/submit")
    assert response.status_code == 200, response.text
    found = {
        key: re.search(rf'id="tracking-{key}">([^<]+)<', response.text).group(1)
        for key in ("number", "username", "password")
    }
    return found


NEXT_PAGE_RE = re.compile(r'<a href="([^"]*)" rel="next">')


async def listed_on_some_page(client: httpx.AsyncClient, path: str, marker: str) -> bool:
    """Whether `marker` is on any page of the list at `path`, following 下一页: the shared
    test database holds other tests' appeals, so page 1 proves nothing."""
    url = path
    while True:
        page = await client.get(url)
        assert page.status_code == 200, url
        if marker in page.text:
            return True
        found = NEXT_PAGE_RE.search(page.text)
        if not found:
            return False
        link = html.unescape(found.group(1))
        url = link if link.startswith("/") else path.split("?")[0] + link
