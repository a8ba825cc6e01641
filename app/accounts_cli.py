"""`admin` and `accounts` commands: staff accounts from a shell, for the first administrator
and for scripts. Each change is audited like the same change on /admin/ (actor "命令行").
A command that sets a password prints the one-time password alone on its last line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

from app.domain.types import ROLE_LABELS, Role
from app.schemas.admin import ROLE_CHOICES

EXIT_REFUSED = 1
RunDb = Callable[[Callable[[], Awaitable[int]]], int]
# Which command-line name each model field goes by, in messages.
OPTION_OF = {"username": "USERNAME", "role": "--role", "department": "--department",
             "name": "--name", "account": "USERNAME"}


def add_subcommands(commands: argparse._SubParsersAction, run_db: RunDb) -> None:
    """Register `admin` and `accounts`; `run_db(work)` runs `work()` with the database
    open (app.cli's, so that this module need not import it)."""
    admin = commands.add_parser("admin", help="the first administrator of a fresh install")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="COMMAND",
                                          required=True)
    first = admin_commands.add_parser(
        "create", help="create an administrator; prints a one-time password (last line)")
    first.add_argument("username")
    first.add_argument("--name", default="", help="display name (姓名)")
    first.set_defaults(func=cmd_admin_create, run_db=run_db)

    accounts = commands.add_parser("accounts", help="staff accounts: create, list, disable, "
                                                    "reset a password")
    account_commands = accounts.add_subparsers(dest="accounts_command", metavar="COMMAND",
                                               required=True)
    create = account_commands.add_parser(
        "create", help="create a staff account; prints a one-time password (last line)")
    create.add_argument("username")
    create.add_argument("--role", required=True, help=f"one of: {ROLE_CHOICES}")
    create.add_argument("--department", default=None, metavar="CODE",
                        help="department code (handlers and heads only), e.g. 990100-zhujian")
    create.add_argument("--name", default="", help="display name (姓名)")
    create.set_defaults(func=cmd_accounts_create, run_db=run_db)
    account_commands.add_parser("list", help="list staff accounts") \
        .set_defaults(func=cmd_accounts_list, run_db=run_db)
    disable = account_commands.add_parser(
        "disable", help="disable an account; its sessions end at once")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_accounts_disable, run_db=run_db)
    enable = account_commands.add_parser(
        "enable", help="enable a disabled account again, with a new one-time password")
    enable.add_argument("username")
    enable.set_defaults(func=cmd_accounts_enable, run_db=run_db)
    reset = account_commands.add_parser(
        "reset", help="give an account a new one-time password (last line)")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_accounts_reset, run_db=run_db)


def _refuse(message: str, field: str | None = None) -> int:
    where = f"{OPTION_OF.get(field, field)}：" if field else ""
    print(f"错误（error）：{where}{message}", file=sys.stderr)
    return EXIT_REFUSED


def _run(args: argparse.Namespace, work: Callable[[], Awaitable[int]]) -> int:
    """Run `work()` against DATABASE_URL; a refusal is printed, with a non-zero exit."""
    from tortoise.exceptions import OperationalError

    from app.services.errors import ServiceError, ValidationFailed

    try:
        return args.run_db(work)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            _refuse(message, field)
        return EXIT_REFUSED
    except ServiceError as exc:
        return _refuse(exc.message, exc.field)
    except OperationalError as exc:
        return _refuse(f"数据库无法使用（先运行 minsheng db upgrade？）：{type(exc).__name__}")


def _create(args: argparse.Namespace, role: str, department: str | None) -> int:
    from app.schemas.admin import AccountCreate
    from app.schemas.base import parse
    from app.services import administration, audit_log

    async def work() -> int:
        form = parse(AccountCreate, {"username": args.username, "role": role,
                                     "department": department, "name": args.name})
        account, password = await administration.create_staff(audit_log.CLI, form)
        await account.fetch_related("department")
        where = f"，{account.department.name}" if account.department else ""
        print(f"已创建账号 {account.username}（{ROLE_LABELS[Role(account.role)]}{where}）。")
        print("一次性密码如下，仅显示这一次；首次登录后须修改：")
        print(password)
        return 0

    return _run(args, work)


def cmd_admin_create(args: argparse.Namespace) -> int:
    return _create(args, Role.ADMIN.value, None)


def cmd_accounts_create(args: argparse.Namespace) -> int:
    return _create(args, args.role, args.department)


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from app.schemas.admin import AccountSearch
    from app.services import administration

    async def work() -> int:
        after, count = None, 0
        while True:
            rows, after = await administration.staff_page(AccountSearch(after=after))
            if not count:
                print("用户名\t角色\t部门\t姓名\t状态")
            for account in rows:
                state = "已停用" if not account.is_active else \
                    "待修改密码" if account.must_change_password else "启用"
                department = account.department.code if account.department else "-"
                print(f"{account.username}\t{account.role}\t{department}\t"
                      f"{account.display_name or '-'}\t{state}")
            count += len(rows)
            if after is None:
                break
        print(f"共 {count} 个工作人员账号。")
        return 0

    return _run(args, work)


def _named(args: argparse.Namespace, act) -> int:
    from app.services import administration, audit_log
    from app.services.errors import ServiceError

    async def work() -> int:
        account = await administration.staff_by_username(args.username)
        if account is None:
            raise ServiceError(f"没有用户名为“{args.username}”的工作人员账号。", "account")
        return await act(administration, audit_log.CLI, account)

    return _run(args, work)


def cmd_accounts_disable(args: argparse.Namespace) -> int:
    async def act(administration, actor, account) -> int:
        await administration.disable_staff(actor, account)
        print(f"已停用账号 {account.username}，其登录已全部退出。")
        return 0

    return _named(args, act)


def _new_password(args: argparse.Namespace, service: str, said: str) -> int:
    """Run the administration `service` that gives the account a one-time password, say
    `said` (with the username), and print the password alone on the last line."""
    async def act(administration, actor, account) -> int:
        password = await getattr(administration, service)(actor, account)
        print(said.format(username=account.username))
        print("一次性密码如下，仅显示这一次；首次登录后须修改：")
        print(password)
        return 0

    return _named(args, act)


def cmd_accounts_enable(args: argparse.Namespace) -> int:
    return _new_password(args, "enable_staff", "已重新启用账号 {username}。")


def cmd_accounts_reset(args: argparse.Namespace) -> int:
    return _new_password(args, "reset_staff", "已重置账号 {username} 的密码，其登录已全部退出。")
