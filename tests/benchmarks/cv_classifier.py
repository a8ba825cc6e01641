"""Grouped K-fold cross-validation of classifier settings on the shared Teddy Cup data.

The method of tests/integration/test_classifier_shared_data.py, over K folds instead of one
split: each fold holds out whole titled messages (title and body) grouped by title; the model
trains on the rest of appeals_train.csv plus appeal_titles_train.csv, minus every row with a
held-out title (and every message with a held-out body). Untitled messages only ever train.

Run by hand, one at a time (each fold trains a full model):
    python tests/benchmarks/cv_classifier.py [--folds 3] [--settings word_max_chars=400 ...]
Prints macro-F1 per fold and their mean, the settings, CPU time and the machine.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from classifier.pipeline import Settings  # noqa: E402
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
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="shuffles the grouped folds")
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
    splitter = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)

    scores: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    for fold, (_, test_idx) in enumerate(splitter.split(np.zeros(len(titled)), labels, groups)):
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
        scores.append(report["macro_f1"])
        print(f"fold {fold + 1}/{args.folds}: train {len(train_rows)}, held out {report['n']}: "
              f"macro-F1 {report['macro_f1']:.4f}, accuracy {report['accuracy']:.4f} "
              f"(wall {time.perf_counter() - fold_started:.0f} s, "
              f"CPU {time.process_time() - fold_cpu:.0f} s)", flush=True)

    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    print(f"macro-F1 per fold: {' '.join(f'{s:.4f}' for s in scores)}; "
          f"mean {statistics.mean(scores):.4f} (sd {spread:.4f})")
    print(f"total: wall {time.perf_counter() - started:.0f} s, "
          f"CPU {time.process_time() - cpu:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
