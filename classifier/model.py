"""A trained classifier: a fitted pipeline plus its metadata, saved as a folder."""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import jieba
import joblib
import numpy as np
import sklearn
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from classifier.tokenize import is_meaningful

MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
FORMAT = 1
RETRAIN_HINT = "retrain it with `minsheng classifier train`"


class ModelError(Exception):
    """A model folder that cannot be used, with a message saying why and what to do."""


@dataclass(frozen=True)
class Candidate:
    category: str
    probability: float
    words: list[str]


def library_versions() -> dict[str, str]:
    """Versions a pickled pipeline depends on; Python by major.minor, as pickles are."""
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "scikit-learn": sklearn.__version__,
        "jieba": jieba.__version__,
        "numpy": np.__version__,
    }


class NgramParts:
    """The meaningful words of each word n-gram feature (jieba words joined by spaces), as flat
    arrays: feature i's are `names[parts[indptr[i]:indptr[i + 1]]]`, and `counts` holds how
    many words the n-gram has (its push is shared among them all)."""

    def __init__(self, feature_names: np.ndarray):
        ids: dict[str, int] = {}
        meaningful: dict[str, bool] = {}
        indptr, parts, counts = [0], [], []
        for name in feature_names:
            words = name.split(" ")
            for word in words:
                if word not in meaningful:
                    meaningful[word] = is_meaningful(word)
                if meaningful[word]:
                    parts.append(ids.setdefault(word, len(ids)))
                    counts.append(len(words))
            indptr.append(len(parts))
        self.indptr = np.array(indptr, dtype=np.int64)
        self.parts = np.array(parts, dtype=np.int64)
        self.counts = np.array(counts, dtype=np.float64)
        self.names = np.array(list(ids), dtype=object)


