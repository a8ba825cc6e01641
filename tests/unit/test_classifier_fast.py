"""The single-text fast paths give what the straightforward computations give."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import sparse

from classifier.model import TrainedModel
from classifier.pipeline import TextPrep
from classifier.tokenize import get_tokenizer, is_meaningful, tokenize
from classifier.training import train_model
from tests.unit.test_classifier import corpus

# Real-ish appeals: a title line, then a body with punctuation, digits, Latin letters,
# full-width and ASCII white space, and phrases that come back.
APPEALS = [
    "小区门口路灯不亮\n小区门口的路灯坏了三个月，晚上出门很不方便。\r\n物业说归市政管，"
    "市政说归物业管，路灯到底谁来修？",
    "工地夜间施工噪音扰民\n某某工地每天晚上11点以后还在施工,噪音超过80分贝。\t居民多次打"
    "12345投诉，工地夜间施工噪音扰民问题一直没有解决。",
    "公交车  晚点\n 了\u3000\u3000 K3县 2路公交车经常晚点半小时，GPS 显示车还在总站。",
    "农民工被拖欠工资\n包工头拖欠我们农民工工资半年了，找人社局也没用，劳动监察大队说"
    "要走仲裁。农民工被拖欠工资！！农民工被拖欠工资！！",
    "学校违规补课收费\n学校违规补课收费，每人每月收费800元；学生家长负担重……A市教育局请管管。",
    "没有标题的一段很长的话，" * 30 + "最后说化工厂偷排废气、河水发黑发臭。",
    "",
    "   \n\n  ",
    "english only appeal about bus route 302 and taxi drivers",
]


@pytest.fixture(scope="module")
def unigram_model() -> TrainedModel:
    texts, labels = corpus()
    return train_model(texts, labels, word_ngrams=(1, 1), cv_folds=0)


@pytest.fixture(scope="module")
def bigram_model() -> TrainedModel:
    texts, labels = corpus()
    return train_model(texts, labels, word_ngrams=(1, 2), cv_folds=0)


def whole_text_cut(text: str) -> list[str]:
    """Today's reference: jieba over the whole text at once, white space dropped."""
    return [w for w in get_tokenizer().lcut(text, HMM=False) if not w.isspace()]


def reference_driving_words(
    model: TrainedModel, features, classes, n: int = 5
) -> list[list[str]]:
    """Per class, the plain loop (the one word n-gram models use): add up each positive
    feature's push over its meaningful words, best first."""
    row = features[:, : model._word_coef.shape[1]].tocsr()
    names = model._word_names[row.indices]
    result = []
    for c in classes:
        scores: dict[str, float] = {}
        for name, score in zip(names, row.data * model._word_coef[c, row.indices], strict=True):
            if score <= 0:
                continue
            parts = name.split(" ")
            for part in parts:
                if is_meaningful(part):
                    scores[part] = scores.get(part, 0.0) + float(score) / len(parts)
        result.append(sorted(scores, key=lambda w: -scores[w])[:n])
    return result


def test_cutting_piece_by_piece_gives_jiebas_words_for_the_whole_text():
    prep = TextPrep(max_chars=1000, title_copies=3)
    for text in APPEALS + prep.transform(APPEALS):
        assert tokenize(text) == whole_text_cut(text), text


def test_a_repeated_title_is_cut_like_the_first_copy():
    prepared = TextPrep(max_chars=1000, title_copies=3).transform(APPEALS[:1])[0]
    words = tokenize(prepared)
    title = whole_text_cut("小区门口路灯不亮")
    assert words[: 3 * len(title)] == title * 3


@pytest.mark.parametrize("fixture", ["unigram_model", "bigram_model"])
def test_driving_words_equal_the_reference(request, fixture):
    model = request.getfixturevalue(fixture)
    texts, _ = corpus()
    everything = list(range(len(model.labels)))
    checked = 0
    for text in APPEALS + texts + ["，".join(texts[i::5]) for i in range(5)]:
        features = model._features(text)
        backwards = sparse.csr_matrix(  # entries out of column order: the slicing path
            (features.data[::-1], features.indices[::-1], [0, features.nnz]),
            shape=features.shape,
        )
        for classes in (everything, everything[::-1], everything[:1]):
            for n in (1, 3, 5, 50):
                expected = reference_driving_words(model, features, classes, n)
                assert model._driving_words(features, np.array(classes), n) == expected
                assert model._driving_words(backwards, np.array(classes), n) == (
                    reference_driving_words(model, backwards, classes, n)
                )
                checked += sum(map(len, expected))
    assert checked > 500, "the texts have words to explain with"


def test_driving_words_fast_path_is_taken_for_unigrams_only(unigram_model, bigram_model):
    assert unigram_model._word_meaningful is not None
    assert bigram_model._word_meaningful is None


@pytest.mark.parametrize("fixture", ["unigram_model", "bigram_model"])
def test_fast_features_equal_the_pipelines_on_appeals(request, fixture):
    model = request.getfixturevalue(fixture)
    texts, _ = corpus()
    for text in APPEALS + texts + ["公交车" * 400, "未见过的字眼：鳕鱼龙虾"]:
        fast = model._features(text)
        reference = model.pipeline[:-1].transform([text]).tocsr()
        reference.sort_indices()
        assert fast.shape == reference.shape
        assert np.array_equal(fast.indices, reference.indices), text
        assert np.allclose(fast.data, reference.data, atol=1e-6), text


@pytest.mark.parametrize("char_ngrams", [(1, 2), (1, 3), (2, 3), (1, 1)])
def test_character_ngrams_counted_in_numpy_equal_the_analyzers_counts(char_ngrams):
    texts, labels = corpus()
    trained = train_model([*texts, "A市 K3县\u3000路灯\x00坏了"], [*labels, labels[0]],
                          char_ngrams=char_ngrams, cv_folds=0)
    chars = trained._vectorizers[-1]
    assert chars._chars is not None
    counter = copy.copy(chars)
    counter._chars = None  # the Counter over the analyzer's n-grams
    prep = trained.pipeline.named_steps["prep"]
    for text in APPEALS + texts + prep.transform(APPEALS) + ["a", "ab", "x  \t y", "坏\ud800了"]:
        fast, slow = chars.row(text), counter.row(text)
        assert np.array_equal(fast[0], slow[0]), text
        assert np.array_equal(fast[1], slow[1]), text  # bit for bit, same order of summing
        assert fast[1].dtype == slow[1].dtype == np.float32


def test_character_vectorizers_numpy_cannot_count_keep_the_analyzer():
    texts, labels = corpus()
    trained = train_model(texts, labels, char_ngrams=(1, 4), cv_folds=0)
    assert trained._vectorizers[-1]._chars is None
    assert trained.predict_top("出租车绕路")[0].category == "交通运输"
