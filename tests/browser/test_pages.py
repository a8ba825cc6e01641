"""The whole path in a real browser on a phone-sized screen, with and without JavaScript."""

from __future__ import annotations

import pytest

from app.domain.types import Role
from app.models import Appeal
from tests.conftest import PASSWORD, make_staff, unique

pytestmark = pytest.mark.browser

DEPARTMENT = "990100-zhujian"
# The 物业纠纷 keyword rule sends this to 住建 whatever the classifier thinks: the route is
# deterministic while the model (which the server loads, the HTTP tests do not) evolves.
BODY = "我们小区的物业公司今年把物业费涨了一倍，没有开业主大会，业委会也说不知情，请核查。"
REPLY = "经核查，物业公司调价未履行法定程序，已责令其恢复原收费标准并向业主说明。"
PHONE = (390, 844)
PHONE_WIDTH = PHONE[0]


def _by():
    from selenium.webdriver.common.by import By

    return By


def _find(driver, css: str):
    return driver.find_element(_by().CSS_SELECTOR, css)


def _choose(driver, css: str, *, value: str | None = None, text: str | None = None) -> None:
    """Open a <select> and click the option, as a thumb would."""
    from selenium.webdriver.support.ui import Select

    element = _find(driver, css)
    element.click()
    select = Select(element)
    if value is not None:
        select.select_by_value(value)
    else:
        select.select_by_visible_text(text)


def _type(driver, css: str, text: str) -> None:
    element = _find(driver, css)
    element.click()
    element.clear()
    element.send_keys(text)


