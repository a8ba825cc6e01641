"""Classifier speed: per-appeal latency, throughput against bare jieba, training time.

Run by hand: `python tests/benchmarks/bench_classifier.py [--data FILE.csv]`.
Prints figures and the machine; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import jieba
import numpy as np
import sklearn

from classifier.pipeline import Settings
from classifier.tokenize import get_tokenizer
from classifier.training import read_csv_examples, train_model
from tests.benchmarks.machine import cpu_model  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals_train.csv"
TITLES = SHARED.with_name("appeal_titles_train.csv")


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """`key=value` overrides: ints, floats, None, or comma-separated int pairs like 1,3."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SystemExit(f"expected key=value, got {pair!r}")
        overrides[key.strip()] = parse_value(raw.strip())
    Settings.from_kwargs(**overrides)  # refuse unknown keys early
    return overrides


def parse_value(raw: str) -> Any:
    if raw.lower() == "none":
        return None
    if "," in raw:
        return tuple(int(part) for part in raw.split(","))
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--repeat", type=int, default=3, help="latency passes over the sample")
    parser.add_argument("--titles", type=Path, default=TITLES,
                        help="a titles-only file trained on as well, as `classifier train` with "
                             "both shared files is (a missing file is skipped)")
    parser.add_argument("--no-cv", action="store_true",
                        help="skip the training run with train's opt-in 2-fold CV")
    parser.add_argument("--settings", nargs="*", default=[], metavar="KEY=VALUE",
                        help="training settings to override, e.g. word_max_chars=400")
    args = parser.parse_args(argv)
    overrides = parse_settings(args.settings)
    if not args.data.is_file():
        print(f"no data at {args.data}; nothing to measure")
        return 0

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other work on the machine inflates wall times; CPU times are steadier)")
    print(f"python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
          f"jieba {jieba.__version__}, numpy {np.__version__}")

    texts, labels = read_csv_examples(args.data)
    train_texts, train_labels, files = texts, labels, [args.data.name]
    if args.titles.is_file():
        title_texts, title_labels = read_csv_examples(args.titles, ("title",))
        train_texts, train_labels = texts + title_texts, labels + title_labels
        files.append(args.titles.name)
    print(f"settings: {Settings.from_kwargs(**overrides).as_dict()}")
    started, cpu = time.perf_counter(), time.process_time()
    model = train_model(train_texts, train_labels, **{**overrides, "cv_folds": 0})
    print(f"training on {' + '.join(files)} ({len(train_texts)} examples, these settings, as "
          f"`classifier train`): wall {time.perf_counter() - started:.1f} s, "
          f"CPU {time.process_time() - cpu:.1f} s")
    if not args.no_cv:
        started, cpu = time.perf_counter(), time.process_time()
        train_model(train_texts, train_labels, **{**overrides, "cv_folds": 2})
        print(f"  the same with train's opt-in 2-fold CV (--cv 2): wall "
              f"{time.perf_counter() - started:.1f} s, CPU {time.process_time() - cpu:.1f} s")

    # Latency: one appeal at a time, each at most 2,000 characters, longest first included.
    sample = sorted(texts, key=len, reverse=True)[:200] + texts[::20]
    sample = [t[:2000] for t in sample]
    model.predict_top(sample[0])  # warm
    times, cpu_times = [], []
    for _ in range(args.repeat):
        for text in sample:
            t0, c0 = time.perf_counter(), time.thread_time()
            model.predict_top(text)
            cpu_times.append((time.thread_time() - c0) * 1000)
            times.append((time.perf_counter() - t0) * 1000)
    n_sample = len(sample)
    long_times = [t for i, t in enumerate(times) if i % n_sample < 200]
    long_cpu = [t for i, t in enumerate(cpu_times) if i % n_sample < 200]
    print(f"predict_top latency over {len(times)} calls (texts up to 2,000 chars, "
          f"mean {statistics.mean(map(len, sample)):.0f} chars): "
          f"wall p50 {percentile(times, 50):.2f} ms, p99 {percentile(times, 99):.2f} ms; "
          f"CPU p50 {percentile(cpu_times, 50):.2f} ms, p99 {percentile(cpu_times, 99):.2f} ms; "
          f"2,000-char texts wall p50 {percentile(long_times, 50):.2f} ms, "
          f"p99 {percentile(long_times, 99):.2f} ms; "
          f"CPU p50 {percentile(long_cpu, 50):.2f} ms, p99 {percentile(long_cpu, 99):.2f} ms")

    # Throughput over the whole file, next to bare jieba on the same texts.
    tokenizer = get_tokenizer()
    t0 = time.perf_counter()
    for text in texts:
        tokenizer.lcut(text)
    jieba_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts:
        model.predict_top(text)
    model_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict_proba(texts)
    batch_seconds = time.perf_counter() - t0
    n = len(texts)
    print(f"throughput over {n} appeals (full length): predict_top one by one "
          f"{n / model_seconds:.0f}/s, predict_proba batch {n / batch_seconds:.0f}/s, "
          f"bare jieba.lcut {n / jieba_seconds:.0f}/s; "
          f"classifier/jieba time ratio {model_seconds / jieba_seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
