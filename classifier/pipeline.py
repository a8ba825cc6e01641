"""The scikit-learn pipeline: normalised text → jieba words + characters (TF-IDF) → linear model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from classifier.tokenize import normalize, tokenize


@dataclass(frozen=True)
class Settings:
    """Training settings; the defaults are the winners of grouped cross-validation."""

    word_ngrams: tuple[int, int] | None = (1, 1)
    char_ngrams: tuple[int, int] | None = (1, 2)
    max_chars: int = 1000  # the head of a long appeal decides; the rest only costs time
    model: str = "svc"  # "svc" (calibrated LinearSVC) or "logreg"
    c: float = 1.0
    class_weight: str | None = "balanced"
    calibration_folds: int = 3
    cv_folds: int = 2
    random_state: int = 0

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown training settings: {', '.join(unknown)}")
        for key in ("word_ngrams", "char_ngrams"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = tuple(kwargs[key])
        settings = cls(**kwargs)
        if settings.model not in ("svc", "logreg"):
            raise ValueError(f"unknown model {settings.model!r}; use 'svc' or 'logreg'")
        if settings.word_ngrams is None and settings.char_ngrams is None:
            raise ValueError("need word n-grams, character n-grams or both")
        return settings

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TextPrep(TransformerMixin, BaseEstimator):
    """Normalise each text and keep its first `max_chars` characters (the title comes first)."""

    def __init__(self, max_chars: int = 1000):
        self.max_chars = max_chars

    def fit(self, X: Any, y: Any = None) -> TextPrep:
        self.n_features_in_ = 1
        return self

    def transform(self, X: Any) -> list[str]:
        return [normalize(str(text)[: self.max_chars]) for text in X]

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


def word_vectorizer(ngrams: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngrams,
        sublinear_tf=True,
        dtype=np.float32,
    )


def char_vectorizer(ngrams: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", lowercase=False, ngram_range=ngrams, sublinear_tf=True, dtype=np.float32
    )


def build_pipeline(settings: Settings, min_class_count: int) -> Pipeline:
    vectorizers = []
    if settings.word_ngrams:
        vectorizers.append(("words", word_vectorizer(settings.word_ngrams)))
    if settings.char_ngrams:
        vectorizers.append(("chars", char_vectorizer(settings.char_ngrams)))
    if settings.model == "svc":
        folds = min(settings.calibration_folds, min_class_count)
        model: BaseEstimator = CalibratedClassifierCV(
            LinearSVC(
                C=settings.c,
                class_weight=settings.class_weight,
                tol=1e-3,  # the default 1e-4 costs a third more time for the same predictions
                random_state=settings.random_state,
            ),
            cv=folds,
            ensemble=False,
        )
    else:
        model = LogisticRegression(
            C=settings.c,
            class_weight=settings.class_weight,
            max_iter=1000,
            random_state=settings.random_state,
        )
    return Pipeline(
        [
            ("prep", TextPrep(settings.max_chars)),
            ("features", FeatureUnion(vectorizers)),
            ("model", model),
        ]
    )
