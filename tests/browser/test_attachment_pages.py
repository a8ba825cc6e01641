"""Attachments in a real browser on a phone-sized screen: a handler attaches an inspection
report and a photo to a reply; the resident finds both on the tracking page, the photo's
position gone."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from app.domain.types import Role
from app.models import Appeal, Attachment
from tests.browser.test_pages import (
    _click_and_wait,
    _find,
    _login,
    _no_sideways_scroll,
    _open,
    _track,
    _type,
)
from tests.conftest import TEST_VAR, make_staff, unique
from tests.factories import make_appeal
from tests.http.test_attachments import PDF, jpeg_with_gps

pytestmark = pytest.mark.browser

OWN = "990100-zhujian"


def _files(folder: Path) -> list[str]:
    report, photo = folder / "检测报告.pdf", folder / "现场照片.jpg"
    report.write_bytes(PDF)
    photo.write_bytes(jpeg_with_gps())
    return [str(report), str(photo)]


async def test_a_handler_attaches_files_to_a_reply_on_a_phone(browser, shots):
    made = await make_appeal("accepted", OWN, title=unique("路灯不亮附件"))
    handler = browser(javascript=False)
    _login(handler, await make_staff(Role.HANDLER, OWN))
    page = f"/staff/appeals/{made.number}"
    _open(handler, page)
    _no_sideways_scroll(handler, "appeal page with the reply form")
    with tempfile.TemporaryDirectory() as folder:
        # A wrong kind first: refused beside the field, the reply text kept.
        wrong = Path(folder) / "说明.txt"
        wrong.write_text("不是图片", encoding="utf-8")
        text = "经现场核查，路灯线路已修复，检测报告和现场照片见附件。"
        _type(handler, "#reply-text", text)
        _find(handler, "#reply-files").send_keys(str(wrong))
        _click_and_wait(handler, "#send-reply")
        assert "不是可接受的文件类型" in _find(handler, "#reply-files-error").text
        assert _find(handler, "#reply-text").get_attribute("value") == text
        _no_sideways_scroll(handler, "refused reply")
        _find(handler, "#reply-files").send_keys("\n".join(_files(Path(folder))))
        handler.save_screenshot(str(shots / "reply-with-files.png"))
        _click_and_wait(handler, "#send-reply")
    appeal = await Appeal.get(id=made.appeal.id)
    assert appeal.status == "replied"
    rows = await Attachment.filter(appeal_id=appeal.id).order_by("id")
    assert [(r.name, r.occasion) for r in rows] == [("检测报告.pdf", "reply"),
                                                   ("现场照片.jpg", "reply")]
    links = _find(handler, "#attachments").text
    assert "检测报告.pdf" in links and "现场照片.jpg" in links
    _no_sideways_scroll(handler, "appeal page with its attachments")

    resident = browser(javascript=False)
    _track(resident, made.receipt)
    assert "现场照片.jpg" in _find(resident, "#attachments").text
    _no_sideways_scroll(resident, "tracking page with attachments")
    resident.save_screenshot(str(shots / "track-attachments.png"))
    stored = (TEST_VAR / "attachments" / rows[1].sha256[:2] / rows[1].sha256)
    photo = Image.open(io.BytesIO(stored.read_bytes()))
    assert not photo.getexif().get_ifd(ExifTags.IFD.GPSInfo)
