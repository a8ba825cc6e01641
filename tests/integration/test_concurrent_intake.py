"""Concurrent submissions: every one stored once, every tracking number distinct."""

import asyncio

from app.models import Appeal, AppealEvent
from app.services import intake
from tests.conftest import GOOD_APPEAL, unique


async def test_200_concurrent_submissions_get_200_distinct_tracking_numbers(database, rules):
    title = unique("并发")
    submissions = [intake.validate({**GOOD_APPEAL, "title": f"{title}-{i}"}, rules)
                   for i in range(200)]
    receipts = await asyncio.gather(*(intake.submit(rules, s) for s in submissions))
    numbers = {r.appeal.tracking_number for r in receipts}
    usernames = {r.username for r in receipts}
    assert len(numbers) == 200 and len(usernames) == 200
    stored = await Appeal.filter(title__startswith=title).values_list("tracking_number",
                                                                        flat=True)
    assert sorted(stored) == sorted(numbers)
    events = await AppealEvent.filter(appeal__title__startswith=title, kind="submitted").count()
    assert events == 200
