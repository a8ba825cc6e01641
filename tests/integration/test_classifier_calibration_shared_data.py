"""Confidence that means what it says, on the shared Teddy Cup data (both files).

Grouped cross-validation (no title shared between a model's training and test side) of the
default settings: the top probability is calibrated, and at the configured auto-route
threshold at least 97 % of automatic routes are right. Skipped where ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.pipeline import Settings
from classifier.training import cross_validated_report, group_keys, read_csv_examples
from tests.conftest import USE_PG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
APPEALS = SHARED / "appeals_train.csv"
TITLES = SHARED / "appeal_titles_train.csv"
GOAL = 0.97  # the goal stated beside confidence_threshold in routing_rules/routing.yaml
# Measured 0.0079 (3 folds, random_state 0), 0.0137 with the word-bigram/title features, 0.0120
# with today's NB-SVM/LinearSVC blend; the bound leaves room for such tuning.
ECE_BOUND = 0.02

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not (APPEALS.is_file() and TITLES.is_file()),
                       reason=f"{SHARED} is absent"),
    # No database: it runs once, on the SQLite side (CI runs the engines side by side).
    pytest.mark.skipif(USE_PG, reason="no database involved; the SQLite run has it"),
]


@pytest.fixture(scope="module")
def confidence():
    texts, labels = read_csv_examples(APPEALS)
    title_texts, title_labels = read_csv_examples(TITLES)
    texts, labels = texts + title_texts, labels + title_labels
    report = cross_validated_report(texts, labels, group_keys(texts),
                                    Settings.from_kwargs(cv_folds=3), GOAL)
    assert report is not None and report["n"] > 14000
    return report["confidence"]


def test_top_probability_is_calibrated_on_grouped_folds(confidence):
    print(f"ECE {confidence['ece']:.4f}")
    assert confidence["ece"] < ECE_BOUND, confidence["reliability"]
    # Over-confidence is what sends appeals astray: no well-filled bin promises more than three
    # points above what it delivers. (The sigmoid fit is a little under-confident between
    # 0.5 and 0.7, by 2 to 8 points; the ECE bounds that side.)
    for row in confidence["reliability"]:
        if row["count"] >= 500:
            assert row["accuracy"] >= row["mean_confidence"] - 0.03, row


def test_automatic_routes_at_the_configured_threshold_are_97_percent_right(confidence, rules):
    threshold = rules.routing.confidence_threshold
    rows = [r for r in confidence["curve"] if abs(r["threshold"] - threshold) < 1e-9]
    assert rows, f"confidence_threshold {threshold} is not on the measured curve (0.01 steps)"
    row = rows[0]
    print(f"threshold {threshold:.2f}: precision {row['precision']:.4f}, "
          f"coverage {row['coverage']:.1%} of {row['routed']} routed")
    assert row["precision"] >= GOAL, row
    assert row["coverage"] >= 0.5, row  # a threshold that routes little would pass trivially


def test_threshold_is_the_lowest_reaching_the_goal_up_to_a_stated_margin(confidence, rules):
    best = confidence["threshold_for_goal"]
    assert best is not None
    # routing.yaml may sit a little above the lowest (safety against fold noise), not below.
    assert best["threshold"] <= rules.routing.confidence_threshold <= best["threshold"] + 0.02
