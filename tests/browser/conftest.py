"""A real server on a free port, sharing the test session's database, and Debian's chromium
driven by selenium. Skipped, with the reason, when chromium or chromedriver is missing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.live_server import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
PHONE = (390, 844)
SHOTS = Path("/tmp/minsheng-shots")




def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    if not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMEDRIVER} is missing: apt-get install -y chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed in this environment: pip install selenium")


@pytest.fixture(scope="session")
def server(database):
    """`minsheng serve` in its own process, on the session's (migrated, loaded) database."""
    _need_chromium()
    with running_server(database) as base:
        yield base


def _options(user_data_dir: str):
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}",
                 f"--window-size={PHONE[0]},{PHONE[1]}", "--lang=zh-CN"):
        options.add_argument(flag)
    return options


@pytest.fixture
def browser(server):
    """A factory: browser(javascript=True) gives a fresh phone-sized chromium (own cookies)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    made = []

    def factory(*, javascript: bool = True):
        profile = tempfile.mkdtemp(prefix="minsheng-chromium-")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                                  options=_options(profile))
        made.append((driver, profile))
        driver.set_window_size(*PHONE)
        # The window includes browser chrome; make the page itself exactly phone-wide.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
        if not javascript:
            driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        driver.implicitly_wait(0)
        driver.base = server
        return driver

    yield factory
    for driver, profile in made:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
