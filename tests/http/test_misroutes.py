"""Issue 14.6: misroutes per first-level category and month, on the returns page and in the
inspectors' statistics. Figures are compared before and after planting appeals (the database
is shared with other tests)."""

import dataclasses
import re

from app.domain.clock import to_local
from app.domain.types import Role
from app.schemas import staff
from app.schemas.base import parse
from app.services import misroutes, routing
from app.services.workflow import now_utc
from tests.conftest import login, make_staff
from tests.factories import UNSURE_BODY, dispatcher, handler_of, submit

CATEGORY = "城乡建设"


async def _row(month: str) -> tuple[int, int, int, int]:
    for r in await misroutes.by_category_month(now_utc()):
        if (r.category, r.month) == (CATEGORY, month):
            return r.received, r.auto, r.returned, r.corrected
    return 0, 0, 0, 0


async def _auto(rules):
    appeal = await submit(rules=rules, region="990121", category=CATEGORY)  # 物业 → 住建
    assert appeal.status == "assigned" and appeal.routing["confident"]
    return appeal


async def test_misroute_figures_count_planted_appeals(database, rules, new_client):
    month = to_local(now_utc()).strftime("%Y-%m")
    before = await _row(month)

    await _auto(rules)                                   # automatic, left alone
    returned = await _auto(rules)                        # automatic, then returned
    await routing.return_to_triage(returned, await handler_of("990121-zhujian"),
                                   parse(staff.Return, {"reason": "不属于本部门职责。"}))
    corrected = await _auto(rules)                       # automatic, then re-routed
    await routing.route_manual(rules, corrected, await dispatcher(), parse(
        staff.Route, {"department": "990121-shichang", "category": CATEGORY}))
    strict = dataclasses.replace(rules, routing=dataclasses.replace(
        rules.routing, confidence_threshold=1.0, keyword_rules=()))
    unsure = await submit(rules=strict, category="", body=UNSURE_BODY)  # triage, then routed
    assert unsure.status == "triage"
    await routing.route_manual(rules, unsure, await dispatcher(), parse(
        staff.Route, {"department": "990100-zhujian", "category": CATEGORY}))

    after = await _row(month)
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (4, 3, 1, 1)

    row = next(r for r in await misroutes.by_category_month(now_utc())
               if (r.category, r.month) == (CATEGORY, month))
    for role, path in ((Role.DISPATCHER, "/staff/returns"), (Role.INSPECTOR, "/staff/stats")):
        client = new_client()
        await login(client, await make_staff(role))
        page = await client.get(path)
        assert page.status_code == 200 and 'id="misroutes"' in page.text
        assert misroutes.DEFINITION in page.text
        found = re.search(rf'<tr data-month="{month}" data-category="{CATEGORY}">(.*?)</tr>',
                          page.text)
        assert found, path
        counts = re.findall(r'data-count="(\d+)"', found.group(1))
        assert counts == [str(row.auto), str(row.returned), str(row.corrected)]
        assert f"<td>{row.received}</td>" in found.group(1)

    handler = new_client()  # a handler's statistics are their department's: no city figures
    await login(handler, await make_staff(Role.HANDLER, "990121-zhujian"))
    page = await handler.get("/staff/stats")
    assert page.status_code == 200 and 'id="misroutes"' not in page.text


def test_first_month_counts_back_across_the_year():
    from datetime import date

    assert misroutes.first_month(date(2026, 3, 15), 12) == date(2025, 4, 1)
    assert misroutes.first_month(date(2026, 12, 1), 1) == date(2026, 12, 1)
