"""The one query layer for lists: seek paging, filters, the queues' scopes, one overdue."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Appeal, Category, Department
from app.services import lists
from tests.factories import make_appeal, submit

NOW = datetime.now(UTC).replace(microsecond=0)


async def _walk(query, order, size):
    seen, cursor, pages = [], None, 0
    while True:
        page = await lists.page(query, order, cursor, size=size)
        seen += [a.id for a in page.appeals]
        pages += 1
        if page.next_after is None:
            return seen, pages
        cursor = page.next_after


@pytest.mark.parametrize("order", [lists.NEWEST_FIRST, lists.MOST_URGENT_FIRST])
async def test_paging_walks_every_row_once_in_order_even_when_keys_tie(database, rules, order):
    ids = [(await submit(rules=rules)).id for _ in range(7)]
    tie = NOW - timedelta(days=3)
    for i, ident in enumerate(ids):
        key = tie if i % 3 == 0 else NOW - timedelta(days=10 - i)  # rows 0, 3, 6 share a key
        await Appeal.filter(id=ident).update(**{order.field: key})
    query = Appeal.filter(id__in=ids)
    expected = [a.id for a in await query.order_by(*order.fields())]

    seen, pages = await _walk(query, order, size=2)

    assert seen == expected and len(set(seen)) == 7 and pages == 4


async def test_a_row_added_while_paging_shifts_nothing(database, rules):
    ids = [(await submit(rules=rules)).id for _ in range(4)]
    query = Appeal.filter(id__in=ids)
    first = await lists.page(query, lists.NEWEST_FIRST, None, size=2)
    ids.append((await submit(rules=rules)).id)  # newer than all: belongs before page 1
    second = await lists.page(Appeal.filter(id__in=ids), lists.NEWEST_FIRST, first.next_after,
                              size=2)
    assert [a.id for a in first.appeals + second.appeals] == sorted(ids[:4], reverse=True)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GARBAGE = ["x", "!!!", "翻页", "a" * 5000, "\x00", _b64(b"not json"), _b64(b"[1,2]"),
           _b64(json.dumps(["new", "yesterday", 5]).encode()),
           _b64(json.dumps(["new", "2026-01-01T00:00:00", 5]).encode()),  # no time zone
           _b64(json.dumps(["new", "2026-01-01T00:00:00+00:00", "5"]).encode()),
           _b64(json.dumps(["new", "2026-01-01T00:00:00+00:00", 2**70]).encode()),
           _b64(json.dumps(["new", "0001-01-01T00:00:00+14:00", 5]).encode()),  # overflows
           _b64(json.dumps({"new": 1, "at": 2, "id": 3}).encode()),
           _b64(json.dumps(["due", "2026-01-01T00:00:00+00:00", 5]).encode())]  # another list


@pytest.mark.parametrize("cursor", GARBAGE)
async def test_a_cursor_this_list_did_not_make_gives_the_first_page_and_a_message(
        database, rules, cursor):
    ident = (await submit(rules=rules)).id
    query = Appeal.filter(id=ident)
    with pytest.raises(lists.BadCursor):
        await lists.page(query, lists.NEWEST_FIRST, cursor)
    page, message = await lists.page_or_first(query, lists.NEWEST_FIRST, cursor)
    assert [a.id for a in page.appeals] == [ident] and "第一页" in message


@pytest.fixture(scope="module")
async def assorted(database, rules):
    """Seven appeals that differ in every filtered column, all past their reply deadline."""
    made = {
        "accepted": await make_appeal("accepted", "990100-zhujian", rules=rules,
                                      type="complaint"),
        "awaiting": await make_appeal("awaiting_info", "990102-zhujian", rules=rules,
                                      type="help"),
        "triage": await make_appeal("triage", rules=rules, type="consultation",
                                    region="990221"),
        "closed": await make_appeal("closed", "990221-renshe", rules=rules, type="suggestion"),
        "replied": await make_appeal("replied", "990100-renshe", rules=rules,
                                     type="complaint"),
        "assigned": await make_appeal("assigned", "990222-zhujian", rules=rules,
                                      type="evaluation"),
        "rejected": await make_appeal("rejected", rules=rules, type="consultation",
                                      region="990102"),
    }
    labour = await Category.get(name="劳动和社会保障", level=1)
    building = await Category.get(name="城乡建设", level=1)
    for day, (name, m) in enumerate(made.items()):
        await Appeal.filter(id=m.appeal.id).update(
            submitted_at=datetime(2025, 3, 1 + day, 2, tzinfo=UTC),  # 10:00 in Shanghai
            reply_due_at=NOW - timedelta(days=1),
            category_id=labour.id if name in ("closed", "replied") else building.id)
    return {name: m.appeal.id for name, m in made.items()}


FILTERS = [
    ({"status": "accepted"}, {"accepted"}),
    ({"status": "triage"}, {"triage"}),
    ({"type": "complaint"}, {"accepted", "replied"}),
    ({"type": "evaluation"}, {"assigned"}),
    ({"department": "990100-zhujian"}, {"accepted"}),
    ({"department": "990221-renshe"}, {"closed"}),
    ({"category": "c15"}, {"closed", "replied"}),  # 劳动和社会保障, the 15th first level
    ({"region": "990100"}, {"accepted", "awaiting", "replied", "rejected"}),  # and 990102
    ({"region": "990102"}, {"awaiting", "rejected"}),
    ({"region": "990200"}, {"triage", "closed", "assigned"}),
    # Overdue: open, not awaiting the resident, past the deadline (triage counts).
    ({"overdue": "1"}, {"accepted", "triage", "assigned"}),
    ({"submitted_from": "2025-03-03"}, {"triage", "closed", "replied", "assigned", "rejected"}),
    ({"submitted_to": "2025-03-02"}, {"accepted", "awaiting"}),
    ({"submitted_from": "2025-03-04", "submitted_to": "2025-03-05"}, {"closed", "replied"}),
    ({"type": "complaint", "overdue": "1"}, {"accepted"}),
    ({"region": "990100", "status": "rejected"}, {"rejected"}),
    ({}, {"accepted", "awaiting", "triage", "closed", "replied", "assigned", "rejected"}),
]


@pytest.mark.parametrize(("params", "names"), FILTERS)
async def test_each_filter_returns_exactly_the_matching_appeals(assorted, params, names):
    filters, errors = lists.parse_filters(params)
    query, unknown = await lists.narrowed(Appeal.filter(id__in=list(assorted.values())),
                                          filters, NOW)
    assert errors == unknown == {}
    found = {a.id for a in (await lists.page(query, lists.NEWEST_FIRST, None)).appeals}
    assert found == {assorted[n] for n in names}


async def test_an_awaiting_info_appeal_past_its_deadline_is_not_overdue(assorted):
    query = lists.overdue(Appeal.filter(id__in=list(assorted.values())), NOW)
    ids = set(await query.values_list("id", flat=True))
    assert assorted["awaiting"] not in ids and assorted["accepted"] in ids


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"), ({"type": "x"}, "type"),
    ({"submitted_from": "2025-02-30"}, "submitted_from"), ({"region": "9" * 40}, "region"),
    ({"submitted_from": "0001-01-01"}, "submitted_from"),
    ({"submitted_to": "9999-12-31"}, "submitted_to"),
    ({"department": "a\x00b"}, "department"),
    ({"submitted_from": "2025-03-05", "submitted_to": "2025-03-01"}, "submitted_to"),
])
async def test_a_bad_filter_is_ignored_with_a_chinese_message(assorted, params, field):
    filters, errors = lists.parse_filters(params)
    assert list(errors) == [field] and any("\u4e00" <= c <= "\u9fff" for c in errors[field])
    assert getattr(filters, field) is None


@pytest.mark.parametrize("params", [{"department": "nowhere"}, {"region": "123456"},
                                    {"category": "c99"}])
async def test_a_code_that_names_nothing_is_ignored_with_a_message(assorted, params):
    filters, _ = lists.parse_filters(params)
    query, unknown = await lists.narrowed(Appeal.filter(id__in=list(assorted.values())),
                                          filters, NOW)
    assert list(unknown) == list(params) and "没有这个" in unknown[next(iter(params))]
    assert await query.count() == len(assorted)


async def test_a_department_queue_holds_only_its_open_appeals_and_no_report_naming_it(
        database, rules):
    own = await Department.get(code="990121-zhujian")
    mine = [(await make_appeal(state, own.code, rules=rules)).appeal.id
            for state in ("assigned", "accepted", "awaiting_info")]
    done = (await make_appeal("replied", own.code, rules=rules)).appeal.id
    elsewhere = (await make_appeal("accepted", "990102-zhujian", rules=rules)).appeal.id
    report = (await make_appeal("assigned", "990100-jiwei", rules=rules, type="report",
                                named_unit=own.code)).appeal.id
    # Even a row that wrongly put the report in the named unit's hands stays out of its queue.
    await Appeal.filter(id=report).update(department_id=own.id)

    page = await lists.page(lists.department_queue(own.id), lists.MOST_URGENT_FIRST, None,
                            count=True)

    ids = {a.id for a in page.appeals}
    assert set(mine) <= ids and not {done, elsewhere, report} & ids
    assert all(a.department_id == own.id for a in page.appeals)
    assert page.total == len(page.appeals)
