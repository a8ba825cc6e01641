"""Exports of the inspector's list: every row the filters match, read in batches, masked,
neutralised against formulas, and each one written to the audit log."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from app.domain.types import Role
from app.models import Account, Appeal, AuditEntry
from tests.conftest import login, make_staff, unique
from tests.factories import submit

DAY = datetime(2011, 3, 15, 2, 0, tzinfo=UTC)  # a day no other test submits on
FILTER = {"submitted_from": "2011-03-15", "submitted_to": "2011-03-15", "type": "complaint"}
FORMULA = '=HYPERLINK("http://x","y")'
SECRETS = ("13812345678", "13900001111", "zhang.san@example.com", "whistle@example.com",
           "110105194912310021", "李阿姨")


@pytest.fixture(scope="module")
async def exported(database, rules):
    """Appeals of one day: a formula title, contacts in titles, more than a batch's worth,
    and one of another type (which the filter leaves out)."""
    titles = [FORMULA, "+1电梯坏了请回电13900001111", "-物业不修，联系 zhang.san@example.com",
              "@楼上漏水 身份证110105194912310021", *(unique("导出") for _ in range(5))]
    for title in titles:
        await submit(rules=rules, at=DAY, title=title, contact_email="whistle@example.com")
    await submit(rules=rules, at=DAY, type="suggestion", title=unique("建议"))
    return titles


@pytest.fixture
async def inspector(app, new_client):
    app.state.export_batch_size = 3  # 9 rows: several batches and a last short one
    client = new_client()
    username = await make_staff(Role.INSPECTOR)
    await login(client, username)
    yield client, await Account.get(username=username)
    del app.state.export_batch_size


async def _expected() -> set[str]:
    return set(await Appeal.filter(submitted_at=DAY, type="complaint")
               .values_list("tracking_number", flat=True))


def _csv_rows(response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list[str]]:
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return [[c if c is not None else "" for c in row]
            for row in book.active.iter_rows(values_only=True)]


async def _export(client, fmt: str) -> list[list[str]]:
    response = await client.get("/staff/appeals", params={**FILTER, "format": fmt})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return _csv_rows(response) if fmt == "csv" else _xlsx_rows(response)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_export_holds_exactly_the_filtered_rows_across_batches(exported, inspector, fmt):
    client, _ = inspector
    rows = await _export(client, fmt)
    assert rows[0] == ["受理编号", "类型", "领域", "地区", "承办部门", "状态", "提交时间",
                       "答复期限", "答复时间", "超期", "标题"]
    numbers = [row[0] for row in rows[1:]]
    assert len(numbers) == len(set(numbers)) == 9
    assert set(numbers) == await _expected()
    assert all(row[1] == "投诉" and row[6] == "2011-03-15 10:00" for row in rows[1:])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_formulas_are_neutralised_and_contacts_masked(exported, inspector, fmt):
    client, _ = inspector
    rows = await _export(client, fmt)
    titles = {row[10] for row in rows[1:]}
    assert "'" + FORMULA in titles
    assert "'+1电梯坏了请回电139****1111" in titles
    assert "'-物业不修，联系 z***@example.com" in titles
    assert "'@楼上漏水 身份证110***********0021" in titles
    assert not any(str(cell).startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    text = repr(rows)
    for secret in SECRETS:
        assert secret not in text


async def test_xlsx_has_no_formula_cell(exported, inspector):
    client, _ = inspector
    response = await client.get("/staff/appeals", params={**FILTER, "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


async def test_each_export_is_audited_with_who_filter_and_count(exported, inspector):
    client, account = inspector
    before = await AuditEntry.filter(action="export").count()
    await _export(client, "csv")
    await _export(client, "xlsx")
    entries = await AuditEntry.filter(action="export").order_by("-id").limit(2)
    assert await AuditEntry.filter(action="export").count() == before + 2
    assert [e.details["format"] for e in entries] == ["xlsx", "csv"]
    for entry in entries:
        assert entry.actor_id == account.id and entry.actor_label == account.display_name
        assert entry.details["filters"] == FILTER
        assert entry.details["rows"] == 9 and entry.details["complete"] is True
    log = await client.get("/staff/audit/exports")
    assert log.status_code == 200
    assert account.display_name in log.text and "提交日期起：2011-03-15" in log.text
    assert "类型：投诉" in log.text


async def test_export_log_pages_by_key(exported, inspector):
    client, _ = inspector
    for _ in range(2):
        await _export(client, "csv")
    newest = await AuditEntry.filter(action="export").order_by("-id").first()
    page = await client.get("/staff/audit/exports", params={"after": str(newest.id)})
    assert page.status_code == 200 and "回到第一页" in page.text
    bad = await client.get("/staff/audit/exports", params={"after": "x'; DROP"})
    assert bad.status_code == 200 and "翻页参数无效" in bad.text


async def test_an_unusable_filter_refuses_the_export_instead_of_widening_it(exported,
                                                                            inspector):
    client, _ = inspector
    before = await AuditEntry.filter(action="export").count()
    response = await client.get("/staff/appeals", params={**FILTER, "department": "nope",
                                                         "format": "csv"})
    assert response.status_code == 400
    assert "没有这个承办部门" in response.text
    assert await AuditEntry.filter(action="export").count() == before


async def test_an_unknown_format_shows_the_list_with_a_message(exported, inspector):
    client, _ = inspector
    page = await client.get("/staff/appeals", params={**FILTER, "format": "pdf"})
    assert page.status_code == 200 and "导出格式只能是 CSV 或 XLSX" in page.text


async def test_the_list_page_links_exports_with_its_filters(exported, inspector):
    client, _ = inspector
    page = await client.get("/staff/appeals", params=FILTER)
    assert "submitted_from=2011-03-15&amp;submitted_to=2011-03-15&amp;format=csv" \
        in page.text.replace("type=complaint&amp;", "")
    assert "format=xlsx" in page.text


@pytest.mark.parametrize("role", [Role.HANDLER, Role.DISPATCHER, Role.ADMIN])
async def test_other_staff_may_not_export_or_read_the_log(exported, app, new_client, role):
    client = new_client()
    await login(client, await make_staff(role, "990100-zhujian" if role == Role.HANDLER
                                         else None))
    before = await AuditEntry.filter(action="export").count()
    for fmt in ("csv", "xlsx"):
        response = await client.get("/staff/appeals", params={**FILTER, "format": fmt})
        assert response.status_code == 404
        assert FORMULA not in response.text
    assert (await client.get("/staff/audit/exports")).status_code == 404
    assert await AuditEntry.filter(action="export").count() == before


async def test_anonymous_export_goes_to_login(exported, new_client):
    response = await new_client().get("/staff/appeals", params={"format": "csv"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
