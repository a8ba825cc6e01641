"""The `minsheng` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from app import db
from app.rules import Rules, load_rules
from app.rules_error import RulesError
from app.settings import DEMO_PASSWORD, Settings, SettingsError

T = TypeVar("T")

DEMO_ACCOUNTS = [
    # username, role, department code, display name
    ("dispatcher", "dispatcher", None, "分派员 刘洋"),
    ("handler", "handler", "990100-zhujian", "云州市住建局 张伟"),
    ("handler-renshe", "handler", "990100-renshe", "云州市人社局 王芳"),
    ("handler-jiwei", "handler", "990100-jiwei", "云州市纪委监委 孙强"),
    ("head", "head", "990100-zhujian", "云州市住建局负责人 陈静"),
    ("inspector", "inspector", None, "效能监察 赵敏"),
    ("admin", "admin", None, "管理员"),
]


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"配置错误：{exc}") from None


def _rules(settings: Settings):
    try:
        return load_rules(settings.rules_dir)
    except RulesError as exc:
        lines = "\n".join(f"  {f}: {e}: {m}" for f, e, m in exc.problems)
        raise SystemExit(f"routing_rules 有误，无法启动：\n{lines}") from None


@contextmanager
def _reachable() -> Iterator[None]:
    """A database that cannot be reached is one line on stderr, not a traceback."""
    import asyncpg
    from tortoise.exceptions import DBConnectionError

    try:
        yield
    except (OSError, DBConnectionError, asyncpg.InvalidCatalogNameError,
            asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise SystemExit(f"无法连接数据库（请检查 DATABASE_URL）：{type(exc).__name__}: {exc}"
                         ) from None


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[None]:
    with _reachable():
        await db.connect(settings.database_url)
        await db.ping()  # connections open lazily: fail here, not in the middle of the work
    try:
        yield
    finally:
        await db.disconnect()


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work()` in a new event loop with the database open; closed however it ends."""

    async def run() -> T:
        async with _database(settings):
            return await work()

    return asyncio.run(run())


