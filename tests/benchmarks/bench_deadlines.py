"""Time to compute 100,000 deadlines.

Run by hand: .venv/bin/python tests/benchmarks/bench_deadlines.py

Start instants are spread over 2025-2026 plus a slice of 2027 (provisional days), at
varied hours, for every appeal type of routing_rules/clocks.yaml; each deadline is the
full computation with its explanation (counted and skipped days), plus warn_at.
"""

import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.domain.clock import compute_deadline, warn_at
from app.rules import load_calendar, load_policies
from tests.benchmarks.machine import cpu_model  # noqa: E402

RULES = Path(__file__).resolve().parents[2] / "routing_rules"
COUNT = 100_000




def main() -> None:
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, "
          f"Python {sys.version.split()[0]} on {platform.platform()}")
    policies = load_policies(RULES / "clocks.yaml")
    rng = random.Random(20261001)
    first = datetime(2025, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=800).total_seconds())
    starts = [first + timedelta(seconds=rng.randrange(span)) for _ in range(COUNT)]
    types = [rng.choice(policies.types) for _ in range(COUNT)]

    calendar = load_calendar(RULES / "calendar.yaml")
    for label in ("cold calendar cache", "warm calendar cache"):
        began = time.perf_counter()
        provisional = 0
        for start, appeal_type in zip(starts, types, strict=True):
            policy = policies.reply(appeal_type)
            deadline = compute_deadline(start, policy.reply_days, calendar)
            warn_at(deadline.due_at, policy.warn_before_days, calendar)
            provisional += deadline.provisional
        elapsed = time.perf_counter() - began
        print(f"{label}: {COUNT:,} deadlines (+ warn_at) in {elapsed:.3f} s "
              f"({elapsed / COUNT * 1e6:.1f} µs each; {provisional:,} provisional)")


if __name__ == "__main__":
    main()
