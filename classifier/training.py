"""Reading labelled examples, training a model, and measuring one."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from classifier.model import FORMAT, TrainedModel, describe_calibration, library_versions
from classifier.pipeline import Settings, build_pipeline
from classifier.tokenize import memoized

MIN_EXAMPLES_PER_LABEL = 2
RELIABILITY_BINS = 10
CURVE_THRESHOLDS = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))  # 0.30 … 0.99
DEFAULT_GOAL = 0.97  # share of automatic routes that must be right


class DataError(Exception):
    """Training or evaluation data that cannot be used; the message is meant for people."""


def read_csv_examples(
    path: str | os.PathLike[str],
    text_cols: Sequence[str] = ("title", "detail"),
    label_col: str = "label",
) -> tuple[list[str], list[str]]:
    """Texts (the text columns joined by a newline) and labels from a UTF-8 CSV file.

    A text column the file lacks, or an empty cell, counts as empty text; rows with an
    empty label or no text at all are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"文件不存在 file not found: {path}")
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            if not header:
                raise DataError(f"文件为空 empty file: {path}")
            if label_col not in header:
                raise DataError(
                    f"缺少标签列 missing label column '{label_col}' in {path}; "
                    f"columns are: {', '.join(header)}"
                )
            present = [col for col in text_cols if col in header]
            if not present:
                raise DataError(
                    f"缺少文本列 none of the text columns {', '.join(text_cols)} is in {path}; "
                    f"columns are: {', '.join(header)}"
                )
            texts, labels = [], []
            for row in reader:
                label = (row.get(label_col) or "").strip()
                text = join_text(row.get(col) for col in present)
                if label and text:
                    texts.append(text)
                    labels.append(label)
    except UnicodeDecodeError:
        raise DataError(f"编码错误 {path} is not UTF-8 text; save it as UTF-8 and retry") from None
    except csv.Error as exc:
        raise DataError(f"CSV 格式错误 malformed CSV in {path}: {exc}") from None
    if not texts:
        raise DataError(f"没有可用的样本 no labelled examples in {path}")
    return texts, labels


def join_text(parts: Any) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def group_keys(texts: Sequence[str]) -> list[str]:
    """Examples sharing a first line (the title, when there is one) share a fold."""
    return [text.split("\n", 1)[0].strip() for text in texts]


def train_model(
    texts: list[str],
    labels: list[str],
    groups: Sequence[str] | None = None,
    **settings: Any,
) -> TrainedModel:
    """Fit the pipeline on all examples; with `cv_folds` > 1 first measure it by grouped CV."""
    config = Settings.from_kwargs(**settings)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    counts = Counter(labels)
    if len(counts) < 2:
        raise DataError("需要至少两个类别 training needs at least two categories")
    rare = sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL)
    if rare:
        raise DataError(
            f"类别样本太少 categories with fewer than {MIN_EXAMPLES_PER_LABEL} examples: "
            + ", ".join(rare)
        )
    groups = list(groups) if groups is not None else group_keys(texts)
    started = time.perf_counter()
    with memoized():
        cv_metrics = cross_validate(texts, labels, groups, config) if config.cv_folds > 1 else None
        pipeline = build_pipeline(config, min(counts.values())).fit(texts, labels)
    seconds = time.perf_counter() - started
    data_hash = data_sha256(texts, labels)
    now = datetime.now(UTC)
    meta = {
        "format": FORMAT,
        "version": f"{now:%Y%m%dT%H%M%S}-{data_hash[:8]}",
        "trained_at": now.isoformat(timespec="seconds"),
        "labels": [str(label) for label in pipeline.classes_],
        "label_counts": dict(sorted(counts.items())),
        "n_examples": len(texts),
        "data_sha256": data_hash,
        "libraries": library_versions(),
        "settings": config.as_dict(),
        "calibration": describe_calibration(pipeline),
        "cv_metrics": cv_metrics,
        "training_seconds": round(seconds, 2),
    }
    return TrainedModel(pipeline, meta)


def cross_validate(
    texts: Sequence[str], labels: Sequence[str], groups: Sequence[str], config: Settings
) -> dict[str, Any] | None:
    """Grouped, stratified k-fold figures of the pipeline; None when data are too few."""
    report = cross_validated_report(texts, labels, groups, config)
    if report is None:
        return None
    return {"folds": report["folds"], "grouped_by": "first line", **_headline(report)}


