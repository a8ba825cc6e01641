"""Grouped K-fold cross-validation of classifier settings on the shared Teddy Cup data.

The method of tests/integration/test_classifier_shared_data.py, over K folds instead of one
split: each fold holds out whole titled messages (title and body) grouped by title; the model
trains on the rest of appeals_train.csv plus appeal_titles_train.csv, minus every row with a
held-out title (and every message with a held-out body). Untitled messages only ever train.

Run by hand, one at a time (each fold trains a full model):
    python tests/benchmarks/cv_classifier.py [--folds 5] [--seed 0 1] [--settings c=1.0 ...]
Prints macro-F1 per fold, mean ± sd per seed and over all folds, the settings, CPU time and
the machine. Compare configurations on the defaults (5 folds, seeds 0 and 1), never one split.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from classifier.pipeline import Settings  # noqa: E402
from classifier.tokenize import memoized  # noqa: E402
from classifier.training import evaluate, join_text, train_model  # noqa: E402
from tests.benchmarks.bench_classifier import parse_settings  # noqa: E402
from tests.benchmarks.machine import cpu_model  # noqa: E402
from tests.integration.test_classifier_shared_data import rows_apart_from  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="folder of the shared CSVs")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, nargs="+", default=[0, 1],
                        help="shuffles the grouped folds; each seed is one K-fold run")
    parser.add_argument("--settings", nargs="*", default=[], metavar="KEY=VALUE",
                        help="training settings to override, e.g. word_max_chars=400 "
                             "char_ngrams=1,3")
    args = parser.parse_args(argv)
    appeals_path, titles_path = args.data / "appeals_train.csv", args.data / "appeal_titles_train.csv"
    if not appeals_path.is_file() or not titles_path.is_file():
        print(f"no data in {args.data}; nothing to measure")
        return 0
    overrides = parse_settings(args.settings)
    settings = {**overrides, "cv_folds": 0}

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"python {platform.python_version()}, scikit-learn {sklearn.__version__}")
    print(f"settings: {Settings.from_kwargs(**settings).as_dict()}")

    appeals = [r for r in read_rows(appeals_path) if join_text([r["title"], r["detail"]])]
    titles = [r for r in read_rows(titles_path) if r["title"].strip()]
    titled = [r for r in appeals if r["title"].strip()]
    groups = [r["title"].strip() for r in titled]
    labels = [r["label"] for r in titled]
    every: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    for seed in args.seed:
        splitter = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(titled)), labels, groups))
        with memoized():  # jieba cuts each distinct text once over all folds
            scores = [run_fold(fold, args.folds, titled, test_idx, appeals, titles, settings)
                      for fold, (_, test_idx) in enumerate(folds)]
        print(f"seed {seed}: macro-F1 per fold {' '.join(f'{s:.4f}' for s in scores)}; "
              f"{mean_sd(scores)}", flush=True)
        every += scores
    print(f"all {len(every)} folds: macro-F1 {mean_sd(every)}")
    print(f"total: wall {time.perf_counter() - started:.0f} s, "
          f"CPU {time.process_time() - cpu:.0f} s")
    return 0


def mean_sd(scores: list[float]) -> str:
    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    return f"mean {statistics.mean(scores):.4f} ± {spread:.4f} (sd)"


def run_fold(fold: int, n_folds: int, titled: list[dict], test_idx: Any, appeals: list[dict],
             titles: list[dict], settings: dict[str, Any]) -> float:
    """Train without the held-out messages' titles and bodies; macro-F1 on those messages."""
    fold_started, fold_cpu = time.perf_counter(), time.process_time()
    held_out = [titled[i] for i in test_idx]
    train_rows = rows_apart_from(held_out, appeals, titles)
    model = train_model(
        [join_text([r["title"], r.get("detail", "")]) for r in train_rows],
        [r["label"] for r in train_rows],
        **settings,
    )
    report = evaluate(
        model,
        [join_text([r["title"], r["detail"]]) for r in held_out],
        [r["label"] for r in held_out],
    )
    print(f"fold {fold + 1}/{n_folds}: train {len(train_rows)}, held out {report['n']}: "
          f"macro-F1 {report['macro_f1']:.4f}, accuracy {report['accuracy']:.4f} "
          f"(wall {time.perf_counter() - fold_started:.0f} s, "
          f"CPU {time.process_time() - fold_cpu:.0f} s)", flush=True)
    return report["macro_f1"]


if __name__ == "__main__":
    sys.exit(main())
