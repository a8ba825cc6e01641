"""The public side in a real browser on a phone-sized screen: published replies found by a
word and a department, paged by key; the scorecards for a chosen month and year; open data."""

from __future__ import annotations

import pytest

from app.models import Department
from tests.browser.test_pages import (
    _choose,
    _click_and_wait,
    _find,
    _full_shot,
    _no_sideways_scroll,
    _open,
    _path,
    _type,
)
from tests.factories import OWN, make_publication
from tests.integration.test_search import phrase

pytestmark = pytest.mark.browser

LONG_REPLY = ("经核查，您反映的小区电梯故障问题属实。我局已于当日约谈物业服务企业负责人，责令其在三个"
              "工作日内完成维修，并对小区内全部电梯开展安全检查，检查结果将在小区公告栏公示。")


def _items(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.get_attribute("id") for e in
            driver.find_elements(By.CSS_SELECTOR, "article.publication")]


@pytest.mark.parametrize("javascript", [True, False])
async def test_a_resident_finds_a_published_reply_on_a_phone(browser, shots, javascript):
    word = phrase(3)
    made = [await make_publication(title=f"{word}电梯故障第{n}次", reply=LONG_REPLY)
            for n in range(21)]
    department = (await Department.get(code=OWN)).name
    driver = browser(javascript=javascript)
    _open(driver, "/")
    _click_and_wait(driver, "header a[href='/public']")
    assert _path(driver) == "/public"
    _no_sideways_scroll(driver, "/public")
    _type(driver, "#p-q", word)
    _choose(driver, "#p-department", text=department)
    _click_and_wait(driver, "form[action='/public'] button[type=submit]")
    first = _items(driver)
    assert first == [f"pub-{p.id}" for p in sorted(made, key=lambda p: -p.id)][:20]
    assert LONG_REPLY in _find(driver, f"#pub-{made[-1].id} .reply").text
    assert _find(driver, "#p-q").get_attribute("value") == word  # the search stays
    _no_sideways_scroll(driver, "/public, results")
    if javascript:
        _full_shot(driver, shots / "public-replies.png")
    _click_and_wait(driver, "nav.pages a[rel=next]")
    assert _items(driver) == [f"pub-{made[0].id}"]
    _no_sideways_scroll(driver, "/public, page 2")


@pytest.mark.parametrize("javascript", [True, False])
async def test_the_scorecards_read_on_a_phone_for_a_month_and_a_year(browser, shots,
                                                                     javascript):
    driver = browser(javascript=javascript)
    _open(driver, "/public/stats")
    _no_sideways_scroll(driver, "/public/stats")
    assert "口径说明" in _find(driver, "#public-definitions").text
    options = _find(driver, "#p-period").find_elements("css selector", "optgroup[label='按年'] option")
    year = options[0].get_attribute("value")
    _choose(driver, "#p-period", value=year)
    _click_and_wait(driver, "form[action='/public/stats'] button[type=submit]")
    assert _path(driver) == f"/public/stats?period={year}"
    assert f"{year} 年" in _find(driver, "h1").text
    assert _find(driver, "#public-trend svg").is_displayed()
    assert _find(driver, "#by-department table").is_displayed()
    assert _find(driver, "#by-region table").is_displayed()
    _no_sideways_scroll(driver, "/public/stats, a year")
    if javascript:
        _full_shot(driver, shots / "public-stats.png")
    _click_and_wait(driver, "nav.public-nav a[href='/public/data']")
    _no_sideways_scroll(driver, "/public/data")
    assert _find(driver, "a[href='/public/data/published.csv']").is_displayed()
