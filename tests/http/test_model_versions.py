"""Issue 14.5: a candidate classifier goes live only if it is not worse than the live one on the
city's held-out slice; versions are kept, rollback restores the previous one, all logged and
shown to inspectors; the running app switches without a restart."""

import os
import subprocess
import sys

import pytest

from app.domain.types import Role
from app.models import Appeal, LabelledExample, ModelEvent, ModelVersion, SweepMark
from app.services import model_versions, predictor, routing
from app.services.training_data import database_examples
from app.settings import ROOT
from tests.conftest import TEST_VAR, login, make_staff, unique
from tests.factories import dispatcher, make_appeal

SEED_CACHE = TEST_VAR / "seed-model"
# Three categories, each with words of its own; the seed model was never taught these titles.
TOPICS = {
    "交通运输": ("公交车晚点", "公交车站台的公交车经常晚点，红绿灯路口拥堵，乘客等车很久"),
    "教育文体": ("学校乱收费", "学校老师向学生收取补课费，学费之外另收资料费，家长反映"),
    "环境保护": ("工厂排污", "工厂夜间偷排污水，河道发黑发臭，废气刺鼻，噪音扰民"),
}
ROTATED = {"交通运输": "教育文体", "教育文体": "环境保护", "环境保护": "交通运输"}


@pytest.fixture
async def clean_versions():
    """The model tables are this module's alone; each test starts and ends without rows."""
    async def wipe():
        await ModelEvent.all().delete()
        await ModelVersion.all().delete()
        await SweepMark.filter(key__startswith="retrain:").delete()
    await wipe()
    yield
    await wipe()


async def _plant(rules, marker: str, train: int, held: int = 2) -> list[Appeal]:
    """Labelled appeals of the three topics (as the dispatchers' routes label them), `train`
    on the training side and `held` in the held-out slice of each; rejected, so that they
    stay out of the queues other tests read."""
    planted = []
    for category, (title, body) in TOPICS.items():
        wanted = {True: held, False: train}
        i = 0
        while any(wanted.values()):
            i += 1
            text = (f"{marker}{title}{i}号", f"{body}，编号{i}。")
            side = model_versions.held_out("\n".join(text))
            if not wanted[side]:
                continue
            wanted[side] -= 1
            appeal = (await make_appeal("rejected", rules=rules, title=text[0],
                                        body=text[1])).appeal
            await LabelledExample.create(appeal_id=appeal.id, category=category,
                                         department_code="990100-jiaotong",
                                         source="manual_route", created_at=appeal.submitted_at)
            planted.append(appeal)
    return planted


async def _mine(marker: str) -> list[tuple[str, str]]:
    return [(t, label) for t, label in await database_examples() if t.startswith(marker)]


async def _relabel(planted: list[Appeal], rotate: bool) -> None:
    """Rotate (or restore) the labels of the training side; the held-out side stays right."""
    for appeal in planted:
        if model_versions.held_out(f"{appeal.title}\n{appeal.body}"):
            continue
        example = await LabelledExample.get(appeal_id=appeal.id)
        right = next(c for c, (title, _) in TOPICS.items() if title in appeal.title)
        example.category = ROTATED[right] if rotate else right
        await example.save()


async def test_worse_is_kept_better_promoted_rollback_restores(database, rules, tmp_path,
                                                               clean_versions, new_client):
    marker = unique("模型")
    planted = await _plant(rules, marker, 8, 3)
    root = tmp_path / "models"

    first = await model_versions.retrain(root, SEED_CACHE, "测试", 20, base="none",
                                         examples=await _mine(marker))
    assert first.ok and "已启用" in first.message, first.message
    v1 = await ModelVersion.get(version=first.version)
    assert v1.status == "live" and predictor.live_folder(root) == root / "versions" / v1.folder
    assert v1.figures["candidate"]["macro_f1"] >= v1.figures["live"]["macro_f1"]

    await _relabel(planted, rotate=True)  # a candidate taught wrong labels
    worse = await model_versions.retrain(root, SEED_CACHE, "测试", 20, base="none",
                                         examples=await _mine(marker))
    assert not worse.ok and "未启用" in worse.message and "较差" in worse.message
    rejected = await ModelVersion.get(version=worse.version)
    assert rejected.status == "rejected"
    assert rejected.figures["candidate"]["macro_f1"] < rejected.figures["live"]["macro_f1"]
    assert rejected.figures["live"]["version"] == v1.version
    assert (root / "versions" / rejected.folder / "meta.json").is_file()  # kept, not live
    assert predictor.live_folder(root) == root / "versions" / v1.folder
    assert (await ModelVersion.get(id=v1.id)).status == "live"

    await _relabel(planted, rotate=False)
    planted += await _plant(rules, marker + "补", 1, 0)  # new data: a version of its own
    second = await model_versions.retrain(root, SEED_CACHE, "测试", 20, base="none",
                                          examples=await _mine(marker))
    assert second.ok, second.message
    assert (await ModelVersion.get(id=v1.id)).status == "retired"
    v2 = await ModelVersion.get(version=second.version)
    assert predictor.live_folder(root) == root / "versions" / v2.folder

    back = await model_versions.rollback(root, "测试")
    assert back.ok and back.version == v1.version
    assert predictor.live_folder(root) == root / "versions" / v1.folder
    assert (await ModelVersion.get(id=v1.id)).status == "live"
    assert (await ModelVersion.get(id=v2.id)).status == "withdrawn"
    again = await model_versions.rollback(root, "测试")  # nothing promoted before v1
    assert not again.ok and predictor.live_folder(root) == root / "versions" / v1.folder

    events = await ModelEvent.all().order_by("id").prefetch_related("version")
    assert [(e.action, e.version.version) for e in events] == [
        ("promote", v1.version), ("reject", rejected.version), ("promote", v2.version),
        ("rollback", v1.version)]
    assert all(e.reason and e.figures for e in events)

    inspector = new_client()
    await login(inspector, await make_staff(Role.INSPECTOR))
    page = await inspector.get("/staff/models")
    assert page.status_code == 200
    for v in (v1, rejected, v2):
        assert f'data-version="{v.version}"' in page.text
    assert f'data-version="{v1.version}" data-status="live"' in page.text
    assert 'data-action="rollback"' in page.text and 'data-action="reject"' in page.text
    assert f"{rejected.figures['candidate']['macro_f1']:.4f}" in page.text


