"""Issue 14's headline: grouped 5-fold cross-validation of the default `classifier train` on
both shared files reaches macro-F1 0.93 over the official method's two seeds (that of
tests/benchmarks/cv_classifier.py, its ten folds run in two processes).

Skipped where ../shared is absent, and in the PostgreSQL run: it touches no database, and the
two engines' suites run side by side in CI. It takes six minutes on two cores, and its
margin is a thousandth: it runs when MINSHENG_SLOW_TESTS=1 is set (`pytest -m shared_data`
with it measures the classifier), not in every run, so that a new scikit-learn release
cannot stop everything else from landing.
"""

from __future__ import annotations

import os
import statistics

import pytest

from tests.benchmarks.cv_classifier import SHARED, grouped_cv, has_data, mean_sd
from tests.conftest import USE_PG

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not has_data(SHARED), reason=f"{SHARED} is absent"),
    pytest.mark.skipif(USE_PG, reason="no database involved; the SQLite run measures it"),
    pytest.mark.skipif(os.environ.get("MINSHENG_SLOW_TESTS") != "1",
                       reason="six minutes of cross-validation: set MINSHENG_SLOW_TESTS=1"),
]


def test_default_train_reaches_macro_f1_093_by_grouped_5_fold_cv():
    by_seed = grouped_cv(SHARED, n_folds=5, seeds=(0, 1), jobs=2)
    for seed, scores in by_seed.items():
        print(f"seed {seed}: macro-F1 {mean_sd(scores)}; "
              f"folds {' '.join(f'{s:.4f}' for s in scores)}")
    every = by_seed[0] + by_seed[1]
    print(f"all {len(every)} folds: macro-F1 {mean_sd(every)}")
    assert len(every) == 10
    assert statistics.mean(every) >= 0.93, by_seed
