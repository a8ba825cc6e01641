import asyncio

import pytest

from app.domain.states import Event
from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.schemas import staff
from app.schemas.base import parse
from app.services import handling
from app.services.errors import Conflict, ServiceError
from app.services.workflow import Actor, transition
from tests.factories import OWN, make_appeal, make_staff


async def test_transition_appends_its_event_with_actor_and_states(database, rules):
    appeal = (await make_appeal("assigned", OWN, rules=rules)).appeal
    actor = Actor.of(await make_staff(Role.HANDLER, OWN))
    await handling.acknowledge(appeal, actor)
    event = await AppealEvent.filter(appeal_id=appeal.id).order_by("-id").first()
    assert (event.kind, event.from_status, event.to_status) == ("acknowledge", "assigned",
                                                                "accepted")
    assert event.actor_id == actor.account.id
    assert (await Appeal.get(id=appeal.id)).acknowledged_at is not None


async def test_illegal_transition_changes_nothing(database, rules):
    appeal = (await make_appeal("assigned", OWN, rules=rules)).appeal
    before = await AppealEvent.filter(appeal_id=appeal.id).count()
    with pytest.raises(ServiceError) as caught:
        await handling.reply(appeal, Actor.of(await make_staff(Role.HANDLER, OWN)),
            parse(staff.Reply, {"reply": "这是一条足够长的答复内容，用于测试。"}))
    assert "不能执行" in caught.value.message
    assert (await Appeal.get(id=appeal.id)).status == "assigned"
    assert await AppealEvent.filter(appeal_id=appeal.id).count() == before


async def test_two_people_acting_at_once_one_wins(database, rules):
    appeal = (await make_appeal("assigned", OWN, rules=rules)).appeal
    actor = Actor.of(await make_staff(Role.HANDLER, OWN))
    copies = [await Appeal.get(id=appeal.id) for _ in range(2)]
    results = await asyncio.gather(*(handling.acknowledge(c, actor) for c in copies),
                                   return_exceptions=True)
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert await AppealEvent.filter(appeal_id=appeal.id, kind="acknowledge").count() == 1


async def test_failed_change_leaves_no_event(database, rules):
    appeal = (await make_appeal("assigned", OWN, rules=rules)).appeal
    before = await AppealEvent.filter(appeal_id=appeal.id).count()
    with pytest.raises(Exception):  # noqa: B017 - any database error will do
        await transition(appeal, Event.ACKNOWLEDGE, Actor.of(await make_staff(Role.HANDLER, OWN)),
                         changes={"department_id": 999_999_999})
    assert (await Appeal.get(id=appeal.id)).status == "assigned"
    assert await AppealEvent.filter(appeal_id=appeal.id).count() == before