async def test_too_few_examples_keep_the_live_model(database, rules, tmp_path, clean_versions):
    marker = unique("少样本")
    await _plant(rules, marker, 1, 1)
    root = tmp_path / "models"
    kept = await model_versions.retrain(root, SEED_CACHE, "测试", 200,
                                        examples=await _mine(marker))
    assert not kept.ok and "样本不足" in kept.message and "6 条" in kept.message
    assert predictor.live_folder(root) is None and not await ModelVersion.exists()
    event = await ModelEvent.get()
    assert event.action == "keep" and event.version_id is None and "样本不足" in event.reason


async def test_the_running_app_switches_to_the_promoted_model(database, rules, tmp_path,
                                                              clean_versions):
    marker = unique("切换")
    await _plant(rules, marker, 3, 1)
    root = tmp_path / "models"
    before = predictor.current()
    await predictor.start(root, SEED_CACHE, recheck=0.0)  # nothing promoted yet: the seed model
    try:
        seed_version = predictor.current().version
        _, version = await predictor.predict("公交车晚点")
        assert version == seed_version
        promoted = await model_versions.retrain(root, SEED_CACHE, "测试", 10, base="none",
                                                examples=await _mine(marker))
        assert promoted.ok, promoted.message
        _, version = await predictor.predict("公交车晚点")
        assert version == promoted.version != seed_version
    finally:
        predictor.install(before, None)
        predictor.RECHECK = 10.0


async def test_a_dispatcher_reroute_of_an_assigned_appeal_is_labelled(database, rules):
    from app.schemas import staff
    from app.schemas.base import parse

    appeal = (await make_appeal("assigned", "990100-zhujian", rules=rules)).appeal
    await routing.route_manual(rules, appeal, await dispatcher(), parse(
        staff.Route, {"department": "990100-jiaoyu", "category": "教育文体"}))
    example = await LabelledExample.get(appeal_id=appeal.id)
    assert (example.category, example.department_code, example.source) == \
        ("教育文体", "990100-jiaoyu", "reroute_assigned")
    assert (f"{appeal.title}\n{appeal.body}", "教育文体") in await database_examples()


async def test_scheduled_retrain_waits_for_its_period(database, tmp_path, clean_versions):
    from datetime import timedelta

    from app.services.workflow import now_utc

    # Noon UTC, so that an hour later is the same day whenever the test runs.
    root, now = tmp_path / "models", now_utc().replace(hour=12, minute=0, second=0)
    assert await model_versions.scheduled_retrain(root, SEED_CACHE, 0, 10, now) is None
    # First sight starts the clock; nothing runs until every_days have passed.
    assert await model_versions.scheduled_retrain(root, SEED_CACHE, 7, 10**9, now) is None
    assert await model_versions.scheduled_retrain(
        root, SEED_CACHE, 7, 10**9, now + timedelta(days=6)) is None
    ran = await model_versions.scheduled_retrain(root, SEED_CACHE, 7, 10**9,
                                                 now + timedelta(days=7))
    assert ran is not None and "样本不足" in ran.message
    assert (await ModelEvent.get()).actor_label == model_versions.SCHEDULED
    # The same day again (another worker): claimed already.
    assert await model_versions.scheduled_retrain(
        root, SEED_CACHE, 7, 10**9, now + timedelta(days=7, hours=1)) is None


def _cli(database: str, var: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database, "MINSHENG_DEV": "1",
           "MINSHENG_VAR_DIR": var}
    env.pop("MINSHENG_MODEL_DIR", None)
    return subprocess.run([sys.executable, "-m", "app.cli", "classifier", *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


async def test_cli_exit_codes(database, rules, tmp_path, clean_versions):
    var = tmp_path / "var"
    kept = _cli(database, str(var), "retrain", "--min-examples", "100000000")
    assert kept.returncode == 1, kept.stderr
    assert "样本不足" in kept.stdout
    nothing = _cli(database, str(var), "rollback")
    assert nothing.returncode == 1 and "无法回退" in nothing.stdout

    marker = unique("命令")
    await _plant(rules, marker, 3, 1)
    root = model_versions.model_root(None, var)
    for extra in ("", "补"):
        if extra:
            await _plant(rules, marker + extra, 1, 0)
        done = await model_versions.retrain(root, SEED_CACHE, "测试", 10, base="none",
                                            examples=await _mine(marker))
        assert done.ok, done.message
    first = await ModelVersion.filter(status="retired").first()
    back = _cli(database, str(var), "rollback")
    assert back.returncode == 0, back.stderr
    assert first.version in back.stdout
    assert predictor.live_folder(root) == root / "versions" / first.folder
    assert (await ModelEvent.filter(action="rollback").first()).actor_label == "命令行"
