"""Attachments: what the forms and the API accept, what is stored (pictures without their
metadata), what is refused (beside the field, nothing typed lost, nothing stored), and who
may download them (everyone else: 404), with headers that keep a browser from running them."""

from __future__ import annotations

import contextlib
import io

import httpx
import pytest
from PIL import ExifTags, Image

from app.domain.attachments import MB, Policy
from app.domain.types import Role
from app.models import Appeal, Attachment
from app.schemas import staff
from app.schemas.base import parse
from app.services import attachments as service
from app.services import clocks
from app.settings import Settings, SettingsError
from app.web.app import create_app
from tests.conftest import (
    GOOD_APPEAL,
    TEST_VAR,
    csrf,
    login,
    make_client,
    make_staff,
    unique,
)
from tests.conftest import test_settings as settings_for
from tests.factories import handler_of, make_appeal
from tests.http.test_api import API, GOOD, basic

OWN = "990100-zhujian"
OTHER = "990100-jiaoyu"
DEFAULT = Policy()


def jpeg_with_gps(colour=(200, 30, 30)) -> bytes:
    picture = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CameraMakerX"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (41.0, 48.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (123.0, 25.0, 7.5)
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret-comment")
    return out.getvalue()


def png(colour=(0, 128, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), colour).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_WITH_SCRIPT = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript "
                   b"/JS (app.alert(1)) >> >> endobj\n%%EOF\n")


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    return out.getvalue()


async def post_files(client: httpx.AsyncClient, path: str, data: dict, files: list,
                     page: str = "/submit") -> httpx.Response:
    token = await csrf(client, page)
    return await client.post(path, data={"csrf_token": token, **data},
                             files=[("files", f) for f in files])


def stored(row: Attachment) -> bytes:
    return service.Store(TEST_VAR / "attachments").read(row.sha256)


async def _appeal_titled(title: str) -> Appeal | None:
    return await Appeal.get_or_none(title=title)


async def test_a_photo_is_stored_without_its_gps_position_and_a_pdf_as_sent(database, client):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    title = unique("路面塌陷附照片")
    response = await post_files(client, "/submit", {**GOOD_APPEAL, "title": title}, [
        ("../../etc/路面.JPG", original, "application/octet-stream"),
        ("现场.png", png(), "image/png"),
        ("检测报告.pdf", PDF, "application/pdf"),
    ])
    assert response.status_code == 200, response.text
    appeal = await _appeal_titled(title)
    rows = await Attachment.filter(appeal_id=appeal.id).order_by("id")
    assert [(r.name, r.content_type, r.occasion, r.role) for r in rows] == [
        ("路面.jpg", "image/jpeg", "submission", "resident"),
        ("现场.png", "image/png", "submission", "resident"),
        ("检测报告.pdf", "application/pdf", "submission", "resident"),
    ]
    photo = stored(rows[0])
    cleaned = Image.open(io.BytesIO(photo))
    assert cleaned.format == "JPEG" and cleaned.size == (64, 48)
    assert not cleaned.getexif() and not cleaned.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for trace in (b"Exif", b"CameraMakerX", b"secret-comment"):
        assert trace not in photo
    assert stored(rows[2]) == PDF
    assert rows[0].size == len(photo) and len(rows[0].sha256) == 64


REFUSALS = [  # what is sent, the words said beside the field
    ("too_large", [("大.jpg", b"\xff\xd8\xff" + b"0" * DEFAULT.max_bytes, "image/jpeg")],
     f"超过 {DEFAULT.max_mb} MB"),
    ("too_many", [(f"{i}.png", png((i, i, i)), "image/png") for i in range(6)],
     f"最多上传 {DEFAULT.max_files} 个文件"),
    ("wrong_type", [("动图.gif", gif(), "image/gif")], "不是可接受的文件类型"),
    ("html", [("page.html", b"<html><script>alert(1)</script></html>", "text/html")],
     "不是可接受的文件类型"),
    ("fake_jpeg", [("照片.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")],
     "不是有效的图片"),
    ("empty", [("空.jpg", b"", "image/jpeg")], "是空文件"),
    ("fake_pdf", [("报告.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")],
     "不是有效的 PDF"),
    ("pdf_script", [("报告.pdf", PDF_WITH_SCRIPT, "application/pdf")], "含有脚本"),
]


