"""The factories build each state through the real services: status, department and
events are what the same steps by hand would leave."""

import pytest

from app.domain.states import next_status
from app.models import AppealEvent
from tests.factories import OWN, STATES, make_appeal, make_resident

EXPECTED = {"extension_requested": "accepted", "redo": "accepted"}


@pytest.mark.parametrize("state", STATES)
async def test_factory_brings_an_appeal_to_each_state_with_real_events(database, rules, state):
    made = await make_appeal(state, "990102-zhujian", rules=rules, type="consultation")
    appeal = made.appeal
    await appeal.refresh_from_db()
    assert appeal.status == EXPECTED.get(state, state)
    department = (await appeal.department).code if appeal.department_id else None
    if state in ("triage", "rejected"):
        assert department is None
    else:
        assert department == "990102-zhujian"
    events = await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
    assert events[0].kind == "submitted"
    for before, after in zip(events, events[1:], strict=False):
        assert after.from_status == before.to_status
        assert next_status(after.from_status, after.kind) == after.to_status
    assert events[-1].to_status == appeal.status


async def test_factory_appeal_keeps_the_fields_given_and_its_owner(database, rules):
    resident = await make_resident()
    made = await make_appeal("assigned", OWN, rules=rules, resident=resident, title="测试工厂标题",
                             contact_email="owner@example.cn")
    assert (made.appeal.title, made.appeal.contact_email) == ("测试工厂标题", "owner@example.cn")
    assert made.appeal.resident_id == resident.id
    assert made.receipt["number"] == made.number and made.receipt["password"]
