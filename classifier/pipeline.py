"""The scikit-learn pipeline: normalised text → jieba words and word pairs, the title's
characters, the text's characters (TF-IDF blocks) → linear model."""

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

    word_ngrams: tuple[int, int] | None = (1, 2)
    char_ngrams: tuple[int, int] | None = (1, 2)
    char_max_features: int | None = 50_000  # only the most frequent character n-grams
    title_char_ngrams: tuple[int, int] | None = (1, 3)  # a block of the title's own n-grams
    max_chars: int = 1000  # the head of a long appeal decides; the rest only costs time
    word_max_chars: int | None = 300  # jieba words from this head only (None: all max_chars)
    title_copies: int = 3  # a short first line (the title) counts this many times in all
    model: str = "svc"  # "svc" (calibrated LinearSVC) or "logreg"
    c: float = 0.7
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
        for key in ("word_ngrams", "char_ngrams", "title_char_ngrams"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = tuple(kwargs[key])
        settings = cls(**kwargs)
        if settings.model not in ("svc", "logreg"):
            raise ValueError(f"unknown model {settings.model!r}; use 'svc' or 'logreg'")
        if settings.title_copies < 1:
            raise ValueError("title_copies must be at least 1")
        if settings.word_max_chars is not None and settings.word_max_chars < 1:
            raise ValueError("word_max_chars must be at least 1 (or None for no limit)")
        if settings.word_ngrams is None and settings.char_ngrams is None:
            raise ValueError("need word n-grams, character n-grams or both")
        return settings

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TITLE_MAX_CHARS = 60  # a first line up to this long is taken for a title


class TextPrep(TransformerMixin, BaseEstimator):
    """Keep the first `max_chars` characters of each text (the title comes first), repeat a
    short first line `title_copies` times in all, and normalise. With `title_mark` the first
    copy of the title ends with a newline (normalised text has none) for `TitleOf` to find."""

    def __init__(self, max_chars: int = 1000, title_copies: int = 1, title_mark: bool = False):
        self.max_chars = max_chars
        self.title_copies = title_copies
        self.title_mark = title_mark

    def fit(self, X: Any, y: Any = None) -> TextPrep:
        self.n_features_in_ = 1
        return self

    def transform(self, X: Any) -> list[str]:
        return [self._prepare(str(text)) for text in X]

    def _prepare(self, text: str) -> str:
        text = text[: self.max_chars]
        copies = getattr(self, "title_copies", 1)  # models pickled before the setting existed
        first, _, rest = text.partition("\n")
        if not first.strip() or len(first) > TITLE_MAX_CHARS:
            return normalize(text)
        if getattr(self, "title_mark", False):
            return normalize(first) + "\n" + normalize((first + "\n") * (copies - 1) + rest)
        if copies > 1:
            text = (first + "\n") * (copies - 1) + text
        return normalize(text)

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class HeadTokenizer:
    """Jieba words of the first `max_chars` characters of a prepared text (the title first):
    jieba is most of a prediction's time, and the head carries the words that decide."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars

    def __call__(self, text: str) -> list[str]:
        return tokenize(text[: self.max_chars])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HeadTokenizer) and other.max_chars == self.max_chars

    def __hash__(self) -> int:
        return hash((HeadTokenizer, self.max_chars))

    def __repr__(self) -> str:
        return f"HeadTokenizer(max_chars={self.max_chars})"


class TitleOf:
    """The title of a text prepared with `title_mark` (what precedes its newline), else ''."""

    def __call__(self, text: str) -> str:
        title, newline, _ = text.partition("\n")
        return title if newline else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TitleOf)

    def __hash__(self) -> int:
        return hash(TitleOf)

    def __repr__(self) -> str:
        return "TitleOf()"


def title_vectorizer(ngrams: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        preprocessor=TitleOf(),
        lowercase=False,
        ngram_range=ngrams,
        sublinear_tf=True,
        dtype=np.float32,
    )


def word_vectorizer(ngrams: tuple[int, int], max_chars: int | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=tokenize if max_chars is None else HeadTokenizer(max_chars),
        token_pattern=None,
        lowercase=False,
        ngram_range=ngrams,
        sublinear_tf=True,
        dtype=np.float32,
    )


def char_vectorizer(ngrams: tuple[int, int], max_features: int | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        lowercase=False,
        ngram_range=ngrams,
        max_features=max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )


def build_pipeline(settings: Settings, min_class_count: int) -> Pipeline:
    vectorizers = []
    if settings.word_ngrams:
        vectorizers.append(
            ("words", word_vectorizer(settings.word_ngrams, settings.word_max_chars))
        )
    if settings.title_char_ngrams:
        vectorizers.append(("title", title_vectorizer(settings.title_char_ngrams)))
    if settings.char_ngrams:
        vectorizers.append(
            ("chars", char_vectorizer(settings.char_ngrams, settings.char_max_features))
        )
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
            ("prep", TextPrep(
                settings.max_chars, settings.title_copies, bool(settings.title_char_ngrams)
            )),
            ("features", FeatureUnion(vectorizers)),
            ("model", model),
        ]
    )