def app_from_env():
    """The app as `serve` builds it; uvicorn calls this in each worker process."""
    import logging

    from app.web.app import create_app

    # Our own lines (the in-process worker, mail written to files) next to uvicorn's.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s %(message)s")
    settings = _settings()
    return create_app(settings, _rules(settings))


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    _rules(settings)  # a broken rules file stops us here, with its message, before forking
    # Our own access log (app.web.accesslog) leaves out query strings, which carry tokens.
    uvicorn.run("app.cli:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True, access_log=False)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(_settings(), args.host, args.port, args.workers)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    with _reachable():
        asyncio.run(db.upgrade(settings.database_url))
    print("数据库结构已是最新版本（需要的迁移均已执行）。")
    return 0


def _load_reference(settings: Settings) -> str:
    from app import rules_cli

    return run_with_db(settings, lambda: rules_cli.load(settings))


async def _live(rules: Rules) -> Rules:
    """The database's live rules (app.services.rules_store); the files' before any load."""
    from app.services import rules_store

    return await rules_store.live(rules)


def cmd_rules_check(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        for file, entry, message in exc.problems:
            print(f"{file}: {entry}: {message}", file=sys.stderr)
        print(f"共 {len(exc.problems)} 处问题。", file=sys.stderr)
        return 1
    print(f"规则无误：{len(rules.regions)} 个区划，{len(rules.departments)} 个部门，"
          f"{len(rules.categories)} 个一级分类，{len(rules.routing.keyword_rules)} 条关键词规则。")
    return 0


async def _demo_accounts() -> None:
    from app.domain.types import Role
    from app.models import Account
    from app.services.accounts import create_account, set_password

    for username, role, department, name in DEMO_ACCOUNTS:
        existing = await Account.get_or_none(username=username)
        if existing is None:
            await create_account(username, DEMO_PASSWORD, Role(role), display_name=name,
                                 department_code=department)
        else:
            await set_password(existing, DEMO_PASSWORD)


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("MINSHENG_DEV", "1")
    os.environ.setdefault("MINSHENG_INPROCESS_WORKER", "1")
    settings = _settings()
    asyncio.run(db.upgrade(settings.database_url))
    _load_reference(settings)
    run_with_db(settings, _demo_accounts)
    url = f"http://{args.host}:{args.port}"
    print("\n民声演示环境已就绪")
    print(f"  网址：{url}/  （群众：我要留言 / 查询进度；工作人员：{url}/login）")
    print(f"  数据库：{settings.database_url}")
    print(f"  演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, _role, _dept, name in DEMO_ACCOUNTS:
        print(f"    {username:<16} {name}")
    print()
    if args.no_serve:
        return 0
    return _serve(settings, args.host, args.port)


def cmd_sweep(args: argparse.Namespace) -> int:
    from app.notify import notices
    from app.services.sweep import sweep

    settings = _settings()
    if args.at is not None and args.at > datetime.now(UTC) + timedelta(minutes=1):
        # What a sweep does (overdue marks, lapses, notices) cannot be taken back.
        print(f"--at 不能晚于现在（{args.at.isoformat()}）：sweep 只能补跑已经过去的时刻。",
              file=sys.stderr)
        return 2
    rules = _rules(settings)
    notices.configure(settings.base_url)

    async def work():
        return await sweep(args.at, policies=(await _live(rules)).policies)

    report = run_with_db(settings, work)
    print(f"临近期限 {report.warned} 件，超期 {report.overdue} 件，签收超时 {report.ack_late} 件，"
          f"评价期满办结 {report.lapsed} 件，部门日报 {report.digests} 份；"
          f"排队通知 {report.notices} 封。")
    return 0


def _instant(text: str) -> datetime:
    """An ISO-8601 instant; without an offset it is Beijing time."""
    from app.domain.clock import SHANGHAI

    try:
        at = datetime.fromisoformat(text.strip())
        # At the ends of the calendar (year 1, year 9999) the shift to UTC overflows.
        return (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"时间格式有误：{text!r}，应为 ISO-8601，如 2026-03-09T08:00:00+08:00") from None


def cmd_sla_recompute(args: argparse.Namespace) -> int:
    from app.services.clocks import recompute_all

    settings = _settings()
    rules = _rules(settings)
    async def work():
        return await recompute_all(await _live(rules))

    seen, moved = run_with_db(settings, work)
    print(f"检查了 {seen} 件办理中的诉求，调整了 {moved} 件的答复期限。")
    return 0


async def _similar_window_days() -> int:
    return (await _live(_rules(_settings()))).routing.similar.window_days


async def _hotspot_rules() -> Rules:
    return await _live(_rules(_settings()))


def _configure_mail() -> None:
    from app.notify import notices

    notices.configure(_settings().base_url)


def _database_examples() -> list[tuple[str, str]]:
    from app.services.training_data import database_examples

    return run_with_db(_settings(), database_examples)


async def _worker(settings: Settings, rules: Rules, once: bool):
    import signal
    from types import SimpleNamespace

    from app.services.rules_store import LiveRules
    from app.worker import periodic_jobs, run_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    live = LiveRules(SimpleNamespace(rules=rules))
    await live.refresh()
    return await run_worker(settings, stop, periodic_jobs(settings, live), once=once)


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings()
    rules = _rules(settings)
    result = run_with_db(settings, lambda: _worker(settings, rules, args.once))
    if args.once:
        print(f"邮件和短信：发出 {result.sent} 条，待重试 {result.retrying} 条，"
              f"失败 {result.failed} 条。")
    return 0


async def _mail(action: str) -> int:
    from tortoise.transactions import in_transaction

    from app.models import OutboxMessage
    from app.notify.outbox import now_utc

    if action == "retry":
        async with in_transaction():
            count = await OutboxMessage.filter(status="failed").update(
                status="pending", attempts=0, next_attempt_at=now_utc())
        print(f"已将 {count} 封失败的邮件重新排队。")
        return 0
    labels = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败"}
    for status, label in labels.items():
        count = await OutboxMessage.filter(status=status).count()
        print(f"{label}（{status}）：{count}")
    oldest = await OutboxMessage.filter(status="pending").order_by("created_at").first()
    if oldest is not None:
        print(f"最早的待发送邮件：#{oldest.id}，{oldest.created_at.isoformat()}，"
              f"已尝试 {oldest.attempts} 次")
    return 0


def cmd_mail_status(args: argparse.Namespace) -> int:
    return run_with_db(_settings(), lambda: _mail("status"))


def cmd_mail_retry(args: argparse.Namespace) -> int:
    return run_with_db(_settings(), lambda: _mail("retry"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minsheng", description="民声 citizen-appeals platform: serve it, manage its data."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the web app under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1,
                       help="app processes (PostgreSQL; SQLite wants one)")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser(
        "demo", help="set up the embedded database with demo departments and logins, then serve"
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    demo.add_argument("--port", type=int, default=8000, help="port to listen on")
    demo.add_argument("--no-serve", action="store_true", help="set up and print logins only")
    demo.set_defaults(func=cmd_demo)

    sweep = commands.add_parser(
        "sweep", help="mark appeals due soon and overdue, close unrated replies whose window "
                      "passed, and queue their notices, once")
    sweep.add_argument("--at", type=_instant, default=None, metavar="ISO-8601",
                       help="sweep as of this instant (default: now; no offset = Beijing time)")
    sweep.set_defaults(func=cmd_sweep)

    database = commands.add_parser("db", help="database schema")
    db_commands = database.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate DATABASE_URL to the newest schema")
    upgrade.set_defaults(func=cmd_db_upgrade)

    rules = commands.add_parser(
        "rules", help="routing_rules/: check, load into the database, export from it")
    rules_commands = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    check = rules_commands.add_parser("check", help="validate routing_rules/, exit 1 on problems")
    check.add_argument("--rules", type=Path, default=Settings.from_env({"MINSHENG_DEV": "1"})
                       .rules_dir, help="the rules folder (default: routing_rules/)")
    check.set_defaults(func=cmd_rules_check)
    from app import rules_cli

    rules_cli.add_subcommands(rules_commands, _settings, run_with_db)

    worker = commands.add_parser(
        "worker", help="send queued mail and run periodic jobs (the SLA sweep) until stopped")
    worker.add_argument("--once", action="store_true",
                        help="drain the outbox and run each job once, then exit")
    worker.set_defaults(func=cmd_worker)

    mail = commands.add_parser("mail", help="the mail outbox: status, requeue failed mail")
    mail_commands = mail.add_subparsers(dest="mail_command", metavar="COMMAND", required=True)
    mail_commands.add_parser("status", help="count queued, sent and failed mail") \
        .set_defaults(func=cmd_mail_status)
    mail_commands.add_parser("retry", help="queue every failed mail again") \
        .set_defaults(func=cmd_mail_retry)

    from app import accounts_cli, sla_cli
    from classifier import cli as classifier_cli

    accounts_cli.add_subcommands(commands, lambda work: run_with_db(_settings(), work))
    from app import api_clients_cli

    api_clients_cli.add_subcommands(commands, lambda work: run_with_db(_settings(), work))
    from app import similar_cli

    similar_cli.add_subcommands(commands, lambda work: run_with_db(_settings(), work),
                                _similar_window_days)

    from app import hotspots_cli

    hotspots_cli.add_subcommands(commands, lambda work: run_with_db(_settings(), work),
                                 _hotspot_rules, _configure_mail)

    sla = sla_cli.add_subcommands(commands, Settings.from_env({"MINSHENG_DEV": "1"}).rules_dir)
    recompute = sla.add_parser(
        "recompute", help="recompute running deadlines after the calendar or clocks changed")
    recompute.set_defaults(func=cmd_sla_recompute)
    from app import model_versions_cli

    classifier_cli.add_subcommands(commands, from_db=_database_examples,
                                   more=lambda sub: model_versions_cli.add_subcommands(
                                       sub, _settings, run_with_db, _rules))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
