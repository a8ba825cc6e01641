"""JSON API v1 through the real app: catalog, submission, tracking with HTTP Basic, supplying
information, rating, refusals that store nothing, and rate limits."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta

import pytest

from app.domain.types import Role
from app.models import Appeal, AppealEvent, OutboxMessage
from app.schemas import staff
from app.schemas.base import parse
from app.services import clocks, handling, sweep
from app.services.secrets import ALPHABET
from app.web.api import routes as api_routes
from app.web.app import create_app
from app.web.openapi import REQUEST_SCHEMAS, document
from tests import conftest
from tests.conftest import GOOD_APPEAL, PASSWORD, make_client, make_staff, unique
from tests.factories import handler_of, make_appeal, make_resident

API = "/api/v1"
GOOD = {**GOOD_APPEAL, "region": "990102", "public": False}
DEPT = "990102-zhujian"  # 东城区住建局
NUMBER_RE = re.compile(r"^MS\d{8}-\d{6}$")


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def stored() -> tuple[int, int, int]:
    """Rows a submission writes: appeals, events, outbox messages."""
    return (await Appeal.all().count(), await AppealEvent.all().count(),
            await OutboxMessage.all().count())


async def create(client, **overrides) -> dict:
    response = await client.post(f"{API}/appeals", json={**GOOD, "title": unique("接口"),
                                                         **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "field", "details"}
    assert error["code"] == code, error
    assert error["field"] == field, error
    assert re.search(r"[\u4e00-\u9fff]", error["message"]), error  # Chinese for the resident
    return error


def documented(method: str, path: str, status: int) -> bool:
    operation = document(api_routes)["paths"][path][method.lower()]
    return str(status) in operation["responses"]


# --- catalog ------------------------------------------------------------------------------

async def test_catalog_lists_what_a_form_needs(database, rules, client):
    response = await client.get(f"{API}/catalog")
    assert response.status_code == 200
    catalog = response.json()
    assert {t["key"]: t["label"] for t in catalog["types"]} == {
        "consultation": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
        "suggestion": "建议", "evaluation": "评议"}
    regions = {r["code"]: r for r in catalog["regions"]}
    assert set(regions) == set(rules.regions)
    assert regions["990000"] == {"code": "990000", "name": "云海省", "parent": None,
                                 "level": "province"}
    assert regions["990102"]["parent"] == "990100" and regions["990102"]["level"] == "county"
    assert regions["990100"]["level"] == "city"
    categories = {c["name"]: c["children"] for c in catalog["categories"]}
    assert len(categories) == 15
    assert "城乡建设" in categories and "工程质量" in categories["城乡建设"]
    assert catalog["hot_topics"] == rules.hot_topics and "拖欠农民工工资" in catalog["hot_topics"]
    departments = {d["code"]: d for d in catalog["departments"]}
    assert departments[DEPT]["region"] == "990102" and departments[DEPT]["name"]


# --- submission ---------------------------------------------------------------------------

async def test_create_answers_201_with_tracking_credentials(database, rules, client):
    before = await stored()
    title = unique("创建")
    response = await client.post(f"{API}/appeals",
                                 json={**GOOD, "title": title, "contact_email": "li@example.cn"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"tracking_number", "username", "password", "status", "due_at",
                         "deadline_provisional", "department", "password_recovery"}
    assert body["password_recovery"] is None  # only a replay (Idempotency-Key) fills it
    assert NUMBER_RE.match(body["tracking_number"])
    assert response.headers["location"] == f"{API}/appeals/{body['tracking_number']}"
    assert response.headers["cache-control"] == "no-store"
    assert len(body["password"]) >= 14 and set(body["password"]) <= set(ALPHABET)
    assert set(body["username"][2:]) <= set(ALPHABET)
    due = datetime.fromisoformat(body["due_at"])
    assert due.utcoffset() is not None and body["due_at"].endswith("+08:00")
    appeal = await Appeal.get(tracking_number=body["tracking_number"]).prefetch_related(
        "department")
    assert appeal.title == title and appeal.reply_due_at == due and appeal.is_public is False
    assert appeal.channel == "api"
    assert body["status"] == {"key": appeal.status,
                              "label": {"assigned": "已交办", "triage": "待分派"}[appeal.status]}
    assert body["department"] == (appeal.department.name if appeal.department else None)
    assert body["password"] not in appeal.tracker_secret_hash
    # one appeal, its events, and the receipt by mail and by SMS in the outbox — no password
    after = await stored()
    assert after[0] == before[0] + 1 and after[2] == before[2] + 2
    receipt = await OutboxMessage.filter(to_address="li@example.cn").order_by("-id").first()
    assert body["tracking_number"] in receipt.text_body
    assert body["password"] not in receipt.text_body + receipt.html_body
    text = await OutboxMessage.get(dedupe_key=f"sms:receipt:{body['tracking_number']}")
    assert body["username"] in text.text_body and body["password"] not in text.text_body


async def test_a_report_needs_the_unit_it_is_about(database, client):
    title = unique("举报")
    before = await stored()
    response = await client.post(f"{API}/appeals", json={**GOOD, "type": "report", "title": title,
                                                         "category": "纪检监察"})
    assert_error(response, 422, "invalid", "named_unit")
    assert await stored() == before
    made = await create(client, type="report", category="纪检监察", named_unit=DEPT,
                        title=title)
    appeal = await Appeal.get(tracking_number=made["tracking_number"]).prefetch_related(
        "named_unit", "department")
    assert appeal.named_unit.code == DEPT
    assert appeal.department_id is None or appeal.department.code != DEPT


async def test_validation_errors_name_every_field(database, client):
    before = await stored()
    response = await client.post(f"{API}/appeals", json={
        **GOOD, "title": "   ", "body": "太短", "region": "000000", "contact_phone": "",
        "contact_email": "nope"})
    error = assert_error(response, 422, "invalid", "region")
    fields = {d["field"] for d in error["details"]}
    assert fields == {"region", "title", "body", "contact_email"}
    assert await stored() == before


async def test_script_is_stored_and_returned_as_text(database, client):
    title = f"<script>alert('{unique('x')}')</script>"
    body = "<img src=x onerror=alert(1)> 这是一段足够长的内容，用来检查脚本按原样保存。"
    made = await create(client, title=title, body=body, public=True)
    appeal = await Appeal.get(tracking_number=made["tracking_number"])
    assert (appeal.title, appeal.body, appeal.is_public) == (title, body, True)
    view = await client.get(f"{API}/appeals/{made['tracking_number']}",
                            headers=basic(made["username"], made["password"]))
    assert view.headers["content-type"] == "application/json"
    assert (view.json()["title"], view.json()["body"]) == (title, body)


# --- refusals -----------------------------------------------------------------------------

BAD_BODIES = [
    ({"extra": 1}, 422, "unknown_field", "extra"),
    ({"contact_wechat": "li"}, 422, "unknown_field", "contact_wechat"),
    ({"Title": "大小写不同"}, 422, "unknown_field", "Title"),
    ({"title": 12345}, 422, "invalid_type", "title"),
    ({"title": None}, 422, "invalid_type", "title"),
    ({"public": "true"}, 422, "invalid_type", "public"),
    ({"public": 1}, 422, "invalid_type", "public"),
    ({"contact_phone": 13812345678}, 422, "invalid_type", "contact_phone"),
    ({"type": ["complaint"]}, 422, "invalid_type", "type"),
    ({"body": {"text": "内容"}}, 422, "invalid_type", "body"),
    ({"category": False}, 422, "invalid_type", "category"),
    ({"type": "petition"}, 422, "invalid", "type"),
    ({"title": "标" * 101}, 422, "invalid", "title"),
    ({"body": "长" * 5001}, 422, "invalid", "body"),
    ({"contact_email": "a" * 64 + "@" + "b" * 190 + ".cn"}, 422, "invalid", "contact_email"),
    ({"title": "空\u0000字符"}, 422, "invalid", "title"),
]


@pytest.mark.parametrize(("change", "status", "code", "field"), BAD_BODIES,
                         ids=[f"bad{i}" for i in range(len(BAD_BODIES))])
async def test_bad_fields_are_refused_and_nothing_is_stored(database, client, change, status,
                                                            code, field):
    title = unique("拒收")
    before = await stored()
    response = await client.post(f"{API}/appeals", json={**GOOD, "title": title, **change})
    assert_error(response, status, code, field)
    assert documented("POST", f"{API}/appeals", status)
    assert await stored() == before
    assert not await Appeal.filter(title=title).exists()


async def test_missing_required_field_is_named(database, client):
    body = {k: v for k, v in GOOD.items() if k != "body"}
    assert_error(await client.post(f"{API}/appeals", json=body), 422, "missing_field", "body")


RAW_BODIES = [
    (b"[]", 400, "not_object"),
    (b'"\xe6\x8a\x95\xe8\xaf\x89"', 400, "not_object"),
    (b"null", 400, "not_object"),
    (b"42", 400, "not_object"),
    (b"", 400, "bad_json"),
    (b"{", 400, "bad_json"),
    (b"{'type': 'complaint'}", 400, "bad_json"),
    (b'{"title": NaN}', 400, "bad_json"),
    (b'{"title": "a", "title": "b"}', 400, "bad_json"),
    (b"\xff\xfe{}", 400, "bad_json"),
    (b"[" * 100_00 + b"]" * 100_00, 400, "bad_json"),
    (json.dumps({**GOOD, "title": "\ud800 lone surrogate"}).encode(), 422, "invalid"),
]


@pytest.mark.parametrize(("raw", "status", "code"), RAW_BODIES,
                         ids=[f"raw{i}" for i in range(len(RAW_BODIES))])
async def test_bodies_that_are_not_a_json_object_are_refused(database, client, raw, status,
                                                             code):
    before = await stored()
    response = await client.post(f"{API}/appeals", content=raw,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await stored() == before


# multipart/form-data is accepted too (issue 12: files beside the JSON, in tests/http/
# test_attachments.py), and a body that is not multipart after all answers 400 there.
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1",
                                          "application/jsonp"])
async def test_only_json_is_accepted(database, client, content_type):
    before = await stored()
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(f"{API}/appeals", content=json.dumps(GOOD).encode(),
                                 headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert await stored() == before


async def test_json_with_utf8_charset_is_accepted(database, client):
    response = await client.post(
        f"{API}/appeals", content=json.dumps({**GOOD, "title": unique("字符集")}).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 201


async def test_bodies_over_64_kib_are_refused(database, client):
    before = await stored()
    huge = {**GOOD, "body": "长" * 30_000}  # 90 KB in UTF-8
    response = await client.post(f"{API}/appeals", json=huge)
    assert_error(response, 413, "too_large")

    async def chunks():  # no Content-Length: the server must count as it reads
        yield b'{"body": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(f"{API}/appeals", content=chunks(),
                                 headers={"Content-Type": "application/json"})
    assert_error(response, 413, "too_large")
    assert await stored() == before


async def test_unknown_api_paths_and_methods_answer_json(database, client):
    assert_error(await client.get(f"{API}/nothing-here"), 404, "not_found")
    wrong = await client.get(f"{API}/appeals")
    assert_error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["allow"]
    assert_error(await client.delete(f"{API}/appeals/MS20250101-000001"), 405,
                 "method_not_allowed")


# --- tracking -----------------------------------------------------------------------------

async def test_its_credentials_open_the_appeal(database, client):
    made = await create(client, contact_phone="13900002222")
    url = f"{API}/appeals/{made['tracking_number']}"
    response = await client.get(url, headers=basic(made["username"], made["password"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    view = response.json()
    assert view["tracking_number"] == made["tracking_number"]
    assert view["status"] == made["status"]
    assert view["type"] == {"key": "complaint", "label": "投诉"}
    assert view["department"] == made["department"]
    assert view["due_at"] == made["due_at"]
    assert datetime.fromisoformat(view["submitted_at"]).utcoffset() is not None
    assert view["deadline_provisional"] is False
    assert view["reply"] is None and view["info_request"] is None and view["rating"] is None
    assert view["timeline"][0]["kind"] == "submitted"
    assert all(set(e) == {"kind", "label", "at"} for e in view["timeline"])
    assert "13900002222" not in response.text  # contact details are not echoed
    # the credentials work case-insensitively, as on the receipt page
    again = await client.get(url, headers=basic(made["username"].upper(),
                                                made["password"].upper()))
    assert again.status_code == 200


async def test_wrong_password_looks_exactly_like_an_unknown_number(database, client):
    made = await create(client)
    url = f"{API}/appeals/{made['tracking_number']}"
    other = await create(client)
    answers = [
        await client.get(url, headers=basic(made["username"], "wrong-password-x")),
        await client.get(url, headers=basic(made["username"], made["password"][:-1])),
        await client.get(url, headers=basic("msnosuchuser1", made["password"])),
        await client.get(f"{API}/appeals/MS19990101-999999",
                         headers=basic(made["username"], made["password"])),
        await client.get(f"{API}/appeals/not-a-number",
                         headers=basic(made["username"], made["password"])),
        await client.get(url, headers=basic(other["username"], other["password"])),
        await client.get(url),
        await client.get(url, headers={"Authorization": "Basic !!!notbase64"}),
        await client.get(url, headers={"Authorization": "Bearer abc"}),
        await client.get(url, headers=basic(made["username"], "")),
    ]
    first = answers[0]
    assert_error(first, 404, "not_found")
    assert first.headers["www-authenticate"].startswith("Basic")
    for answer in answers:
        assert answer.status_code == 404
        assert answer.content == first.content
        assert {k: v for k, v in answer.headers.items() if k != "content-length"} == \
            {k: v for k, v in first.headers.items() if k != "content-length"}


async def test_info_and_rating_refuse_strangers_the_same_way(database, client):
    made = await create(client)
    for action, body in (("info", {"text": "补充的材料在这里"}), ("rating", {"rating": "satisfied"})):
        url = f"{API}/appeals/{made['tracking_number']}/{action}"
        wrong = await client.post(url, json=body, headers=basic(made["username"], "nope-nope"))
        none = await client.post(url, json=body)
        bad_body = await client.post(url, content=b"junk")  # no credentials: 404 comes first
        for response in (wrong, none, bad_body):
            assert_error(response, 404, "not_found")


async def test_one_resident_cannot_read_another_residents_appeal(database, rules, client):
    accounts = {a.username: a for a in (await make_resident(), await make_resident())}
    alice, bob = accounts
    receipts = {name: await make_appeal("assigned", DEPT, rules=rules, resident=account,
                                        public=False)
                for name, account in accounts.items()}
    alices, bobs = receipts[alice].appeal.tracking_number, receipts[bob].appeal.tracking_number

    own = await client.get(f"{API}/appeals/{alices}", headers=basic(alice, PASSWORD))
    assert own.status_code == 200 and own.json()["tracking_number"] == alices
    for path in (f"{API}/appeals/{bobs}", f"{API}/appeals/{bobs.lower()}",
                 f"{API}/appeals/{bobs}/", f"{API}/appeals/%20{bobs}",
                 f"{API}/appeals/{bobs}%00", f"{API}/appeals/%00", f"{API}/appeals/%F0%9F%98%80"):
        response = await client.get(path, headers=basic(alice, PASSWORD), follow_redirects=True)
        assert response.status_code == 404, path
    for action, body in (("info", {"text": "我是别人，想补充材料"}),
                         ("rating", {"rating": "unsatisfied", "reason": "想把别人的诉求重开"})):
        response = await client.post(f"{API}/appeals/{bobs}/{action}", json=body,
                                     headers=basic(alice, PASSWORD))
        assert_error(response, 404, "not_found")
    # Alice's account password does not open Bob's appeal through his tracking username
    crossed = await client.get(f"{API}/appeals/{bobs}",
                               headers=basic(receipts[bob].username, PASSWORD))
    assert crossed.status_code == 404
    # nor does a wrong password for Alice's own account, nor staff credentials
    assert (await client.get(f"{API}/appeals/{alices}",
                             headers=basic(alice, "wrong-password"))).status_code == 404
    handler = await make_staff(Role.HANDLER, DEPT)
    assert (await client.get(f"{API}/appeals/{alices}",
                             headers=basic(handler, PASSWORD))).status_code == 404
    assert (await Appeal.get(tracking_number=bobs)).status == receipts[bob].appeal.status


# --- supplying information and rating ------------------------------------------------------

async def test_supplying_information_through_the_api(database, rules, client):
    made = await make_appeal("accepted", DEPT, type="consultation", public=False)
    appeal = made.appeal
    auth = basic(made.username, made.password)
    url = f"{API}/appeals/{made.number}"
    early = await client.post(f"{url}/info", json={"text": "还没人问我要材料"}, headers=auth)
    assert_error(early, 409, "illegal_transition", "text")

    await clocks.ask_info(appeal, await handler_of(DEPT),
        parse(staff.AskInfo, {"question": "请提供物业合同和报修记录照片"}))
    view = (await client.get(url, headers=auth)).json()
    assert view["status"] == {"key": "awaiting_info", "label": "待补充材料"}
    assert view["info_request"] == "请提供物业合同和报修记录照片"
    assert view["timeline"][-1]["kind"] == "ask_info"

    before = await stored()
    for body, code, field in (({"text": "短"}, "invalid", "text"),
                              ({"text": 12345}, "invalid_type", "text"),
                              ({"info": "合同和照片已上传"}, "unknown_field", "info"),
                              ({}, "missing_field", "text")):
        assert_error(await client.post(f"{url}/info", json=body, headers=auth), 422, code, field)
    assert await stored() == before
    assert (await Appeal.get(id=appeal.id)).status == "awaiting_info"

    supplied = await client.post(f"{url}/info", json={"text": "合同和照片已上传至社区，编号A12。"},
                                 headers=auth)
    assert supplied.status_code == 200, supplied.text
    view = supplied.json()
    assert view["status"]["key"] == "accepted" and view["info_request"] is None
    assert view["timeline"][-1]["kind"] == "info_supplied"
    event = await AppealEvent.get(appeal_id=appeal.id, kind="info_supplied")
    assert event.note == "合同和照片已上传至社区，编号A12。"


async def test_rating_the_reply_through_the_api(database, client):
    made = await make_appeal("accepted", DEPT, type="consultation", public=False)
    appeal = made.appeal
    auth = basic(made.username, made.password)
    url = f"{API}/appeals/{made.number}"
    assert_error(await client.post(f"{url}/rating", json={"rating": "satisfied"}, headers=auth),
                 409, "illegal_transition")
    await handling.reply(appeal, await handler_of(DEPT),
        parse(staff.Reply, {"reply": "已联系物业公司，电梯将于本周内修复。"}))
    view = (await client.get(url, headers=auth)).json()
    assert view["status"]["key"] == "replied"
    assert view["reply"]["text"] == "已联系物业公司，电梯将于本周内修复。"
    assert view["reply"]["replied_at"].endswith("+08:00")

    before = await stored()
    for body, code, field in (({"rating": "great"}, "invalid", "rating"),
                              ({"rating": "unsatisfied"}, "invalid", "reason"),
                              ({"rating": "unsatisfied", "reason": 5}, "invalid_type", "reason"),
                              ({"rating": "satisfied", "stars": 5}, "unknown_field", "stars")):
        assert_error(await client.post(f"{url}/rating", json=body, headers=auth), 422, code,
                     field)
    assert await stored() == before

    redo = await client.post(f"{url}/rating", json={"rating": "unsatisfied",
                                                     "reason": "电梯还是没修好，物业继续推脱。"},
                             headers=auth)
    assert redo.status_code == 200, redo.text
    # The rating is that of the current reply: none while the redo runs (the 不满意 stays in
    # its event).
    assert redo.json()["status"]["key"] == "accepted" and redo.json()["rating"] is None
    appeal = await Appeal.get(id=appeal.id)
    await handling.reply(appeal, await handler_of(DEPT),
        parse(staff.Reply, {"reply": "已督促物业更换电梯主板，现已恢复运行。"}))
    done = await client.post(f"{url}/rating", json={"rating": "satisfied", "reason": None},
                             headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == {"key": "closed", "label": "已办结"}
    assert done.json()["rating"] == "satisfied"
    assert_error(await client.post(f"{url}/rating", json={"rating": "satisfied"}, headers=auth),
                 409, "illegal_transition")


async def test_basically_satisfied_closes_the_appeal(database, client):
    made = await make_appeal("accepted", DEPT, type="consultation", public=False)
    appeal = made.appeal
    await handling.reply(appeal, await handler_of(DEPT),
        parse(staff.Reply, {"reply": "已联系物业公司，电梯将于本周内修复。"}))
    try:
        done = await client.post(f"{API}/appeals/{made.number}/rating",
                                  json={"rating": "basically_satisfied"},
                                  headers=basic(made.username, made.password))
    except Exception as exc:  # the ASGI transport re-raises the crash behind the 500
        raise AssertionError(f"crashed: {type(exc).__name__}") from exc
    assert done.status_code == 200, done.text
    assert done.json()["rating"] == "basically_satisfied"


async def test_a_rating_after_the_window_is_refused_until_the_sweep_closes_it(
        database, rules, client):
    made = await make_appeal("replied", DEPT)
    late = clocks.now_utc() - timedelta(days=rules.policies.rating_window_days + 1)
    await Appeal.filter(id=made.appeal.id).update(replied_at=late)
    refused = await client.post(f"{API}/appeals/{made.number}/rating",
                                json={"rating": "satisfied"},
                                headers=basic(made.username, made.password))
    assert_error(refused, 409, "illegal_transition", "rating")
    assert refused.json()["error"]["message"] == "评价期已过，该诉求已自动办结。"
    assert (await Appeal.get(id=made.appeal.id)).status == "replied"

    await sweep.sweep(policies=rules.policies)
    view = await client.get(f"{API}/appeals/{made.number}",
                            headers=basic(made.username, made.password))
    assert view.json()["status"]["key"] == "closed" and view.json()["rating"] is None


async def test_a_resident_account_works_the_api_for_its_own_appeal(database, rules, client):
    account = await make_resident()
    username = account.username
    appeal = (await make_appeal("replied", DEPT, rules=rules, resident=account,
                                type="consultation", public=False)).appeal
    rated = await client.post(f"{API}/appeals/{appeal.tracking_number}/rating",
                              json={"rating": "satisfied"}, headers=basic(username, PASSWORD))
    assert rated.status_code == 200 and rated.json()["status"]["key"] == "closed"


# --- the document ---------------------------------------------------------------------------

def _api_routes(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/"):
            found.setdefault(path, set()).update(
                m.lower() for m in (route.methods or ()) if m != "HEAD")
    return found


async def test_openapi_document_matches_the_routes(database, app, client):
    response = await client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    described = {path: set(ops) for path, ops in doc["paths"].items()}
    assert described == _api_routes(app)
    assert "CSRF" in doc["info"]["description"] and "cookie" in doc["info"]["description"]
    schemas = doc["components"]["schemas"]
    for name, schema in REQUEST_SCHEMAS.items():
        assert schemas[name] == schema
        assert schema["additionalProperties"] is False
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (path, method, status)
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in REQUEST_SCHEMAS
                assert {"400", "413", "415", "422"} <= set(operation["responses"])
            if operation.get("security"):
                assert "404" in operation["responses"]
            assert "429" in operation["responses"]


def _refs(value) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if "$ref" in value else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def test_openapi_references_resolve():
    doc = document(api_routes)
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref


async def test_responses_match_the_documented_shapes(database, client):
    """Keys of real answers are exactly those the document's response schemas list."""
    schemas = document(api_routes)["components"]["schemas"]
    made = await create(client)
    assert set(made) == set(schemas["Receipt"]["properties"])
    view = (await client.get(f"{API}/appeals/{made['tracking_number']}",
                             headers=basic(made["username"], made["password"]))).json()
    assert set(view) == set(schemas["Appeal"]["properties"])
    catalog = (await client.get(f"{API}/catalog")).json()
    assert set(catalog) == set(schemas["Catalog"]["properties"])
    error = (await client.post(f"{API}/appeals", json={"x": 1})).json()
    assert set(error) == {"error"}
    assert set(error["error"]) <= set(schemas["Error"]["properties"]["error"]["properties"])


