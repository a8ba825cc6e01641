"""Submission: validate, number, store, route — one transaction."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from app.domain import search_text
from app.domain.clock import to_local
from app.domain.deadlines import ClockFacts, ReplyClock, reply_clock
from app.domain.states import Status
from app.domain.types import TYPE_LABELS, AppealType, Channel
from app.models import (
    Appeal,
    AppealBand,
    AppealEvent,
    AppealSketch,
    IdempotencyRecord,
    SimilarPending,
)
from app.models.rows import insert_values, mark_saved, new_row
from app.notify import notices, outbox
from app.rules import Rules
from app.schemas import appeals as schemas
from app.schemas.base import parse
from app.services import attachments as attachment_rows
from app.services import predictor, routing, similar
from app.services.reference import reference_ids
from app.services.secrets import generate_password, generate_username, hash_token
from app.services.workflow import RESIDENT, SYSTEM, now_utc


@dataclass
class Submission:
    type: str
    region_code: str
    title: str
    body: str
    category: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    public: bool = False
    named_unit: str | None = None


@dataclass
class Receipt:
    appeal: Appeal
    username: str
    password: str
    department_name: str | None = None


def validate(raw: Mapping[str, Any], rules: Rules, *, strict: bool = False,
             model: type[schemas.Submission] = schemas.Submission) -> Submission:
    """Check a submission in one pass; every problem is named as field → Chinese message
    (`InputError`). `strict` for JSON bodies; `model` for a channel of its own."""
    sub = parse(model, raw, strict=strict, context={"rules": rules})
    return Submission(sub.type, sub.region, sub.title, sub.body, sub.category,
                      sub.contact_name or "", sub.contact_phone or "", sub.contact_email or "",
                      sub.public, sub.named_unit)


async def _reserve_numbers(conn, day: str, count: int) -> int:
    """Advance the day's counter by `count`; the highest number now reserved."""
    dialect = conn.capabilities.dialect
    mark = "$1" if dialect == "postgres" else "?"
    mark2 = "$2" if dialect == "postgres" else "?"
    sql = (
        f"INSERT INTO tracking_counter (day, counter) VALUES ({mark}, {mark2}) "  # noqa: S608
        f"ON CONFLICT (day) DO UPDATE SET counter = tracking_counter.counter + {mark2} "
        "RETURNING counter"
    )
    params = [day, count] if dialect == "postgres" else [day, count, count]
    rows = await conn.execute_query_dict(sql, params)
    return int(rows[0]["counter"])


# Each process reserves tracking numbers a block at a time: one counter statement (and
# commit) per NUMBER_BLOCK submissions instead of one each. Numbers stay unique; two
# processes hand out interleaved blocks, and a restart leaves the rest of its block unused.
NUMBER_BLOCK = 10


class _Numbers:
    def __init__(self) -> None:
        self.day = ""
        self.next = 1
        self.last = 0
        self.lock = asyncio.Lock()

    async def take(self, conn, day: str) -> int:
        async with self.lock:
            if day != self.day or self.next > self.last:
                self.last = await _reserve_numbers(conn, day, NUMBER_BLOCK)
                self.day, self.next = day, self.last - NUMBER_BLOCK + 1
            number = self.next
            self.next += 1
            return number


_numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # database client → blocks


async def _next_number(day: str) -> int:
    """The next tracking number of `day` for this process and database."""
    conn = connections.get("default")
    numbers = _numbers.get(conn)
    if numbers is None:
        numbers = _numbers[conn] = _Numbers()
    return await numbers.take(conn, day)


_clocks: dict[tuple, tuple[object, object, ReplyClock]] = {}


def _new_clock(rules: Rules, appeal_type: str, at: datetime) -> ReplyClock:
    """A new appeal's clock depends only on its type and local submission date (no pauses,
    no extension yet): every submission of a day shares one computation."""
    policies, calendar = rules.policies, rules.calendar
    key = (id(policies), id(calendar), appeal_type, to_local(at).date())
    held = _clocks.get(key)
    if held is None or held[0] is not policies or held[1] is not calendar:
        if len(_clocks) > 256:
            _clocks.clear()
        held = _clocks[key] = (policies, calendar,
                               reply_clock(ClockFacts(appeal_type, at), policies, calendar))
    return held[2]


