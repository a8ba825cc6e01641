"""Statistics by department and by region from one scan (app.services.stats, used by the
public scorecards): the departments' rows are the inspectors' table's, and the regions' add
up to the same totals."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from app.services import scorecards, stats
from tests.factories import OWN, make_appeal, quiet_month

COUNTY = "990102"


async def test_one_scan_gives_the_inspectors_rows_and_rows_by_region(database, rules):
    at = quiet_month()
    year, month = at.year, at.month
    for n in range(3):
        await make_appeal("replied", OWN, rules=rules, at=at + timedelta(hours=n))
    for n in range(2):
        await make_appeal("accepted", f"{COUNTY}-zhujian", rules=rules, region=COUNTY,
                          at=at + timedelta(days=1, hours=n))
    scope = stats.StatsScope(date(year, month, 1), date(year, month, 28))
    now = datetime.now(UTC)
    both = await stats.by_department_and_region(scope, now, "reply", 1, with_trend=True)
    plain = await stats.table(scope, now, "reply", 1, with_trend=True)
    assert [(r.code, r.counts, r.rank, r.mean_days) for r in both.departments.rows] == \
        [(r.code, r.counts, r.rank, r.mean_days) for r in plain.rows]
    assert both.departments.total.counts == plain.total.counts
    by_region = {r.code: r.counts for r in both.regions.rows}
    assert {code: c["received"] for code, c in by_region.items()} == {"990100": 3, COUNTY: 2}
    assert {code: c["replied"] for code, c in by_region.items()} == {"990100": 3, COUNTY: 0}
    for figure in stats.FIGURES:
        assert sum(c[figure.key] for c in by_region.values()) == \
            both.regions.total.counts[figure.key]
    assert [m.received for m in both.departments.months] == [5]


async def test_a_kept_scorecard_is_served_while_one_refresh_runs(database, rules):
    at = quiet_month()
    year, month = at.year, at.month
    await make_appeal("replied", OWN, rules=rules, at=at)
    period = scorecards.period_of(f"{year}-{month:02d}", datetime.now(UTC))[0]
    cache = scorecards.Cache(seconds=0)  # every kept one is already old
    first = await cache.get(period, datetime.now(UTC), 10, 5)
    assert first.total.received == "<5"
    for _ in range(5):
        await make_appeal("replied", OWN, rules=rules, at=at)
    again = await cache.get(period, datetime.now(UTC), 10, 5)
    assert again is first and len(cache.refreshing) == 1  # the old one, at once
    await asyncio.gather(*cache.refreshing.values())
    assert (await cache.get(period, datetime.now(UTC), 10, 5)).total.received == "6"
    await asyncio.gather(*cache.refreshing.values())
