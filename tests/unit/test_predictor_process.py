"""Classification in a separate process: same answers, new models picked up there, and a
dead classifier process does not stop routing."""

import os
import signal

import pytest

from app.services import predictor
from tests.unit.test_predictor_reload import _model


@pytest.fixture
async def restore():
    previous = (predictor.current(), predictor._state.folder, predictor.RECHECK)
    yield
    await predictor.stop()
    predictor.install(previous[0], previous[1])
    predictor.RECHECK = previous[2]


async def test_the_classifier_process_answers_like_the_model_and_takes_new_ones(
        tmp_path, restore):
    folder = tmp_path / "model"
    first = _model()
    first.save(folder)
    await predictor.start(folder, tmp_path / "seed", processes=1, recheck=0.0)
    assert len(predictor._state.workers) == 1
    candidates, version = await predictor.predict("公交车又晚点了")
    assert version == first.version
    expected = first.predict_top("公交车又晚点了", 3)
    assert [(c.category, round(c.probability, 6)) for c in candidates] == \
        [(c.category, round(c.probability, 6)) for c in expected]

    second = _model("。")
    second.save(folder)
    _, version = await predictor.predict("学校又要补课收费")
    assert version == second.version  # loaded by the classifier process itself


async def test_a_dead_classifier_process_falls_back_to_this_process(tmp_path, restore):
    folder = tmp_path / "model"
    model = _model()
    model.save(folder)
    await predictor.start(folder, tmp_path / "seed", processes=1)
    worker = predictor._state.workers[0]
    os.kill(worker.process.pid, signal.SIGKILL)
    await worker.process.wait()
    candidates, version = await predictor.predict("出租车拒载")
    assert version == model.version and candidates[0].category == "交通运输"
    assert predictor._state.workers == []


async def test_the_classifier_process_ends_when_the_server_does(tmp_path, restore):
    await predictor.start(None, tmp_path / "seed", processes=1)
    process = predictor._state.workers[0].process
    await predictor.stop()
    assert process.returncode == 0  # it read the end of its input and left by itself


async def test_a_hung_classifier_process_is_killed_and_replaced_by_this_one(
        tmp_path, restore, monkeypatch):
    folder = tmp_path / "model"
    model = _model()
    model.save(folder)
    await predictor.start(folder, tmp_path / "seed", processes=1)
    worker = predictor._state.workers[0]
    monkeypatch.setattr(predictor, "ANSWER_TIMEOUT", 0.5)
    os.kill(worker.process.pid, signal.SIGSTOP)
    candidates, version = await predictor.predict("公交车晚点")
    assert version == model.version and candidates[0].category == "交通运输"
    assert await worker.process.wait() == -signal.SIGKILL
    assert predictor._state.workers == []


async def test_a_classifier_process_that_cannot_start_leaves_routing_to_this_one(
        tmp_path, restore, monkeypatch):
    folder = tmp_path / "model"
    model = _model()
    model.save(folder)
    monkeypatch.setattr(predictor.sys, "executable", "/bin/false")  # exits at once
    await predictor.start(folder, tmp_path / "seed", processes=1)
    assert predictor._state.workers == []
    candidates, version = await predictor.predict("老师体罚学生")
    assert version == model.version and candidates[0].category == "教育文体"
