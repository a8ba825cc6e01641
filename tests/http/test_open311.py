"""Open311 GeoReport v2 over the real app: services, definitions, POST with an issued key,
published listings only, errors as the specification writes them, JSON and XML."""

from __future__ import annotations

import httpx
import pytest

from app.domain.types import Role
from app.models import ApiClient, Appeal, AuditEntry, Publication
from app.services import api_clients, audit_log
from tests.conftest import login, make_client, make_staff, post_form, unique
from tests.factories import make_publication
from tests.http import open311_schemas as schemas

V2 = "/open311/v2"
GOOD = {"service_code": "c01", "attribute[type]": "complaint", "attribute[region]": "990100",
        "description": "小区电梯坏了一个月\n我们小区3号楼电梯坏了一个多月，物业一直不修，老人上下楼很困难。",
        "last_name": "李", "first_name": "阿姨", "phone": "13812345678"}


@pytest.fixture
async def key(database):
    _, issued = await api_clients.issue(audit_log.CLI, unique("测试应用"))
    return issued


async def _post(client, data: dict, fmt: str = "json", **kwargs):
    return await client.post(f"{V2}/requests.{fmt}", data=data, **kwargs)


def _errors(response, status: int) -> list[dict]:
    assert response.status_code == status, response.text
    body = response.json()
    schemas.check_json(body, schemas.ERRORS)
    assert {e["code"] for e in body} == {status}
    return body


async def test_services_and_definition_in_json_and_xml(client):
    services = await client.get(f"{V2}/services.json")
    assert services.status_code == 200
    body = services.json()
    schemas.check_json(body, schemas.SERVICES)
    first = body[0]
    assert first["service_code"] == "c01" and first["service_name"] == "城乡建设"
    assert first["group"] == "城乡建设" and first["metadata"] is True
    assert "工程质量" in first["keywords"]
    assert len(body) == 15
    xml = await client.get(f"{V2}/services.xml")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    root = schemas.check_xml(xml.text, "services")
    assert [s.findtext("service_code") for s in root] == [s["service_code"] for s in body]

    definition = (await client.get(f"{V2}/services/c01.json")).json()
    schemas.check_json(definition, schemas.SERVICE_DEFINITION)
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert set(attributes) == {"type", "region", "public"}
    types = {v["key"] for v in attributes["type"]["values"]}
    assert "complaint" in types and "report" not in types  # a report goes through the web
    assert {"key": "990100", "name": "云州市"} in attributes["region"]["values"]
    assert attributes["type"]["required"] and not attributes["public"]["required"]
    xml = await client.get(f"{V2}/services/c01.xml")
    root = schemas.check_xml(xml.text, "service_definition")
    assert root.findtext("service_code") == "c01"
    assert root.find("attributes/attribute/values/value/key") is not None

    discovery = await client.get(f"{V2}/discovery.json")
    schemas.check_json(discovery.json(), schemas.DISCOVERY)
    schemas.check_xml((await client.get(f"{V2}/discovery.xml")).text, "discovery")


@pytest.mark.parametrize("path", ["/services/c99.json", "/services/c01.html",
                                  "/services.yaml", "/nosuch.json", "/requests/MS1.json"])
async def test_unknown_resources_are_404_with_an_error_body(client, path):
    _errors(await client.get(V2 + path), 404)


async def test_unknown_resource_in_xml_is_an_xml_error(client):
    response = await client.get(f"{V2}/services/c99.xml")
    assert response.status_code == 404
    root = schemas.check_xml(response.text, "errors")
    assert root.findtext("error/code") == "404"


