"""Staff search and history through the functions the pages call, on this test run's engine:
each criterion finds the right appeals, within what the searcher may see."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from app.domain import search_text
from app.domain.types import Role
from app.models import Account, Appeal, Category, Department, SupervisionOrder
from app.services import lists, search
from app.web import access
from tests.factories import OWN, make_appeal, make_staff

OTHER = "990100-jiaoyu"


def phrase(length: int) -> str:
    """Chinese characters no other test writes (drawn at random from a wide range)."""
    rng = random.Random(uuid.uuid4().int)
    return "".join(chr(rng.randrange(0x5000, 0x9000)) for _ in range(length))


async def found(account: Account, **params: str) -> list[str]:
    """Every tracking number the search finds for `account`, across all pages."""
    numbers, after = [], None
    while True:
        result = await search.search({**params, **({"after": after} if after else {})},
                                     access.visible_appeals(account), now=datetime.now(UTC))
        assert result.listing is not None, result.errors
        assert not result.errors, result.errors
        numbers += [a.tracking_number for a in result.listing.page.appeals]
        after = result.listing.page.next_after
        if after is None:
            return numbers


async def test_two_and_six_character_phrases_are_found_in_title_or_body(database, rules):
    two, six = phrase(2), phrase(6)
    in_body = await make_appeal("accepted", OWN, rules=rules,
                                body=f"楼下{six}的问题，还有{two}，一直没人处理，请尽快解决。")
    in_title = await make_appeal("accepted", OWN, rules=rules, title=f"关于{two}的投诉")
    inspector = await make_staff(Role.INSPECTOR)

    assert set(await found(inspector, q=two)) == {in_body.number, in_title.number}
    assert await found(inspector, q=six) == [in_body.number]
    assert await found(inspector, q=six[1:5]) == [in_body.number]
    # Both words, each a phrase, anywhere in title or body.
    assert await found(inspector, q=f"{two} {six}") == [in_body.number]
    assert await found(inspector, q=f"{six} {phrase(3)}") == []


async def test_a_phrase_must_be_adjacent_not_just_its_bigrams(database, rules):
    a, b, c = phrase(1), phrase(1), phrase(1)
    # Both bigrams of a+b+c are in the text, the phrase itself is not.
    made = await make_appeal("accepted", OWN, rules=rules,
                             body=f"小区门口{a}{b}，路边{b}{c}，请相关部门处理一下。")
    inspector = await make_staff(Role.INSPECTOR)
    assert await found(inspector, q=f"{a}{b}") == [made.number]
    assert await found(inspector, q=f"{a}{b}{c}") == []


async def test_tracking_number_is_matched_exactly(database, rules):
    made = await make_appeal("accepted", OWN, rules=rules)
    dispatcher = await make_staff(Role.DISPATCHER)
    assert await found(dispatcher, q=made.number) == [made.number]
    assert await found(dispatcher, q=made.number.lower()) == [made.number]
    assert await found(dispatcher, q="MS19990101-000001") == []


async def test_the_phone_number_is_found_only_in_full(database, rules):
    digits = f"139{random.randrange(10**8):08d}"
    made = await make_appeal("accepted", OWN, rules=rules, contact_phone=digits)
    inspector = await make_staff(Role.INSPECTOR)
    for typed in (digits, f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}", f"86{digits}"):
        assert await found(inspector, q=typed) == [made.number]
    for part in (digits[:7], digits[-8:], digits[:-1]):
        assert made.number not in await found(inspector, q=part)
    row = await Appeal.get(id=made.appeal.id)
    assert row.phone_key == search_text.phone_key(digits) and digits not in row.phone_key
    assert digits not in row.search_grams


async def test_region_with_its_subtree_type_category_and_dates(database, rules):
    word = phrase(4)
    county = await make_appeal("accepted", "990121-zhujian", rules=rules, region="990121",
                               type="consultation", body=f"{word}，清河县的事情，请处理。")
    elsewhere = await make_appeal("accepted", "990221-zhujian", rules=rules, region="990221",
                                  type="complaint", category="劳动和社会保障",
                                  body=f"{word}，青川县的事情，请处理。")
    inspector = await make_staff(Role.INSPECTOR)
    assert await found(inspector, q=word, region="990000") == [elsewhere.number, county.number]
    assert await found(inspector, q=word, region="990100") == [county.number]
    assert await found(inspector, q=word, region="990121") == [county.number]
    assert await found(inspector, q=word, type="complaint") == [elsewhere.number]
    # Categories set here (another module's reference edits may have moved the codes).
    category, other = await Category.filter(level=1).order_by("code").limit(2)
    await Appeal.filter(id=county.appeal.id).update(category_id=category.id)
    await Appeal.filter(id=elsewhere.appeal.id).update(category_id=other.id)
    assert await found(inspector, q=word, category=category.code) == [county.number]
    assert await found(inspector, q=word, category=other.code) == [elsewhere.number]
    today = datetime.now(UTC).date()
    assert await found(inspector, q=word, submitted_from=str(today),
                       submitted_to=str(today + timedelta(days=1))) == [elsewhere.number,
                                                                         county.number]
    assert await found(inspector, q=word, submitted_to=str(today - timedelta(days=2))) == []
    # Criteria without a text: the region's appeals, newest first (only ours here).
    assert (await found(inspector, region="990121", type="consultation"))[:1] == [county.number]


async def test_a_handler_finds_only_their_department_and_never_a_report_naming_it(
        database, rules):
    word = phrase(3)
    mine = await make_appeal("accepted", OWN, rules=rules, body=f"{word}的问题一直没有解决，请尽快处理。")
    theirs = await make_appeal("accepted", OTHER, rules=rules, body=f"{word}的问题一直没有解决，请尽快处理。")
    report = await make_appeal("assigned", None, rules=rules, type="report", named_unit=OWN,
                               body=f"举报{word}，有人收受好处费，请查处。")
    assert (await report.appeal.department).code != OWN
    own_handler, head = await make_staff(Role.HANDLER, OWN), await make_staff(Role.HEAD, OWN)
    other_handler = await make_staff(Role.HANDLER, OTHER)
    for account in (own_handler, head):
        assert await found(account, q=word) == [mine.number]
        assert await found(account, q=report.number) == []
        assert await found(account, q=theirs.number) == []
    assert await found(other_handler, q=word) == [theirs.number]
    assert await found(other_handler, q=mine.number) == []
    # Even a report wrongly left with the unit it names stays out of that unit's search.
    await Appeal.filter(id=report.appeal.id).update(
        department_id=(await Department.get(code=OWN)).id)
    assert await found(own_handler, q=word) == [mine.number]
    for role in (Role.DISPATCHER, Role.INSPECTOR):
        assert set(await found(await make_staff(role), q=word)) == {
            mine.number, theirs.number, report.number}
    assert await found(await make_staff(Role.ADMIN), q=word) == []


async def test_bad_input_is_said_per_field_and_nothing_is_scanned_for_it(database):
    inspector = await make_staff(Role.INSPECTOR)
    base = access.visible_appeals(inspector)
    now = datetime.now(UTC)
    too_long = await search.search({"q": "电" * 101}, base, now=now)
    assert too_long.listing is None and "不能超过 100 个字" in too_long.errors["q"]
    short = await search.search({"q": "电"}, base, now=now)
    assert short.listing is None and short.errors["q"] == search.TOO_SHORT
    dates = await search.search({"q": "电梯", "submitted_from": "2026-13-01",
                                 "submitted_to": "昨天"}, base, now=now)
    assert "日期" in dates.errors["submitted_from"] and "日期" in dates.errors["submitted_to"]
    assert dates.listing is not None
    nothing = await search.search({}, base, now=now)
    assert nothing.listing is None and nothing.errors == {}


async def test_history_lists_the_departments_answered_and_closed_appeals_newest_first(
        database, rules):
    department = await Department.get(code="990102-zhujian")
    # A day of their own: the suite shares the database, and other tests answer appeals too.
    at = datetime(2019, 3, 5, 2, tzinfo=UTC)
    day = {"submitted_from": "2019-03-05", "submitted_to": "2019-03-05"}
    replied = await make_appeal("replied", department.code, rules=rules, at=at)
    closed = await make_appeal("closed", department.code, rules=rules,
                               at=at + timedelta(hours=1))
    open_one = await make_appeal("accepted", department.code, rules=rules,
                                 at=at + timedelta(hours=2))
    elsewhere = await make_appeal("closed", "990121-zhujian", rules=rules,
                                  at=at + timedelta(hours=3))
    handler = await make_staff(Role.HANDLER, department.code)
    listing = await search.history_listing(day, access.visible_appeals(handler),
                                           now=datetime.now(UTC))
    numbers = [a.tracking_number for a in listing.page.appeals]
    assert numbers[:2] == [closed.number, replied.number]
    assert open_one.number not in numbers and elsewhere.number not in numbers
    only_closed = await search.history_listing({"status": "closed", **day},
                                               access.visible_appeals(handler),
                                               now=datetime.now(UTC))
    assert [a.tracking_number for a in only_closed.page.appeals][:1] == [closed.number]
    wrong = await search.history_listing({"status": "accepted"},
                                         access.visible_appeals(handler),
                                         now=datetime.now(UTC))
    assert wrong.page.appeals == [] and "status" in wrong.errors


async def test_the_supervised_filter_keeps_appeals_under_an_open_order(database, rules):
    department = await Department.get(code="990102-jiaoyu")
    plain = await make_appeal("accepted", department.code, rules=rules)
    watched = await make_appeal("accepted", department.code, rules=rules)
    now = datetime.now(UTC)
    await SupervisionOrder.create(appeal_id=watched.appeal.id, department_id=department.id,
                                  status="issued", reason="群众反映强烈。", days=3,
                                  issued_at=now, due_at=now + timedelta(days=3))
    query = lists.department_queue(department.id)
    filters, _ = lists.parse_filters({"supervised": "1"})
    narrowed, _ = await lists.narrowed(query, filters, now)
    ids = set(await narrowed.values_list("id", flat=True))
    assert watched.appeal.id in ids and plain.appeal.id not in ids


async def test_the_search_column_is_written_on_submission(database, rules):
    made = await make_appeal("assigned", OWN, rules=rules, title="路灯不亮",
                             body="门口路灯坏了，晚上很黑。联系13912345678")
    row = await Appeal.get(id=made.appeal.id)
    # PostgreSQL gives the tsvector back with each lexeme quoted.
    stored = set(row.search_grams.replace("'", "").split())
    assert stored == set(search_text.grams(row.title, row.body).split())
    assert {"路灯", "灯不", "不亮", "门口"} <= stored
    assert not any(gram.isdigit() for gram in stored)  # long digit runs are not indexed


async def test_the_migration_fills_the_search_columns_of_older_appeals(database, rules):
    import importlib
    from types import SimpleNamespace

    from tortoise import connections

    migration = importlib.import_module("migrations.0014_search")
    number = f"136{random.randrange(10**8):08d}"
    made = await make_appeal("accepted", OWN, rules=rules, title="井盖丢失无人管",
                             contact_phone=number)
    await Appeal.filter(id=made.appeal.id).update(search_grams="", phone_key="")
    inspector = await make_staff(Role.INSPECTOR)
    assert await found(inspector, q=number) == []
    await migration._backfill(None, SimpleNamespace(client=connections.get("default")))
    assert await found(inspector, q=number) == [made.number]
    assert made.number in await found(inspector, q="井盖")
