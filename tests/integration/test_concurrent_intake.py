"""Concurrent submissions: every one stored once, every tracking number distinct."""

import asyncio

from app.models import Appeal, AppealEvent, TrackingCounter
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


def _number(receipt) -> int:
    return int(receipt.appeal.tracking_number.rsplit("-", 1)[1])


async def test_a_new_process_never_reuses_a_reserved_number(database, rules):
    title = unique("号段")
    submit = intake.validate({**GOOD_APPEAL, "title": title}, rules)
    first = await intake.submit(rules, submit)
    intake._numbers.clear()  # what a restarted (or a second) process starts with
    second = await intake.submit(rules, submit)
    third = await intake.submit(rules, submit)
    assert _number(first) < _number(second) < _number(third)
    # The second process took a block of its own, beyond everything the first had reserved.
    assert _number(second) > _number(first) + intake.NUMBER_BLOCK - 1 - (_number(first) - 1) \
        % intake.NUMBER_BLOCK
    assert _number(third) == _number(second) + 1
    day = first.appeal.tracking_number[2:10]
    counter = await TrackingCounter.get(day=day)
    assert counter.counter >= _number(third)