# Submissions in progress at once per process. Beyond a handful, more concurrency only
# interleaves them: each waits at every step behind all the others, and under a burst the
# slowest ones take several times the average. Past the gate they go through in arrival order.
SUBMIT_CONCURRENCY = 8
_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(SUBMIT_CONCURRENCY)
    return gate


# The fields (but appeal) of an idempotency_record row for this receipt: app.services.idempotency.
KeyRecord = Callable[[Receipt], dict[str, Any]]


async def submit(rules: Rules, sub: Submission, *, resident=None,
                 at: datetime | None = None, channel: Channel = Channel.WEB,
                 attachments: list | None = None, idempotency: KeyRecord | None = None
                 ) -> Receipt:
    """`attachments`: unsaved rows (app.services.attachments.rows), whose files are already
    stored; they are written with the appeal. `idempotency`: called with the receipt before
    anything is stored; the record it describes is written with the appeal, in the same
    transaction (IntegrityError, and nothing stored, if its key is taken)."""
    async with _gate():
        return await _submit(rules, sub, resident, at, Channel(channel), attachments or [],
                             idempotency)


async def _submit(rules: Rules, sub: Submission, resident, at: datetime | None,
                  channel: Channel, attachments: list, idempotency: KeyRecord | None = None
                  ) -> Receipt:
    at = at or now_utc()
    clock = _new_clock(rules, sub.type, at)
    deadline = clock.deadline
    username, password = generate_username(), generate_password()
    text = f"{sub.title}\n{sub.body}"
    candidates, model_version = await predictor.predict(text)
    ids = reference_ids()
    route = await routing.first_route(
        rules, appeal_type=sub.type, region_code=sub.region_code, text=text,
        category=sub.category, named_unit=sub.named_unit, candidates=candidates,
        model_version=model_version, at=at,
    )
    fields = {
        "type": sub.type,
        "category_id": await ids.category(sub.category) if sub.category else None,
        "region_id": await ids.region(sub.region_code),
        "named_unit_id": await ids.department(sub.named_unit) if sub.named_unit else None,
        **route.changes,
    }
    # The similarity index's rows (app.services.similar), computed outside the transaction.
    sketch = await similar.sketch_of(sub.title, sub.body, fields["region_id"])
    day = to_local(at).strftime("%Y%m%d")
    # The number is reserved in a statement of its own: the day's counter row is locked only
    # for that instant, not through the whole submission. A failed submission leaves a gap.
    number = await _next_number(day)
    appeal = Appeal(
        tracking_number=f"MS{day}-{number:06d}",
        title=sub.title,
        body=sub.body,
        contact_name=sub.contact_name,
        contact_phone=sub.contact_phone,
        contact_email=sub.contact_email,
        search_grams=search_text.grams(sub.title, sub.body),
        phone_key=search_text.phone_key(sub.contact_phone),
        is_public=sub.public,
        status=route.status.value,
        resident=resident,
        tracker_username=username,
        tracker_secret_hash=hash_token(password),
        submitted_at=at,
        channel=channel.value,
        reply_due_at=deadline.due_at,
        deadline_provisional=deadline.provisional,
        window_start=at,
        warn_at=clock.warn_at,
        **fields,
    )
    # The two events of a submission, as `transition` would have written the second.
    events = [
        {"kind": "submitted", "from_status": "", "to_status": Status.SUBMITTED.value,
         "actor_id": resident.id if resident is not None else None,
         "actor_label": RESIDENT.label, "at": at,
         "note": f"提交{TYPE_LABELS[AppealType(sub.type)]}"},
        {"kind": route.event.value, "from_status": Status.SUBMITTED.value,
         "to_status": route.status.value, "actor_id": None, "actor_label": SYSTEM.label,
         "department_id": route.changes.get("department_id"), "at": at, "note": route.note,
         "data": route.record, "public": True},
    ]
    async with outbox.batched(insert=False) as receipt_mail:
        if appeal.contact_email or appeal.contact_phone or resident is not None:
            await notices.appeal_received(appeal)
    department = rules.departments.get(route.department_code) if route.department_code else None
    receipt = Receipt(appeal, username, password, department.name if department else None)
    key_record = idempotency(receipt) if idempotency is not None else None
    await _store(appeal, events, receipt_mail.rows, attachments, key_record, sketch)
    return receipt