def _click_and_wait(driver, css: str) -> None:
    """Click something that submits a form or follows a link, and wait for the new page."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(_by().TAG_NAME, "html")
    _find(driver, css).click()

    def left(_) -> bool:
        try:
            page.is_enabled()  # fails once the old document is gone
        except WebDriverException:  # stale element, or "node does not belong to the document"
            return True
        return False

    WebDriverWait(driver, 15).until(left)
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _open(driver, path: str) -> None:
    driver.get(driver.base + path)


def _path(driver) -> str:
    return driver.current_url.removeprefix(driver.base)


def _no_sideways_scroll(driver, where: str) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{where}: page is {width}px wide on a {PHONE_WIDTH}px phone"


def _full_shot(driver, path) -> None:
    """The whole page at phone width, as screen-sized pieces: name-1.png, name-2.png …"""
    import base64

    height = driver.execute_script("return document.documentElement.scrollHeight")
    for index, top in enumerate(range(0, height, PHONE[1]), start=1):
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": top, "width": PHONE_WIDTH,
                     "height": min(PHONE[1], height - top), "scale": 1}})
        piece = path.with_name(f"{path.stem}-{index}{path.suffix}")
        piece.write_bytes(base64.b64decode(shot["data"]))


def _fill_submission(driver, title: str) -> None:
    _open(driver, "/submit")
    _choose(driver, "#type", text="投诉")
    _choose(driver, "#region", value="990100")
    _choose(driver, "#category", text="城乡建设")
    _type(driver, "#title", title)
    _type(driver, "#body", BODY)
    _type(driver, "#contact_name", "李阿姨")
    _type(driver, "#contact_phone", "13812345678")
    _click_and_wait(driver, "form[action='/submit'] button[type=submit]")


def _receipt(driver) -> dict:
    assert "提交成功" in _find(driver, "h1").text
    return {key: _find(driver, f"#tracking-{key}").text.strip()
            for key in ("number", "username", "password")}


def _login(driver, username: str, password: str = PASSWORD) -> None:
    _open(driver, "/login")
    _type(driver, "#username", username)
    _type(driver, "#password", password)
    _click_and_wait(driver, "form[action='/login'] button[type=submit]")


def _track(driver, receipt: dict) -> None:
    _open(driver, "/track")
    _type(driver, "#username", receipt["username"])
    _type(driver, "#password", receipt["password"])
    _click_and_wait(driver, "form[action='/track'] button[type=submit]")
    assert _path(driver) == "/track/appeal"


async def test_resident_handler_inspector_journey_on_a_phone(browser, shots):
    title = unique("物业费无故上涨")
    resident = browser()
    _open(resident, "/")
    _no_sideways_scroll(resident, "home")
    _open(resident, "/submit")
    _no_sideways_scroll(resident, "submission form")
    _fill_submission(resident, title)
    receipt = _receipt(resident)
    assert receipt["number"].startswith("MS")
    appeal = await Appeal.get(tracking_number=receipt["number"]).prefetch_related("department")
    assert (appeal.status, appeal.department and appeal.department.code, appeal.title,
            appeal.body, appeal.type, appeal.contact_phone) == (
        "assigned", DEPARTMENT, title, BODY, "complaint", "13812345678"), appeal.routing
    _no_sideways_scroll(resident, "receipt")
    resident.save_screenshot(str(shots / "receipt.png"))

    handler = browser()
    _login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    assert _path(handler).startswith("/staff/queue")
    _no_sideways_scroll(handler, "handler queue")
    # The newest appeal is due last: page through the queue until it shows up.
    for _ in range(100):
        if handler.find_elements(_by().LINK_TEXT, receipt["number"]):
            break
        next_page = handler.find_elements(_by().PARTIAL_LINK_TEXT, "下一页")
        assert next_page, "the new appeal is not in the handler's queue"
        _click_and_wait(handler, "nav.pages a:last-child")
    _click_and_wait(handler, f"a[href='/staff/appeals/{receipt['number']}']")
    assert _path(handler) == f"/staff/appeals/{receipt['number']}"
    assert title in _find(handler, "h1").text
    assert "138****5678" in _find(handler, "#contact").text
    assert "13812345678" not in handler.page_source
    _click_and_wait(handler, "#acknowledge")
    assert _find(handler, "#status").text == "办理中"
    _type(handler, "#reply-text", REPLY)
    _no_sideways_scroll(handler, "handler's appeal page")
    _full_shot(handler, shots / "handler-appeal.png")
    _click_and_wait(handler, "#send-reply")
    assert _find(handler, "#status").text == "已答复"
    assert REPLY in _find(handler, "#reply").text
    _no_sideways_scroll(handler, "handler's appeal page after the reply")
    _full_shot(handler, shots / "handler-replied.png")

    _track(resident, receipt)
    assert _find(resident, "#status").text == "已答复"
    assert REPLY in _find(resident, "#reply").text
    assert "云州市住房和城乡建设局" in _find(resident, "#department").text
    _no_sideways_scroll(resident, "tracking page")
    _full_shot(resident, shots / "tracking.png")

    inspector = browser()
    _login(inspector, await make_staff(Role.INSPECTOR))
    assert _path(inspector).startswith("/staff/appeals")
    _no_sideways_scroll(inspector, "inspector's list")
    _open(inspector, f"/staff/appeals/{receipt['number']}")
    trail = _find(inspector, "#trail").text
    for label in ("提交诉求", "自动分派", "签收", "答复"):
        assert label in trail
    _no_sideways_scroll(inspector, "inspector's trail")
    _full_shot(inspector, shots / "inspector-trail.png")


async def test_pages_work_with_javascript_disabled(browser, shots):
    resident = browser(javascript=False)
    # Prove scripts really are off: this page would rewrite its own text if they ran.
    resident.get("data:text/html,<p id=x>off</p><script>x.textContent='on'</script>")
    assert _find(resident, "#x").text == "off"

    title = unique("无脚本留言")
    _fill_submission(resident, title)
    receipt = _receipt(resident)
    resident.save_screenshot(str(shots / "receipt-nojs.png"))

    handler = browser(javascript=False)
    _login(handler, await make_staff(Role.HANDLER, DEPARTMENT))
    assert _path(handler).startswith("/staff/queue")
    _open(handler, f"/staff/appeals/{receipt['number']}")
    _click_and_wait(handler, "#acknowledge")
    _type(handler, "#reply-text", REPLY)
    _click_and_wait(handler, "#send-reply")
    assert _find(handler, "#status").text == "已答复"
    _click_and_wait(handler, "header form[action='/logout'] button")
    assert not handler.find_elements(_by().CSS_SELECTOR, "header form[action='/logout']")
    _open(handler, "/staff/queue")
    assert _path(handler).startswith("/login")

    _track(resident, receipt)
    assert REPLY in _find(resident, "#reply").text
    _click_and_wait(resident, "form[action='/track/logout'] button")
    assert _path(resident) == "/track"


async def test_refused_submission_shows_chinese_error_in_the_browser(browser):
    resident = browser(javascript=False)  # no client-side checks to lean on
    _open(resident, "/submit")
    _choose(resident, "#type", text="举报")
    _choose(resident, "#region", value="990100")
    _type(resident, "#title", unique("未选被举报单位"))
    _type(resident, "#body", BODY)
    _type(resident, "#contact_phone", "13812345678")
    _click_and_wait(resident, "form[action='/submit'] button[type=submit]")
    assert "举报须选择被举报的单位" in _find(resident, ".errors").text
    assert _find(resident, "#body").get_attribute("value") == BODY  # nothing to retype


@pytest.mark.parametrize("path", ["/", "/submit", "/track", "/login", "/quick"])
async def test_public_pages_fit_a_phone_screen(browser, path):
    driver = browser()
    _open(driver, path)
    assert driver.execute_script("return document.readyState") == "complete"
    _no_sideways_scroll(driver, path)
