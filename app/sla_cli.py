"""`sla` commands: explain a deadline from the rules files alone, no database.

    python -m app.sla_cli sla due --type consultation --at 2026-09-30T10:00+08:00 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from app.domain.clock import (
    SHANGHAI,
    Deadline,
    compute_deadline,
    explain_zh,
    extend_deadline,
    warn_at,
)
from app.domain.types import TYPE_LABELS
from app.rules import load_calendar, load_policies
from app.rules_error import RulesError

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "routing_rules"
EXIT_USAGE = 2
EXIT_RULES = 1


def add_subcommands(subparsers, rules_dir_default: str | Path) -> argparse._SubParsersAction:
    """Register `sla` on an argparse subparsers object; returns the `sla` subparsers.

    Each leaf command sets ``func(args) -> int``; add more (e.g. ``recompute``) to the
    returned object.
    """
    sla = subparsers.add_parser("sla", help="working-day deadlines (签收/答复时限)")
    commands = sla.add_subparsers(dest="sla_command", metavar="COMMAND", required=True)

    due = commands.add_parser(
        "due",
        help="explain the deadlines of an appeal received at a given instant",
        description="Explain the deadlines of an appeal without touching the database. "
        "An appeal received on day D is due at the end of the N-th working day after D "
        "(Asia/Shanghai).",
    )
    due.add_argument(
        "--type", required=True, dest="appeal_type",
        help=f"appeal type: {', '.join(f'{k} ({v})' for k, v in TYPE_LABELS.items())}",
    )
    due.add_argument(
        "--at", required=True,
        help="receipt instant, ISO-8601 (e.g. 2026-09-30T16:30Z); "
        "without an offset it is read as Asia/Shanghai time",
    )
    due.add_argument(
        "--pause", action="append", default=[], metavar="START/END",
        help="time awaiting the resident's information, two ISO-8601 instants (repeatable)",
    )
    due.add_argument("--json", action="store_true", help="print one JSON object")
    due.add_argument(
        "--rules", type=Path, default=Path(rules_dir_default),
        help="directory holding clocks.yaml and calendar.yaml (default: %(default)s)",
    )
    due.set_defaults(func=cmd_due)
    return commands


def _parse_instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.strip())
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    return at


def _fail(message: str, code: int) -> int:
    print(f"minsheng sla: {message}", file=sys.stderr)
    return code


def cmd_due(args: argparse.Namespace) -> int:
    rules = Path(args.rules)
    try:
        policies = load_policies(rules / "clocks.yaml")
        calendar_file = rules / "calendar.yaml"
        calendar = load_calendar(calendar_file if calendar_file.exists() else None)
    except RulesError as e:
        return _fail(f"bad rules:\n{e}", EXIT_RULES)

    appeal_type = policies.resolve_type(args.appeal_type)
    if appeal_type is None:
        known = ", ".join(f"{k} ({TYPE_LABELS[k]})" for k in policies.types)
        return _fail(f"unknown --type {args.appeal_type!r}; expected one of: {known}", EXIT_USAGE)
    try:
        received = _parse_instant(args.at)
    except ValueError:
        return _fail(
            f"bad --at {args.at!r}: expected ISO-8601 such as 2026-09-30T10:00:00+08:00",
            EXIT_USAGE,
        )
    pauses = []
    for text in args.pause:
        try:
            begin, end = (_parse_instant(part) for part in text.split("/", 1))
        except ValueError:
            return _fail(f"bad --pause {text!r}: expected START/END, two ISO-8601 instants",
                         EXIT_USAGE)
        if end < begin:
            return _fail(f"bad --pause {text!r}: ends before it begins", EXIT_USAGE)
        pauses.append((begin, end))

    policy = policies.reply(appeal_type)
    try:
        due = compute_deadline(received, policy.reply_days, calendar, pauses)
        longest = extend_deadline(due, policy.max_extension_days, calendar)
        ack = compute_deadline(received, policies.ack_days, calendar)
        warn = warn_at(due.due_at, policy.warn_before_days, calendar)
    except ValueError as e:
        return _fail(str(e), EXIT_USAGE)
    provisional = due.provisional or longest.provisional or ack.provisional

    if args.json:
        print(json.dumps({
            "type": appeal_type,
            "received_at": due.start.isoformat(),
            "reply_days": policy.reply_days,
            "due_at": due.due_at.isoformat(),
            "warn_at": warn.isoformat(),
            "max_due_at": longest.due_at.isoformat(),
            "ack_due_at": ack.due_at.isoformat(),
            "provisional": provisional,
            "explanation": _explanation(due),
        }, ensure_ascii=False))
        return 0

    for line in _text(appeal_type, policy, policies.ack_days, due, warn, longest, ack,
                      provisional):
        print(line)
    return 0


def _explanation(deadline: Deadline) -> list[dict]:
    return [
        {"date": info.date.isoformat(), "kind": kind, "reason": info.reason,
         "provisional": info.provisional}
        for info, kind in deadline.days()
    ]


def _stamp(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _text(appeal_type, policy, ack_days, due, warn, longest, ack, provisional) -> list[str]:
    lines = [
        f"类型：{TYPE_LABELS[appeal_type]}（{appeal_type}），答复时限 {policy.reply_days} 个工作日",
        f"受理时间：{_stamp(due.start)}（北京时间）",
        f"签收期限：{_stamp(ack.due_at)}（{ack_days} 个工作日）",
        f"答复期限：{_stamp(due.due_at)}",
        f"预警时间：{_stamp(warn)}（到期前 {policy.warn_before_days} 个工作日）",
        f"最长延期后期限：{_stamp(longest.due_at)}"
        f"（最多延期 {policy.max_extension_days} 个工作日）",
    ]
    if provisional:
        lines.append("注意：期限涉及尚未收录官方放假安排的年份，暂按周一至周五推算，属暂定期限。")
    lines.append("逐日说明：")
    lines.extend(f"  {line}" for line in explain_zh(due))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minsheng", description="Minsheng SLA clocks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_subcommands(subparsers, DEFAULT_RULES_DIR)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
