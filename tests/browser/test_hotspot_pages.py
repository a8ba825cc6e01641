"""未诉先办 in a real browser on a phone-sized screen without JavaScript: an inspector opens
/staff/hotspots after a build, reads a planted hotspot's figures and definitions, and
follows it to the appeals behind it."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.services import hotspots
from tests.browser.test_pages import _find, _login, _no_sideways_scroll, _open
from tests.conftest import make_staff
from tests.integration.test_hotspots import _city, _hotspot_of, _window

pytestmark = pytest.mark.browser


async def test_an_inspector_reads_a_hotspot_and_the_appeals_behind_it(browser, shots, rules):
    now = _window()
    city = await _city(rules, now)
    await hotspots.build(rules, now=now)
    night = await _hotspot_of(city["night"][0], 7)
    assert night is not None

    page = browser(javascript=False)
    _login(page, await make_staff(Role.INSPECTOR))
    _open(page, "/staff/hotspots")
    assert "热度" in page.page_source and "举报不计入热点" in page.page_source
    _no_sideways_scroll(page, "/staff/hotspots")
    page.save_screenshot(str(shots / "hotspots.png"))

    _open(page, f"/staff/hotspots/{night.id}")
    _no_sideways_scroll(page, "a hotspot's appeals")
    listed = page.page_source
    for appeal in city["night"]:
        assert appeal.tracking_number in listed
    _find(page, f'a[href="/staff/appeals/{city["night"][0].tracking_number}"]').click()
    assert city["night"][0].tracking_number in _find(page, "h1").find_element(
        "xpath", "..").text
