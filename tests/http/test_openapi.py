"""The OpenAPI document is generated from the route table and the models: every route is in
it, every documented operation exists, real answers validate against the documented schemas,
and each limit reads the same in the form's message, the API's error and the document."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from app.models import Appeal
from app.schemas import limits, staff
from app.schemas.base import parse
from app.services import clocks, handling
from app.web.api import routes as api_routes
from app.web.openapi import document
from tests.conftest import GOOD_APPEAL, post_form, unique
from tests.factories import handler_of, make_appeal
from tests.http.test_api import API, DEPT, GOOD, basic, create


def _validator(name: str) -> Draft202012Validator:
    doc = document(api_routes)
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return Draft202012Validator(schema)


def _operation(path: str, method: str) -> dict:
    return document(api_routes)["paths"][path][method]


def assert_documented(response, path: str, method: str = "get") -> None:
    """The answer's status is documented for the operation and its body fits that schema."""
    answers = _operation(path, method)["responses"]
    assert str(response.status_code) in answers, (path, method, response.status_code)
    schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    errors = sorted(_validator(name).iter_errors(response.json()), key=str)
    assert not errors, [e.message for e in errors]


def test_every_api_route_is_documented_and_every_documented_operation_exists():
    table = {(route.path, method.lower()) for route in api_routes
             for method in route.methods - {"HEAD"}}
    documented = {(path, method) for path, item in document(api_routes)["paths"].items()
                  for method in item}
    assert table == documented


def test_the_document_is_valid_json_schema_throughout():
    for name in document(api_routes)["components"]["schemas"]:
        Draft202012Validator.check_schema({"$ref": f"#/components/schemas/{name}",
                                           "components": document(api_routes)["components"]})


async def test_catalog_and_document_answers_fit_their_schemas(database, client):
    assert_documented(await client.get(f"{API}/catalog"), f"{API}/catalog")


async def test_submission_receipt_and_view_fit_their_schemas(database, client):
    response = await client.post(f"{API}/appeals", json={**GOOD, "title": unique("文档")})
    assert response.status_code == 201
    assert_documented(response, f"{API}/appeals", "post")
    made = response.json()
    view = await client.get(f"{API}/appeals/{made['tracking_number']}",
                            headers=basic(made["username"], made["password"]))
    assert_documented(view, f"{API}/appeals/{{tracking_number}}")


async def test_info_and_rating_answers_fit_their_schemas(database, client):
    made = await make_appeal("accepted", DEPT, type="consultation", public=False)
    auth = basic(made.username, made.password)
    url = f"{API}/appeals/{made.number}"
    await clocks.ask_info(made.appeal, await handler_of(DEPT),
        parse(staff.AskInfo, {"question": "请补充物业合同的照片"}))
    supplied = await client.post(f"{url}/info", json={"text": "合同和照片已上传至社区。"},
                                 headers=auth)
    assert supplied.status_code == 200, supplied.text
    assert_documented(supplied, f"{API}/appeals/{{tracking_number}}/info", "post")
    appeal = await Appeal.get(id=made.appeal.id)
    await handling.reply(appeal, await handler_of(DEPT),
        parse(staff.Reply, {"reply": "已联系物业公司，电梯将于本周内修复。"}))
    rated = await client.post(f"{url}/rating", json={"rating": "satisfied"}, headers=auth)
    assert rated.status_code == 200, rated.text
    assert_documented(rated, f"{API}/appeals/{{tracking_number}}/rating", "post")
    assert rated.json()["reply"]["text"] == "已联系物业公司，电梯将于本周内修复。"
    assert [r["text"] for r in rated.json()["replies"]][-1] == rated.json()["reply"]["text"]


