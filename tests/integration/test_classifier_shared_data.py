"""The classifier on the shared Teddy Cup data: default settings reach macro-F1 0.92 held out.

Skipped where ../shared is absent (the data never enters the repository).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GroupShuffleSplit

from classifier.training import evaluate, join_text, read_csv_examples, train_model
from tests.benchmarks.cv_classifier import read_rows, rows_apart_from
from tests.conftest import USE_PG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
APPEALS = SHARED / "appeals_train.csv"
TITLES = SHARED / "appeal_titles_train.csv"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not APPEALS.is_file(), reason=f"{SHARED} is absent"),
    # No database: it runs once, on the SQLite side (CI runs the engines side by side).
    pytest.mark.skipif(USE_PG, reason="no database involved; the SQLite run has it"),
]


def test_default_settings_reach_macro_f1_092_on_held_out_titled_messages():
    appeals = [r for r in read_rows(APPEALS) if join_text([r["title"], r["detail"]])]
    titles = [r for r in read_rows(TITLES) if r["title"].strip()]
    # Held out: whole messages (title and body) whose title the training side never sees,
    # like the sealed evaluation set. Untitled messages train only: the titles file may hold
    # their titles, so holding them out would flatter the figure.
    titled = [r for r in appeals if r["title"].strip()]
    groups = [r["title"].strip() for r in titled]
    split = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    train_idx, test_idx = next(split.split(np.zeros(len(titled)), groups=groups))
    held_out = [titled[i] for i in test_idx]
    train_rows = rows_apart_from(held_out, appeals, titles)
    texts = [join_text([r["title"], r.get("detail", "")]) for r in train_rows]
    labels = [r["label"] for r in train_rows]
    model = train_model(texts, labels, cv_folds=0)

    report = evaluate(
        model,
        [join_text([r["title"], r["detail"]]) for r in held_out],
        [r["label"] for r in held_out],
    )
    assert report["n"] > 800
    assert report["macro_f1"] >= 0.92, report["per_class"]


def test_read_csv_examples_reads_both_shared_files():
    texts, labels = read_csv_examples(APPEALS)
    assert len(texts) == len(labels) > 6000
    title_texts, _ = read_csv_examples(TITLES)
    assert len(title_texts) > 7000
    assert all("\n" not in t for t in title_texts[:100])
