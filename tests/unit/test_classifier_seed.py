"""The bundled seed model: its corpus, its reproducible training and its cache."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from classifier.model import TrainedModel
from classifier.pipeline import Settings
from classifier.seed import CATEGORIES, SEED_CORPUS, load_seed_model


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    load_seed_model(folder)
    return folder


def test_seed_corpus_covers_all_fifteen_categories_with_at_least_25_appeals():
    with SEED_CORPUS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["title", "detail", "label"]
        rows = list(reader)
    counts = Counter(row["label"] for row in rows)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 24
    assert len(rows) >= 400
    assert all(row["title"] or row["detail"] for row in rows)


# The seven categories of the real messages the seed model is measured on (see
# tests/integration/test_classifier_seed_shared_data.py) get the most examples.
MAIN_CATEGORIES = ("城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输")


def test_seed_corpus_is_rich_without_repeated_messages():
    with SEED_CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts = Counter(row["label"] for row in rows)
    assert len(rows) >= 2000
    assert min(counts[label] for label in MAIN_CATEGORIES) >= 150
    assert min(counts.values()) >= 35
    messages = [(row["title"], row["detail"]) for row in rows]
    assert len(set(messages)) == len(messages)
    details = [row["detail"] for row in rows if row["detail"]]
    assert len(set(details)) == len(details)
    untitled = sum(not row["title"] for row in rows)
    assert untitled >= 200  # bodies without a title, as many real messages come


def test_seed_model_knows_every_category_and_routes_plain_appeals(seed_dir):
    model = load_seed_model(seed_dir)
    assert sorted(model.labels) == sorted(CATEGORIES)
    assert model.predict_top("包工头拖欠我们农民工工资半年了，快过年了还不给钱")[0].category == (
        "劳动和社会保障"
    )
    assert model.predict_top("化工厂晚上偷排废气，刺鼻的味道让人睡不着")[0].category == "环境保护"
    assert model.predict_top("村支书侵占扶贫款，请纪委调查")[0].category == "纪检监察"


def test_seed_model_is_reused_from_the_cache(seed_dir):
    model_file = seed_dir / "model.joblib"
    before = model_file.stat().st_mtime_ns
    version = json.loads((seed_dir / "meta.json").read_text(encoding="utf-8"))["version"]
    again = load_seed_model(seed_dir)
    assert again.version == version
    assert model_file.stat().st_mtime_ns == before


def test_seed_model_is_retrained_when_the_cache_has_other_library_versions(tmp_path, seed_dir):
    for name in ("model.joblib", "meta.json"):
        (tmp_path / name).write_bytes((seed_dir / name).read_bytes())
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    meta["libraries"]["scikit-learn"] = "0.0.1"
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    model = load_seed_model(tmp_path)
    assert TrainedModel.load(tmp_path).version == model.version
    assert model.meta["data_sha256"] == meta["data_sha256"]


def test_seed_training_is_reproducible(tmp_path, seed_dir):
    first = TrainedModel.load(seed_dir)
    second = load_seed_model(tmp_path / "other")
    text = "小区物业费乱涨价，电梯坏了也不修"
    assert first.predict_top(text) == second.predict_top(text)


def test_seed_model_is_retrained_when_the_cache_has_other_settings(tmp_path, seed_dir):
    for name in ("model.joblib", "meta.json"):
        (tmp_path / name).write_bytes((seed_dir / name).read_bytes())
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    del meta["settings"]["word_max_chars"]  # as saved before the setting existed
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    model = load_seed_model(tmp_path)
    assert "word_max_chars" in TrainedModel.load(tmp_path).meta["settings"]
    assert model.meta["settings"]["word_max_chars"] == Settings().word_max_chars
