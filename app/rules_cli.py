"""`minsheng rules load` and `minsheng rules export`: the files and the database's live rules
(app.services.rules_store: the database is the source of truth once loaded)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.rules_error import RulesError
from app.settings import Settings

CLI_LABEL = "命令行"


def _problems(exc: RulesError) -> str:
    return "\n".join(f"  {f}: {e}: {m}" for f, e, m in exc.problems)


async def load(settings: Settings, force: bool = False) -> str:
    """Load and merge; the lines to print. SystemExit with the reason when refused."""
    from app.services import rules_store
    from app.services.reference_edits import send_back

    try:
        loaded = await rules_store.load_files(settings.rules_dir, CLI_LABEL, force=force)
    except RulesError as exc:
        raise SystemExit(f"规则有误，未载入：\n{_problems(exc)}") from None
    except rules_store.LoadRefused as exc:
        head = exc.head
        raise SystemExit(
            "未载入：以下文件在网页上修改过（当前为第 "
            f"{head.id} 版，{head.actor_label}：{head.summary}），文件自上次载入后也改动了，"
            f"载入会覆盖网页上的修改：\n  {'、'.join(exc.conflicts)}\n"
            "请先运行 minsheng rules export DIR 取回当前规则，把文件的改动合入后再载入；"
            "或用 minsheng rules load --force 以文件为准（网页上的修改将被覆盖）。") from None
    rules, found = loaded.rules, loaded.merge
    moved = await send_back(rules)
    lines = [f"已载入：{len(rules.regions)} 个区划，{len(rules.departments)} 个部门，"
             f"{len(rules.categories)} 个一级分类；规则版本 {rules.hash}"
             + (f"（第 {loaded.version.id} 版）。" if loaded.version else "（未变）。")]
    if found.taken:
        lines.append(f"采用了文件的改动：{'、'.join(found.taken)}")
    if found.kept:
        lines.append(f"保留了网页上的修改：{'、'.join(found.kept)}"
                     "（可用 minsheng rules export DIR 写回文件）")
    if moved:
        lines.append(f"停用部门的 {moved} 件在办诉求已退回分派中心。")
    if {"calendar.yaml", "clocks.yaml"} & set(found.taken):
        lines.append("工作日历或时限有改动：请运行 minsheng sla recompute 重新计算答复期限。")
    return "\n".join(lines)


async def export(folder: Path) -> str:
    from app.services import rules_store

    head = await rules_store.newest()
    if head is None:
        raise SystemExit("数据库中还没有规则：先运行 minsheng rules load。")
    written = rules_store.export(head, folder)
    return (f"已导出第 {head.id} 版规则（规则版本 {head.hash}）到 {folder}：" +
            "、".join(path.name for path in written))


def add_subcommands(rules_commands, settings_of, run_with_db) -> None:
    """`rules load [--force]` and `rules export DIR` on the `rules` command's parser."""

    def cmd_load(args: argparse.Namespace) -> int:
        settings = settings_of()
        print(run_with_db(settings, lambda: load(settings, args.force)))
        return 0

    def cmd_export(args: argparse.Namespace) -> int:
        print(run_with_db(settings_of(), lambda: export(args.folder)))
        return 0

    load_parser = rules_commands.add_parser(
        "load", help="merge routing_rules/ into the database's live rules (refuses to undo a "
                     "web edit unless --force) and update departments and categories")
    load_parser.add_argument("--force", action="store_true",
                             help="the files win, even over edits made in the web")
    load_parser.set_defaults(func=cmd_load)
    export_parser = rules_commands.add_parser(
        "export", help="write the database's live rules as YAML files into DIR")
    export_parser.add_argument("folder", type=Path, metavar="DIR")
    export_parser.set_defaults(func=cmd_export)