async def test_post_goes_through_intake_and_answers_credentials_once(client, key):
    response = await _post(client, {**GOOD, "api_key": key, "attribute[public]": "true"})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    schemas.check_json(body, schemas.POSTED)
    made = body[0]
    number = made["service_request_id"]
    appeal = await Appeal.get(tracking_number=number).prefetch_related("category", "department")
    assert appeal.channel == "api" and appeal.type == "complaint"
    assert appeal.category.name == "城乡建设" and appeal.is_public
    assert appeal.title == "小区电梯坏了一个月" and "3号楼电梯" in appeal.body
    assert appeal.contact_name == "李阿姨" and appeal.contact_phone == "13812345678"
    assert appeal.department.code == "990100-zhujian"
    assert made["minsheng_department"] == appeal.department.name
    # The tracking credentials open the appeal on the JSON API, as any receipt's do.
    own = await client.get(f"/api/v1/appeals/{number}", auth=(
        made["minsheng_tracking_username"], made["minsheng_tracking_password"]))
    assert own.status_code == 200 and own.json()["tracking_number"] == number
    # The token maps to the request id; a forged one does not.
    token = await client.get(f"{V2}/tokens/{made['token']}.json")
    schemas.check_json(token.json(), schemas.TOKENS)
    assert token.json() == [{"service_request_id": number, "token": made["token"]}]
    schemas.check_xml((await client.get(f"{V2}/tokens/{made['token']}.xml")).text,
                      "service_requests")
    _errors(await client.get(f"{V2}/tokens/{number}.0000000000000000000.json"), 404)
    # Not published: not listed, and not shown by id.
    _errors(await client.get(f"{V2}/requests/{number}.json"), 404)
    listed = await client.get(f"{V2}/requests.json", params={"service_request_id": number})
    assert listed.json() == []
    used = await ApiClient.get(key_hash=api_clients.hash_token(key))
    assert used.last_used_at is not None


async def test_post_in_xml(client, key):
    response = await _post(client, {**GOOD, "api_key": key}, "xml")
    assert response.status_code == 201
    root = schemas.check_xml(response.text, "service_requests")
    number = root.findtext("request/service_request_id")
    assert await Appeal.exists(tracking_number=number)
    assert root.findtext("request/minsheng_tracking_password")


@pytest.mark.parametrize("sent", [None, "", "ms311-wrongwrongwrongwrongwrongwrongwr", "x" * 500])
async def test_a_missing_or_wrong_key_is_403_and_nothing_is_stored(client, sent):
    before = await Appeal.all().count()
    data = {**GOOD} if sent is None else {**GOOD, "api_key": sent}
    body = _errors(await _post(client, data), 403)
    assert body[0]["minsheng_field"] == "api_key"
    assert await Appeal.all().count() == before


async def test_a_revoked_key_is_403(client, key):
    assert (await _post(client, {**GOOD, "api_key": key})).status_code == 201
    found = await ApiClient.get(key_hash=api_clients.hash_token(key))
    await api_clients.revoke(audit_log.CLI, found)
    _errors(await _post(client, {**GOOD, "api_key": key}), 403)
    xml = await _post(client, {**GOOD, "api_key": key}, "xml")
    assert xml.status_code == 403
    assert schemas.check_xml(xml.text, "errors").findtext("error/code") == "403"


async def test_missing_fields_are_400_each_named(client, key):
    body = _errors(await _post(client, {"api_key": key, "service_code": "c01"}), 400)
    named = {e["minsheng_field"] for e in body}
    assert {"attribute[type]", "attribute[region]", "description"} <= named
    assert all(e["description"] for e in body)
    _errors(await _post(client, {**GOOD, "api_key": key, "service_code": ""}), 400)
    _errors(await _post(client, {**GOOD, "api_key": key, "service_code": "c99"}), 400)
    report = _errors(await _post(client, {**GOOD, "api_key": key,
                                          "attribute[type]": "report"}), 400)
    assert "我要留言" in report[0]["description"]
    _errors(await _post(client, {**GOOD, "api_key": key, "phone": ""}), 400)
    _errors(await _post(client, {**GOOD, "api_key": key, "attribute[public]": "maybe"}), 400)


async def test_post_refuses_other_bodies(client, key):
    _errors(await client.post(f"{V2}/requests.json", json={**GOOD, "api_key": key}), 400)
    twice = f"api_key={key}&service_code=c01&service_code=c02"
    _errors(await client.post(f"{V2}/requests.json", content=twice, headers={
        "content-type": "application/x-www-form-urlencoded"}), 400)
    _errors(await client.post(f"{V2}/requests.json", content=b"api_key=%ff%fe", headers={
        "content-type": "application/x-www-form-urlencoded"}), 400)
    _errors(await client.post(f"{V2}/requests.json", content=b"a=" + b"x" * 70000, headers={
        "content-type": "application/x-www-form-urlencoded"}), 413)
    _errors(await client.put(f"{V2}/requests.json", data=GOOD), 405)


async def test_failed_keys_back_off_the_client_address(app, key):
    """Past the free failures an address is locked, even with a right key (as passwords)."""
    async with _client_at(app, f"10.31.{id(key) % 250}.7") as client:
        for _ in range(6):
            assert (await _post(client, {**GOOD, "api_key": "ms311-guess"})).status_code == 403
        locked = await _post(client, {**GOOD, "api_key": key})
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
        assert locked.json()[0]["code"] == 429


