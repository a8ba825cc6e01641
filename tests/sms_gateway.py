"""A real SMS gateway on loopback for the tests: Debian's Kannel (bearerbox + smsbox) with the
fake SMSC of `kannel-extras`, which prints every message it is given.

`KannelGateway(folder)` writes a kannel.conf with free ports into `folder`; `start()` runs
bearerbox, fakesmsc and smsbox and waits until a sendsms request would be delivered;
`stop()` ends them (an outage); `start()` again brings them back on the same ports. What
the fake SMSC received is read from its output (`received()`, `texts_to(number)`).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

import httpx
import pytest

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
INSTALL = "apt-get install -y kannel kannel-extras"
USERNAME = "minsheng"
PASSWORD = "gateway-secret"
SENDER = "106900012345"
SIGNATURE = "【民声】"
# fakesmsc: "Got message 3: <from to ucs-2 %XX%XX…>" (the text URL-encoded UTF-16BE).
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$")


def missing() -> str:
    """Why the gateway cannot run here ("" when it can)."""
    for path in (BEARERBOX, SMSBOX, FAKESMSC):
        if not path.exists():
            return f"{path} is missing: {INSTALL}"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Sms:
    sender: str
    to: str
    text: str


def _decode(coding: str, data: str) -> str:
    raw = unquote_to_bytes(data)
    if coding == "ucs-2":
        return raw.decode("utf-16-be")
    return raw.decode("utf-8", "replace")


class KannelGateway:
    def __init__(self, folder: Path):
        self.folder = folder
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = (
            free_port() for _ in range(4))
        self.admin_password = "admin-secret"
        self.config = folder / "kannel.conf"
        self.processes: list[subprocess.Popen] = []
        self.starts = 0
        self._write_config()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    def settings_env(self) -> dict[str, str]:
        return {"SMS_KANNEL_URL": self.url, "SMS_USER": USERNAME, "SMS_PASSWORD": PASSWORD,
                "SMS_FROM": SENDER}

    def _write_config(self) -> None:
        log = self.folder
        self.config.write_text(f"""\
group = core
admin-port = {self.admin_port}
admin-password = {self.admin_password}
smsbox-port = {self.box_port}
box-allow-ip = 127.0.0.1
admin-allow-ip = 127.0.0.1
log-file = "{log / 'bearerbox.log'}"
log-level = 1

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
log-file = "{log / 'smsbox.log'}"
log-level = 1

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
max-messages = 3
""")

    # --- running ---------------------------------------------------------------------------

    def _run(self, name: str, *args: str) -> subprocess.Popen:
        out = (self.folder / f"{name}-{self.starts}.out").open("wb")
        process = subprocess.Popen([*args], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=self.folder)
        out.close()
        self.processes.append(process)
        return process

    def start(self, timeout: float = 20.0) -> None:
        if reason := missing():
            pytest.skip(reason)
        self.starts += 1
        deadline = time.monotonic() + timeout
        self._run("bearerbox", str(BEARERBOX), "-v", "1", str(self.config))
        self._wait(deadline, lambda s: "SMSC connections" in s)
        # -m 0: the fake SMSC sends no messages of its own, it only prints what it gets.
        self._run("fakesmsc", str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port),
                  "-m", "0", "0 0 text nothing")
        self._run("smsbox", str(SMSBOX), "-v", "1", str(self.config))
        self._wait(deadline, lambda s: "(online" in s and "smsbox:" in s)
        self._wait_sendsms(deadline)

    def _status(self) -> str:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.admin_port}/status.txt",
                                 params={"password": self.admin_password}, timeout=2)
        except httpx.HTTPError:
            return ""
        return response.text

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}; "
                                   f"see {self.folder}")

    def _wait(self, deadline: float, ready) -> None:
        while not ready(self._status()):
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kannel did not get ready; see {self.folder}")
            time.sleep(0.1)

    def _wait_sendsms(self, deadline: float) -> None:
        while True:
            try:
                httpx.get(self.url, timeout=2)  # no login: refused, but answered
                return
            except httpx.HTTPError:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"smsbox did not answer; see {self.folder}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """smsbox first (no new requests), then the SMSC, then bearerbox."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    # --- what arrived ----------------------------------------------------------------------

    def received(self) -> list[Sms]:
        """Every message part the fake SMSC got, in order, over all runs."""
        parts = []
        for run in range(1, self.starts + 1):
            path = self.folder / f"fakesmsc-{run}.out"
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if found := _GOT.search(line):
                    sender, to, coding, data = found.groups()
                    parts.append(Sms(sender, to, _decode(coding, data)))
        return parts

    def texts_to(self, number: str) -> list[str]:
        """The texts `number` got, a text Kannel split joined again: every text of ours
        starts with the signature, so a part without it continues the one before."""
        texts: list[str] = []
        for part in self.received():
            if part.to != number:
                continue
            if texts and not part.text.startswith(SIGNATURE):
                texts[-1] += part.text
            else:
                texts.append(part.text)
        return texts

    async def wait_for(self, number: str, count: int, timeout: float = 15.0) -> list[str]:
        """The texts to `number` once there are `count` of them (Kannel hands a message to
        the SMSC a moment after it accepted the request)."""
        deadline = time.monotonic() + timeout
        while len(texts := self.texts_to(number)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return texts
