"""Reference data from the web (issue 11, item 2): departments, hot topics, the working-day
calendar, keyword rules and the category table; the database as the rules' one source of
truth, `minsheng rules load` and `rules export` beside it.

These edits change departments, routing and deadlines for everyone, so the module runs on a
database of its own (and an app on it), not the session's."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest

from app import db
from app.domain.clock import to_local
from app.domain.routing import department_for_category
from app.domain.types import Role
from app.models import Appeal, AppealEvent, AuditEntry, Department, RulesVersion
from app.rules import load_rules, read_documents
from app.services import rules_store
from app.services.reference_edits import send_back
from app.settings import ROOT
from app.web.app import create_app
from tests.conftest import (
    USE_PG,
    drop_pg_database,
    fresh_database_url,
    login,
    make_client,
    post_form,
    submit_appeal,
    unique,
)
from tests.conftest import test_settings as settings_for
from tests.factories import make_appeal, make_staff

OWN = "990100-zhujian"  # where GOOD_APPEAL goes (its body names a 物业公司)
RULES_DIR = ROOT / "routing_rules"


@pytest.fixture(scope="module")
async def own_database(database, app, tmp_path_factory):
    url = await fresh_database_url(tmp_path_factory.mktemp("reference"))
    await db.disconnect()
    try:
        await db.upgrade(url)
        await db.connect(url)
        await rules_store.load_files(RULES_DIR, "测试")
        yield url
    finally:
        await db.disconnect()
        await db.connect(database)
        if USE_PG:
            await drop_pg_database(url)


def _app_on(url: str):
    made = create_app(settings_for(url), load_rules(RULES_DIR), manage_db=False)
    return made


@pytest.fixture(scope="module")
async def ref_app(own_database):
    made = _app_on(own_database)
    await made.state.live_rules.refresh()
    return made


@pytest.fixture(scope="module")
async def admin(ref_app):
    client = make_client(ref_app)
    await login(client, (await make_staff(Role.ADMIN)).username)
    yield client
    await client.aclose()


def rules_of(app):
    return app.state.rules


async def _post(client, path: str, data: dict, page: str):
    return await post_form(client, path, data, page)


async def _last_audit(action: str) -> AuditEntry:
    return await AuditEntry.filter(action=action).order_by("-id").first()


# --- departments ---------------------------------------------------------------------------

async def test_a_deactivated_department_gives_back_every_open_appeal_and_takes_no_new_one(
        ref_app, admin):
    rules = rules_of(ref_app)
    held = {state: await make_appeal(state, OWN, rules=rules)
            for state in ("assigned", "accepted", "awaiting_info", "extension_requested")}
    finished = {state: await make_appeal(state, OWN, rules=rules) for state in ("replied",
                                                                                "closed")}
    waiting = await Appeal.get(id=held["awaiting_info"].appeal.id)

    response = await _post(admin, f"/admin/departments/{OWN}/deactivate",
                           {"reason": "机构改革，职能并入城管局"}, "/admin/departments")
    assert response.status_code == 303
    page = await admin.get(response.headers["location"])
    assert "已停用云州市住房和城乡建设局，4 件在办诉求已退回分派中心" in page.text

    for state, made in held.items():
        appeal = await Appeal.get(id=made.appeal.id)
        assert (appeal.status, appeal.department_id) == ("triage", None), state
        events = await AppealEvent.filter(appeal_id=appeal.id, kind="department_closed")
        assert len(events) == 1
        assert events[0].from_status == ("accepted" if state == "extension_requested" else state)
        assert "机构改革" in events[0].note
    moved = await Appeal.get(id=waiting.id)
    assert moved.info_request == "" and moved.reply_due_at >= waiting.reply_due_at
    assert (await Appeal.get(id=held["extension_requested"].appeal.id)) \
        .extension_requested_days == 0
    for state, made in finished.items():
        assert (await Appeal.get(id=made.appeal.id)).status == state
    assert not (await Department.get(code=OWN)).active
    entry = await _last_audit("department_deactivate")
    assert entry.details["before"]["状态"] == "启用" and entry.details["after"]["状态"] == "停用"

    resident = make_client(ref_app)
    receipt = await submit_appeal(resident, title=unique("停用后"))
    appeal = await Appeal.get(tracking_number=receipt["number"])
    assert appeal.status == "triage" and appeal.department_id is None
    assert "云州市住房和城乡建设局”已停用" in appeal.routing["reason"]

    back = await _post(admin, f"/admin/departments/{OWN}/activate", {}, "/admin/departments")
    assert back.status_code == 303
    receipt = await submit_appeal(resident, title=unique("启用后"))
    appeal = await Appeal.get(tracking_number=receipt["number"]).prefetch_related("department")
    assert appeal.status == "assigned" and appeal.department.code == OWN
    await resident.aclose()


async def test_deactivation_needs_a_reason_said_beside_the_field(ref_app, admin):
    response = await _post(admin, f"/admin/departments/{OWN}/deactivate", {"reason": " "},
                           "/admin/departments")
    assert response.status_code == 400
    assert "原因至少 2 个字" in response.text
    assert (await Department.get(code=OWN)).active
    unknown = await _post(admin, "/admin/departments/990100-nosuch/deactivate",
                          {"reason": "不存在的部门"}, "/admin/departments")
    assert unknown.status_code == 404


async def test_another_process_sees_the_edit_and_what_it_routed_meanwhile_goes_back(
        own_database, ref_app, admin):
    other = _app_on(own_database)
    await other.state.live_rules.refresh()
    stale = make_client(other)
    response = await _post(admin, "/admin/departments/990100-renshe/deactivate",
                           {"reason": "合署办公"}, "/admin/departments")
    assert response.status_code == 303
    # Before its next check the other process still routes there...
    receipt = await submit_appeal(stale, title=unique("欠薪"), category="劳动和社会保障",
                                  body="老板拖欠农民工工资三个月了，讨薪无门，请帮帮我们。")
    routed = await Appeal.get(tracking_number=receipt["number"]).prefetch_related("department")
    assert routed.department.code == "990100-renshe"
    # ...and the worker's pass sends it back, with its event.
    assert await send_back(rules_of(other)) == 1
    routed = await Appeal.get(id=routed.id)
    assert routed.status == "triage"
    assert await AppealEvent.exists(appeal_id=routed.id, kind="department_closed")
    # Its check (every few seconds) brings the new rules in.
    stop = asyncio.Event()
    checking = asyncio.create_task(other.state.live_rules.keep_fresh(stop, 0.05))
    for _ in range(100):
        if not rules_of(other).departments["990100-renshe"].active:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await checking
    assert not rules_of(other).departments["990100-renshe"].active
    receipt = await submit_appeal(stale, title=unique("欠薪"), category="劳动和社会保障",
                                  body="老板拖欠农民工工资三个月了，讨薪无门，请帮帮我们。")
    assert (await Appeal.get(tracking_number=receipt["number"])).status == "triage"
    await _post(admin, "/admin/departments/990100-renshe/activate", {}, "/admin/departments")
    await stale.aclose()


# --- hot topics -----------------------------------------------------------------------------

async def test_hot_topic_edits_appear_on_the_quick_channel(ref_app, admin):
    resident = make_client(ref_app)
    topic = "冬季供暖温度不达标"
    added = await _post(admin, "/admin/hot-topics", {"action": "add", "topic": topic},
                        "/admin/hot-topics")
    assert added.status_code == 303
    quick = (await resident.get("/quick")).text
    assert topic in quick
    topics = rules_of(ref_app).hot_topics
    assert topics[-1] == topic
    await _post(admin, "/admin/hot-topics", {"action": "up", "topic": topic}, "/admin/hot-topics")
    assert rules_of(ref_app).hot_topics[-2] == topic
    quick = (await resident.get("/quick")).text
    assert quick.index(topic) < quick.index(topics[-2])
    entry = await _last_audit("hot_topics_change")
    assert entry.details["before"]["热门话题"] != entry.details["after"]["热门话题"]

    twice = await _post(admin, "/admin/hot-topics", {"action": "add", "topic": topic},
                        "/admin/hot-topics")
    assert twice.status_code == 400 and "该话题已在列表中" in twice.text
    assert f'value="{topic}"' in twice.text

    removed = await _post(admin, "/admin/hot-topics", {"action": "remove", "topic": topic},
                          "/admin/hot-topics")
    assert removed.status_code == 303
    assert topic not in (await resident.get("/quick")).text
    await resident.aclose()


# --- the working-day calendar ---------------------------------------------------------------

def _next_working_day(rules, after):
    day = after + timedelta(days=1)
    while not rules.calendar.day(day).working:
        day += timedelta(days=1)
    return day


async def test_a_calendar_override_from_the_web_moves_running_deadlines_and_logs_each(
        ref_app, admin):
    rules = rules_of(ref_app)
    running = [(await make_appeal(state, OWN, rules=rules, type="consultation")).appeal
               for state in ("assigned", "accepted")]
    closed = (await make_appeal("closed", OWN, rules=rules)).appeal
    day = _next_working_day(rules, to_local(running[0].submitted_at).date())

    response = await _post(admin, "/admin/calendar",
                           {"date": day.isoformat(), "working": "holiday",
                            "reason": "防汛临时停工"}, "/admin/calendar")
    assert response.status_code == 303
    page = await admin.get("/admin/calendar")
    assert "防汛临时停工" in page.text and "答复期限已重新计算" in page.text
    assert not rules_of(ref_app).calendar.day(day).working
    for before in running:
        after = await Appeal.get(id=before.id)
        assert to_local(after.reply_due_at).date() > to_local(before.reply_due_at).date()
        event = await AppealEvent.get(appeal_id=before.id, kind="deadline_moved")
        assert "防汛临时停工" in event.note
        assert event.data["old_due_at"] == before.reply_due_at.isoformat()
    assert (await Appeal.get(id=closed.id)).reply_due_at == closed.reply_due_at
    entry = await _last_audit("calendar_override_add")
    assert (entry.details["before"]["工作日"], entry.details["after"]["工作日"]) == ("是", "否")

    removed = await _post(admin, "/admin/calendar/remove", {"date": day.isoformat()},
                          "/admin/calendar")
    assert removed.status_code == 303
    for before in running:
        assert (await Appeal.get(id=before.id)).reply_due_at == before.reply_due_at
        assert await AppealEvent.filter(appeal_id=before.id, kind="deadline_moved").count() == 2


async def test_a_wrong_date_is_said_beside_the_field_with_what_was_typed(ref_app, admin):
    response = await _post(admin, "/admin/calendar",
                           {"date": "2026-13-45", "working": "holiday", "reason": "测试"},
                           "/admin/calendar")
    assert response.status_code == 400
    assert "请按 YYYY-MM-DD 填写有效的日期" in response.text
    assert 'value="2026-13-45"' in response.text and 'value="测试"' in response.text


# --- keyword rules and the category table -------------------------------------------------

NOISE = {"body": "小区楼下每天晚上跳广场舞到十一点，音响很大，严重影响休息，请管一管。",
         "title": "广场舞扰民"}


async def test_a_keyword_rule_edit_changes_where_a_new_submission_goes(ref_app, admin):
    resident = make_client(ref_app)
    page = await admin.get("/admin/routing")
    assert rules_of(ref_app).hash in page.text
    added = await _post(admin, "/admin/routing/keywords",
                        {"action": "add", "name": "噪音扰民", "words": "广场舞、噪音 扰民",
                         "department": "shengtai", "category": "环境保护"}, "/admin/routing")
    assert added.status_code == 303
    receipt = await submit_appeal(resident, **NOISE)
    appeal = await Appeal.get(tracking_number=receipt["number"]).prefetch_related("department")
    assert appeal.department.code == "990100-shengtai"
    assert appeal.routing["keyword_rule"] == "噪音扰民"
    assert appeal.routing["rules_hash"] == rules_of(ref_app).hash
    entry = await _last_audit("keyword_rule_add")
    assert entry.details["after"]["关键词"] == "广场舞、噪音、扰民"
    assert entry.details["before"]["关键词"] == ""

    empty = await _post(admin, "/admin/routing/keywords",
                        {"action": "update", "original": "噪音扰民", "name": "噪音扰民",
                         "words": "", "department": "shengtai"}, "/admin/routing")
    assert empty.status_code == 400 and "请至少填写一个关键词" in empty.text

    await _post(admin, "/admin/routing/keywords", {"action": "remove", "original": "噪音扰民"},
                "/admin/routing")
    assert all(r.name != "噪音扰民" for r in rules_of(ref_app).routing.keyword_rules)
    await resident.aclose()


async def test_the_category_table_is_edited_row_by_row(ref_app, admin):
    changed = await _post(admin, "/admin/routing/categories",
                          {"category": "教育文体", "department": "wenlv"}, "/admin/routing")
    assert changed.status_code == 303
    assert department_for_category(rules_of(ref_app), "990100", "教育文体") == "990100-wenlv"
    entry = await _last_audit("category_department_change")
    assert (entry.details["before"]["部门类型"], entry.details["after"]["部门类型"]) == \
        ("jiaoyu", "wenlv")
    bad = await _post(admin, "/admin/routing/categories",
                      {"category": "教育文体", "department": "nosuch"}, "/admin/routing")
    assert bad.status_code == 400 and "请选择有效的部门类型" in bad.text
    await _post(admin, "/admin/routing/categories",
                {"category": "教育文体", "department": "jiaoyu"}, "/admin/routing")


# --- the database as the source of truth: load and export ---------------------------------

def minsheng(url: str, *args: str, rules_dir=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "MINSHENG_DEV": "1"}
    if rules_dir is not None:
        env["MINSHENG_RULES_DIR"] = str(rules_dir)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


async def test_export_writes_files_that_check_and_load_back_to_the_same_rules(
        own_database, ref_app, admin, tmp_path):
    await _post(admin, "/admin/hot-topics", {"action": "add", "topic": "导出测试话题"},
                "/admin/hot-topics")
    head = await rules_store.newest()
    run = minsheng(own_database, "rules", "export", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert head.hash in run.stdout
    check = minsheng(own_database, "rules", "check", "--rules", str(tmp_path / "out"))
    assert check.returncode == 0, check.stderr
    exported = load_rules(tmp_path / "out")
    assert exported.hash == head.hash == rules_of(ref_app).hash
    assert read_documents(tmp_path / "out") == head.documents
    assert "导出测试话题" in exported.hot_topics


async def test_rules_load_never_silently_undoes_a_web_edit(own_database, ref_app, admin,
                                                         tmp_path):
    topic = unique("网页话题")
    await _post(admin, "/admin/hot-topics", {"action": "add", "topic": topic},
                "/admin/hot-topics")
    edited = await rules_store.newest()

    # The shipped files did not change: the web's edit stays, and is said.
    run = minsheng(own_database, "rules", "load")
    assert run.returncode == 0, run.stderr
    assert "保留了网页上的修改：hot_topics.yaml" in run.stdout
    assert topic in rules_store.rules_of(await rules_store.newest()).hot_topics

    # A file changed where the web also edited: refused, naming it, nothing written.
    changed = tmp_path / "rules"
    shutil.copytree(RULES_DIR, changed)
    (changed / "hot_topics.yaml").write_text("hot_topics:\n  - 文件里的话题\n", encoding="utf-8")
    (changed / "clocks.yaml").write_text(
        (RULES_DIR / "clocks.yaml").read_text(encoding="utf-8")
        .replace("ack_days: 1", "ack_days: 2"), encoding="utf-8")
    count = await RulesVersion.all().count()
    refused = minsheng(own_database, "rules", "load", rules_dir=changed)
    assert refused.returncode != 0
    assert "hot_topics.yaml" in refused.stderr and "--force" in refused.stderr
    assert await RulesVersion.all().count() == count
    assert (await rules_store.newest()).hash == (await rules_store.newest()).hash

    # A restart reads the database, not the files.
    restarted = _app_on(own_database)
    await restarted.state.live_rules.refresh()
    assert topic in rules_of(restarted).hot_topics

    # With --force the files win, everywhere.
    forced = minsheng(own_database, "rules", "load", "--force", rules_dir=changed)
    assert forced.returncode == 0, forced.stderr
    newest = rules_store.rules_of(await rules_store.newest())
    assert newest.hot_topics == ["文件里的话题"] and newest.policies.ack_days == 2
    assert edited.hash != newest.hash
    # The shipped files again, so the module leaves the rules as it found them.
    assert minsheng(own_database, "rules", "load", "--force").returncode == 0


# --- two administrators at once ----------------------------------------------------------

async def test_two_edits_at_once_lose_neither_silently(ref_app):
    from app.schemas.reference import HotTopicEdit
    from app.services import reference_edits
    from app.services.errors import ServiceError
    from app.services.workflow import SYSTEM

    topics = [unique("同时甲"), unique("同时乙")]
    results = await asyncio.gather(*(
        reference_edits.edit_hot_topics(rules_of(ref_app), SYSTEM,
                                        HotTopicEdit(action="add", topic=topic))
        for topic in topics), return_exceptions=True)
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert all(r.code == "conflict" for r in refused)
    newest = rules_store.rules_of(await rules_store.newest()).hot_topics
    kept = [topic for topic in topics if topic in newest]
    assert len(kept) + len(refused) == 2


async def test_inspectors_read_each_edit_with_before_and_after_in_the_audit_log(ref_app,
                                                                                 admin):
    await _post(admin, "/admin/hot-topics", {"action": "add", "topic": "审计可见的话题"},
                "/admin/hot-topics")
    inspector = make_client(ref_app)
    await login(inspector, (await make_staff(Role.INSPECTOR)).username)
    page = await inspector.get("/staff/audit?action=hot_topics_change")
    assert page.status_code == 200
    assert "修改热门话题" in page.text and "新增热门话题“审计可见的话题”" in page.text
    entry = await _last_audit("hot_topics_change")
    assert "审计可见的话题" not in entry.details["before"]["热门话题"]
    assert "审计可见的话题" in entry.details["after"]["热门话题"]
    assert entry.actor_id is not None and entry.at is not None
    await inspector.aclose()
