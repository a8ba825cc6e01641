"""The hotline desk in a real browser on a phone-sized screen without JavaScript: a call
taken with the department typed by name, the page read aloud, a triage appeal routed by
name with the flash after it."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal, Department
from tests.browser.test_pages import (
    _choose,
    _click_and_wait,
    _find,
    _login,
    _no_sideways_scroll,
    _open,
    _type,
)
from tests.conftest import make_staff, unique
from tests.factories import make_appeal

pytestmark = pytest.mark.browser

BODY = "来电人反映小区门口的路灯坏了两个星期，晚上出行很不方便，希望尽快修好。"


async def test_a_dispatcher_takes_a_call_and_routes_by_name_on_a_phone(browser, shots):
    renshe = (await Department.get(code="990100-renshe")).name
    zhujian = (await Department.get(code="990100-zhujian")).name
    desk = browser(javascript=False)
    _login(desk, await make_staff(Role.DISPATCHER))
    _open(desk, "/staff/intake")
    _no_sideways_scroll(desk, "/staff/intake")
    title = unique("来电反映路灯")
    _choose(desk, "#type", value="help")
    _choose(desk, "#region", value="990100")
    _type(desk, "#title", title)
    _type(desk, "#body", BODY)
    _type(desk, "#contact_phone", "13912345678")
    _type(desk, "#department", zhujian)  # typed, as a thumb would, into the picker
    _click_and_wait(desk, "#take")
    assert "请向来电人宣读" in _find(desk, "#read-aloud").text
    _no_sideways_scroll(desk, "receipt")
    desk.save_screenshot(str(shots / "desk-receipt.png"))
    appeal = await Appeal.get(title=title).prefetch_related("department")
    assert (appeal.channel, appeal.department.code) == ("phone", "990100-zhujian")

    waiting = await make_appeal("triage", None, title=unique("待分派"))
    _open(desk, f"/staff/appeals/{waiting.number}")
    _type(desk, "#route-department", renshe)
    _click_and_wait(desk, "#route")
    assert _find(desk, "#flash").text == f"已分派至{renshe}"
    _no_sideways_scroll(desk, "appeal page")
