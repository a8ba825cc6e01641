"""还利于民 on a real database: recording validates exactly and writes the entry with its
event; an inspector decides once; the totals are the sums of verified entries only.

The database is shared by the run: totals are compared before and after, in one test."""

from datetime import UTC, date, datetime

import pytest
from tortoise.transactions import in_transaction

from app.domain.clock import to_local
from app.domain.types import Role
from app.models import Appeal, AppealEvent, AppealReply, Benefit, Department, Region
from app.schemas.benefits import Entry
from app.schemas.staff import Reply
from app.services import benefits, handling
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor, now_utc
from tests.factories import make_appeal, make_staff

DEPT = "990121-jiaoyu"  # 清河县教育局
REGION = "990121"
GOOD = {"kind": "refund", "amount": "1200.50", "people": "3",
        "evidence": "学校退费凭证 TF-2026-001"}


async def _replied(rules, status: str = "replied"):
    handler = await make_staff(Role.HANDLER, DEPT)
    made = await make_appeal(status, DEPT, rules=rules, by=Actor.of(handler), region=REGION,
                             type="complaint")
    return await Appeal.get(id=made.appeal.id), Actor.of(handler)


async def _inspector() -> Actor:
    return Actor.of(await make_staff(Role.INSPECTOR))


def _entry(**changes) -> Entry:
    return Entry(**{**GOOD, **changes})


async def _kinds(appeal: Appeal) -> list[str]:
    return list(await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
                .values_list("kind", flat=True))


