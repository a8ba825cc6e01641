"""`similar` commands: the similar-appeals index (app.services.similar) from a shell.

    minsheng similar reindex [--days N]
    minsheng similar mark [--days N]

`reindex` rebuilds the sketches and band keys of the appeals of the last N days (default:
the window of routing.yaml `similar:`, and a day more) from their text: after an upgrade
(appeals stored before migration 0021 have none), after the similarity parameters or the
region tree changed. Idempotent, a batch at a time; submissions go on meanwhile.

`mark` queues the appeals of the last N days (default: the window) that carry no 疑似重复
mark for the worker to compare: after upgrading to migration 0024, or after the thresholds
changed (run `reindex` first where the index changed)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from app.accounts_cli import RunDb, _run

WindowDays = Callable[[], Awaitable[int]]
MAX_DAYS = 3660


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"天数应为 1 到 {MAX_DAYS} 之间的整数：{text!r}")
    return days


def add_subcommands(commands: argparse._SubParsersAction, run_db: RunDb,
                    window_days: WindowDays) -> None:
    """Register `similar`; `window_days()` gives the live rules' window (with the
    database open)."""
    similar = commands.add_parser(
        "similar", help="similar appeals (并单): rebuild the index, queue 疑似重复 marks")
    similar_commands = similar.add_subparsers(dest="similar_command", metavar="COMMAND",
                                              required=True)
    for name, func, summary, default in (
            ("reindex", cmd_reindex, "rebuild the sketches of the appeals of the last N days "
             "from their text (default: the similar window and a day more); idempotent",
             "window_days + 1"),
            ("mark", cmd_mark, "queue the unmarked appeals of the last N days for the "
             "worker's 疑似重复 marks (default: the similar window)", "window_days")):
        command = similar_commands.add_parser(name, help=summary)
        command.add_argument("--days", type=_days, default=None, metavar="N",
                             help=f"how many days back (default: {default})")
        command.set_defaults(func=func, run_db=run_db, window_days=window_days)

def cmd_reindex(args: argparse.Namespace) -> int:
    from app.services import similar

    async def work() -> int:
        days = args.days or await args.window_days() + 1
        count = await similar.reindex(datetime.now(UTC) - timedelta(days=days))
        print(f"已重建最近 {days} 天 {count} 件诉求的相似诉求索引。")
        return 0

    return _run(args, work)


def cmd_mark(args: argparse.Namespace) -> int:
    from app.services import similar

    async def work() -> int:
        days = args.days or await args.window_days()
        count = await similar.queue_unmarked(datetime.now(UTC) - timedelta(days=days))
        print(f"已将最近 {days} 天 {count} 件尚无疑似重复标记的诉求排入比对队列，"
              "由 worker 陆续比对。")
        return 0

    return _run(args, work)
