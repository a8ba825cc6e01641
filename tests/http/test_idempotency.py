"""Safe retries of POST /api/v1/appeals with an Idempotency-Key, over HTTP: concurrent retries
against a real uvicorn server store one appeal, a retry after a lost answer gets the first
answer (without the password), another body with the key is refused, bad keys are refused,
a refused body leaves nothing behind, keys expire after 24 hours, and rate limits still hold."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from app.models import Appeal, Attachment, IdempotencyRecord, OutboxMessage
from app.services import idempotency
from app.web.api import routes as api_routes
from app.web.app import create_app
from app.web.openapi import document
from tests import conftest
from tests.conftest import USE_PG, make_client, unique
from tests.http.test_api import API, GOOD, assert_error, basic
from tests.http.test_attachments import png
from tests.http.test_openapi import assert_documented
from tests.live_server import uvicorn_serving

SUBMIT = f"{API}/appeals"
N = 20


def _key() -> str:
    return f"key-{uuid.uuid4()}"


def _body(**overrides) -> dict:
    return {**GOOD, "title": unique("幂等"), "contact_email": f"{unique('r')}@example.cn",
            **overrides}


def _keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


@pytest.fixture
async def server(app):
    """The app behind a real uvicorn on loopback: its port."""
    async with uvicorn_serving(app) as port:
        yield port


def _over_the_wire(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                             limits=httpx.Limits(max_connections=N))


async def _appeals_titled(title: str) -> list[Appeal]:
    return await Appeal.filter(title=title).all()


def _assert_one_answer(answers: list[httpx.Response]) -> dict:
    """All 201 with one tracking number; exactly one shows the password, the rest are marked
    replayed and say how to recover it. The one with the password."""
    assert [a.status_code for a in answers] == [201] * len(answers), [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert len({b["tracking_number"] for b in bodies}) == 1
    assert len({b["username"] for b in bodies}) == 1
    first = [a for a in answers if a.json()["password"] is not None]
    assert len(first) == 1
    assert first[0].json()["password_recovery"] is None
    assert "idempotent-replayed" not in first[0].headers
    for again in answers:
        if again is not first[0]:
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json()["password"] is None
            assert "/track/reset" in again.json()["password_recovery"]
            assert again.headers["location"] == first[0].headers["location"]
            assert again.json() == {**first[0].json(), "password": None,
                                    "password_recovery": again.json()["password_recovery"]}
    return first[0].json()


async def _waiting_on_locks(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'transactionid'")
    finally:
        await conn.close()


async def test_twenty_concurrent_retries_with_one_key_store_one_appeal(database, server):
    body, key = _body(), _key()
    async with _over_the_wire(server) as client:
        answers = await asyncio.gather(*(client.post(SUBMIT, json=body, headers=_keyed(key))
                                         for _ in range(N)))
        first = _assert_one_answer(answers)
        view = await client.get(f"{SUBMIT}/{first['tracking_number']}",
                                headers=basic(first["username"], first["password"]))
        assert view.status_code == 200
    stored = await _appeals_titled(body["title"])
    assert [a.tracking_number for a in stored] == [first["tracking_number"]]
    records = await IdempotencyRecord.filter(scope="api", key=key).all()
    assert [r.appeal_id for r in records] == [stored[0].id]
    assert first["password"] not in json.dumps(records[0].response, ensure_ascii=False)
    assert await OutboxMessage.filter(to_address=body["contact_email"]).count() == 1


async def test_concurrent_retries_with_files_store_one_appeal_and_its_files_once(
        database, server):
    """With files the appeal is written by a transaction of several statements (not one
    statement): the same holds."""
    body, key = _body(), _key()
    parts = [("json", (None, json.dumps(body))), ("files", ("现场.png", png(), "image/png"))]
    async with _over_the_wire(server) as client:
        answers = await asyncio.gather(*(client.post(SUBMIT, files=parts, headers=_keyed(key))
                                         for _ in range(10)))
    first = _assert_one_answer(answers)
    stored = await _appeals_titled(body["title"])
    assert [a.tracking_number for a in stored] == [first["tracking_number"]]
    assert await Attachment.filter(appeal_id=stored[0].id).count() == 1


async def test_retries_wait_for_the_first_and_go_through_when_it_rolls_back(
        database, server):
    """A first attempt holds the key uncommitted while twenty retries arrive (on PostgreSQL
    several of them are seen waiting on that row at once, each on its own connection); it
    rolls back, so one retry stores the appeal and the others replay it."""
    body, key = _body(), _key()
    async with _over_the_wire(server) as client:
        if USE_PG:
            holder = await asyncpg.connect(database)
            hold = holder.transaction()
            await hold.start()
            await holder.execute(
                "INSERT INTO idempotency_record (scope, key, fingerprint, status_code, "
                "response, created_at) VALUES ('api', $1, 'held', 201, NULL, now())", key)
            sent = [asyncio.create_task(client.post(SUBMIT, json=body, headers=_keyed(key)))
                    for _ in range(N)]
            waiting = 0
            try:
                for _ in range(400):
                    waiting = max(waiting, await _waiting_on_locks(database))
                    if waiting >= 3:
                        break
                    await asyncio.sleep(0.05)
            finally:
                await hold.rollback()
                await holder.close()
            assert waiting >= 3, "the retries did not wait on the held key concurrently"
        else:
            from tortoise.transactions import in_transaction

            class RolledBack(Exception):
                pass

            with pytest.raises(RolledBack):
                async with in_transaction():
                    await IdempotencyRecord.create(scope="api", key=key, fingerprint="held",
                                                   created_at=idempotency.now_utc())
                    sent = [asyncio.create_task(client.post(SUBMIT, json=body,
                                                            headers=_keyed(key)))
                            for _ in range(N)]
                    await asyncio.sleep(0.5)
                    assert not any(task.done() for task in sent)
                    raise RolledBack
        answers = await asyncio.gather(*sent)
    first = _assert_one_answer(answers)
    assert [a.tracking_number for a in await _appeals_titled(body["title"])] == \
        [first["tracking_number"]]


async def test_a_retry_after_an_answer_that_never_arrived_gets_the_first_answer(
        database, server):
    """The server stored the appeal and committed, but the client never read the 201 (it
    hung up, or timed out): the retry with the key answers that appeal, and stores none."""
    body, key = _body(), _key()
    data = json.dumps(body, ensure_ascii=False).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(f"POST {SUBMIT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()
    record = None
    for _ in range(400):
        record = await IdempotencyRecord.get_or_none(scope="api", key=key)
        if record is not None:
            break
        await asyncio.sleep(0.025)
    assert record is not None, "the first request was not stored"
    writer.close()  # hang up without reading the answer
    await writer.wait_closed()
    async with _over_the_wire(server) as client:
        retry = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    stored = await _appeals_titled(body["title"])
    assert [a.id for a in stored] == [record.appeal_id]
    assert retry.json()["tracking_number"] == stored[0].tracking_number
    assert retry.json()["password"] is None
    assert "提交时留下的电子邮箱" in retry.json()["password_recovery"]


async def test_a_replay_is_the_documented_receipt(database, client):
    body, key = _body(), _key()
    made = await client.post(SUBMIT, json=body, headers=_keyed(key))
    again = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert again.headers["idempotent-replayed"] == "true"
    assert_documented(made, SUBMIT, "post")
    assert_documented(again, SUBMIT, "post")
    refused = await client.post(SUBMIT, json={**body, "title": unique("另一份")},
                                headers=_keyed(key))
    assert_documented(refused, SUBMIT, "post")
    assert_documented(await client.post(SUBMIT, json=body, headers=_keyed("")), SUBMIT, "post")
    operation = document(api_routes)["paths"][SUBMIT]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["Idempotency-Key"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert "/track/reset" in operation["description"]
    assert "409" in operation["responses"]


async def test_the_same_key_with_another_body_is_refused_and_stores_nothing(
        database, client):
    body, key = _body(), _key()
    made = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert made.status_code == 201
    other = _body()
    refused = await client.post(SUBMIT, json=other, headers=_keyed(key))
    error = assert_error(refused, 409, "conflict", "Idempotency-Key")
    assert "Idempotency-Key" in error["message"]
    assert await _appeals_titled(other["title"]) == []
    assert await OutboxMessage.filter(to_address=other["contact_email"]).count() == 0
    # one field changed is another body too; the same body again still replays
    changed = await client.post(SUBMIT, json={**body, "public": True}, headers=_keyed(key))
    assert changed.status_code == 409
    again = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert again.json()["tracking_number"] == made.json()["tracking_number"]
    assert len(await _appeals_titled(body["title"])) == 1


async def test_key_order_and_whitespace_do_not_make_another_body(database, client):
    body, key = _body(), _key()
    made = await client.post(SUBMIT, json=body, headers=_keyed(key))
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2, ensure_ascii=True)
    again = await client.post(SUBMIT, content=reordered.encode(),
                              headers={**_keyed(key), "Content-Type": "application/json"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["tracking_number"] == made.json()["tracking_number"]
    # the same object in a multipart body without files is the same request
    as_form = await client.post(SUBMIT, files=[("json", (None, json.dumps(body)))],
                                headers=_keyed(key))
    assert as_form.headers.get("idempotent-replayed") == "true"


async def test_files_are_part_of_the_body(database, client):
    body, key = _body(), _key()
    picture = ("路面.png", png((10, 200, 10)), "image/png")

    async def send(*files):
        parts = [("json", (None, json.dumps(body))), *(("files", f) for f in files)]
        return await client.post(SUBMIT, files=parts, headers=_keyed(key))

    made = await send(picture)
    assert made.status_code == 201, made.text
    again = await send(picture)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert (await send(("路面.png", png((200, 10, 10)), "image/png"))).status_code == 409
    assert (await send(("别名.png", picture[1], "image/png"))).status_code == 409
    assert (await send()).status_code == 409
    stored = await _appeals_titled(body["title"])
    assert len(stored) == 1
    assert await Attachment.filter(appeal_id=stored[0].id).count() == 1


@pytest.mark.parametrize("header", [
    b"", b" ", b"a" * 201, "含中文".encode(), b"with space", b"tab\there", b"\x7f",
])
async def test_a_key_that_is_not_1_to_200_visible_ascii_characters_is_refused(
        database, client, header):
    body = _body()
    refused = await client.post(SUBMIT, json=body, headers=[(b"Idempotency-Key", header)])
    assert_error(refused, 400, "invalid", "Idempotency-Key")
    assert await _appeals_titled(body["title"]) == []


async def test_two_keys_are_refused_and_the_longest_and_shortest_keys_work(database, client):
    body = _body()
    twice = await client.post(SUBMIT, json=body, headers=[("Idempotency-Key", "a1"),
                                                          ("Idempotency-Key", "a1")])
    assert_error(twice, 400, "invalid", "Idempotency-Key")
    assert await _appeals_titled(body["title"]) == []
    short = await client.post(SUBMIT, json=_body(), headers=_keyed("Z"))
    assert short.status_code == 201, short.text
    long_key = "!" + uuid.uuid4().hex + "~" * 167
    assert len(long_key) == 200
    made = await client.post(SUBMIT, json=body, headers=_keyed(long_key))
    assert made.status_code == 201
    assert await IdempotencyRecord.filter(scope="api", key=long_key).count() == 1


async def test_without_the_header_nothing_changes(database, client):
    body = _body()
    answers = [await client.post(SUBMIT, json=body) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert all("idempotent-replayed" not in a.headers for a in answers)
    assert all(a.json()["password"] and a.json()["password_recovery"] is None for a in answers)
    stored = await _appeals_titled(body["title"])
    assert len(stored) == 2
    assert await IdempotencyRecord.filter(appeal_id__in=[a.id for a in stored]).count() == 0


async def test_a_refused_body_stores_no_record_and_its_fixed_retry_goes_through(
        database, client):
    body, key = _body(), _key()
    broken = {**body, "region": "000000"}
    refused = await client.post(SUBMIT, json=broken, headers=_keyed(key))
    assert refused.status_code == 422
    assert await IdempotencyRecord.filter(scope="api", key=key).count() == 0
    assert (await client.post(SUBMIT, json=broken, headers=_keyed(key))).status_code == 422
    odd = await client.post(SUBMIT, content=b'{"title": 1e400, "body": "\\ud800"}',
                            headers={**_keyed(key), "Content-Type": "application/json"})
    assert odd.status_code == 422
    fixed = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert fixed.status_code == 201 and fixed.json()["password"]
    again = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert again.json()["tracking_number"] == fixed.json()["tracking_number"]
    assert len(await _appeals_titled(body["title"])) == 1


async def test_after_24_hours_the_key_counts_as_new(database, client):
    body, key = _body(), _key()
    made = await client.post(SUBMIT, json=body, headers=_keyed(key))
    record = await IdempotencyRecord.get(scope="api", key=key)
    almost = record.created_at - idempotency.WINDOW + timedelta(minutes=1)
    await IdempotencyRecord.filter(id=record.id).update(created_at=almost)
    within = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert within.json()["tracking_number"] == made.json()["tracking_number"]
    await IdempotencyRecord.filter(id=record.id).update(
        created_at=record.created_at - idempotency.WINDOW - timedelta(seconds=1))
    later = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["password"]
    assert later.json()["tracking_number"] != made.json()["tracking_number"]
    records = await IdempotencyRecord.filter(scope="api", key=key).all()
    assert [r.appeal_id for r in records] == [
        (await Appeal.get(tracking_number=later.json()["tracking_number"])).id]
    assert len(await _appeals_titled(body["title"])) == 2
    # and after that a different body with the key is refused again
    assert (await client.post(SUBMIT, json=_body(), headers=_keyed(key))).status_code == 409


async def test_replays_count_towards_the_rate_limit(database, rules):
    strict = create_app(conftest.test_settings(database, MINSHENG_RATE_LIMIT="3"), rules,
                        manage_db=False)
    body, key = _body(), _key()
    async with make_client(strict) as client:
        statuses = [(await client.post(SUBMIT, json=body, headers=_keyed(key))).status_code
                    for _ in range(4)]
        refused = await client.post(SUBMIT, json=body, headers=_keyed(key))
    assert statuses == [201, 201, 201, 429]
    assert_error(refused, 429, "rate_limited")
    assert len(await _appeals_titled(body["title"])) == 1