@pytest.mark.parametrize(("kind", "files", "words"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_each_refused_file_is_said_beside_the_field_and_the_form_kept(
        database, client, kind, files, words):
    title = unique("附件被拒")
    body = "小区门口的井盖丢失了一个星期，晚上很危险，已经有人掉进去受伤了。" + kind
    before = await Attachment.all().count()
    response = await post_files(client, "/submit",
                                {**GOOD_APPEAL, "title": title, "body": body}, files)
    assert response.status_code == 400
    beside = response.text.split('id="files-error">', 1)[1].split("</p>", 1)[0]
    assert words in beside
    assert f'value="{title}"' in response.text and body in response.text
    assert 'value="13812345678"' in response.text
    assert await _appeal_titled(title) is None
    assert await Attachment.all().count() == before


async def test_a_refused_file_and_a_refused_field_are_said_together(database, client):
    title = unique("两处有误")
    response = await post_files(client, "/submit", {**GOOD_APPEAL, "title": title,
                                                    "body": "太短"},
                                [("照片.jpg", b"not a picture", "image/jpeg")])
    assert response.status_code == 400
    assert "内容至少" in response.text and 'id="files-error"' in response.text
    assert await _appeal_titled(title) is None


async def test_the_quick_channel_takes_a_photo_too(database, client):
    title = unique("快捷附图")
    response = await post_files(client, "/quick", {
        "type": "consultation", "region": "990100", "title": title,
        "body": "请问社区卫生服务中心周末是否开门，门口贴的通知看不清楚。",
        "contact_phone": "13912345678"}, [("通知.webp", jpeg_with_gps(), "image/webp")], "/quick")
    assert response.status_code == 200, response.text
    row = await Attachment.get(appeal_id=(await _appeal_titled(title)).id)
    assert row.content_type == "image/jpeg" and row.name == "通知.jpg"  # its real kind


@contextlib.asynccontextmanager
async def _tracking(app, made):
    async with make_client(app) as client:
        token = await csrf(client, "/track")
        response = await client.post("/track", data={
            "csrf_token": token, "username": made.username, "password": made.password})
        assert response.status_code == 303
        yield client


async def _asked(department: str = OWN):
    made = await make_appeal("accepted", department, type="consultation")
    await clocks.ask_info(made.appeal, await handler_of(department),
                          parse(staff.AskInfo, {"question": "请补充井盖位置的照片。"}))
    return made


async def test_supplied_information_brings_its_files_and_a_refusal_keeps_the_text(app,
                                                                                   database):
    made = await _asked()
    async with _tracking(app, made) as resident:
        text = "井盖在小区东门北侧十米处，照片附上。"
        refused = await post_files(resident, "/track/info", {"info": text},
                                   [("井盖.jpg", b"GIF89a-not-really", "image/jpeg")],
                                   "/track/appeal")
        assert refused.status_code == 400
        assert text in refused.text and 'id="info-files-error"' in refused.text
        assert (await Appeal.get(id=made.appeal.id)).status == "awaiting_info"
        done = await post_files(resident, "/track/info", {"info": text},
                                [("井盖.jpg", jpeg_with_gps(), "image/jpeg")], "/track/appeal")
        assert done.status_code == 303, done.text
        page = await resident.get("/track/appeal")
        row = await Attachment.get(appeal_id=made.appeal.id)
        assert row.occasion == "info"
        assert f'href="/track/attachments/{row.id}"' in page.text
        assert (await resident.get(f"/track/attachments/{row.id}")).content == stored(row)
    assert (await Appeal.get(id=made.appeal.id)).status == "accepted"


@contextlib.asynccontextmanager
async def _handler_client(app, department: str = OWN):
    async with make_client(app) as client:
        await login(client, await make_staff(Role.HANDLER, department))
        yield client


async def test_a_handler_attaches_a_report_to_the_reply_and_the_resident_gets_it(app, database):
    made = await make_appeal("accepted", OWN)
    page = f"/staff/appeals/{made.number}"
    async with _handler_client(app) as handler:
        response = await post_files(handler, f"{page}/reply",
                                    {"reply": "经现场核查，井盖已于今日补装完毕。"},
                                    [("核查报告.pdf", PDF, "application/pdf")], page)
        assert response.status_code == 303, response.text
        row = await Attachment.get(appeal_id=made.appeal.id)
        assert (row.occasion, row.role, row.content_type) == ("reply", "handler",
                                                              "application/pdf")
        assert f'href="{page}/attachments/{row.id}"' in (await handler.get(page)).text
    async with _tracking(app, made) as resident:
        assert f"/track/attachments/{row.id}" in (await resident.get("/track/appeal")).text
        download = await resident.get(f"/track/attachments/{row.id}")
        assert download.status_code == 200 and download.content == PDF


async def test_a_refused_reply_file_keeps_the_reply_text_and_sends_nothing(app, database):
    made = await make_appeal("accepted", OWN)
    page = f"/staff/appeals/{made.number}"
    text = "经现场核查，井盖已于今日补装完毕，请放心。"
    async with _handler_client(app) as handler:
        response = await post_files(handler, f"{page}/reply", {"reply": text},
                                    [("报告.pdf", PDF_WITH_SCRIPT, "application/pdf")], page)
    assert response.status_code == 400
    assert text in response.text and 'id="reply-files-error"' in response.text
    assert (await Appeal.get(id=made.appeal.id)).status == "accepted"
    assert not await Attachment.filter(appeal_id=made.appeal.id).exists()


async def _with_photo(app, department: str = OWN):
    made = await _asked(department)
    async with _tracking(app, made) as resident:
        done = await post_files(resident, "/track/info", {"info": "照片已附上，请查看。"},
                                [("现场.jpg", jpeg_with_gps(), "image/jpeg")], "/track/appeal")
        assert done.status_code == 303
    return made, await Attachment.get(appeal_id=made.appeal.id)


async def test_an_attachment_answers_404_to_another_department_and_another_resident(
        app, database):
    made, row = await _with_photo(app)
    url = f"/staff/appeals/{made.number}/attachments/{row.id}"
    async with _handler_client(app, OWN) as own, \
            _handler_client(app, OTHER) as other:
        assert (await own.get(url)).status_code == 200
        refused = await other.get(url)
        assert refused.status_code == 404 and row.name not in refused.text
        # Another appeal's number with this attachment's id: 404 too, even to its own staff.
        elsewhere = await make_appeal("assigned", OWN)
        mixed = f"/staff/appeals/{elsewhere.number}/attachments/{row.id}"
        assert (await own.get(mixed)).status_code == 404
    someone_else = await _asked()
    async with _tracking(app, someone_else) as stranger:
        assert (await stranger.get(f"/track/attachments/{row.id}")).status_code == 404
    async with make_client(app) as anonymous:
        assert (await anonymous.get(f"/track/attachments/{row.id}")).status_code == 404


async def test_downloads_carry_headers_that_stop_a_browser_running_them(app, database):
    made, photo = await _with_photo(app)
    async with _handler_client(app) as handler:
        page = f"/staff/appeals/{made.number}"
        await post_files(handler, f"{page}/reply", {"reply": "已核查，井盖已补装完毕。"},
                         [("报告 <x>.pdf", PDF, "application/pdf")], page)
        pdf = await Attachment.get(appeal_id=made.appeal.id, occasion="reply")
        image = await handler.get(f"{page}/attachments/{photo.id}")
        document = await handler.get(f"{page}/attachments/{pdf.id}")
    for response, kind in ((image, "image/jpeg"), (document, "application/pdf")):
        assert response.headers["content-type"] == kind
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy
        assert "no-store" in response.headers["cache-control"]
    assert image.headers["content-disposition"].startswith("inline;")
    assert document.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%20x.pdf" in document.headers[
        "content-disposition"]


async def test_the_api_takes_files_beside_the_json_and_names_the_field_it_refuses(
        database, client):
    import json

    title = unique("接口附图")
    body = json.dumps({**GOOD, "title": title})
    made = await client.post(f"{API}/appeals", data={"json": body},
                             files=[("files", ("路面.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert made.status_code == 201, made.text
    row = await Attachment.get(appeal_id=(await _appeal_titled(title)).id)
    assert b"Exif" not in stored(row)
    refused = await client.post(
        f"{API}/appeals", data={"json": json.dumps({**GOOD, "title": unique("接口被拒")})},
        files=[("files", ("x.jpg", b"<svg onload=alert(1)>", "image/jpeg"))])
    assert refused.status_code == 422
    assert (refused.json()["error"]["field"], refused.json()["error"]["code"]) == ("files",
                                                                                    "invalid")
    assert "不是有效的图片" in refused.json()["error"]["message"]
    missing = await client.post(f"{API}/appeals",
                                files=[("files", ("a.png", png(), "image/png"))])
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "json")
    stray = await client.post(f"{API}/appeals", data={"json": "{}", "title": "x"},
                              files=[("files", ("a.png", png(), "image/png"))])
    assert (stray.status_code, stray.json()["error"]["code"]) == (422, "unknown_field")
    assert await _appeal_titled(title + "x") is None
    broken = await client.post(f"{API}/appeals", content=b'{"title": "x"}',
                               headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "bad_multipart")
    view = await client.get(made.headers["location"],
                            headers=basic(made.json()["username"], made.json()["password"]))
    assert [a["name"] for a in view.json()["attachments"]] == ["路面.jpg"]


async def test_the_api_info_takes_files_too(database, client):
    import json

    made = await _asked()
    url = f"{API}/appeals/{made.number}/info"
    auth = basic(made.username, made.password)
    refused = await client.post(url, data={"json": json.dumps({"text": "照片见附件。"})},
                                files=[("files", ("a.pdf", b"", "application/pdf"))],
                                headers=auth)
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "files")
    done = await client.post(url, data={"json": json.dumps({"text": "照片见附件。"})},
                             files=[("files", ("a.pdf", PDF, "application/pdf"))], headers=auth)
    assert done.status_code == 200, done.text
    assert [a["type"] for a in done.json()["attachments"]] == ["application/pdf"]


async def test_limits_come_from_the_environment_and_a_body_too_large_is_refused_unread(
        database, rules):
    small = create_app(settings_for(database, MINSHENG_ATTACHMENT_MAX_FILES="1",
                                     MINSHENG_ATTACHMENT_MAX_MB="1"), rules, manage_db=False)
    async with make_client(small) as client:
        two = await post_files(client, "/submit", {**GOOD_APPEAL, "title": unique("两张")},
                               [("a.png", png(), "image/png"), ("b.png", png((1, 2, 3)),
                                                                 "image/png")])
        assert two.status_code == 400 and "最多上传 1 个文件" in two.text
        huge = await post_files(client, "/submit", {**GOOD_APPEAL, "title": unique("巨大")},
                                [("a.jpg", b"\xff" * (4 * MB), "image/jpeg")])
        assert huge.status_code == 413 and "提交的内容过大" in huge.text
        api = await client.post(f"{API}/appeals", data={"json": "{}"},
                                files=[("files", ("a.jpg", b"\xff" * (4 * MB), "image/jpeg"))])
        assert (api.status_code, api.json()["error"]["code"]) == (413, "too_large")
    with pytest.raises(SettingsError):
        Settings.from_env({"MINSHENG_DEV": "1", "MINSHENG_ATTACHMENT_MAX_FILES": "0"})
    with pytest.raises(SettingsError):
        Settings.from_env({"MINSHENG_DEV": "1", "MINSHENG_ATTACHMENT_MAX_MB": "lots"})


async def test_a_form_with_files_needs_its_csrf_token_too(database, client):
    title = unique("无令牌")
    before = await Attachment.all().count()
    response = await client.post("/submit", data={**GOOD_APPEAL, "title": title},
                                 files=[("files", ("a.png", png(), "image/png"))])
    assert response.status_code == 403
    assert await _appeal_titled(title) is None and await Attachment.all().count() == before


async def test_an_appeal_whose_attachment_rows_fail_is_not_stored_either(database, rules):
    from tortoise.exceptions import IntegrityError

    from app.services import intake

    title = unique("半截")
    sub = intake.validate({**GOOD_APPEAL, "title": title}, rules)
    row = service.rows([service.clean(service.Sent("a.png", png()))], account=None,
                       role="resident", occasion=service.Occasion.SUBMISSION)[0]
    row.uploaded_by_id = 2**31 - 1  # no such account: the row's insert fails
    with pytest.raises(IntegrityError):
        await intake.submit(rules, sub, attachments=[row])
    assert await _appeal_titled(title) is None


async def test_a_phone_number_in_a_file_name_is_masked_on_the_staff_page(app, database):
    """A file's name is free text the resident typed: masked like the rest of it."""
    made = await _asked()
    async with _tracking(app, made) as resident:
        done = await post_files(resident, "/track/info", {"info": "照片已附上，请查看。"},
                                [("13912345678现场.jpg", jpeg_with_gps(), "image/jpeg")],
                                "/track/appeal")
        assert done.status_code == 303
    async with _handler_client(app) as handler:
        page = (await handler.get(f"/staff/appeals/{made.number}")).text
    assert "13912345678" not in page and "139****5678" in page


async def test_the_worker_deletes_files_no_row_names_a_day_after_they_were_written(
        database, rules, client):
    import asyncio
    import os
    import time

    from app.notify.worker import OutboxWorker
    from app.worker import periodic_jobs, run_worker

    title = unique("附件保留")
    response = await post_files(client, "/submit", {**GOOD_APPEAL, "title": title},
                                [("现场.pdf", PDF + unique("%").encode(), "application/pdf")])
    assert response.status_code == 200, response.text
    row = await Attachment.get(appeal_id=(await _appeal_titled(title)).id)
    store = service.Store(TEST_VAR / "attachments")

    def a_file(tag: str) -> service.Cleaned:
        item = service.clean(service.Sent("x.pdf", PDF + unique(tag).encode()))
        store.put(item)
        return item

    orphan, fresh = a_file("%orphan"), a_file("%fresh")  # as if their appeals rolled back
    half = store.path(orphan.sha256).parent / ".incoming-crashed"
    half.write_bytes(b"half a file")
    two_days_ago = time.time() - 2 * 86400
    for path in (store.path(row.sha256), store.path(orphan.sha256), half):
        os.utime(path, (two_days_ago, two_days_ago))

    settings = settings_for(database)
    await run_worker(settings, asyncio.Event(), periodic_jobs(settings, rules), once=True,
                     outbox=OutboxWorker(settings, only_ids=[]))
    assert not store.path(orphan.sha256).exists() and not half.exists()
    assert store.path(fresh.sha256).exists()  # a day has not passed: perhaps still uploading
    assert stored(row).startswith(b"%PDF")  # named by its row: kept however old

    # The same content sent again makes the file fresh, so the prune leaves it to the new row.
    os.utime(store.path(fresh.sha256), (two_days_ago, two_days_ago))
    store.put(fresh)
    assert store.path(fresh.sha256).stat().st_mtime > time.time() - 60
    assert await service.prune(store) == 0
