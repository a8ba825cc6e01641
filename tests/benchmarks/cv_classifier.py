"""Grouped K-fold cross-validation of classifier settings on the shared Teddy Cup data.

The method of tests/integration/test_classifier_shared_data.py, over K folds instead of one
split: each fold holds out whole titled messages (title and body) grouped by title; the model
trains on the rest of appeals_train.csv plus appeal_titles_train.csv, minus every row with a
held-out title (and every message with a held-out body). Untitled messages only ever train.

Run by hand, one at a time (each fold trains a full model):
    python tests/benchmarks/cv_classifier.py [--folds 5] [--seed 0 1] [--jobs 2]
        [--settings c=1.0 ...]
Prints macro-F1 per fold, mean ± sd per seed and over all folds, the settings, CPU time and
the machine. Compare configurations on the defaults (5 folds, seeds 0 and 1), never one split.
tests/integration/test_classifier_cv_shared_data.py runs `grouped_cv` of the defaults.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
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

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rows_apart_from(held_out: list[dict], appeals: list[dict], titles: list[dict]) -> list[dict]:
    """Training rows sharing neither a title nor a body with the held-out messages."""
    held_titles = {r["title"].strip() for r in held_out}
    held_bodies = {r["detail"].strip() for r in held_out}
    rows = [r for r in appeals if r["title"].strip() not in held_titles
            and r["detail"].strip() not in held_bodies]
    return rows + [r for r in titles if r["title"].strip() not in held_titles]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="folder of the shared CSVs")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, nargs="+", default=[0, 1],
                        help="shuffles the grouped folds; each seed is one K-fold run")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes to train the folds in (CPU time is then this one's only)")
    parser.add_argument("--settings", nargs="*", default=[], metavar="KEY=VALUE",
                        help="training settings to override, e.g. word_max_chars=400 "
                             "char_ngrams=1,3")
    args = parser.parse_args(argv)
    if not has_data(args.data):
        print(f"no data in {args.data}; nothing to measure")
        return 0
    overrides = parse_settings(args.settings)

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"python {platform.python_version()}, scikit-learn {sklearn.__version__}")
    print(f"settings: {Settings.from_kwargs(**{**overrides, 'cv_folds': 0}).as_dict()}")

    every: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    for seed, scores in grouped_cv(args.data, args.folds, args.seed, overrides, args.jobs).items():
        print(f"seed {seed}: macro-F1 per fold {' '.join(f'{s:.4f}' for s in scores)}; "
              f"{mean_sd(scores)}", flush=True)
        every += scores
    print(f"all {len(every)} folds: macro-F1 {mean_sd(every)}")
    print(f"total: wall {time.perf_counter() - started:.0f} s, "
          f"CPU {time.process_time() - cpu:.0f} s")
    return 0


def has_data(data: Path) -> bool:
    return (data / "appeals_train.csv").is_file() and (data / "appeal_titles_train.csv").is_file()


def grouped_cv(data: Path, n_folds: int = 5, seeds: list[int] | tuple[int, ...] = (0,),
               settings: dict[str, Any] | None = None, jobs: int = 1) -> dict[int, list[float]]:
    """Per seed, the macro-F1 of each of `n_folds` grouped folds (shuffled by that seed) of
    `train_model` with `settings` (the defaults when None, never train's own CV); `jobs`
    processes share the folds of all seeds."""
    settings = {**(settings or {}), "cv_folds": 0}
    appeals = [r for r in read_rows(data / "appeals_train.csv")
               if join_text([r["title"], r["detail"]])]
    titles = [r for r in read_rows(data / "appeal_titles_train.csv") if r["title"].strip()]
    titled = [r for r in appeals if r["title"].strip()]
    groups = [r["title"].strip() for r in titled]
    labels = [r["label"] for r in titled]
    tasks = []
    for seed in seeds:
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        for fold, (_, test_idx) in enumerate(splitter.split(np.zeros(len(titled)), labels, groups)):
            tasks.append((fold, n_folds, [titled[i] for i in test_idx], appeals, titles, settings))
    if jobs <= 1:
        scores = run_folds(tasks)
    else:
        # Each process takes every jobs-th fold, so its jieba memo serves several folds.
        # Spawned, not forked: a forked copy of a process with threads may deadlock.
        chunks = [tasks[i::jobs] for i in range(jobs)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            results = list(pool.map(run_folds, chunks))
        scores = [0.0] * len(tasks)
        for i, chunk_scores in enumerate(results):
            scores[i::jobs] = chunk_scores
    return {seed: scores[i * n_folds:(i + 1) * n_folds] for i, seed in enumerate(seeds)}


def run_folds(tasks: list[tuple]) -> list[float]:
    with memoized():  # jieba cuts each distinct text once over all folds
        return [run_fold(*task) for task in tasks]


def mean_sd(scores: list[float]) -> str:
    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    return f"mean {statistics.mean(scores):.4f} ± {spread:.4f} (sd)"


def run_fold(fold: int, n_folds: int, held_out: list[dict], appeals: list[dict],
             titles: list[dict], settings: dict[str, Any]) -> float:
    """Train without the held-out messages' titles and bodies; macro-F1 on those messages."""
    fold_started, fold_cpu = time.perf_counter(), time.process_time()
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