async def _figures(year: int, month: date) -> dict:
    department = await Department.get(code=DEPT)
    region = await Region.get(code=REGION)
    totals = await benefits.public_totals(year)
    start = month.replace(day=1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    report = await benefits.month_totals(start, end)

    def named(rows, name):
        return next(((t.fen, t.entries) for t in rows if t.label == name), (0, 0))

    return {
        "all": ((await benefits.grand_total()).fen, (await benefits.grand_total()).entries),
        "year": (totals.total.fen, totals.total.entries),
        "year_row": named(totals.years, f"{year} 年"),
        "department": named(totals.departments, department.name),
        "region": named(totals.regions, region.name),
        "month": (report.total.fen, report.total.entries),
        "month_department": named(report.departments, department.name),
        "month_refund": named(report.kinds, "退还"),
        "pending": report.pending, "rejected": report.rejected,
    }


def _delta(after: dict, before: dict) -> dict:
    return {key: tuple(a - b for a, b in zip(after[key], before[key], strict=True))
            if isinstance(after[key], tuple) else after[key] - before[key] for key in after}


async def test_totals_are_the_sum_of_verified_entries_only(database, rules):
    today = to_local(now_utc()).date()
    before = await _figures(today.year, today)
    inspector = await _inspector()
    made = []
    for amount, kind in (("100.50", "refund"), ("2000", "back_pay"), ("999.99", "refund"),
                         ("50.01", "relief")):
        appeal, handler = await _replied(rules)
        made.append(await benefits.record(appeal, handler, _entry(amount=amount, kind=kind,
                                                                   people="2")))
    verified_refund, verified_pay, rejected, pending = made
    await benefits.verify(verified_refund, inspector, "凭证属实")
    await benefits.verify(verified_pay, inspector)
    await benefits.reject(rejected, inspector, "凭证与诉求不符")

    change = _delta(await _figures(today.year, today), before)
    verified = 10050 + 200000
    assert change["all"] == (verified, 2)
    assert change["year"] == change["year_row"] == (verified, 2)
    assert change["department"] == change["region"] == (verified, 2)
    assert change["month"] == change["month_department"] == (verified, 2)
    assert change["month_refund"] == (10050, 1)  # the rejected refund never counts
    assert change["pending"] == 1 and change["rejected"] == 1
    assert (await Benefit.get(id=pending.id)).status == "pending"
    # Another year's totals hold none of them.
    other = await benefits.public_totals(today.year - 30)
    assert other.total.fen == 0 and other.departments == [] and other.regions == []


async def test_an_entry_is_recorded_with_its_event(database, rules):
    appeal, handler = await _replied(rules)
    row = await benefits.record(appeal, handler, _entry(amount="１２００.５０元"))
    stored = await Benefit.get(id=row.id)
    assert (stored.kind, stored.amount_fen, stored.people, stored.status) == \
        ("refund", 120050, 3, "pending")
    assert stored.department_id == appeal.department_id and stored.region_id == appeal.region_id
    assert stored.recorded_by_id == handler.account.id
    event = await AppealEvent.filter(appeal_id=appeal.id).order_by("-id").first()
    assert event.kind == "benefit_record" and event.public is False
    assert event.from_status == event.to_status == "replied"
    assert "退还 1,200.50 元" in event.note and event.data["benefit"] == row.id


@pytest.mark.parametrize(("text", "fen"), [("1200", 120000), ("1200.5", 120050),
                                           ("0.01", 1), ("100000000", 10_000_000_000),
                                           (" 88.80 元", 8880), ("007", 700)])
def test_amounts_are_parsed_exactly(text, fen):
    assert benefits.parse_amount(text) == fen


@pytest.mark.parametrize("text", ["", "0", "0.00", "-1", "1.234", "abc", "1,000", "1e3",
                                  "NaN", "Infinity", "100000000.01", "12.", ".5", "1 000",
                                  "1.500"])
async def test_bad_amounts_are_refused_beside_the_field_and_nothing_is_written(
        database, rules, text):
    appeal, handler = await _replied(rules)
    kinds = await _kinds(appeal)
    with pytest.raises(ValidationFailed) as refused:
        await benefits.record(appeal, handler, _entry(amount=text))
    assert set(refused.value.errors) == {"amount"}
    assert "金额" in refused.value.errors["amount"]
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0
    assert await _kinds(appeal) == kinds


async def test_every_bad_field_is_said_at_once(database, rules):
    appeal, handler = await _replied(rules)
    with pytest.raises(ValidationFailed) as refused:
        await benefits.record(appeal, handler, Entry(kind="bribe", amount="12.345",
                                                     people="0", evidence=" "))
    assert set(refused.value.errors) == {"kind", "amount", "people", "evidence"}
    for people in ("abc", "-2", "1000001", "2.5"):
        with pytest.raises(ValidationFailed) as refused:
            await benefits.record(appeal, handler, _entry(people=people))
        assert set(refused.value.errors) == {"people"}
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0


async def test_only_the_department_records_and_only_once_replied(database, rules):
    appeal, _ = await _replied(rules)
    for outsider in (await make_staff(Role.HANDLER, "990121-weijian"),
                     await make_staff(Role.INSPECTOR), await make_staff(Role.DISPATCHER)):
        with pytest.raises(ServiceError) as refused:
            await benefits.record(appeal, Actor.of(outsider), _entry())
        assert refused.value.code == "not_yours"
    head = Actor.of(await make_staff(Role.HEAD, DEPT))
    assert (await benefits.record(appeal, head, _entry())).status == "pending"
    accepted, handler = await _replied(rules, "accepted")
    with pytest.raises(ServiceError) as refused:
        await benefits.record(accepted, handler, _entry())
    assert refused.value.code == "illegal_transition"
    closed, handler = await _replied(rules, "closed")
    assert (await benefits.record(closed, handler, _entry())).status == "pending"
    assert await Benefit.filter(appeal_id=accepted.id).count() == 0


async def test_a_decided_entry_cannot_be_decided_again(database, rules):
    appeal, handler = await _replied(rules)
    inspector = await _inspector()
    entry = await benefits.record(appeal, handler, _entry())
    await benefits.verify(await Benefit.get(id=entry.id), inspector)
    for decide in (lambda e: benefits.verify(e, inspector),
                   lambda e: benefits.reject(e, inspector, "重复")):
        with pytest.raises(ServiceError) as refused:
            await decide(await Benefit.get(id=entry.id))
        assert refused.value.code == "decided"
    # A stale copy read before the first decision is refused too (the update is conditional).
    stale = await Benefit.get(id=(await benefits.record(appeal, handler, _entry())).id)
    await benefits.reject(await Benefit.get(id=stale.id), inspector, "凭证不清")
    with pytest.raises(ServiceError):
        await benefits.verify(stale, inspector)
    assert (await Benefit.get(id=stale.id)).status == "rejected"
    kinds = await _kinds(appeal)
    assert kinds.count("benefit_verify") == 1 and kinds.count("benefit_reject") == 1


async def test_only_inspectors_decide_and_a_rejection_says_why(database, rules):
    appeal, handler = await _replied(rules)
    entry = await benefits.record(appeal, handler, _entry())
    for role, department in ((Role.HANDLER, DEPT), (Role.HEAD, DEPT), (Role.DISPATCHER, None),
                             (Role.ADMIN, None)):
        with pytest.raises(ServiceError) as refused:
            await benefits.verify(entry, Actor.of(await make_staff(role, department)))
        assert refused.value.code == "not_yours"
    with pytest.raises(ValidationFailed) as refused:
        await benefits.reject(entry, await _inspector(), "  ")
    assert set(refused.value.errors) == {"note"}
    assert (await Benefit.get(id=entry.id)).status == "pending"


async def test_a_reply_and_its_entry_are_one_transaction(database, rules):
    """What the reply form does: reply, then record, in one transaction. A failure of the
    second leaves no reply either."""
    appeal, handler = await _replied(rules, "accepted")
    kinds = await _kinds(appeal)
    outsider = Actor.of(await make_staff(Role.HANDLER, "990121-weijian"))
    with pytest.raises(ServiceError):
        async with in_transaction():
            await handling.reply(appeal, handler, Reply(reply="经核查，学校已退还补课费用。"))
            await benefits.record(appeal, outsider, benefits.check(_entry()))
    fresh = await Appeal.get(id=appeal.id)
    assert fresh.status == "accepted" and fresh.reply_text in (None, "")
    assert await AppealReply.filter(appeal_id=appeal.id).count() == 0
    assert await Benefit.filter(appeal_id=appeal.id).count() == 0
    assert await _kinds(fresh) == kinds


async def test_the_list_is_oldest_first_paged_by_key(database, rules):
    appeal, handler = await _replied(rules)
    ids = [(await benefits.record(appeal, handler, _entry(amount=str(n)))).id
           for n in (1, 2, 3)]
    first = await benefits.listed("pending", "", limit=10_000)
    mine = [e.id for e in first.entries if e.id in ids]
    assert mine == ids
    page = await benefits.listed("pending", str(ids[0]), limit=1)
    assert [e.id for e in page.entries] == [ids[1]] and page.next_after == str(ids[1])
    with pytest.raises(ServiceError):
        await benefits.listed("pending", "nonsense")


def test_yuan_has_thousands_separators():
    assert benefits.yuan(123456789) == "1,234,567.89"
    assert benefits.yuan(5) == "0.05"
    assert benefits.yuan(0) == "0.00"


async def test_years_and_months_are_beijing_days(database, rules):
    """31 December 17:00 UTC is 1 January in Beijing: the entry counts in the new year and
    month, on both engines (SQLite compares text, PostgreSQL converts the time zone)."""
    appeal, handler = await _replied(rules)
    inspector = await _inspector()
    before = {year: (await benefits.public_totals(year)).total.fen for year in (2007, 2008)}
    january = await benefits.month_totals(date(2008, 1, 1), date(2008, 2, 1))
    entry = await benefits.record(appeal, handler, _entry(amount="7.07"))
    await Benefit.filter(id=entry.id).update(
        recorded_at=datetime(2007, 12, 31, 17, 0, tzinfo=UTC))
    await benefits.verify(await Benefit.get(id=entry.id), inspector)
    after = {year: (await benefits.public_totals(year)).total.fen for year in (2007, 2008)}
    assert after[2007] - before[2007] == 0 and after[2008] - before[2008] == 707
    rows = {t.label: t.fen for t in (await benefits.public_totals()).years}
    assert rows["2008 年"] >= 707
    later = await benefits.month_totals(date(2008, 1, 1), date(2008, 2, 1))
    assert later.total.fen - january.total.fen == 707


async def test_the_banner_gives_all_time_and_this_years_verified_totals(database, rules):
    appeal, handler = await _replied(rules)
    inspector = await _inspector()
    before = await benefits.public_banner()
    entry = await benefits.record(appeal, handler, _entry(amount="30.03"))
    await benefits.reject(await benefits.record(appeal, handler, _entry(amount="40")),
                          inspector, "不实")
    middle = await benefits.public_banner()
    assert middle["all_time"].fen == before["all_time"].fen
    await benefits.verify(entry, inspector)
    after = await benefits.public_banner()
    assert after["year"] == to_local(now_utc()).year and after["link"] == "/public/benefits"
    assert after["all_time"].fen - before["all_time"].fen == 3003
    assert after["this_year"].fen - before["this_year"].fen == 3003
    assert after["all_time"].yuan == benefits.yuan(after["all_time"].fen)
