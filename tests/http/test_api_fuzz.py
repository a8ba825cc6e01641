"""Hypothesis-fuzzed API bodies, generated from and around the OpenAPI request schemas: never
a 5xx, only documented statuses, and a refused request stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.models import Appeal, AppealEvent
from app.rules import load_rules
from app.settings import ROOT
from app.web.api import routes as api_routes
from app.web.openapi import INFO, RATING, SUBMISSION, document
from tests.conftest import make_client
from tests.factories import make_appeal
from tests.http.test_api import API, DEPT, GOOD, basic, stored

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Any text at all, lone surrogates and U+0000 included.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _typed(kind: str, spec: dict[str, Any], realistic: list[str]) -> st.SearchStrategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    limit = spec.get("maxLength", 200)
    options = [st.sampled_from(spec["enum"])] if "enum" in spec else []
    options += [st.sampled_from(realistic)] if realistic else []
    options += [
        st.text(max_size=min(limit, 60)),
        st.text(ANY_CHAR, max_size=30),
        st.text(st.characters(codec="utf-8"), min_size=max(0, limit - 2), max_size=limit + 2),
        st.just(" " * 3 + "\t"),
        st.just("<script>alert(1)</script>"),
    ]
    return st.one_of(*options)


def field_values(spec: dict[str, Any], realistic: list[str]) -> st.SearchStrategy:
    """Values of the schema's types (realistic, edgy, at the length limits) and, now and
    then, any JSON value at all."""
    kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    typed = st.one_of(*(_typed(k, spec, realistic) for k in kinds))
    return st.one_of(typed, typed, typed, JSON_VALUES)


def bodies(schema: dict[str, Any], realistic: dict[str, list[str]],
           good: dict[str, Any] | None = None) -> st.SearchStrategy:
    """Objects from around the schema: some properties present (required ones usually),
    sometimes unknown keys, sometimes not an object at all."""
    properties = schema["properties"]

    @st.composite
    def around(draw) -> Any:
        body: dict[str, Any] = {}
        for name, spec in properties.items():
            keep = draw(st.integers(0, 9)) < (9 if name in schema["required"] else 6)
            if keep:
                body[name] = draw(field_values(spec, realistic.get(name, [])))
        if draw(st.integers(0, 5)) == 0:
            body.update(draw(st.dictionaries(ANY_TEXT, JSON_VALUES, min_size=1, max_size=3)))
        return body

    @st.composite
    def nearly_valid(draw) -> dict[str, Any]:
        """A good body with a field or two changed, dropped, or added."""
        body = dict(good or {})
        for name in draw(st.lists(st.sampled_from(sorted(properties)), max_size=2)):
            if draw(st.integers(0, 4)) == 0:
                body.pop(name, None)
            else:
                body[name] = draw(field_values(properties[name], realistic.get(name, [])))
        if draw(st.integers(0, 9)) == 0:
            body[draw(ANY_TEXT)] = draw(JSON_VALUES)
        return body

    return st.one_of(around(), around(), nearly_valid(), nearly_valid(), JSON_VALUES)


def _realistic() -> dict[str, list[str]]:
    rules = load_rules(ROOT / "routing_rules")
    return {
        "region": ["990102", "990100", "990121", "990000", "000000"],
        "category": [*list(rules.categories)[:4], "不存在的分类"],
        "title": [GOOD["title"], *rules.hot_topics[:2]],
        "body": [GOOD["body"], "太短了"],
        "contact_phone": ["13812345678", "+86 138-1234-5678", "abc"],
        "contact_email": ["li@example.cn", "not-an-email"],
        "named_unit": ["990102-zhujian", "990100-jiwei", "nope"],
        "text": ["合同和照片已上传至社区，编号A12。", "短"],
        "reason": ["电梯还是没修好，物业继续推脱。"],
    }


REALISTIC = _realistic()


def _encode(body: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as \\udXXX escapes, as any client could send them
    return json.dumps(body, ensure_ascii=True).encode()


def _documented(path: str, status: int) -> bool:
    return str(status) in document(api_routes)["paths"][path]["post"]["responses"]


def _check_error(response) -> None:
    error = response.json()["error"]
    assert {"code", "message", "field"} <= set(error) <= {"code", "message", "field", "details"}


@FUZZ
@given(body=bodies(SUBMISSION, REALISTIC, GOOD))
async def test_fuzzed_submissions_never_crash_and_refusals_store_nothing(database, app, body):
    before = await stored()
    async with make_client(app) as client:
        response = await client.post(f"{API}/appeals", content=_encode(body),
                                     headers={"Content-Type": "application/json"})
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    assert _documented(f"{API}/appeals", response.status_code), response.status_code
    after = await stored()
    if response.status_code == 201:
        assert after[0] == before[0] + 1
        appeal = await Appeal.get(tracking_number=response.json()["tracking_number"])
        assert appeal.title == body["title"].strip()
    else:
        _check_error(response)
        assert after == before, body


@pytest.fixture(scope="module")
async def waiting(database, app):
    """An appeal awaiting the resident's information, and its credentials."""
    made = await make_appeal("awaiting_info", DEPT, rules=app.state.rules, type="consultation",
                             public=False)
    return made, made.appeal


@FUZZ
@given(action=st.sampled_from(["info", "rating"]),
       info=bodies(INFO, REALISTIC, {"text": "合同和照片已上传至社区，编号A12。"}),
       rating=bodies(RATING, REALISTIC, {"rating": "satisfied"}))
async def test_fuzzed_info_and_rating_bodies(database, app, waiting, action, info, rating):
    made, appeal = waiting
    auth = basic(made.username, made.password)
    body = info if action == "info" else rating
    path = f"{API}/appeals/{{tracking_number}}/{action}"
    events = await AppealEvent.filter(appeal_id=appeal.id).count()
    status = (await Appeal.get(id=appeal.id)).status
    async with make_client(app) as client:
        response = await client.post(
            path.replace("{tracking_number}", made.number),
            content=_encode(body), headers={"Content-Type": "application/json", **auth})
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    assert _documented(path, response.status_code), response.status_code
    if response.status_code == 200:
        assert await AppealEvent.filter(appeal_id=appeal.id).count() == events + 1
    else:
        _check_error(response)
        assert await AppealEvent.filter(appeal_id=appeal.id).count() == events
        assert (await Appeal.get(id=appeal.id)).status == status