class TrainedModel:
    """A fitted pipeline whose `predict_top` returns categories, probabilities and driving words."""

    def __init__(self, pipeline: Pipeline, meta: dict[str, Any]):
        self.pipeline = pipeline
        self.meta = meta
        self.version: str = meta["version"]
        self.labels: list[str] = [str(label) for label in pipeline.classes_]
        self._word_coef, self._word_names = _word_coefficients(pipeline)
        # Unigram vocabularies (the default): a word feature is one word, so explanations need
        # no splitting and adding up; `_driving_words` then ranks features with numpy.
        self._word_meaningful: np.ndarray | None = None
        if self._word_names is not None and not any(" " in w for w in self._word_names):
            self._word_meaningful = np.fromiter(
                map(is_meaningful, self._word_names), dtype=bool, count=len(self._word_names)
            )
        self._ngram_parts = (NgramParts(self._word_names)
                             if self._word_names is not None and self._word_meaningful is None
                             else None)
        self._sigmoids = _sigmoid_parameters(pipeline)
        self._vectorizers = _fast_vectorizers(pipeline)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one column per entry of `labels`."""
        return self.pipeline.predict_proba(list(texts))

    def predict(self, texts: list[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def predict_top(self, text: str, k: int = 3) -> list[Candidate]:
        """The k likeliest categories, each with up to five words of `text` that pushed it most."""
        features = self._features(text)
        proba = self._proba(features)
        top = np.argsort(-proba, kind="stable")[: max(k, 0)]
        words = self._driving_words(features, top)
        return [
            Candidate(self.labels[i], float(proba[i]), w) for i, w in zip(top, words, strict=True)
        ]

    def _features(self, text: str) -> sparse.csr_matrix:
        # One text at a time, sklearn's input checks cost more than the arithmetic: call the
        # vectorisers directly (a FeatureUnion without weights is their side-by-side stack).
        if self._vectorizers is None:
            return self.pipeline[:-1].transform([text])
        prepared = self.pipeline.named_steps["prep"].transform([text])[0]
        columns, values, offset = [], [], 0
        for vectorizer in self._vectorizers:
            index, weight = vectorizer.row(prepared)
            columns.append(index + offset)
            values.append(weight)
            offset += vectorizer.width
        data = np.concatenate(values)
        indices = np.concatenate(columns)
        return sparse.csr_matrix((data, indices, [0, len(data)]), shape=(1, offset))

    def _proba(self, features: sparse.csr_matrix) -> np.ndarray:
        """The same probabilities as the pipeline's, computed without its per-call checks."""
        if self._sigmoids is None:
            return self.pipeline[-1].predict_proba(features)[0]
        coef, intercept, a, b = self._sigmoids
        decision = np.asarray(features @ coef.T).ravel() + intercept
        proba = expit(-(a * decision + b))
        if len(self.labels) == 2:
            return np.array([1.0 - proba[0], proba[0]])
        total = proba.sum()
        return proba / total if total else np.full(len(proba), 1.0 / len(proba))

    def _driving_words(self, features: Any, classes: np.ndarray, n: int = 5) -> list[list[str]]:
        """Per class, up to `n` meaningful words whose features pushed it most, best first."""
        if self._word_coef is None or len(classes) == 0:
            return [[] for _ in classes]
        n_words = self._word_coef.shape[1]
        if features.format == "csr" and features.has_sorted_indices:
            # The word features come first: take their leading run without slicing a matrix.
            end = int(np.searchsorted(features.indices, n_words))
            idx, values = features.indices[:end], features.data[:end]
        else:
            row = features[:, :n_words].tocsr()
            idx, values = row.indices, row.data
        if self._word_meaningful is None:
            return self._driving_ngrams(idx, values, classes, n)
        keep = self._word_meaningful[idx]
        idx, values = idx[keep], values[keep]
        contribution = values * self._word_coef[np.ix_(np.asarray(classes), idx)]
        result = []
        for scores in contribution:
            positive = np.flatnonzero(scores > 0)
            # Stable sort on the negated scores: ties keep feature order, as `sorted` did.
            best = positive[np.argsort(-scores[positive], kind="stable")[:n]]
            result.append(self._word_names[idx[best]].tolist())
        return result

    def _driving_ngrams(self, idx: np.ndarray, values: np.ndarray, classes: np.ndarray,
                        n: int) -> list[list[str]]:
        """Word n-gram vocabularies: share each positive feature's push among its meaningful
        words and add up per word (in the order features and words come, as a plain loop
        would: equal totals keep the first seen first)."""
        ngrams = self._ngram_parts
        starts = ngrams.indptr[idx]
        lengths = ngrams.indptr[idx + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return [[] for _ in classes]
        row = np.repeat(np.arange(len(idx)), lengths)
        pos = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        parts, counts = ngrams.parts[pos], ngrams.counts[pos]
        result = []
        for scores in values * self._word_coef[np.ix_(np.asarray(classes), idx)]:
            push = scores[row].astype(np.float64)
            keep = push > 0
            if not keep.any():
                result.append([])
                continue
            unique, first, inverse = np.unique(parts[keep], return_index=True,
                                               return_inverse=True)
            totals = np.bincount(inverse, weights=push[keep] / counts[keep])
            seen = np.argsort(first, kind="stable")
            best = seen[np.argsort(-totals[seen], kind="stable")[:n]]
            result.append(ngrams.names[unique[best]].tolist())
        return result

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write `model.joblib` and `meta.json` into the folder `path`, each replaced atomically."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tmp_model = folder / f".{MODEL_FILE}.tmp"
        tmp_meta = folder / f".{META_FILE}.tmp"
        joblib.dump(self.pipeline, tmp_model, compress=3)
        tmp_meta.write_text(json.dumps(self.meta, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp_model, folder / MODEL_FILE)
        os.replace(tmp_meta, folder / META_FILE)
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedModel:
        """Load a model folder; refuse one trained with other library versions."""
        folder = Path(path)
        meta = read_meta(folder)
        mismatch = version_mismatch(meta)
        if mismatch:
            raise ModelError(f"model in {folder} was trained with {mismatch}; {RETRAIN_HINT}")
        try:
            pipeline = joblib.load(folder / MODEL_FILE)
        except FileNotFoundError:
            raise ModelError(f"{folder / MODEL_FILE} is missing; {RETRAIN_HINT}") from None
        except Exception as exc:  # a damaged pickle can raise almost anything
            raise ModelError(f"cannot read {folder / MODEL_FILE} ({exc}); {RETRAIN_HINT}") from exc
        return cls(pipeline, meta)


def read_meta(folder: Path) -> dict[str, Any]:
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise ModelError(f"no model in {folder} ({META_FILE} not found); {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc
    if not isinstance(meta, dict) or "version" not in meta or "libraries" not in meta:
        raise ModelError(f"{meta_path} lacks version or libraries; {RETRAIN_HINT}")
    return meta


def version_mismatch(meta: dict[str, Any]) -> str:
    """'' when the model's library versions match this installation, else what differs."""
    saved = meta.get("libraries", {})
    differences = [
        f"{name} {saved.get(name, '?')} (this installation has {current})"
        for name, current in library_versions().items()
        if saved.get(name) != current
    ]
    return ", ".join(differences)


class _FastTfidf:
    """A fitted TfidfVectorizer's transform of one text (sublinear tf, idf, l2), minus checks."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.width = len(self.vocabulary)
        self._chars = _CharCodes.of(vectorizer)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self._chars is not None:
            index, tf = self._chars.counts(text)
        else:
            # Count the tokens first, then look up each distinct one: same features, same order.
            counts = Counter(self.analyze(text))
            index = np.fromiter(
                map(self.vocabulary.get, counts, repeat(-1)), dtype=np.int64, count=len(counts)
            )
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            known = index >= 0
            index, tf = index[known], tf[known]
        weight = (1.0 + np.log(tf)) * self.idf[index]
        norm = np.sqrt(np.dot(weight, weight))
        if norm:
            weight /= norm
        order = np.argsort(index)
        return index[order], weight[order].astype(np.float32)


_CODE_BITS = 21  # a code point plus one fits in 21 bits; three of them in an int64


class _CharCodes:
    """Character n-grams (n <= 3) counted in numpy: each n-gram is one integer made of its code
    points, looked up in the vocabulary's sorted codes. Gives the features and counts of
    Counter(analyzer(text)) in the same order (first occurrence, shorter n-grams first)."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.white_spaces = vectorizer._white_spaces
        self.min_n, self.max_n = vectorizer.ngram_range
        terms = list(vectorizer.vocabulary_)
        columns = np.fromiter(vectorizer.vocabulary_.values(), dtype=np.int64, count=len(terms))
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        codes = np.zeros(len(terms), dtype=np.int64)
        for n in np.unique(lengths):
            where = np.flatnonzero(lengths == n)
            joined = "".join(terms[i] for i in where)
            codes[where] = _ngram_codes(_code_points(joined).reshape(-1, n), int(n))
        order = np.argsort(codes)
        self.codes, self.columns = codes[order], columns[order]

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> _CharCodes | None:
        """The numpy counter for a plain character vectoriser, else None."""
        lo, hi = vectorizer.ngram_range
        plain = (
            vectorizer.analyzer == "char"
            and 1 <= lo <= hi <= 3
            and vectorizer.preprocessor is None
            and not vectorizer.lowercase
            and vectorizer.strip_accents is None
            and vectorizer.input == "content"
            and hasattr(vectorizer, "_white_spaces")  # the analyzer's white-space folding
            and len(vectorizer.vocabulary_) > 0
            and all(lo <= len(term) <= hi for term in vectorizer.vocabulary_)
        )
        return cls(vectorizer) if plain else None

    def counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        points = _code_points(self.white_spaces.sub(" ", text))
        size = len(points)
        grams = [
            _ngram_codes(
                np.stack([points[i : size - n + 1 + i] for i in range(n)], axis=1), n
            )
            for n in range(self.min_n, min(self.max_n, size) + 1)
        ]
        if not grams:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        unique, first, tf = np.unique(
            np.concatenate(grams), return_index=True, return_counts=True
        )
        where = np.searchsorted(self.codes, unique)
        where[where == len(self.codes)] = 0
        known = self.codes[where] == unique
        order = np.argsort(first[known], kind="stable")
        return self.columns[where[known]][order], tf[known][order].astype(np.float64)


def _code_points(text: str) -> np.ndarray:
    """Each character's code point plus one (so no n-gram code is 0-padded into another)."""
    raw = text.encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32).astype(np.int64) + 1


def _ngram_codes(points: np.ndarray, n: int) -> np.ndarray:
    """One int64 per row of `n` code points (plus one each)."""
    code = points[:, 0].copy()
    for i in range(1, n):
        code <<= _CODE_BITS
        code |= points[:, i]
    return code


def _fast_vectorizers(pipeline: Pipeline) -> list[_FastTfidf] | None:
    union = pipeline.named_steps["features"]
    if union.transformer_weights:
        return None
    vectorizers = [vec for _, vec in union.transformer_list]
    for vec in vectorizers:
        plain = (
            isinstance(vec, TfidfVectorizer)
            and vec.sublinear_tf
            and vec.use_idf
            and vec.norm == "l2"
            and not vec.binary
        )
        if not plain:
            return None
    return [_FastTfidf(vec) for vec in vectorizers]


def _sigmoid_parameters(pipeline: Pipeline) -> tuple[np.ndarray, ...] | None:
    """Weights and sigmoid calibration of a single calibrated linear model, else None."""
    model = pipeline[-1]
    if not isinstance(model, CalibratedClassifierCV) or len(model.calibrated_classifiers_) != 1:
        return None
    calibrated = model.calibrated_classifiers_[0]
    estimator = calibrated.estimator
    if calibrated.method != "sigmoid" or not hasattr(estimator, "coef_"):
        return None
    if list(estimator.classes_) != list(model.classes_):
        return None
    a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
    b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
    return estimator.coef_, np.atleast_1d(estimator.intercept_), a, b


def describe_calibration(pipeline: Pipeline) -> dict[str, Any]:
    """How the model's probabilities are calibrated, for its metadata."""
    model = pipeline[-1]
    if not isinstance(model, CalibratedClassifierCV):
        return {"method": "none (the estimator's own predict_proba)"}
    cv = model.cv if isinstance(model.cv, int) else "given splits"
    how = "on held-out folds (cross_val_predict)" if not model.ensemble else "per fold"
    return {"method": model.method, "folds": cv, "fitted": how}


def _word_coefficients(pipeline: Pipeline) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-class weights of the jieba-word features, for explanations; None without words."""
    union = pipeline.named_steps["features"]
    words = dict(union.transformer_list).get("words")
    if words is None or union.transformer_list[0][0] != "words":
        return None, None
    model = pipeline[-1]
    if isinstance(model, CalibratedClassifierCV):
        coef = np.mean([c.estimator.coef_ for c in model.calibrated_classifiers_], axis=0)
    else:
        coef = model.coef_
    n_words = len(words.vocabulary_)
    coef = np.asarray(coef[:, :n_words], dtype=np.float32)
    if coef.shape[0] == 1:  # binary models keep one row, for the second class
        coef = np.vstack([-coef, coef])
    return coef, words.get_feature_names_out()