async def test_refusals_fit_the_error_schema(database, client):
    submit = f"{API}/appeals"
    cases = [
        await client.post(submit, json={**GOOD, "x": 1, "title": 5}),
        await client.post(submit, json={"title": "只有标题"}),
        await client.post(submit, content=b"{", headers={"Content-Type": "application/json"}),
        await client.post(submit, content=b"[]", headers={"Content-Type": "application/json"}),
        await client.post(submit, content=b"{}", headers={"Content-Type": "text/plain"}),
        await client.post(submit, json={**GOOD, "body": "长" * 30_000}),
    ]
    assert [c.status_code for c in cases] == [422, 422, 400, 400, 415, 413]
    for response in cases:
        assert_documented(response, submit, "post")
    made = await create(client)
    stranger = await client.get(f"{API}/appeals/{made['tracking_number']}",
                                headers=basic(made["username"], "wrong"))
    assert stranger.status_code == 404
    assert_documented(stranger, f"{API}/appeals/{{tracking_number}}")
    too_early = await client.post(f"{API}/appeals/{made['tracking_number']}/rating",
                                  json={"rating": "satisfied"},
                                  headers=basic(made["username"], made["password"]))
    assert too_early.status_code == 409
    assert_documented(too_early, f"{API}/appeals/{{tracking_number}}/rating", "post")


def _property(model: str, field: str) -> dict:
    return document(api_routes)["components"]["schemas"][model]["properties"][field]


LIMITS = [  # field, too much or too little, the limit, its keyword, the message's words
    ("title", "标" * (limits.TITLE_MAX + 1), limits.TITLE_MAX, "maxLength",
     f"标题不能超过 {limits.TITLE_MAX} 个字。"),
    ("body", "短", limits.BODY_MIN, "minLength", f"内容至少 {limits.BODY_MIN} 个字。"),
    ("body", "长" * (limits.BODY_MAX + 1), limits.BODY_MAX, "maxLength",
     f"内容不能超过 {limits.BODY_MAX} 个字"),
    ("contact_name", "名" * (limits.CONTACT_NAME_MAX + 1), limits.CONTACT_NAME_MAX,
     "maxLength", f"姓名不能超过 {limits.CONTACT_NAME_MAX} 个字。"),
]


@pytest.mark.parametrize(("field", "value", "limit", "keyword", "words"), LIMITS,
                         ids=[f"{f}-{k}" for f, _, _, k, _ in LIMITS])
async def test_each_limit_reads_the_same_on_the_form_the_api_and_the_document(
        database, client, field, value, limit, keyword, words):
    assert _property("Submission", field)[keyword] == limit
    form = await post_form(client, "/submit", {**GOOD_APPEAL, field: value}, "/submit")
    assert form.status_code == 400
    assert words in form.text
    response = await client.post(f"{API}/appeals", json={**GOOD, field: value})
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (422, "invalid", field)
    assert words in error["message"]
    assert re.search(rf"\b{limit}\b", error["message"])


def test_patterns_are_documented_from_the_same_constants():
    assert _property("InfoSupplied", "text")["maxLength"] == limits.INFO_MAX
    assert _property("Submission", "contact_phone")["pattern"] == limits.PHONE_PATTERN
    assert _property("Submission", "contact_email")["pattern"] == limits.EMAIL_PATTERN


async def test_the_information_limit_reads_the_same_on_the_api_and_the_tracking_form(
        database, client, new_client):
    made = await make_appeal("accepted", DEPT, type="consultation", public=False)
    await clocks.ask_info(made.appeal, await handler_of(DEPT),
        parse(staff.AskInfo, {"question": "请补充物业合同的照片"}))
    short = "短" * (limits.INFO_MIN - 1)
    words = f"至少 {limits.INFO_MIN} 个字"
    assert _property("InfoSupplied", "text")["minLength"] == limits.INFO_MIN
    response = await client.post(f"{API}/appeals/{made.number}/info", json={"text": short},
                                 headers=basic(made.username, made.password))
    assert (response.status_code, response.json()["error"]["field"]) == (422, "text")
    assert words in response.json()["error"]["message"]
    resident = new_client()
    await post_form(resident, "/track", {"username": made.username, "password": made.password},
                    "/track")
    form = await post_form(resident, "/track/info", {"info": short}, "/track/appeal")
    assert form.status_code == 400 and words in form.text
