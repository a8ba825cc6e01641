"""Submission's fast path (one statement on PostgreSQL) stores exactly the rows that the
ORM and the transition writer (app.services.workflow.transition) would store."""

import dataclasses
from datetime import timedelta

import pytest

from app.domain import search_text
from app.domain.deadlines import ClockFacts, reply_clock
from app.domain.states import Event, Status
from app.domain.types import TYPE_LABELS, AppealType
from app.models import Appeal, AppealEvent
from app.services import intake, predictor, routing
from app.services.reference import reference_ids
from app.services.workflow import RESIDENT, SYSTEM, now_utc, transition
from tests.conftest import GOOD_APPEAL, unique
from tests.factories import UNSURE_BODY, make_resident

# Columns that differ by nature between two appeals: identity, the issued login, and
# updated_at (the writer stamps the event's time, a fresh insert its own clock).
OWN_COLUMNS = {"id", "tracking_number", "tracker_username", "tracker_secret_hash",
               "updated_at"}
EVENT_OWN = {"id", "appeal_id"}

FORMS = {
    "confident": {},
    "triage": {"category": "", "body": UNSURE_BODY},
    "report": {"type": "report", "named_unit": "990100-zhujian",
               "title": "举报住建局工作人员索要好处费",
               "body": "住建局某科室工作人员在办理审批时索要好处费，请纪委调查处理。"},
}


async def _by_the_writer(rules, sub: intake.Submission, resident, at) -> Appeal:
    """The same submission written with Appeal.create and `transition`."""
    text = f"{sub.title}\n{sub.body}"
    candidates, model_version = await predictor.predict(text)
    route = await routing.first_route(
        rules, appeal_type=sub.type, region_code=sub.region_code, text=text,
        category=sub.category, named_unit=sub.named_unit, candidates=candidates,
        model_version=model_version, at=at)
    ids = reference_ids()
    clock = reply_clock(ClockFacts(sub.type, at), rules.policies, rules.calendar)
    appeal = await Appeal.create(
        tracking_number=unique("W")[:24], title=sub.title, body=sub.body,
        contact_name=sub.contact_name, contact_phone=sub.contact_phone,
        contact_email=sub.contact_email, is_public=sub.public, status=Status.SUBMITTED.value,
        search_grams=search_text.grams(sub.title, sub.body),
        phone_key=search_text.phone_key(sub.contact_phone),
        resident=resident, submitted_at=at, channel="web", reply_due_at=clock.deadline.due_at,
        deadline_provisional=clock.deadline.provisional, window_start=at,
        warn_at=clock.warn_at, type=sub.type,
        category_id=await ids.category(sub.category) if sub.category else None,
        region_id=await ids.region(sub.region_code),
        named_unit_id=await ids.department(sub.named_unit) if sub.named_unit else None)
    await AppealEvent.create(
        appeal_id=appeal.id, kind=Event.SUBMIT.value, from_status="",
        to_status=Status.SUBMITTED.value, actor=resident, actor_label=RESIDENT.label, at=at,
        note=f"提交{TYPE_LABELS[AppealType(sub.type)]}")
    await transition(appeal, route.event, SYSTEM, note=route.note, data=route.record,
                     changes=route.changes, at=at)
    return appeal


async def _rows(appeal_id: int) -> tuple[dict, list[dict]]:
    row = (await Appeal.filter(id=appeal_id).values())[0]
    events = await AppealEvent.filter(appeal_id=appeal_id).order_by("id").values()
    return row, events


def _without(row: dict, keys: set[str]) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


@pytest.mark.parametrize("kind", list(FORMS))
async def test_fast_path_stores_what_the_writer_would(database, rules, kind):
    form = {**GOOD_APPEAL, "title": unique("写入一致"), "contact_email": "a@example.cn",
            **FORMS[kind]}
    strict = dataclasses.replace(rules.routing, confidence_threshold=1.0)
    rules = dataclasses.replace(rules, routing=strict) if kind == "triage" else rules
    sub = intake.validate(form, rules)
    resident = await make_resident()
    at = now_utc().replace(microsecond=0) - timedelta(minutes=5)

    fast = (await intake.submit(rules, sub, resident=resident, at=at)).appeal
    written = await _by_the_writer(rules, sub, resident, at)

    fast_row, fast_events = await _rows(fast.id)
    writer_row, writer_events = await _rows(written.id)
    assert _without(fast_row, OWN_COLUMNS) == _without(writer_row, OWN_COLUMNS)
    assert [_without(e, EVENT_OWN) for e in fast_events] == \
        [_without(e, EVENT_OWN) for e in writer_events]
    assert [e["kind"] for e in fast_events][0] == "submitted"
    assert fast_row["tracker_username"] and fast_row["tracker_secret_hash"]
    assert fast_row["updated_at"] >= at and writer_row["updated_at"] >= at
