"""并单 in a real browser on a phone-sized screen without JavaScript: the dispatcher reads an
appeal, sees the same complaint written by two other residents among its 相似诉求, ticks
them and merges them into it; the members' pages point to the main; the reply reaches all."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal, AppealReply
from tests.browser.test_pages import _click_and_wait, _find, _login, _no_sideways_scroll, _open
from tests.conftest import make_staff, unique
from tests.factories import OWN, make_appeal

pytestmark = pytest.mark.browser

BODY = ("我们小区东门外的建筑工地每天晚上施工到凌晨两点，打桩机的噪音特别大，老人孩子"
        "都睡不着觉，已经持续半个多月了，请有关部门尽快管一管，禁止夜间施工。")
EDITS = [BODY.replace("凌晨两点", "凌晨三点"),
         BODY.replace("老人孩子都睡不着觉", "全家都睡不好").replace("尽快", "马上")]


async def test_a_dispatcher_merges_the_same_complaint_from_three_residents(browser, shots):
    marker = unique("夜间施工")
    main = (await make_appeal("accepted", OWN, title=f"{marker}工地夜间施工扰民",
                              body=BODY)).appeal
    others = [(await make_appeal("assigned", OWN, title=f"{marker}工地晚上施工噪音",
                                 body=text)).appeal for text in EDITS]
    desk = browser(javascript=False)
    _login(desk, await make_staff(Role.DISPATCHER))
    _open(desk, f"/staff/appeals/{main.tracking_number}")
    for other in others:
        row = _find(desk, f"#similar-{other.tracking_number}")
        assert "相似度" in row.text
        _find(desk, f"#merge-pick-{other.tracking_number}").click()
    _no_sideways_scroll(desk, "appeal page with similar appeals")
    desk.save_screenshot(str(shots / "merge-similar.png"))
    _click_and_wait(desk, "#merge")
    assert "已将 2 件诉求并入本件" in _find(desk, "#flash").text
    for other in others:
        stored = await Appeal.get(id=other.id)
        assert stored.merged_into_id == main.id and stored.status == "accepted"

    _open(desk, f"/staff/appeals/{others[0].tracking_number}")
    assert main.tracking_number in _find(desk, "#merged-into").text

    handler = browser(javascript=False)
    _login(handler, await make_staff(Role.HANDLER, OWN))
    _open(handler, f"/staff/appeals/{main.tracking_number}")
    assert len(handler.find_elements("css selector", ".merge-member")) == 2
    _find(handler, "#reply-text").send_keys("经核查，已责令施工单位夜间停止作业，城管部门每晚巡查。")
    _click_and_wait(handler, "#send-reply")
    for one in [main, *others]:
        assert (await Appeal.get(id=one.id)).status == "replied"
        assert await AppealReply.exists(appeal_id=one.id, round=1)
