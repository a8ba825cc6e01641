"""Published replies in a real browser on a phone-sized screen: the approver reads the
original beside the redacted draft, corrects it and publishes; the resident then withdraws
consent on the tracking page and the publication is taken down."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal, Publication
from tests.browser.test_pages import (
    _click_and_wait,
    _find,
    _login,
    _no_sideways_scroll,
    _open,
    _track,
)
from tests.conftest import make_staff, unique
from tests.factories import make_appeal

pytestmark = pytest.mark.browser

OWN = "990100-zhujian"
BODY = "我叫钱七，电话13855556666，住在3号楼2单元501室，楼道的灯坏了半年没人修。"


async def test_an_approver_publishes_and_the_resident_withdraws(browser, shots):
    made = await make_appeal("replied", OWN, public=True, title=unique("楼道灯坏了"), body=BODY,
                             contact_name="钱七")
    phone = browser(javascript=False)
    _login(phone, await make_staff(Role.DISPATCHER))
    _open(phone, f"/staff/publication/{made.number}")
    _no_sideways_scroll(phone, "publication page")
    original = _find(phone, "#original-question").text
    assert "138****6666" in original and "13855556666" not in original
    question = _find(phone, "#draft-question").get_attribute("value")
    assert "钱七" not in question and "13855556666" not in question
    assert "[姓名]" in question and "[电话]" in question and "[门牌]" in question
    phone.save_screenshot(str(shots / "publication-page.png"))
    box = _find(phone, "#draft-reply")
    box.send_keys("如有疑问请拨打13855556666。")
    _click_and_wait(phone, "#approve")
    assert "电话号码" in _find(phone, "#error-reply").text  # refused beside the field
    assert "如有疑问请拨打13855556666。" in _find(phone, "#draft-reply").get_attribute("value")
    box = _find(phone, "#draft-reply")
    box.clear()
    box.send_keys("已安排物业更换楼道灯。")
    _click_and_wait(phone, "#approve")
    assert _find(phone, "#flash").text == "已公开发布"
    row = await Publication.get(appeal_id=made.appeal.id)
    assert (row.status, row.reply) == ("published", "已安排物业更换楼道灯。")

    resident = browser(javascript=False)
    _track(resident, made.receipt)
    _no_sideways_scroll(resident, "tracking page")
    _click_and_wait(resident, "#withdraw-consent")
    assert not resident.find_elements("css selector", "#consent-withdrawal")
    assert (await Appeal.get(id=made.appeal.id)).is_public is False
    assert (await Publication.get(appeal_id=made.appeal.id)).status == "unpublished"