async def _published(**fields) -> Publication:
    return await make_publication(question="公开的问题：电梯已经坏了一个月。",
                                  reply="已督促物业公司修复电梯。", category="城乡建设", **fields)


async def test_listing_shows_published_redacted_rows_only(client):
    shown = await _published()
    hidden = await _published(status="unpublished")
    report = await _published()
    await Publication.filter(id=report.id).update(type="report")
    numbers = {}
    for row in (shown, hidden, report):
        await row.fetch_related("appeal")
        numbers[row.id] = row.appeal.tracking_number
    ids = ",".join(numbers.values())
    response = await client.get(f"{V2}/requests.json", params={"service_request_id": ids})
    assert response.status_code == 200
    body = response.json()
    schemas.check_json(body, schemas.REQUESTS)
    assert [r["service_request_id"] for r in body] == [numbers[shown.id]]
    item = body[0]
    appeal = shown.appeal
    assert item["description"] == "公开的问题：电梯已经坏了一个月。"
    assert appeal.body not in response.text and "13812345678" not in response.text
    assert item["status_notes"] == "已督促物业公司修复电梯。"
    assert item["status"] == "closed" and item["service_code"] == "c01"
    assert item["minsheng_title"] == shown.title and item["minsheng_type"] == appeal.type
    assert item["minsheng_type_name"] == "投诉" and item["minsheng_overdue"] is False
    assert item["agency_responsible"] == item["minsheng_department"] == "云州市住房和城乡建设局"
    assert item["minsheng_due"] == item["expected_datetime"]
    xml = await client.get(f"{V2}/requests.xml", params={"service_request_id": ids})
    root = schemas.check_xml(xml.text, "service_requests")
    assert [r.findtext("service_request_id") for r in root] == [numbers[shown.id]]
    assert root.findtext("request/minsheng_overdue") == "false"

    one = await client.get(f"{V2}/requests/{numbers[shown.id]}.json")
    assert one.json() == body
    schemas.check_xml((await client.get(f"{V2}/requests/{numbers[shown.id]}.xml")).text,
                      "service_requests")
    for other in (hidden, report):
        _errors(await client.get(f"{V2}/requests/{numbers[other.id]}.json"), 404)


async def test_listing_filters_and_pages(client):
    rows = [await _published() for _ in range(3)]
    for row in rows:
        await row.fetch_related("appeal")
    ids = ",".join(r.appeal.tracking_number for r in rows)
    params = {"service_request_id": ids}
    newest_first = [r.appeal.tracking_number for r in reversed(rows)]
    listed = (await client.get(f"{V2}/requests.json", params=params)).json()
    assert [r["service_request_id"] for r in listed] == newest_first
    page = await client.get(f"{V2}/requests.json", params={**params, "page_size": "2",
                                                            "page": "2"})
    assert [r["service_request_id"] for r in page.json()] == newest_first[2:]
    # Without ids: the standard filters (the newest rows of the session, so look ours up).
    recent = await client.get(f"{V2}/requests.json", params={
        "service_code": "c01", "status": "closed", "page_size": "100"})
    assert recent.status_code == 200
    found = {r["service_request_id"] for r in recent.json()}
    assert newest_first[0] in found
    assert all(r["service_code"] == "c01" and r["status"] == "closed" for r in recent.json())
    none = await client.get(f"{V2}/requests.json", params={"status": "open", "page_size": "100",
                                                            "service_code": "c01"})
    assert newest_first[0] not in {r["service_request_id"] for r in none.json()}
    old = await client.get(f"{V2}/requests.json", params={
        "start_date": "2010-01-01T00:00:00Z", "end_date": "2010-02-01T00:00:00Z"})
    assert old.json() == []


