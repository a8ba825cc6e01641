"""The bundled seed model on the shared real messages: its macro-F1 and its explanations.

Skipped where ../shared is absent (the data never enters the repository). The seed model is
trained from classifier/data/seed_corpus.csv only; the shared data serve as evaluation.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from classifier.seed import load_seed_model
from classifier.tokenize import STOP_WORDS
from classifier.training import evaluate, join_text, read_csv_examples
from tests.conftest import USE_PG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
APPEALS = SHARED / "appeals_train.csv"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not APPEALS.is_file(), reason=f"{SHARED} is absent"),
    # No database: it runs once, on the SQLite side (CI runs the engines side by side).
    pytest.mark.skipif(USE_PG, reason="no database involved; the SQLite run has it"),
]


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory):
    return load_seed_model(tmp_path_factory.mktemp("seed"))


def test_seed_model_reaches_macro_f1_080_on_the_real_messages(seed_model):
    # All fifteen categories may be predicted, as in production: no restriction to the
    # seven labels the real data happen to use.
    texts, labels = read_csv_examples(APPEALS)
    report = evaluate(seed_model, texts, labels)
    print(f"seed model on {report['n']} real messages: macro-F1 {report['macro_f1']:.4f}")
    assert report["n"] > 6000
    assert report["macro_f1"] >= 0.80, report["per_class"]


def test_driving_words_of_100_real_messages_contain_no_stop_word(seed_model):
    with APPEALS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sample = random.Random(0).sample(rows, 100)
    explained = 0
    for row in sample:
        for candidate in seed_model.predict_top(join_text([row["title"], row["detail"]])):
            assert not set(candidate.words) & STOP_WORDS, candidate
            explained += bool(candidate.words)
    assert explained >= 250  # most of the 300 candidates name at least one word