# --- rate limits ----------------------------------------------------------------------------

@pytest.fixture
async def strict_app(database, rules):
    return create_app(conftest.test_settings(database, MINSHENG_RATE_LIMIT="10"), rules, manage_db=False)


async def test_twenty_wrong_passwords_are_slowed_then_refused(database, app, strict_app):
    async with make_client(app) as unlimited:
        made = await create(unlimited)
    url = f"{API}/appeals/{made['tracking_number']}"
    async with make_client(strict_app) as guesser:
        answers = [await guesser.get(url, headers=basic(made["username"], f"guess-{i:04d}"))
                   for i in range(20)]
        statuses = [a.status_code for a in answers]
        # each failure costs 5 of the 10 a minute: two guesses, then refused
        assert statuses == [404, 404] + [429] * 18, statuses
        refused = answers[-1]
        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 61
        # while refused, even the right password does not get through
        right = await guesser.get(url, headers=basic(made["username"], made["password"]))
        assert right.status_code == 429


async def test_right_credentials_cost_one_request_each(database, app, strict_app):
    async with make_client(app) as unlimited:
        made = await create(unlimited)
    url = f"{API}/appeals/{made['tracking_number']}"
    async with make_client(strict_app) as owner:
        statuses = [(await owner.get(url, headers=basic(made["username"], made["password"])))
                    .status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


async def test_submission_and_catalog_are_rate_limited(database, strict_app):
    before = await stored()
    async with make_client(strict_app) as client:
        statuses = [(await client.post(f"{API}/appeals", json={"junk": i})).status_code
                    for i in range(11)]
        assert statuses == [422] * 10 + [429]
        assert_error(await client.post(f"{API}/appeals", json=GOOD), 429, "rate_limited")
        catalog = [(await client.get(f"{API}/catalog")).status_code for _ in range(11)]
        assert catalog == [200] * 10 + [429]
        assert (await client.get(f"{API}/openapi.json")).status_code == 429
    assert await stored() == before
