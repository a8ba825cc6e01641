"""A real server on a free port, sharing the test session's database, and Debian's chromium
driven by selenium. Skipped, with the reason, when chromium or chromedriver is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.settings import ROOT
from tests.conftest import TEST_VAR

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
PHONE = (390, 844)
SHOTS = Path("/tmp/minsheng-shots")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
    env = {**os.environ, "MINSHENG_DEV": "1", "DATABASE_URL": database,
           "MINSHENG_RATE_LIMIT": "0", "MINSHENG_VAR_DIR": str(TEST_VAR)}
    log = tempfile.NamedTemporaryFile(prefix="minsheng-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n"
                                   f"{Path(log.name).read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer on {base} within 60 s:\n"
                                   f"{Path(log.name).read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


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
