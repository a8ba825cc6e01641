"""The public side through HTTP: published replies (/public), scorecards (/public/stats) and
open data (/public/data), for anyone, showing only what was published and no small cell."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Appeal, Category, Department
from app.models.public import Publication
from app.web.app import PUBLIC_RATE_SCALE, create_app
from app.web.security import RateLimited
from tests import conftest
from tests.conftest import make_client
from tests.factories import OWN, make_appeal, make_publication, quiet_month
from tests.integration.test_search import phrase

OTHER = "990100-jiaoyu"
THIRD = "990100-jiaotong"
COUNTY = "990102"  # 东城区, under 云州市 (990100)
NEXT = re.compile(r'<a href="(\?[^"]*)" rel="next">')


def shown(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="card publication" id="pub-(\d+)"', page)]


async def test_a_published_reply_shows_its_redacted_text_and_never_the_appeals_own(
        database, rules, client):
    word = phrase(3)
    made = await make_publication(rules=rules, title=f"{word}电梯停运",
                                  question=f"{word}小区电梯停运一个月，请尽快修理。",
                                  reply="经核查，已责令物业公司三日内修复。")
    appeal = await Appeal.get(id=made.appeal_id)
    page = await client.get("/public", params={"q": word})
    assert page.status_code == 200
    assert shown(page.text) == [made.id]
    assert f"{word}小区电梯停运一个月" in page.text and "已责令物业公司三日内修复" in page.text
    assert appeal.title not in page.text and appeal.body not in page.text
    assert appeal.tracking_number not in page.text
    assert appeal.contact_phone not in page.text


@pytest.mark.parametrize("status", ["unpublished", "pending", "withdrawn"])
async def test_a_row_not_published_is_on_no_page_nor_file(database, rules, status, tmp_path):
    word = phrase(3)
    hidden = await make_publication(status, rules=rules, title=f"{word}未公开")
    app = create_app(conftest.test_settings(database, MINSHENG_VAR_DIR=str(tmp_path)), rules,
                     manage_db=False)
    async with make_client(app) as client:
        for path, params in (("/public", {"q": word}), ("/public", {})):
            page = await client.get(path, params=params)
            assert page.status_code == 200 and f"{word}未公开" not in page.text
            assert hidden.id not in shown(page.text)
        data = await client.get("/public/data/published.csv")
        assert data.status_code == 200 and f"{word}未公开" not in data.text


async def test_a_report_is_never_shown_even_if_a_row_says_published(database, rules, client):
    word = phrase(3)
    await make_publication(rules=rules, department=None, type="report", named_unit=OWN,
                           title=f"{word}举报", question=f"举报{word}的负责人收受好处费。")
    page = await client.get("/public", params={"q": word})
    assert page.status_code == 200 and shown(page.text) == []


async def test_filters_by_words_department_region_category_and_month(database, rules, client):
    word = phrase(2)
    own = await make_publication(rules=rules, title=f"{word}住建")
    other = await make_publication(department=OTHER, rules=rules, title=f"{word}教育")
    county = await make_publication(department=f"{COUNTY}-zhujian", rules=rules, title=f"{word}东城",
                                    region=COUNTY)
    old = await make_publication(rules=rules, title=f"{word}旧的",
                                 at=datetime(2024, 3, 10, 2, tzinfo=UTC))
    education = await Category.get(name="教育文体", level=1)
    # As the approver filed it (the classifier, not the form, chose the appeal's own).
    await Publication.filter(id=other.id).update(category_id=education.id)
    cases = {
        (): {own.id, other.id, county.id, old.id},
        (("department", OTHER),): {other.id},
        (("region", "990100"),): {own.id, other.id, county.id, old.id},  # with its counties
        (("region", COUNTY),): {county.id},
        (("category", education.code),): {other.id},
        (("month", "2024-03"),): {old.id},
        (("department", OWN), ("month", "2024-03")): {old.id},
    }
    for extra, expected in cases.items():
        page = await client.get("/public", params={"q": word, **dict(extra)})
        assert page.status_code == 200
        assert set(shown(page.text)) == expected, extra
    # Two words must both occur, each as a phrase.
    page = await client.get("/public", params={"q": f"{word} 教育"})
    assert shown(page.text) == [other.id]


async def test_pages_go_by_key_newest_first_without_repeating(database, rules, client):
    word = phrase(3)
    made = [await make_publication(rules=rules, title=f"{word}第{n}件") for n in range(23)]
    first = await client.get("/public", params={"q": word})
    ids = shown(first.text)
    assert ids == sorted((p.id for p in made), reverse=True)[:20]
    link = NEXT.search(first.text)
    assert link is not None
    second = await client.get("/public" + link.group(1).replace("&amp;", "&"))
    rest = shown(second.text)
    assert rest == sorted((p.id for p in made), reverse=True)[20:]
    assert NEXT.search(second.text) is None and "回到第一页" in second.text


async def test_bad_input_is_said_beside_its_field_and_the_rest_still_works(database, rules,
                                                                          client):
    word = phrase(3)
    made = await make_publication(rules=rules, title=f"{word}可见")
    page = await client.get("/public", params={"q": word, "month": "2026-13",
                                                "department": "nosuch", "after": "abc"})
    assert page.status_code == 200 and shown(page.text) == [made.id]
    assert "月份应为 YYYY-MM 格式" in page.text and "没有这个承办部门" in page.text
    assert "翻页参数无效" in page.text
    assert 'value="2026-13"' in page.text  # what was typed stays
    short = await client.get("/public", params={"q": "电"})
    assert short.status_code == 200 and "请输入至少两个字的词语" in short.text


def _quiet_month() -> tuple[str, datetime]:
    """A month long past that no other test writes appeals in."""
    at = quiet_month()
    return f"{at.year}-{at.month:02d}", at


async def test_scorecards_hide_small_cells_and_rank_by_the_inspectors_rule(database, rules,
                                                                           client):
    key, at = _quiet_month()
    for _ in range(3):
        await make_appeal("replied", OTHER, rules=rules, at=at)
    for n in range(12):
        await make_appeal("replied", OWN, rules=rules, at=at + timedelta(hours=n))
    for n in range(7):
        await make_appeal("replied", THIRD, rules=rules, at=at + timedelta(hours=n))
    page = await client.get("/public/stats", params={"period": key})
    assert page.status_code == 200
    own_name = (await Department.get(code=OWN)).name
    other_name = (await Department.get(code=OTHER)).name
    third_name = (await Department.get(code=THIRD)).name
    section = page.text.split('id="by-department"')[1].split("</section>")[0]
    rows = dict(re.findall(r'data-label="部门">([^<]+)</td>(.*?)</tr>', section))
    assert '<td data-label="受理">12</td>' in rows[own_name]
    assert '<td data-label="受理">&lt;5</td>' in rows[other_name]
    # 22 - 12 - 7 would give the 3: the smallest count shown is hidden as well.
    assert '<td data-label="受理">—</td>' in rows[third_name]
    assert "%" in rows[third_name]  # its own rates are over enough appeals
    # Under the threshold: no rate, no mean; and fewer than min_volume: not ranked.
    assert '<td data-label="按时答复率">—</td>' in rows[other_name]
    assert '<td data-label="平均答复工作日">—</td>' in rows[other_name]
    assert "%" in rows[own_name]
    assert page.text.count("不参与排名") >= 1
    assert re.search(r'<td data-label="排名">1</td><td data-label="部门">' + own_name,
                     section)
    assert "<td data-label=\"受理\">22</td>" in page.text  # the total
    assert "/staff/" not in page.text.split("<main>")[1]  # no link to any appeal
    assert "口径说明" in page.text and "第一轮首次答复时间不晚于答复期限" in page.text
    region = page.text.split('id="by-region"')[1].split("</section>")[0]
    assert "云州市" in region and "22" in region


async def test_a_year_scorecard_has_a_trend_month_by_month(database, rules, client):
    key, at = _quiet_month()
    year = key[:4]
    page = await client.get("/public/stats", params={"period": year})
    assert page.status_code == 200
    assert page.text.count('<td data-label="月份">') == 12
    assert f"{year} 年" in page.text and "<svg" in page.text


async def test_a_period_that_cannot_be_used_says_so_and_shows_last_month(database, client):
    for bad in ("2026-13", "1999", "3000-01", "abc"):
        page = await client.get("/public/stats", params={"period": bad})
        assert page.status_code == 200 and "已显示上月" in page.text


async def test_open_data_files_are_de_identified_formula_safe_and_daily(database, rules,
                                                                        tmp_path):
    word = phrase(3)
    made = await make_publication(rules=rules, title=f"={word}公式",
                                  question="-1+1 请问这个怎么算")
    appeal = await Appeal.get(id=made.appeal_id)
    app = create_app(conftest.test_settings(database, MINSHENG_VAR_DIR=str(tmp_path)), rules,
                     manage_db=False)
    async with make_client(app) as client:
        listed = await client.get("/public/data")
        assert listed.status_code == 200
        assert "/public/data/published.csv" in listed.text and "公开编号" in listed.text
        data = await client.get("/public/data/published.csv")
        assert data.status_code == 200 and data.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(data.content.decode("utf-8-sig"))))
        assert rows[0][:2] == ["编号", "标题"]
        mine = [r for r in rows if r[0] == str(made.id)]
        assert len(mine) == 1 and mine[0][1] == f"'={word}公式"
        assert mine[0][9] == "'-1+1 请问这个怎么算"
        assert appeal.tracking_number not in data.text and appeal.title not in data.text
        # Made once a day: a row published later today waits for tomorrow's file.
        later = await make_publication(rules=rules, title=f"{word}稍后")
        again = await client.get("/public/data/published.csv")
        assert again.content == data.content and later.title not in again.text
        cards = await client.get("/public/data/scorecards.csv")
        assert cards.status_code == 200
        rows = list(csv.reader(io.StringIO(cards.content.decode("utf-8-sig"))))
        assert rows[0] == ["时间", "分组", "名称", "排名", "受理", "按时答复率",
                           "平均答复工作日", "满意率"]
        assert {r[1] for r in rows[1:]} == {"部门", "地区", "合计"}
        assert all(not r[4].isdigit() or int(r[4]) == 0 or int(r[4]) >= 5 for r in rows[1:])
        files = sorted(p.name for p in (tmp_path / "open_data").iterdir())
        assert len(files) == 2 and all(re.fullmatch(r"\w+-\d{4}-\d\d-\d\d\.csv", f)
                                       for f in files)
        assert (await client.get("/public/data/other.csv")).status_code == 404


async def test_public_pages_are_rate_limited(database, rules):
    """At PUBLIC_RATE_SCALE times the limit of the other doors: many readers may share an
    address, and a page costs a few milliseconds."""
    app = create_app(conftest.test_settings(database, MINSHENG_RATE_LIMIT="2"), rules,
                     manage_db=False)
    allowed = 2 * PUBLIC_RATE_SCALE
    async with make_client(app) as client:
        answers = [(await client.get("/public")).status_code for _ in range(allowed + 1)]
    assert answers == [200] * allowed + [429]
    limiter = app.state.limiter  # the other doors keep the plain limit
    limiter.check("submit", "198.51.100.7")
    limiter.check("submit", "198.51.100.7")
    with pytest.raises(RateLimited):
        limiter.check("submit", "198.51.100.7")


async def test_the_home_page_links_to_the_public_side(client):
    page = await client.get("/")
    assert 'href="/public"' in page.text and 'href="/public/stats"' in page.text


async def test_published_rows_are_read_only_from_the_publication_table(database, rules,
                                                                       client):
    """Changing the appeal's own text changes nothing public: only the row counts."""
    word = phrase(3)
    made = await make_publication(rules=rules, title=f"{word}原文不公开")
    await Appeal.filter(id=made.appeal_id).update(title=f"{word}真名张三")
    page = await client.get("/public", params={"q": word})
    assert f"{word}原文不公开" in page.text and "张三" not in page.text
    await Publication.filter(id=made.id).update(status="unpublished")
    page = await client.get("/public", params={"q": word})
    assert shown(page.text) == []
