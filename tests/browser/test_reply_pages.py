"""A handler answers with a reply template on a phone-sized screen: the template chosen,
inserted with the resident's name and the tracking number filled in, edited, and sent.
Without JavaScript the picker reloads the page with the box filled; with it, the template
goes in where the cursor is and nothing reloads."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal, AppealReply
from app.schemas.base import parse
from app.schemas.replies import TemplateEdit
from app.services import replies
from app.services.workflow import Actor
from tests.browser.test_pages import (
    _choose,
    _click_and_wait,
    _find,
    _login,
    _no_sideways_scroll,
    _open,
)
from tests.conftest import make_staff, unique
from tests.factories import make_appeal
from tests.factories import make_staff as make_account

pytestmark = pytest.mark.browser

OWN = "990100-zhujian"


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_a_handler_inserts_a_template_and_sends_it_on_a_phone(browser, shots, javascript):
    admin = Actor.of(await make_account(Role.ADMIN))
    title = unique("电梯维修答复")
    template = await replies.save_template(admin, None, parse(TemplateEdit, {
        "title": title, "text": "{姓名}您好：您的诉求（{受理编号}）已转物业公司维修。"}))
    made = await make_appeal("accepted", OWN, contact_name="李阿姨")
    phone = browser(javascript=javascript)
    _login(phone, await make_staff(Role.HANDLER, OWN))
    _open(phone, f"/staff/appeals/{made.number}")
    _no_sideways_scroll(phone, "appeal page")
    _choose(phone, "#template", value=str(template.id))
    if javascript:
        _find(phone, "#insert-template").click()
        assert "template=" not in phone.current_url  # filled in place, no reload
    else:
        _click_and_wait(phone, "#insert-template")
    box = _find(phone, "#reply-text")
    expected = f"李阿姨您好：您的诉求（{made.number}）已转物业公司维修。"
    assert box.get_attribute("value") == expected
    _no_sideways_scroll(phone, "appeal page with the template inserted")
    phone.save_screenshot(str(shots / f"reply-template-{'js' if javascript else 'no-js'}.png"))
    box.click()
    box.send_keys("维修后请来电告知。")
    _click_and_wait(phone, "#send-reply")
    assert _find(phone, "#flash").text == "已答复"
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "replied"
    assert (await AppealReply.get(appeal_id=appeal.id)).text == expected + "维修后请来电告知。"
