"""Two hundred submissions at once through one client: every one stored, numbered and
credentialed distinctly, each with its receipt notice in the outbox, and no 5xx."""

from __future__ import annotations

import asyncio

from app.models import Appeal, OutboxMessage
from tests.conftest import make_client, unique
from tests.http.test_api import API, GOOD, NUMBER_RE

N = 200


async def test_two_hundred_concurrent_submissions(database, app):
    batch = unique("并发")
    async with make_client(app) as client:
        responses = await asyncio.gather(*(
            client.post(f"{API}/appeals", json={
                **GOOD, "title": f"{batch}-{i}", "contact_email": f"r{i}.{batch}@example.cn"})
            for i in range(N)))
    statuses = [r.status_code for r in responses]
    assert statuses == [201] * N, sorted(set(statuses))
    bodies = [r.json() for r in responses]
    numbers = {b["tracking_number"] for b in bodies}
    assert len(numbers) == N and all(NUMBER_RE.match(n) for n in numbers)
    assert len({b["username"] for b in bodies}) == N
    assert len({b["password"] for b in bodies}) == N
    stored = await Appeal.filter(title__startswith=f"{batch}-").values_list(
        "tracking_number", flat=True)
    assert sorted(stored) == sorted(numbers)
    mails = await OutboxMessage.filter(to_address__endswith=f".{batch}@example.cn").count()
    assert mails == N