async def _store(appeal: Appeal, events: list[dict], mail: list[list],
                 attachments: list | None = None, key_record: dict | None = None,
                 sketch: similar.Sketch | None = None) -> None:
    """Write the appeal, its events, its receipt mail, its attachments' rows, its
    idempotency record and its similarity sketch: all of them or nothing. (With attachments,
    a transaction of several statements on either engine.)"""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres" and not attachments:
        await _store_in_one_statement(conn, appeal, events, mail, key_record, sketch)
        return
    async with in_transaction():
        await appeal.save()
        if key_record is not None:  # first: a retry's key is refused before more is written
            await IdempotencyRecord.create(appeal_id=appeal.id, **key_record)
        await AppealEvent.bulk_create([AppealEvent(appeal_id=appeal.id, **e) for e in events])
        if mail:
            await outbox.insert_rows(mail)
        if attachments:
            await attachment_rows.insert(attachments, appeal.id)
        if sketch is not None:
            await similar.insert(sketch, appeal)


async def _store_in_one_statement(conn, appeal: Appeal, events: list[dict],
                                  mail: list[list], key_record: dict | None = None,
                                  sketch: similar.Sketch | None = None) -> None:
    """PostgreSQL: one statement of data-modifying CTEs is a transaction by itself, so the
    submission costs one round trip instead of BEGIN, three INSERTs and COMMIT (a third of
    the server's time per submission went into those). Foreign keys are checked at the end
    of the statement, when the new appeal is there."""
    params: list = []

    def marks(values: list) -> str:
        start = len(params) + 1
        params.extend(values)
        return ", ".join(f"${i}" for i in range(start, start + len(values)))

    # Only table and column names from the models and numbered placeholders go into the text.
    row = insert_values(appeal)
    sql = (f'WITH new_appeal AS (INSERT INTO "{Appeal._meta.db_table}" '  # noqa: S608
           f'({_columns(row)}) VALUES ({marks(list(row.values()))}) RETURNING "id")')
    rows = []
    for event in events:
        values = new_row(AppealEvent, **event)
        del values["appeal_id"]
        rows.append(f"((SELECT id FROM new_appeal), {marks(list(values.values()))})")  # noqa: S608
    sql += (f', new_events AS (INSERT INTO "{AppealEvent._meta.db_table}" '  # noqa: S608
            f'("appeal_id", {_columns(values)}) VALUES {", ".join(rows)})')
    if mail:
        mail_sql, mail_params = outbox.insert_statement(conn, mail, len(params) + 1)
        params.extend(mail_params)
        sql += f", new_mail AS ({mail_sql})"
    if key_record is not None:
        key_values = new_row(IdempotencyRecord, **key_record)
        del key_values["appeal_id"]
        sql += (f', new_key AS (INSERT INTO "{IdempotencyRecord._meta.db_table}" '  # noqa: S608
                f'("appeal_id", {_columns(key_values)}) '
                f'VALUES ((SELECT id FROM new_appeal), {marks(list(key_values.values()))}))')
    if sketch is not None:
        sketch_values = similar.sketch_row(sketch, appeal)
        sql += (f', new_sketch AS (INSERT INTO "{AppealSketch._meta.db_table}" '  # noqa: S608
                f'("appeal_id", {_columns(sketch_values)}) '
                f'VALUES ((SELECT id FROM new_appeal), {marks(list(sketch_values.values()))}))')
        bands = ", ".join(f"((SELECT id FROM new_appeal), {marks([key])})"  # noqa: S608
                          for key in sketch.keys)
        sql += (f', new_bands AS (INSERT INTO "{AppealBand._meta.db_table}" '  # noqa: S608
                f'("appeal_id", "key") VALUES {bands})')
        sql += (f', new_pending AS (INSERT INTO "{SimilarPending._meta.db_table}" '  # noqa: S608
                '("appeal_id") VALUES ((SELECT id FROM new_appeal)))')
    found = await conn.execute_query_dict(sql + " SELECT id FROM new_appeal", params)  # noqa: S608
    mark_saved(appeal, found[0]["id"])


def _columns(row: dict) -> str:
    return ", ".join(f'"{column}"' for column in row)
