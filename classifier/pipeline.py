"""The scikit-learn pipeline: normalised text → jieba words and word pairs, the title's
characters, the text's characters (TF-IDF blocks) → linear model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
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
    model: str = "nbsvm"  # "nbsvm" (calibrated NbSvm), "svc" (calibrated LinearSVC), "logreg"
    c: float = 1.0
    # nbsvm: share of a plain LinearSVC in the blend. Grouped 5-fold CV, seeds 0/1: 0.5 scored
    # 0.9307/0.9326, NB-SVM alone 0.9300/0.9316. A train on both shared files costs 45.6 s CPU
    # against 31.6 s (train's own CV, now opt-in, would double it). With 2 calibration folds
    # 0.9315/0.9339, but under-confident (ECE 0.022).
    nb_blend: float = 0.5
    blend_c: float = 1.5  # nbsvm: C of that plain LinearSVC
    class_weight: str | None = "balanced"
    # 2 folds fit the sigmoids on half-size models: under-confident (ECE 0.020 against 0.014).
    calibration_folds: int = 3
    cv_folds: int = 0  # train's own grouped CV: 0 for none (`classifier evaluate --cv` measures)
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
        if settings.model not in ("svc", "nbsvm", "logreg"):
            raise ValueError(
                f"unknown model {settings.model!r}; use 'svc', 'nbsvm' or 'logreg'"
            )
        if not 0.0 <= settings.nb_blend <= 1.0:
            raise ValueError("nb_blend must be between 0 and 1")
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


class NbSvm(ClassifierMixin, BaseEstimator):
    """One-vs-rest NB-SVM (Wang & Manning 2012) on the given features, optionally averaged with
    a plain LinearSVC: per class, features are scaled by the log-count ratio of their presence
    in the class and outside it, and a binary LinearSVC is fitted on them. With `blend` > 0 the
    decision is `(1 - blend)` times the NB-SVM's plus `blend` times a LinearSVC's (C=`blend_c`),
    each standardised on the training data. Everything is linear in the features, so the fitted
    model is one `coef_` and `intercept_` (the NB weights folded in) with
    `decision_function(X) == X @ coef_.T + intercept_`, as for LinearSVC."""

    def __init__(
        self,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        alpha: float = 1.0,
        blend: float = 0.0,
        blend_c: float = 1.5,
        tol: float = 1e-3,
        random_state: int | None = 0,
    ):
        self.C = C
        self.class_weight = class_weight
        self.alpha = alpha
        self.blend = blend
        self.blend_c = blend_c
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> NbSvm:
        X = sparse.csr_matrix(X)
        y = np.asarray(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("NbSvm needs at least two classes")
        self.n_features_in_ = X.shape[1]
        # A binary problem keeps one row, for the second class (as LinearSVC does).
        targets = [1] if len(self.classes_) == 2 else range(len(self.classes_))
        present = (X != 0).astype(np.float64)
        membership = sparse.csr_matrix(
            (np.ones(len(y)), (y_index, np.arange(len(y)))), shape=(len(self.classes_), len(y))
        )
        per_class = (membership @ present).toarray()
        total = per_class.sum(axis=0)
        weights = len(y) / (len(self.classes_) * np.bincount(y_index))
        coef, intercept = [], []
        for k in targets:
            ratio = self._log_count_ratio(per_class[k], total - per_class[k])
            svc = LinearSVC(
                C=self.C,
                class_weight=self._binary_weight(weights[k]),
                tol=self.tol,
                random_state=self.random_state,
            ).fit(_scale_columns(X, ratio), y_index == k)
            coef.append(svc.coef_[0] * ratio)
            intercept.append(svc.intercept_[0])
        coef, intercept = np.array(coef), np.array(intercept)
        if self.blend > 0:
            plain = LinearSVC(
                C=self.blend_c,
                class_weight=self.class_weight,
                tol=self.tol,
                random_state=self.random_state,
            ).fit(X, y_index)
            coef, intercept = _mix(
                X, (coef, intercept), (plain.coef_, plain.intercept_), self.blend
            )
        # Fortran order, as LinearSVC's: `X @ coef_.T` then reads coef_.T without a copy.
        self.coef_, self.intercept_ = np.asfortranarray(coef), intercept
        return self

    def _log_count_ratio(self, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
        p, q = inside + self.alpha, outside + self.alpha
        return np.log(p / p.sum()) - np.log(q / q.sum())

    def _binary_weight(self, positive: float) -> dict[bool, float] | None:
        # LinearSVC's own one-vs-rest weighs only each class's positives by its balanced weight.
        return {True: positive, False: 1.0} if self.class_weight == "balanced" else None

    def decision_function(self, X: Any) -> np.ndarray:
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _scale_columns(X: sparse.csr_matrix, scale: np.ndarray) -> sparse.csr_matrix:
    """`X @ diags(scale)` (the same values) at two thirds of the sparse matrix product's cost."""
    scaled = X.astype(np.float64)
    scaled.data *= scale[scaled.indices]
    return scaled


def _mix(
    X: Any, first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
    share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """`(1 - share)` times the first linear model plus `share` times the second, each one's
    decision standardised (per class, over the rows of X) so neither's scale dominates."""
    parts = []
    for (coef, intercept), weight in ((first, 1.0 - share), (second, share)):
        decision = np.asarray(X @ coef.T) + intercept
        mean, sd = decision.mean(axis=0), decision.std(axis=0)
        sd[sd == 0] = 1.0
        parts.append((weight * coef / sd[:, None], weight * (intercept - mean) / sd))
    return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]


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
    if settings.model in ("svc", "nbsvm"):
        folds = min(settings.calibration_folds, min_class_count)
        linear: BaseEstimator = LinearSVC(
            C=settings.c,
            class_weight=settings.class_weight,
            tol=1e-3,  # the default 1e-4 costs a third more time for the same predictions
            random_state=settings.random_state,
        )
        if settings.model == "nbsvm":
            linear = NbSvm(
                C=settings.c,
                class_weight=settings.class_weight,
                blend=settings.nb_blend,
                blend_c=settings.blend_c,
                random_state=settings.random_state,
            )
        model: BaseEstimator = CalibratedClassifierCV(linear, cv=folds, ensemble=False)
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
