"""还利于民 in a phone-sized browser: the handler opens the optional fields of the reply form,
types a bad amount (the reply is not sent; the fields stay open with what was typed and the
message beside the amount), corrects it and sends; an inspector verifies the entry on
/staff/benefits; the public page shows the total without sideways scrolling."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal, Benefit
from tests.browser.test_pages import (
    _choose,
    _click_and_wait,
    _find,
    _login,
    _no_sideways_scroll,
    _open,
    _type,
)
from tests.conftest import make_staff
from tests.factories import make_appeal

pytestmark = pytest.mark.browser

OWN = "990100-zhujian"


async def test_a_reply_with_its_entry_then_verified(browser, shots):
    made = await make_appeal("accepted", OWN)
    phone = browser()
    _login(phone, await make_staff(Role.HANDLER, OWN))
    _open(phone, f"/staff/appeals/{made.number}")
    _type(phone, "#reply-text", "经核查，物业公司已退还多收的停车费。")
    _find(phone, "#reply-benefit summary").click()
    _choose(phone, "#reply-benefit-kind", value="refund")
    _type(phone, "#reply-benefit-amount", "1200.555")
    _type(phone, "#reply-benefit-people", "2")
    _type(phone, "#reply-benefit-evidence", "退费凭证 TF-01")
    _click_and_wait(phone, "#send-reply")
    assert "金额最多保留两位小数" in _find(phone, "#reply-benefit").text
    assert _find(phone, "#reply-benefit-amount").get_attribute("value") == "1200.555"
    assert (await Appeal.get(id=made.appeal.id)).status == "accepted"
    _no_sideways_scroll(phone, "reply form refused")
    phone.save_screenshot(str(shots / "benefit-reply-refused.png"))
    amount = _find(phone, "#reply-benefit-amount")
    amount.clear()
    amount.send_keys("1200.55")
    _click_and_wait(phone, "#send-reply")
    assert "已登记还利于民" in _find(phone, "#flash").text
    entry = await Benefit.get(appeal_id=made.appeal.id)
    assert (entry.amount_fen, entry.status) == (120055, "pending")
    assert "待核实" in _find(phone, "#benefits").text

    desk = browser()
    _login(desk, await make_staff(Role.INSPECTOR))
    _open(desk, "/staff/benefits")
    while not desk.find_elements("css selector", f"#benefit-{entry.id}"):
        _click_and_wait(desk, "a[rel=next]")
    _no_sideways_scroll(desk, "benefits list")
    _click_and_wait(desk, f"#verify-{entry.id}")
    assert _find(desk, "#flash").text == "已核实该条还利于民记录"
    assert (await Benefit.get(id=entry.id)).status == "verified"

    _open(desk, "/public/benefits")
    assert "已核实" in _find(desk, "#benefit-total").text
    _no_sideways_scroll(desk, "public benefits")
    desk.save_screenshot(str(shots / "benefit-public.png"))
