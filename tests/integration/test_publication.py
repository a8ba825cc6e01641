"""app.services.publication on the real database: the queue page by page, the refusals,
and approval racing the resident's withdrawal (whatever the order, nothing stays published
without consent)."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.types import Role
from app.models import Appeal, AppealEvent, Publication
from app.services import publication
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.workflow import Actor
from tests.conftest import unique
from tests.factories import OWN, make_appeal, make_staff

TEXT = {"title": "小区消防通道被占用", "question": "消防通道长期被车辆占用。",
        "reply": "已通知物业清理。"}


async def _approver() -> Actor:
    return Actor.of(await make_staff(Role.INSPECTOR))


async def _all_queued(size: int = 2) -> list[publication.QueueItem]:
    items, after = [], None
    while True:
        page = await publication.queue(after, size)
        items += page.items
        if page.next_after is None:
            return items
        after = page.next_after


async def test_the_queue_pages_through_every_waiting_appeal_once(database):
    made = [await make_appeal("replied", OWN, public=True, title=unique("排队"))
            for _ in range(3)]
    closed = await make_appeal("closed", OWN, public=True, title=unique("已办结"))
    items = await _all_queued()
    ids = [item.appeal.id for item in items]
    assert len(ids) == len(set(ids))
    assert {m.appeal.id for m in [*made, closed]} <= set(ids)
    assert (await publication.queue()).total >= 4
    with pytest.raises(ValueError):
        await publication.queue("not-a-cursor")
    await publication.approve(made[0].appeal, await _approver(), **TEXT)
    assert made[0].appeal.id not in {item.appeal.id for item in await _all_queued()}


async def test_refusals_name_the_reason(database):
    report = await make_appeal("replied", None, type="report", named_unit=OWN, public=True)
    private = await make_appeal("replied", OWN, public=False)
    waiting = await make_appeal("awaiting_info", OWN, public=True)
    approver = await _approver()
    for made, said in ((report, publication.REPORT_REFUSED), (private, publication.NO_CONSENT),
                       (waiting, publication.NOT_ANSWERED)):
        with pytest.raises(ServiceError) as refused:
            await publication.approve(made.appeal, approver, **TEXT)
        assert refused.value.message == said
        assert not await Publication.exists(appeal_id=made.appeal.id)
    made = await make_appeal("replied", OWN, public=True, contact_phone="13911112222")
    with pytest.raises(ValidationFailed) as refused:
        await publication.approve(made.appeal, approver, title="", question="联系 13911112222",
                                  reply="请发邮件到 a.b@example.com")
    assert set(refused.value.errors) == {"title", "question", "reply"}
    assert "电话号码" in refused.value.errors["question"]
    assert "电子邮箱" in refused.value.errors["reply"]
    with pytest.raises(ValidationFailed):  # the resident's own number, written apart
        await publication.approve(made.appeal, approver, **TEXT | {"reply": "尾号 1391 111 2222"})


@pytest.mark.parametrize("first", ["approve", "withdraw"])
async def test_approval_racing_a_withdrawal_never_leaves_it_published(database, first):
    made = await make_appeal("replied", OWN, public=True, title=unique("竞争"))
    approver = await _approver()
    copies = [await Appeal.get(id=made.appeal.id) for _ in range(2)]

    async def approve():
        return await publication.approve(copies[0], approver, **TEXT)

    async def withdraw():
        return await publication.withdraw_consent(copies[1])

    steps = [approve, withdraw] if first == "approve" else [withdraw, approve]
    results = await asyncio.gather(*(step() for step in steps), return_exceptions=True)
    for result in results:
        assert not isinstance(result, Exception) or isinstance(result, (Conflict, ServiceError))
    appeal = await Appeal.get(id=made.appeal.id)
    row = await Publication.get_or_none(appeal_id=appeal.id)
    assert appeal.is_public is False  # the withdrawal always holds
    assert row is None or row.status == publication.UNPUBLISHED
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id").values_list(
        "kind", flat=True)
    assert "consent_withdrawn" in kinds


async def test_draft_redacts_a_name_wherever_it_stands(database):
    made = await make_appeal("replied", OWN, public=True, contact_name="赵六",
                             body="我叫赵六，电话13811112222，家门口的路灯坏了。",
                             title=unique("路灯"))
    await Appeal.filter(id=made.appeal.id).update(reply_text="已修复赵六反映的路灯。")
    appeal = await Appeal.get(id=made.appeal.id)
    draft = publication.draft(appeal)
    assert "赵六" not in draft.question + draft.reply + draft.title
    assert draft.reply == "已修复[姓名]反映的路灯。"
    assert [s.kind for s in draft.spans["question"]] == ["name", "phone"]
    row = await publication.approve(appeal, await _approver(), draft.title, draft.question,
                                    draft.reply)
    assert "13811112222" not in row.search_grams and "赵六" not in row.search_grams
