"""The queues and the resident's own list, through HTTP: scope, cursors, bad parameters."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.types import Role
from app.models import Appeal, Category, Department, Region
from app.services import accounts
from app.web.security import SESSION_COOKIE
from tests.conftest import PASSWORD, login, make_client, post_form
from tests.factories import make_appeal, make_resident, make_staff

PARAMS = ("status", "type", "department", "category", "region", "overdue", "submitted_from",
          "submitted_to", "after", "page")
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
GARBAGE = ("!!garbage", "eyJ4IjoxfQ", "%00", "WyJkdWUiLCIyMDI2LTAxLTAxIiwtMV0")


async def test_a_handler_queue_never_shows_another_department_or_a_report_naming_it(
        database, rules, new_client):
    own = await Department.get(code="990222-zhujian")
    mine = await make_appeal("accepted", own.code, rules=rules)
    elsewhere = await make_appeal("accepted", "990221-zhujian", rules=rules)
    report = await make_appeal("assigned", "990200-jiwei", rules=rules, type="report",
                               named_unit=own.code)
    await Appeal.filter(id=report.appeal.id).update(department_id=own.id)  # a wrong row
    handler = new_client()
    await login(handler, (await make_staff(Role.HANDLER, own.code)).username)

    for params in ({}, {"department": "990221-zhujian"}, {"overdue": "0"}):
        page = await handler.get("/staff/queue", params=params)
        assert page.status_code == 200 and mine.number in page.text
        assert elsewhere.number not in page.text and report.number not in page.text
    assert report.appeal.title not in page.text
    narrowed = await handler.get("/staff/queue", params={"status": "assigned"})
    assert narrowed.status_code == 200 and mine.number not in narrowed.text


async def test_queues_survive_garbage_cursors_and_filters(database, rules, new_client):
    await make_appeal("triage", rules=rules)
    dispatcher, handler = new_client(), new_client()
    await login(dispatcher, (await make_staff(Role.DISPATCHER)).username)
    await login(handler, (await make_staff(Role.HANDLER, "990222-zhujian")).username)
    for client, path in ((dispatcher, "/staff/triage"), (handler, "/staff/queue")):
        for cursor in GARBAGE:
            page = await client.get(f"{path}?after={cursor}")
            assert page.status_code == 200 and "翻页参数无效" in page.text
        page = await client.get(path, params={"type": "nonsense", "overdue": "yes"})
        assert page.status_code == 200 and "没有这个诉求类型" in page.text


async def test_a_resident_pages_through_only_their_own_appeals(database, rules, new_client):
    resident, other = await make_resident(), await make_resident()
    own = [await make_appeal("assigned", rules=rules, resident=resident) for _ in range(3)]
    foreign = await make_appeal("assigned", rules=rules, resident=other)
    browser = new_client()
    response = await post_form(browser, "/account/login",
                               {"email": resident.email, "password": PASSWORD},
                               "/account/login")
    assert response.status_code == 303
    page = await browser.get("/account/appeals")
    assert all(m.number in page.text for m in own) and foreign.number not in page.text
    for cursor in GARBAGE:
        again = await browser.get(f"/account/appeals?after={cursor}")
        assert again.status_code == 200 and "翻页参数无效" in again.text
        assert all(m.number in again.text for m in own)


@pytest.fixture
async def inspector(app):
    account = await make_staff(Role.INSPECTOR)
    async with make_client(app) as client:
        client.cookies.set(SESSION_COOKIE, await accounts.open_session(account=account))
        yield client


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(params=st.dictionaries(st.sampled_from(PARAMS), TEXT, max_size=5))
async def test_no_query_string_makes_the_inspector_list_fail(inspector, params):
    page = await inspector.get("/staff/appeals", params=params)
    assert page.status_code == 200, page.text




@pytest.mark.parametrize(("key", "model"), [("category", Category), ("region", Region),
                                            ("department", Department)])
async def test_a_code_longer_than_its_column_is_ignored_with_a_message(inspector, key, model):
    """Around the column's width a code is ignored with a message, never passed to a query
    that refuses it (a 45-character 领域 code used to fail the page)."""
    width = model._meta.fields_map["code"].max_length
    for length in (width, width + 1, width + 10):
        page = await inspector.get("/staff/appeals", params={key: "x" * length})
        assert page.status_code == 200, (length, page.text)
        assert "以下条件无法使用，已忽略" in page.text
