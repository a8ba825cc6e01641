"""/staff/hotspots: the tabs, a hotspot's figures and definitions, escaped and masked; a
hotspot's appeals paged; the monthly report's top hotspots on the page and in the XLSX."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl

from app.domain.types import Role
from app.models import Hotspot, HotspotMember, Region
from app.services import report
from tests.conftest import login, make_staff
from tests.factories import submit

WICKED = "<script>alert(1)</script>夜间施工"
PHONE = "13912345678"
NEXT = re.compile(r'<a href="([^"]*)" rel="next">')


async def _hotspot(period: int = 7, *, at: datetime | None = None, **fields) -> Hotspot:
    at = at or datetime.now(UTC)
    region = await Region.get(code="990222")
    values = {"label": "施工·噪音", "words": ["施工", "噪音"], "title": "工地夜里施工",
              "appeal_count": 6, "previous_count": 2, "people": 5, "rated": 2,
              "unsatisfied": 1, "departments": ["白石县住房和城乡建设局"], "heat": 22.5,
              "first_seen_at": at, "computed_at": at, **fields}
    return await Hotspot.create(period_days=period, region_id=region.id, **values)


async def test_the_page_lists_hotspots_with_their_figures_escaped_and_masked(database,
                                                                             new_client):
    shown = await _hotspot(label=WICKED, words=[WICKED], title=f"工地噪音 联系{PHONE}",
                           heat=9999.0, notified_at=datetime.now(UTC))
    month = await _hotspot(30, label="三十天热点标记", heat=9998.0)
    ended = await _hotspot(label="已结束热点标记", heat=9997.0, active=False)
    dispatcher = new_client()
    await login(dispatcher, await make_staff(Role.DISPATCHER))

    page = await dispatcher.get("/staff/hotspots")

    assert page.status_code == 200
    text = page.text
    assert WICKED not in text and "&lt;script&gt;alert(1)&lt;/script&gt;夜间施工" in text
    assert PHONE not in text and "139****5678" in text
    row = text[text.index(f'id="hotspot-{shown.id}"'):]
    row = row[:row.index("</tr>")]
    for figure in ("9999.0", "+200%", "上期 2 件", ">5<", "白石县", "白石县住房和城乡建设局",
                   "50%", "1 / 2", "已提醒", f"/staff/hotspots/{shown.id}"):
        assert figure in row, figure
    assert "三十天热点标记" not in text and "已结束热点标记" not in text
    assert "热度</strong> = 涉及群众人数" in text and "举报不计入热点" in text
    assert "最近计算" in text or "尚未计算" in text

    tab = await dispatcher.get("/staff/hotspots", params={"period": "30"})
    assert "三十天热点标记" in tab.text and f"hotspot-{shown.id}" not in tab.text
    assert (await dispatcher.get("/staff/hotspots", params={"period": "x"})).status_code == 200
    assert (await dispatcher.get(f"/staff/hotspots/{ended.id}")).status_code == 200
    assert (await dispatcher.get(f"/staff/hotspots/{month.id + 10**6}")).status_code == 404
    assert (await dispatcher.get("/staff/hotspots/abc")).status_code == 404
    assert (await dispatcher.get(f"/staff/hotspots/{2**63}")).status_code == 404


async def test_a_hotspots_appeals_are_listed_newest_first_and_paged(database, new_client):
    hotspot = await _hotspot(label="分页热点")
    numbers = []
    for i in range(23):
        appeal = await submit(region="990222", title=f"分页热点诉求{i:02d}",
                              contact_phone=PHONE,
                              at=datetime.now(UTC) - timedelta(hours=30 - i))
        await HotspotMember.create(hotspot_id=hotspot.id, appeal_id=appeal.id)
        numbers.append(appeal.tracking_number)
    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))

    seen, url = [], f"/staff/hotspots/{hotspot.id}"
    while url:
        page = await inspector.get(url)
        assert page.status_code == 200
        assert PHONE not in page.text and "分页热点" in page.text
        seen += re.findall(r'<a href="/staff/appeals/([^"]+)">', page.text)
        found = NEXT.search(page.text)
        url = f"/staff/hotspots/{hotspot.id}" + found.group(1).replace("&amp;", "&") \
            if found else None
    assert seen == list(reversed(numbers))
    assert len(seen) == 23


async def test_the_monthly_report_lists_the_months_top_hotspots(database, new_client, rules):
    month = date(2015, 4, 1)
    inside = datetime(2015, 4, 10, tzinfo=UTC)
    hot = await _hotspot(30, at=inside, label="四月热点甲", heat=40.0, title=f"联系{PHONE}")
    warm = await _hotspot(30, label="四月热点乙", heat=12.0, first_seen_at=inside - timedelta(days=20),
                          computed_at=inside + timedelta(days=30), previous_count=0)
    await _hotspot(7, at=inside, label="四月七天热点", heat=99.0)  # the 7-day ones: not listed
    await _hotspot(30, at=datetime(2015, 3, 1, tzinfo=UTC), label="三月热点", heat=99.0)

    found = await report.monthly(month, datetime(2015, 5, 2, tzinfo=UTC), rules)
    labels = [h.label for h in found.hotspots]
    assert labels[:2] == ["四月热点甲", "四月热点乙"] and len(labels) <= report.HOTSPOT_TOP
    assert "四月七天热点" not in labels and "三月热点" not in labels
    assert found.hotspots[0].growth == 2.0 and found.hotspots[1].growth is None
    assert found.hotspots[0].title == "联系139****5678"

    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    page = await inspector.get("/staff/report", params={"month": "2015-04"})
    section = page.text[page.text.index('id="report-hotspots"'):]
    assert "四月热点甲" in section and "四月热点乙" in section and "新出现" in section
    assert f"/staff/hotspots/{hot.id}" in section and f"/staff/hotspots/{warm.id}" in section
    assert PHONE not in page.text
    book = await inspector.get("/staff/report", params={"month": "2015-04", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)["热点"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("热度", "热点")
    assert rows[1][:2] == (40.0, "四月热点甲") and rows[2][:2] == (12.0, "四月热点乙")
    assert all(PHONE not in str(cell) for row in rows for cell in row)
