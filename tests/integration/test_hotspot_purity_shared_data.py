"""The hotspot clustering (app.domain.hotspots.cluster) on the shared real messages: the
purity of its clusters against the labelled first-level categories, as a sanity check.

A hotspot is narrower than a category (one problem in one place), so a pure cluster sits
inside one category; the messages span a whole city over years, so few of them form groups
and coverage is low by nature. Measured (threshold 0.1, shared neighbours 0.5, core 3,
coherence 0.25, at least 5 messages): purity 0.879 over 36 clusters covering 4.8% of the
6,648 messages.
Skipped where ../shared is absent, and in the PostgreSQL run (no database is touched)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from app.domain import hotspots
from tests.conftest import USE_PG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
APPEALS = SHARED / "appeals_train.csv"
PURITY_FLOOR = 0.84
MIN_CLUSTERS = 25
MIN_COVERAGE = 0.03

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not APPEALS.is_file(), reason=f"{SHARED} is absent"),
    pytest.mark.skipif(USE_PG, reason="no database: the SQLite run has it"),
]


def purity(labels: list[int], truth: list[str]) -> tuple[float, int, float]:
    """(purity, clusters, share of the messages in a cluster)."""
    groups: dict[int, list[str]] = defaultdict(list)
    for label, category in zip(labels, truth, strict=True):
        if label >= 0:
            groups[label].append(category)
    clustered = sum(len(g) for g in groups.values())
    if not clustered:
        return 0.0, 0, 0.0
    right = sum(Counter(g).most_common(1)[0][1] for g in groups.values())
    return right / clustered, len(groups), clustered / len(truth)


def test_clusters_of_real_messages_are_pure_in_their_category():
    with APPEALS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    documents = [hotspots.document(r["title"], r["detail"]) for r in rows]
    labels = hotspots.cluster(documents, min_size=5)
    found, clusters, coverage = purity(labels, [r["label"] for r in rows])
    print(f"hotspot clustering on {len(rows)} real messages: purity {found:.3f}, "
          f"{clusters} clusters, coverage {coverage:.1%}")
    assert found >= PURITY_FLOOR
    assert clusters >= MIN_CLUSTERS and coverage >= MIN_COVERAGE