@pytest.mark.parametrize("params", [
    {"page_size": "1000"}, {"page": "0"}, {"page_size": "x"}, {"status": "pending"},
    {"start_date": "yesterday"}, {"start_date": "2026-01-01T00:00:00"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
    {"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    {"service_request_id": ",".join(f"MS{i}" for i in range(101))},
])
async def test_bad_filters_are_400(client, params):
    body = _errors(await client.get(f"{V2}/requests.json", params=params), 400)
    assert body[0]["minsheng_field"] in params


# --- the administrator's pages ----------------------------------------------------------

async def test_admin_issues_a_key_once_and_revokes_it(client, new_client):
    await login(client, await make_staff(Role.ADMIN))
    page = await client.get("/admin/api-clients")
    assert page.status_code == 200
    name = unique("市民通App")
    issued = await post_form(client, "/admin/api-clients", {"name": name}, "/admin/api-clients")
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    key = issued.text.split('id="api-key">')[1].split("<")[0]
    assert key.startswith("ms311-")
    row = await ApiClient.get(name=name)
    assert row.key_hash == api_clients.hash_token(key) and key not in row.key_prefix + row.name
    listing = await client.get("/admin/api-clients")
    assert name in listing.text and key not in listing.text and row.key_prefix in listing.text
    resident = new_client()
    assert (await _post(resident, {**GOOD, "api_key": key})).status_code == 201

    revoked = await post_form(client, f"/admin/api-clients/{row.id}/revoke", {},
                              "/admin/api-clients")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/api-clients"
    _errors(await _post(resident, {**GOOD, "api_key": key}), 403)
    again = await post_form(client, f"/admin/api-clients/{row.id}/revoke", {},
                            "/admin/api-clients")
    assert again.status_code == 400 and "已吊销" in again.text
    entries = [e for e in await AuditEntry.filter(action__startswith="api_client_")
               .order_by("id") if (e.details or {}).get("api_client_id") == row.id]
    assert [e.action for e in entries] == ["api_client_create", "api_client_revoke"]
    assert all(key not in str(e.details) for e in entries)


async def test_admin_key_form_refuses_a_blank_name(client):
    await login(client, await make_staff(Role.ADMIN))
    before = await ApiClient.all().count()
    refused = await post_form(client, "/admin/api-clients", {"name": "   "},
                              "/admin/api-clients")
    assert refused.status_code == 400
    assert 'id="error-name"' in refused.text and "请填写应用名称" in refused.text
    assert await ApiClient.all().count() == before


async def test_idempotency_key_answers_a_retry_once(client, key):
    data = {**GOOD, "api_key": key}
    retry_key = {"Idempotency-Key": unique("open311-retry")}
    first = await _post(client, data, headers=retry_key)
    assert first.status_code == 201, first.text
    made = first.json()[0]
    assert made["minsheng_tracking_password"] and "idempotent-replayed" not in first.headers
    before = await Appeal.all().count()
    again = await _post(client, data, "xml", headers=retry_key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    root = schemas.check_xml(again.text, "service_requests")
    assert root.findtext("request/service_request_id") == made["service_request_id"]
    assert root.findtext("request/minsheng_tracking_password") == ""  # never stored
    assert "12345" in root.findtext("request/minsheng_password_recovery")
    assert made["minsheng_tracking_password"] not in again.text
    assert await Appeal.all().count() == before
    other_body = await _post(client, {**data, "description": GOOD["description"] + "补充。"},
                             headers=retry_key)
    assert _errors(other_body, 409)[0]["minsheng_field"] == "Idempotency-Key"
    # Another application's same key is another request.
    _, other_key = await api_clients.issue(audit_log.CLI, unique("另一个应用"))
    elsewhere = await _post(client, {**data, "api_key": other_key}, headers=retry_key)
    assert elsewhere.status_code == 201 and "idempotent-replayed" not in elsewhere.headers
    assert elsewhere.json()[0]["service_request_id"] != made["service_request_id"]
    _errors(await _post(client, data, headers={"Idempotency-Key": "has space"}), 400)


async def test_a_refused_post_stores_no_idempotency_record(client, key):
    retry_key = {"Idempotency-Key": unique("open311-fix")}
    _errors(await _post(client, {**GOOD, "api_key": key, "attribute[region]": ""},
                        headers=retry_key), 400)
    fixed = await _post(client, {**GOOD, "api_key": key}, headers=retry_key)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


async def test_a_row_without_category_or_department_is_still_listed(client):
    row = await _published()
    await Publication.filter(id=row.id).update(category_id=None, department_id=None)
    await row.fetch_related("appeal")
    number = row.appeal.tracking_number
    found = (await client.get(f"{V2}/requests/{number}.json")).json()
    schemas.check_json(found, schemas.REQUESTS)
    assert found[0]["service_code"] is None and found[0]["agency_responsible"] is None
    schemas.check_xml((await client.get(f"{V2}/requests/{number}.xml")).text,
                      "service_requests")


@pytest.fixture
async def strict_app(database, rules):
    from app.web.app import create_app
    from tests import conftest

    return create_app(conftest.test_settings(database, MINSHENG_RATE_LIMIT="10"), rules,
                      manage_db=False)


@pytest.mark.parametrize("path", ["/discovery.json", "/services.xml", "/services/c01.json",
                                  "/requests.json", "/requests/MS1.xml", "/tokens/x.y.json"])
async def test_every_read_is_rate_limited(strict_app, path):
    async with make_client(strict_app) as client:
        statuses = [(await client.get(V2 + path)).status_code for _ in range(11)]
        assert 429 not in statuses[:10] and statuses[10] == 429
        limited = await client.get(V2 + path)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        if path.endswith(".xml"):
            assert schemas.check_xml(limited.text, "errors").findtext("error/code") == "429"
        else:
            _errors(limited, 429)


def _client_at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver")


async def test_posts_are_rate_limited_and_a_bad_key_costs_more(strict_app, key):
    async with _client_at(strict_app, "10.32.0.1") as client:
        statuses = [(await _post(client, {**GOOD, "api_key": "ms311-bad"})).status_code
                    for _ in range(3)]
        # each failure costs 5 of the login bucket's 10 a minute: two tries, then refused
        assert statuses == [403, 403, 429]
    async with _client_at(strict_app, "10.32.0.2") as client:
        # a right key costs 1 of the login bucket; a refused body 1 of the submit bucket
        statuses = [(await _post(client, {"api_key": key})).status_code for _ in range(11)]
        assert statuses == [400] * 10 + [429]


async def test_address_and_coordinates_reach_the_handler(client, key):
    made = await _post(client, {**GOOD, "api_key": key, "address_string": "幸福路12号",
                                "lat": "41.8", "long": "123.4"})
    assert made.status_code == 201, made.text
    appeal = await Appeal.get(tracking_number=made.json()[0]["service_request_id"])
    assert "地点：幸福路12号" in appeal.body and "41.8，123.4" in appeal.body
    for bad_point in ({"lat": "41.8"}, {"lat": "x", "long": "1"}, {"lat": "91", "long": "1"},
                      {"lat": "nan", "long": "1"}):
        _errors(await _post(client, {**GOOD, "api_key": key, **bad_point}), 400)


async def test_xml_and_json_carry_markup_and_control_characters_safely(client):
    row = await make_publication(question="<b>电梯</b> & \x01 \"坏了\" ]]>", reply="已修复。",
                                 category="城乡建设")
    await row.fetch_related("appeal")
    number = row.appeal.tracking_number
    assert (await client.get(f"{V2}/requests/{number}.json")).json()[0]["description"] == \
        row.question
    xml = await client.get(f"{V2}/requests/{number}.xml")
    root = schemas.check_xml(xml.text, "service_requests")
    assert root.findtext("request/description") == "<b>电梯</b> &  \"坏了\" ]]>"
    assert "<b>" not in xml.text


async def test_discovery_beside_the_versions(client):
    found = await client.get("/open311/discovery.json")
    schemas.check_json(found.json(), schemas.DISCOVERY)
    assert found.json()["endpoints"][0]["url"].endswith("/open311/v2")
    _errors(await client.get("/open311/nothing.json"), 404)


async def test_an_approved_publication_is_listed_redacted_until_taken_down(client):
    """Through app.services.publication (the approvers' workflow): the listing shows what
    the approver published, never the resident's phone; unpublished, it is gone."""
    from app.services import publication
    from tests.factories import dispatcher, make_appeal

    made = await make_appeal("replied", public=True, title=unique("井盖丢失"),
                             body="幸福路井盖丢了，很危险，请联系我13912345678，谢谢。",
                             contact_phone="13912345678")
    appeal = await Appeal.get(id=made.appeal.id)
    number = appeal.tracking_number
    _errors(await client.get(f"{V2}/requests/{number}.json"), 404)  # not yet approved
    drafted = publication.draft(appeal)
    approver = await dispatcher()
    await publication.approve(appeal, approver, drafted.title, drafted.question, drafted.reply)
    shown = await client.get(f"{V2}/requests/{number}.json")
    assert shown.status_code == 200
    item = shown.json()[0]
    assert item["description"] == drafted.question and "13912345678" not in shown.text
    assert "幸福路井盖丢了" in item["description"]
    await publication.unpublish(await Appeal.get(id=appeal.id), approver, "群众要求撤下。")
    _errors(await client.get(f"{V2}/requests/{number}.json"), 404)
    listed = await client.get(f"{V2}/requests.json", params={"service_request_id": number})
    assert listed.json() == []
