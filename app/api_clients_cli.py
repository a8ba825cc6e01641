"""`apiclients` commands: Open311 client applications' keys from a shell. Each change is
audited like the same change on /admin/api-clients (actor "命令行"). `create` prints the
key alone on its last line; it is shown this once."""

from __future__ import annotations

import argparse

from app.accounts_cli import RunDb, _refuse, _run
from app.domain.clock import to_local


def add_subcommands(commands: argparse._SubParsersAction, run_db: RunDb) -> None:
    clients = commands.add_parser("apiclients",
                                  help="Open311 client applications: create, list, revoke")
    client_commands = clients.add_subparsers(dest="apiclients_command", metavar="COMMAND",
                                             required=True)
    create = client_commands.add_parser(
        "create", help="issue a key to a client application; prints the key (last line)")
    create.add_argument("name", help="the application's name")
    create.set_defaults(func=cmd_create, run_db=run_db)
    client_commands.add_parser("list", help="list client applications") \
        .set_defaults(func=cmd_list, run_db=run_db)
    revoke = client_commands.add_parser("revoke", help="revoke a client application's key")
    revoke.add_argument("id", type=int, help="the application's id (see list)")
    revoke.set_defaults(func=cmd_revoke, run_db=run_db)


def cmd_create(args: argparse.Namespace) -> int:
    from app.services import api_clients, audit_log

    async def work() -> int:
        client, key = await api_clients.issue(audit_log.CLI, args.name)
        print(f"已为应用“{client.name}”（编号 {client.id}）发放 Open311 密钥。")
        print("密钥如下，仅显示这一次：")
        print(key)
        return 0

    return _run(args, work)


def _when(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from app.services import api_clients

    async def work() -> int:
        rows = await api_clients.all_clients()
        print("编号\t应用名称\t密钥开头\t发放时间\t最近使用\t状态")
        for c in rows:
            state = f"已吊销 {_when(c.revoked_at)}" if c.revoked_at else "有效"
            print(f"{c.id}\t{c.name}\t{c.key_prefix}…\t{_when(c.created_at)}\t"
                  f"{_when(c.last_used_at)}\t{state}")
        print(f"共 {len(rows)} 个应用。")
        return 0

    return _run(args, work)


def cmd_revoke(args: argparse.Namespace) -> int:
    from app.services import api_clients, audit_log

    async def work() -> int:
        client = await api_clients.get(args.id)
        if client is None:
            return _refuse(f"没有编号为 {args.id} 的应用。")
        await api_clients.revoke(audit_log.CLI, client)
        print(f"已吊销应用“{client.name}”的密钥。")
        return 0

    return _run(args, work)
