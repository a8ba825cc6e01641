"""A submission is stored whole or not at all: appeal, events and receipt mail together."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tortoise.exceptions import IntegrityError

from app.models import Appeal, AppealEvent, OutboxMessage
from app.models.rows import insert_values, new_row
from app.notify import notices, outbox
from app.services import intake
from tests.conftest import GOOD_APPEAL, unique


async def submit_with_a_broken_receipt(rules, monkeypatch) -> tuple[str, str]:
    """A submission whose receipt row the database refuses; its (title, mail address)."""
    title = unique("整体回滚")
    address = f"{unique('r')}@example.cn"

    async def broken_receipt(appeal):
        # text_body is NOT NULL: the database refuses this row, after the appeal's own rows.
        return await outbox.enqueue(kind="receipt", to=address, subject=title, text=None,
                                    html="<p></p>")

    monkeypatch.setattr(notices, "appeal_received", broken_receipt)
    submission = intake.validate({**GOOD_APPEAL, "title": title, "contact_email": address},
                                 rules)
    with pytest.raises(IntegrityError):
        await intake.submit(rules, submission)
    return title, address


async def test_a_receipt_row_that_cannot_be_written_leaves_no_appeal(database, rules,
                                                                      monkeypatch):
    title, address = await submit_with_a_broken_receipt(rules, monkeypatch)
    assert not await Appeal.filter(title=title).exists()
    assert not await AppealEvent.filter(appeal__title=title).exists()
    assert not await OutboxMessage.filter(to_address=address).exists()


async def test_the_stored_appeal_can_be_changed_afterwards(database, rules):
    title = unique("存后可改")
    receipt = await intake.submit(rules, intake.validate({**GOOD_APPEAL, "title": title}, rules))
    appeal = receipt.appeal
    appeal.contact_name = "王五"
    await appeal.save()  # an UPDATE of the stored row, not a second INSERT
    stored = await Appeal.filter(title=title)
    assert [(a.id, a.contact_name) for a in stored] == [(appeal.id, "王五")]
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id").values_list("kind",
                                                                                    flat=True)
    assert kinds[0] == "submitted" and kinds[1] in ("route_confident", "route_unsure")


async def test_rows_built_without_instances_match_tortoises_own(database):
    at = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    given = {"appeal_id": 1, "kind": "route_confident", "from_status": "submitted",
             "to_status": "assigned", "actor_id": None, "actor_label": "系统",
             "department_id": None, "at": at, "data": {"候选": [1, "二", None]}}
    row = new_row(AppealEvent, **given)
    assert row == insert_values(AppealEvent(**given))
    assert row["public"] is True and row["note"] == ""  # the fields' defaults
    assert row["at"] == at and row["at"].utcoffset().total_seconds() == 0  # stored in UTC
    with pytest.raises(TypeError):
        new_row(AppealEvent, colour="红")
