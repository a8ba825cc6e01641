"""`hotspots` commands: build the hotspots (app.services.hotspots) from a shell.

    minsheng hotspots build

computes the 7- and 30-day hotspots as of now with the live rules, keeps them and queues the
未诉先办 notices due (once per hotspot, as the worker's build does). Safe next to running
workers: builds write one after the other."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from app.accounts_cli import RunDb, _run

LiveRules = Callable[[], Awaitable[Any]]


def add_subcommands(commands: argparse._SubParsersAction, run_db: RunDb,
                    live_rules: LiveRules, configure: Callable[[], None]) -> None:
    """Register `hotspots`; `live_rules()` gives the database's rules (with it open), and
    `configure()` points the links of mails at the site."""
    hotspots = commands.add_parser("hotspots", help="未诉先办: build the 7- and 30-day hotspots")
    hotspot_commands = hotspots.add_subparsers(dest="hotspots_command", metavar="COMMAND",
                                               required=True)
    build = hotspot_commands.add_parser(
        "build", help="compute the hotspots now, keep them and queue the notices due")
    build.set_defaults(func=cmd_build, run_db=run_db, live_rules=live_rules,
                       configure=configure)


def cmd_build(args: argparse.Namespace) -> int:
    from app.services import hotspots

    args.configure()

    async def work() -> int:
        found = await hotspots.build(await args.live_rules())
        periods = "，".join(f"近{p}天 {n} 个" for p, n in sorted(found.found.items()))
        print(f"读取诉求 {found.appeals} 件；热点 {periods}（新出现 {found.new}，延续 "
              f"{found.kept}，已结束 {found.ended}）；未诉先办提醒 {found.notified} 个热点、"
              f"{found.notices} 封邮件；用时 {found.seconds:.1f} 秒。")
        return 0

    return _run(args, work)
