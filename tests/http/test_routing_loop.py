"""Routing with a person in the loop: unsure appeals wait for a dispatcher, departments return
misroutes, the dispatcher's final choice becomes a labelled example, inspectors see why."""

import csv
import dataclasses
import json
import os
import subprocess
import sys

from app.domain.types import Role
from app.models import Appeal, AppealEvent, LabelledExample
from app.services.training_data import database_examples
from app.settings import ROOT
from tests.conftest import listed_on_some_page, login, make_staff, post_form
from tests.factories import submit


async def test_unsure_route_waits_in_triage_with_its_explanation(database, rules, app):
    strict = dataclasses.replace(rules, routing=dataclasses.replace(rules.routing,
                                                                    confidence_threshold=1.0))
    appeal = await submit(rules=strict, category="", body="我想问一下这个事情应该找哪个部门办理比较好。")
    assert appeal.status == "triage" and appeal.department_id is None
    record = appeal.routing
    assert record["model_version"] and record["rules_hash"] == rules.hash
    assert len(record["candidates"]) == 3
    assert all(0 <= c["probability"] <= 1 for c in record["candidates"])


async def test_return_and_reroute_records_a_labelled_example(database, rules, new_client):
    appeal = await submit(rules=rules, region="990121")  # 物业 keyword → 清河县住建局
    assert appeal.status == "assigned"
    handler, dispatcher, inspector = new_client(), new_client(), new_client()
    await login(handler, await make_staff(Role.HANDLER, "990121-zhujian"))
    page = f"/staff/appeals/{appeal.tracking_number}"
    refused = await post_form(handler, f"{page}/return", {"reason": "  "}, page)
    assert refused.status_code == 400 and "理由" in refused.text
    returned = await post_form(handler, f"{page}/return", {"reason": "属于市场监管职责"}, page)
    assert returned.status_code == 303
    appeal = await Appeal.get(id=appeal.id)
    assert (appeal.status, appeal.department_id) == ("triage", None)
    event = await AppealEvent.get(appeal_id=appeal.id, kind="return")
    assert event.note == "属于市场监管职责"
    assert (await event.department).code == "990121-zhujian"
    assert (await handler.get(page)).status_code == 404  # no longer theirs

    await login(dispatcher, await make_staff(Role.DISPATCHER))
    assert await listed_on_some_page(dispatcher, "/staff/triage?reason=returned",
                                     appeal.tracking_number)
    detail = await dispatcher.get(page)
    assert 'id="routing"' in detail.text and "命中关键词规则" in detail.text
    routed = await post_form(dispatcher, f"{page}/route",
                             {"department": "990121-shichang", "category": "商贸旅游"}, page)
    assert routed.status_code == 303
    appeal = await Appeal.get(id=appeal.id).prefetch_related("department", "category")
    assert (appeal.status, appeal.department.code, appeal.category.name) == \
        ("assigned", "990121-shichang", "商贸旅游")
    example = await LabelledExample.get(appeal_id=appeal.id)
    assert (example.category, example.department_code, example.source) == \
        ("商贸旅游", "990121-shichang", "return_reroute")
    assert (f"{appeal.title}\n{appeal.body}", "商贸旅游") in await database_examples()

    await login(inspector, await make_staff(Role.INSPECTOR))
    stats = await inspector.get("/staff/returns")
    assert stats.status_code == 200 and "清河县住房和城乡建设局" in stats.text
    assert 'id="routing"' in (await inspector.get(page)).text


async def test_handler_does_not_see_the_routing_explanation(database, rules, new_client):
    appeal = await submit(rules=rules, region="990121")
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, "990121-zhujian"))
    page = await handler.get(f"/staff/appeals/{appeal.tracking_number}")
    assert page.status_code == 200 and 'id="routing"' not in page.text


async def test_train_from_db_uses_the_platform_examples(database, rules, tmp_path):
    appeal = await submit(rules=rules, region="990222")
    await LabelledExample.create(appeal_id=appeal.id, category="城乡建设",
                                 department_code="990222-zhujian", source="manual_route",
                                 created_at=appeal.submitted_at)
    expected_from_db = len(await database_examples())
    data = tmp_path / "extra.csv"
    with data.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["title", "detail", "label"])
        for category in rules.categories:  # every label the database may hold, twice
            writer.writerow([f"{category}问题", f"关于{category}方面的问题反映", category])
            writer.writerow([f"{category}咨询", f"想咨询{category}方面的政策", category])
        for i in range(6):
            writer.writerow([f"公交车{i}路晚点", "公交车经常晚点，乘客等很久", "交通运输"])
            writer.writerow([f"学校{i}乱收费", "学校违规收取补课费", "教育文体"])
    out = tmp_path / "model"
    env = {**os.environ, "DATABASE_URL": database, "MINSHENG_DEV": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "classifier", "train", "--from-db", "--no-cv",
         "--data", str(data), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert f"database: {expected_from_db} examples" in run.stdout
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["n_examples"] == 12 + 2 * len(rules.categories) + expected_from_db


async def test_an_answered_appeal_in_a_sub_category_teaches_its_first_level(database, rules):
    """The classifier predicts first-level categories: an appeal answered under 其他 (a
    sub-category of many) is an example of its parent, not of a label named 其他."""
    from app.models import Category
    from tests.factories import make_appeal

    sub = await Category.filter(level=2, name="其他").prefetch_related("parent").first()
    made = (await make_appeal("closed", "990100-zhujian", rules=rules)).appeal
    await Appeal.filter(id=made.id).update(category_id=sub.id)

    labels = dict((text, label) for text, label in await database_examples())
    assert labels[f"{made.title}\n{made.body}"] == sub.parent.name
    assert "其他" not in set(labels.values())