def cross_validated_report(
    texts: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[str],
    config: Settings,
    goal: float | None = None,
) -> dict[str, Any] | None:
    """The full report (metrics and confidence) of `config.cv_folds`-fold grouped CV: each
    example is predicted by a model that saw no example sharing its first line."""
    y = np.asarray(labels)
    n_groups = len(set(groups))
    folds = min(config.cv_folds, n_groups, min(Counter(labels).values()))
    if folds < 2:
        return None
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.random_state)
    classes = sorted(set(labels))
    proba = np.zeros((len(y), len(classes)))
    x = np.asarray(texts, dtype=object)
    for train, test in splitter.split(x, y, groups):
        fold_counts = Counter(y[train])
        if len(fold_counts) < len(set(y)) or min(fold_counts.values()) < MIN_EXAMPLES_PER_LABEL:
            return None
        model = build_pipeline(config, min(fold_counts.values())).fit(list(x[train]), y[train])
        columns = np.searchsorted(classes, [str(c) for c in model.classes_])
        proba[np.ix_(test, columns)] = model.predict_proba(list(x[test]))
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    report = metrics(list(y), predicted)
    report["folds"] = folds
    report["confidence"] = confidence_report(
        proba.max(axis=1), np.asarray(predicted) == y, DEFAULT_GOAL if goal is None else goal
    )
    return report


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "accuracy", "macro_f1", "per_class", "confidence")
    return {k: report[k] for k in keys if k in report}



def confidence_report(
    confidence: np.ndarray, correct: np.ndarray, goal: float = DEFAULT_GOAL
) -> dict[str, Any]:
    """Whether the top probability means what it says (reliability table, expected calibration
    error) and what a threshold on it buys (precision and coverage of automatic routes)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    table = reliability(confidence, correct)
    curve = precision_coverage(confidence, correct)
    return {
        "ece": expected_calibration_error(confidence, correct),
        "reliability": table,
        "curve": curve,
        "goal": goal,
        "threshold_for_goal": threshold_for(curve, goal),
    }


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS
) -> list[dict[str, Any]]:
    """Equal-width bins of the top probability (lower, upper]: count, mean confidence, accuracy."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    where = _bin_of(confidence, bins)
    rows = []
    for b in range(bins):
        inside = where == b
        count = int(inside.sum())
        rows.append({
            "lower": round(float(edges[b]), 2),
            "upper": round(float(edges[b + 1]), 2),
            "count": count,
            "mean_confidence": round(float(confidence[inside].mean()), 4) if count else None,
            "accuracy": round(float(correct[inside].mean()), 4) if count else None,
        })
    return rows


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS
) -> float:
    """Count-weighted mean gap between confidence and accuracy over the reliability bins."""
    if not len(confidence):
        return 0.0
    where = _bin_of(confidence, bins)
    gap = 0.0
    for b in np.unique(where):
        inside = where == b
        gap += inside.sum() * abs(confidence[inside].mean() - correct[inside].mean())
    return round(float(gap) / len(confidence), 4)


def _bin_of(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of each confidence in (lower, upper] bins; 0 falls in the first."""
    return np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)


def precision_coverage(
    confidence: np.ndarray, correct: np.ndarray, thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> list[dict[str, Any]]:
    """Per threshold: the share of examples at or above it (routed automatically) and the
    share of those the model got right."""
    n = len(confidence)
    rows = []
    for threshold in thresholds:
        routed = confidence >= threshold - 1e-9
        count = int(routed.sum())
        rows.append({
            "threshold": threshold,
            "routed": count,
            "coverage": round(count / n, 4) if n else 0.0,
            "precision": round(float(correct[routed].mean()), 4) if count else None,
        })
    return rows


def threshold_for(curve: list[dict[str, Any]], goal: float) -> dict[str, Any] | None:
    """The curve's lowest threshold whose precision reaches `goal`, or None."""
    for row in curve:
        if row["precision"] is not None and row["precision"] >= goal:
            return row
    return None


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the true labels, per-class figures and the confusion matrix."""
    classes = sorted(set(truth))
    every = classes + sorted(set(predicted) - set(classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    matrix = confusion_matrix(truth, predicted, labels=every)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(np.mean(f1)), 4),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "confusion": {"labels": every, "matrix": matrix.tolist()},
    }


def evaluate(
    model: TrainedModel,
    texts: list[str],
    labels: list[str],
    restrict: bool = False,
    goal: float = DEFAULT_GOAL,
) -> dict[str, Any]:
    """Measure `model` on labelled texts; `restrict` predicts only among the labels present."""
    if not texts:
        raise DataError("没有可用的样本 no examples to evaluate")
    proba = model.predict_proba(texts)
    allowed = np.ones(len(model.labels), dtype=bool)
    if restrict:
        allowed = np.isin(model.labels, sorted(set(labels)))
        if not allowed.any():
            raise DataError("none of the data's labels is known to the model")
    proba = np.where(allowed, proba, -1.0)
    predicted = [model.labels[i] for i in proba.argmax(axis=1)]
    report = metrics(labels, predicted)
    report["model_version"] = model.version
    report["confidence"] = confidence_report(
        proba.max(axis=1), np.asarray(predicted) == np.asarray(labels), goal
    )
    unknown = sorted(set(labels) - set(model.labels))
    if unknown:
        report["labels_unknown_to_model"] = unknown
    return report
