"""The classifier on a small corpus written here: fit, predict, explain, save, load, refuse."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifier.model import Candidate, ModelError, TrainedModel
from classifier.pipeline import TextPrep, TitleOf
from classifier.tokenize import normalize, tokenize
from classifier.training import DataError, evaluate, metrics, read_csv_examples, train_model

CORPUS = {
    "交通运输": [
        "公交车司机开车太猛，老人在车上摔倒",
        "建议增开公交线路，早高峰公交车挤不上",
        "出租车拒载还绕路，请运管部门处理",
        "公交站台被取消，乘客要走很远坐公交车",
        "客运班车不按时发车，乘客等了一个小时",
        "出租车司机不打表，乱收乘客车费",
        "公交车末班车太早，下班后没有公交",
        "长途客车超员，乘客挤满车厢",
    ],
    "教育文体": [
        "学校违规补课收费，学生家长负担重",
        "孩子上学划片不合理，学校离家太远",
        "幼儿园学费太贵，希望开办普惠幼儿园",
        "老师课堂上体罚学生，学校不处理",
        "乡村学校教师工资被拖欠",
        "学校食堂饭菜质量差，学生吃不饱",
        "中考加分政策咨询，学生和家长想了解",
        "培训机构关门，学生的学费退不回来",
    ],
    "环境保护": [
        "化工厂晚上偷排废气，小区居民闻到刺鼻气味",
        "养猪场污水直排河里，河水发黑发臭",
        "烧烤店油烟扰民，窗户都不敢开",
        "工地夜间施工噪音太大，居民无法睡觉",
        "搅拌站粉尘污染，附近菜地一层白灰",
        "河道黑臭水体，蚊虫很多气味难闻",
        "石材厂噪音和粉尘污染村庄",
        "电镀厂偷排废水污染河流",
    ],
}


def corpus() -> tuple[list[str], list[str]]:
    texts = [t for label in CORPUS for t in CORPUS[label]]
    labels = [label for label in CORPUS for _ in CORPUS[label]]
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    texts, labels = corpus()
    return train_model(texts, labels, cv_folds=2)


def test_tokenizer_keeps_government_terms_from_the_user_dictionary():
    tokens = tokenize("农民工被拖欠工资，找人社局也没用")
    assert "农民工" in tokens
    assert "拖欠工资" in tokens
    assert "人社局" in tokens


def test_tokenizer_drops_white_space():
    assert all(not t.isspace() for t in tokenize("公交车  晚点\n 了"))


def test_fit_learns_every_label_and_gives_probabilities_for_each(model):
    assert model.labels == sorted(CORPUS)
    proba = model.predict_proba(["公交车司机拒载", "学校乱收费"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_fit_separates_the_categories_it_was_taught(model):
    assert model.predict(["出租车司机绕路多收车费", "学校补课乱收费", "工厂偷排废水污染河流"]) == [
        "交通运输",
        "教育文体",
        "环境保护",
    ]


def test_predict_top_ranks_candidates_and_explains_with_words_of_the_text(model):
    text = "我家楼下的烧烤店油烟扰民，晚上噪音也大"
    top = model.predict_top(text, k=3)
    assert [type(c) for c in top] == [Candidate] * 3
    assert top[0].category == "环境保护"
    probabilities = [c.probability for c in top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0)
    assert top[0].words, "the winning category is explained"
    assert all(len(c.words) <= 5 for c in top)
    assert all(word in text for c in top for word in c.words)


def test_predict_top_k_limits_the_candidates(model):
    assert len(model.predict_top("公交车", k=1)) == 1
    assert len(model.predict_top("公交车", k=10)) == 3


def test_candidate_is_frozen():
    candidate = Candidate("民政", 0.5, ["低保"])
    with pytest.raises(AttributeError):
        candidate.category = "政法"  # type: ignore[misc]


def test_meta_records_data_versions_metrics_and_time(model):
    meta = model.meta
    assert meta["labels"] == model.labels
    assert meta["label_counts"] == {label: len(texts) for label, texts in CORPUS.items()}
    assert len(meta["data_sha256"]) == 64
    assert set(meta["libraries"]) == {"python", "scikit-learn", "jieba", "numpy"}
    assert model.version.endswith("-" + meta["data_sha256"][:8])
    assert meta["training_seconds"] >= 0
    assert 0.0 <= meta["cv_metrics"]["macro_f1"] <= 1.0


def test_same_data_gives_the_same_data_hash_and_predictions():
    texts, labels = corpus()
    first = train_model(texts, labels, cv_folds=0)
    second = train_model(texts, labels, cv_folds=0)
    assert first.meta["data_sha256"] == second.meta["data_sha256"]
    sample = ["公交车司机拒载", "学校乱收费"]
    assert np.allclose(first.predict_proba(sample), second.predict_proba(sample))


def test_save_then_load_gives_the_same_model(model, tmp_path):
    model.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"model.joblib", "meta.json"}
    loaded = TrainedModel.load(tmp_path / "m")
    assert loaded.version == model.version
    assert loaded.labels == model.labels
    sample = ["出租车绕路", "河水发臭"]
    assert np.allclose(loaded.predict_proba(sample), model.predict_proba(sample))
    assert loaded.predict_top("出租车绕路") == model.predict_top("出租车绕路")


@pytest.mark.parametrize("library", ["scikit-learn", "jieba", "numpy", "python"])
def test_load_refuses_a_model_trained_with_other_library_versions(model, tmp_path, library):
    model.save(tmp_path)
    meta_path = tmp_path / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["libraries"][library] = "0.0.1"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError) as refused:
        TrainedModel.load(tmp_path)
    message = str(refused.value)
    assert library in message and "0.0.1" in message
    assert "minsheng classifier train" in message


def test_load_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(ModelError, match="minsheng classifier train"):
        TrainedModel.load(tmp_path)


def test_train_rejects_unknown_settings_and_single_category():
    texts, labels = corpus()
    with pytest.raises(TypeError, match="colour"):
        train_model(texts, labels, colour="red")
    with pytest.raises(DataError):
        train_model(texts[:5], ["交通运输"] * 5)


def test_train_rejects_a_category_with_one_example():
    texts, labels = corpus()
    with pytest.raises(DataError, match="民政"):
        train_model([*texts, "低保申请"], [*labels, "民政"])


def test_logistic_regression_setting_also_trains(tmp_path):
    texts, labels = corpus()
    trained = train_model(texts, labels, model="logreg", c=10.0, cv_folds=0)
    assert trained.predict(["烧烤油烟扰民"]) == ["环境保护"]
    assert trained.predict_top("烧烤油烟扰民")[0].words


def test_read_csv_joins_text_columns_and_treats_missing_ones_as_empty(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("title,label\n公交晚点,交通运输\n,教育文体\n学校收费,\n", encoding="utf-8")
    texts, labels = read_csv_examples(path, ["title", "detail"], "label")
    assert (texts, labels) == (["公交晚点"], ["交通运输"])
    both = tmp_path / "b.csv"
    both.write_text("title,detail,label\n公交晚点,等了一小时,交通运输\n", encoding="utf-8")
    assert read_csv_examples(both)[0] == ["公交晚点\n等了一小时"]


def test_metrics_count_per_class_and_confusion():
    report = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert report["n"] == 4
    assert report["accuracy"] == 0.75
    assert report["per_class"]["b"]["support"] == 2
    assert report["per_class"]["a"]["recall"] == 0.5
    assert report["confusion"] == {"labels": ["a", "b"], "matrix": [[1, 1], [0, 2]]}


def test_evaluate_restricted_to_the_data_labels_never_predicts_others(model):
    report = evaluate(model, ["公交车拒载", "学校补课"], ["交通运输", "教育文体"], restrict=True)
    assert set(report["confusion"]["labels"]) <= {"交通运输", "教育文体"}
    assert report["model_version"] == model.version



@pytest.mark.parametrize("model_kind", ["svc", "nbsvm", "logreg"])
def test_predict_top_probabilities_equal_the_pipelines(model_kind):
    texts, labels = corpus()
    trained = train_model(texts, labels, model=model_kind, cv_folds=0)
    for text in ["出租车绕路多收钱", "学校补课收费", "工厂废水", "无关的话"]:
        proba = trained.predict_proba([text])[0]
        for candidate in trained.predict_top(text, k=3):
            index = trained.labels.index(candidate.category)
            # float32 features: a repeated word (the title) rounds its tf weight a hair apart
            assert candidate.probability == pytest.approx(proba[index], abs=1e-6)


def test_two_category_model_predicts_and_explains_both():
    texts, labels = corpus()
    keep = [i for i, label in enumerate(labels) if label != "环境保护"]
    trained = train_model([texts[i] for i in keep], [labels[i] for i in keep], cv_folds=0)
    top = trained.predict_top("公交车司机拒载", k=2)
    assert [c.category for c in top][0] == "交通运输"
    assert sum(c.probability for c in top) == pytest.approx(1.0)
    assert top[0].words


@pytest.mark.parametrize("blend", [0.0, 0.5])
def test_nbsvm_is_one_linear_model_the_fast_path_and_explanations_read(blend):
    texts, labels = corpus()
    trained = train_model(texts, labels, model="nbsvm", nb_blend=blend, cv_folds=0)
    estimator = trained.pipeline[-1].calibrated_classifiers_[0].estimator
    features = trained.pipeline[:-1].transform(texts)
    expected = np.asarray(features @ estimator.coef_.T) + estimator.intercept_
    assert np.allclose(estimator.decision_function(features), expected)
    assert trained._sigmoids is not None and trained._vectorizers is not None
    top = trained.predict_top("出租车司机拒载乘客", k=3)
    assert top[0].category == "交通运输"
    assert "出租车" in top[0].words


def test_nbsvm_two_category_model_predicts_both():
    texts, labels = corpus()
    keep = [i for i, label in enumerate(labels) if label != "环境保护"]
    trained = train_model(
        [texts[i] for i in keep], [labels[i] for i in keep], model="nbsvm", cv_folds=0
    )
    assert trained.predict(["公交车司机拒载", "学校违规补课"]) == ["交通运输", "教育文体"]
    top = trained.predict_top("公交车司机拒载", k=2)
    assert sum(c.probability for c in top) == pytest.approx(1.0)


def test_single_text_features_equal_the_pipelines(model):
    for text in ["出租车绕路多收钱，司机态度差", "学校 补课 收费 2023年", "", "公交车" * 400]:
        fast = model._features(text).toarray()
        reference = model.pipeline[:-1].transform([text]).toarray()
        assert np.allclose(fast, reference, atol=1e-6)


def test_text_prep_repeats_a_short_title_and_leaves_a_long_first_line_alone():
    prep = TextPrep(max_chars=1000, title_copies=3)
    assert prep.transform(["路灯不亮\n小区门口路灯坏了"]) == ["路灯不亮 路灯不亮 路灯不亮 小区门口路灯坏了"]
    long_line = "路" * 61
    assert prep.transform([long_line]) == [long_line]
    assert TextPrep(max_chars=1000, title_copies=1).transform(["标题\n正文"]) == ["标题 正文"]


def test_the_title_block_sees_only_a_short_first_line():
    prep = TextPrep(max_chars=1000, title_copies=3, title_mark=True)
    marked = prep.transform(["路灯不亮\n小区门口路灯坏了", "路" * 61 + "\n正文", "\n正文"])
    assert marked[0] == "路灯不亮\n路灯不亮 路灯不亮 小区门口路灯坏了"
    assert [TitleOf()(text) for text in marked] == ["路灯不亮", "", ""]
    texts, labels = corpus()
    trained = train_model([f"{t[:4]}\n{t}" for t in texts], labels, cv_folds=0)
    title = trained.pipeline.named_steps["features"].transformer_list[1][1]
    assert 0 < len(title.vocabulary_) <= len({g for t in texts for g in _char_grams(t[:4])})
    assert set(title.vocabulary_) <= {g for t in texts for g in _char_grams(normalize(t[:4]))}


def test_words_come_from_the_head_of_the_prepared_text_only(tmp_path):
    texts, labels = corpus()
    trained = train_model(texts, labels, word_max_chars=12, word_ngrams=(1, 1), cv_folds=0)
    words = trained.pipeline.named_steps["features"].transformer_list[0][1]
    assert words.build_analyzer()("学校食堂饭菜质量差，" + "公交车司机" * 3) == tokenize("学校食堂饭菜质量差，公交")
    # Past the head a text still counts through its characters, and explanations use head words.
    text = "路灯坏了没人修理，" * 2 + "公交车司机开车太猛"
    top = trained.predict_top(text)
    assert top[0].category == "交通运输"
    assert all(word in text[:12] for c in top for word in c.words)
    trained.save(tmp_path / "m")
    loaded = TrainedModel.load(tmp_path / "m")
    assert loaded.predict_top(text) == top
    assert loaded.meta["settings"]["word_max_chars"] == 12


def test_word_max_chars_must_be_positive():
    texts, labels = corpus()
    with pytest.raises(ValueError, match="word_max_chars"):
        train_model(texts, labels, word_max_chars=0)
    unlimited = train_model(texts, labels, word_max_chars=None, cv_folds=0)
    words = unlimited.pipeline.named_steps["features"].transformer_list[0][1]
    assert words.tokenizer is tokenize  # as in models saved before the setting existed


def test_cross_validation_measures_confidence_and_the_meta_names_the_calibration(model):
    meta = model.meta
    confidence = meta["cv_metrics"]["confidence"]
    assert sum(row["count"] for row in confidence["reliability"]) == meta["n_examples"]
    assert 0.0 <= confidence["ece"] <= 1.0
    assert confidence["curve"][0]["coverage"] >= confidence["curve"][-1]["coverage"]
    assert meta["calibration"]["method"] == "sigmoid"
    assert meta["calibration"]["fitted"].startswith("on held-out folds")


def _char_grams(text: str) -> set[str]:
    return {text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)}
