"""The routing rules' one source of truth: the newest RulesVersion row in the database.

routing_rules/ seeds a fresh install (`minsheng rules load`); from then on an administrator's
edits on /admin/ are the live rules, and a restart reads them from the database. A load never
silently undoes such an edit: file by file it takes the file's change where the web left that
file alone, keeps the web's edit where the file did not change since the last load, and
refuses, naming the file, where both changed (unless forced). `minsheng rules export DIR`
writes the live rules back as YAML files that `rules check` and `rules load` accept.

Each process keeps its rules in memory (LiveRules) and asks for the newest version's id every
few seconds: one query on the primary key, never one per request.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain.clock import to_local
from app.models import RulesVersion
from app.rules import (
    DOCUMENTS,
    Rules,
    documents_hash,
    dump_document,
    read_documents,
    rules_from_documents,
)
from app.rules_error import RulesError
from app.services.errors import ServiceError
from app.services.reference import sync_rules
from app.services.workflow import Actor, now_utc

log = logging.getLogger("minsheng.rules")
RULES_CHECK_SECONDS = 5.0


def document_hash(data: Any) -> str:
    return documents_hash({"document": data})


async def newest() -> RulesVersion | None:
    return await RulesVersion.all().order_by("-id").first()


async def newest_id() -> int | None:
    ids = await RulesVersion.all().order_by("-id").limit(1).values_list("id", flat=True)
    return ids[0] if ids else None


def rules_of(version: RulesVersion) -> Rules:
    return rules_from_documents(version.documents)


# --- every process: the rules in memory, in step with the database -----------------------

class LiveRules:
    """The rules one process works with. `holder.rules` is where the process reads them (the
    app's state); `refresh` replaces them when the database has a newer version."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder
        self.version: int | None = None

    @property
    def rules(self) -> Rules:
        return self.holder.rules

    def use(self, version: int, rules: Rules) -> None:
        self.version = version
        self.holder.rules = rules

    async def refresh(self) -> bool:
        """Take the newest version if it is not the one in use; False if nothing changed."""
        latest = await newest_id()
        if latest is None or latest == self.version:
            return False
        row = await RulesVersion.get(id=latest)
        self.use(row.id, rules_of(row))
        return True

    async def keep_fresh(self, stop: asyncio.Event, every: float = RULES_CHECK_SECONDS) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass
            if stop.is_set():
                return
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - keep the rules we have, try again later
                log.error("rules check failed: %s", type(exc).__name__)


# --- an administrator's edit ---------------------------------------------------------------

async def edit(actor: Actor, change: Callable[[dict[str, Any]], str],
               seed: str | Path) -> tuple[RulesVersion | None, Rules]:
    """Apply `change` to a copy of the newest documents (it returns what it did, in Chinese,
    or raises ServiceError), check the result and save it as a new version. Call inside the
    caller's transaction, with its audit entry. (None, rules) when nothing changed.

    A database that has no version yet (`rules load` never ran) starts from the files of
    `seed`, recorded first as they are."""
    head = await newest()
    base = head.documents if head is not None else read_documents(seed)
    documents = copy.deepcopy(base)
    summary = change(documents)
    try:
        rules = rules_from_documents(documents)
    except RulesError as exc:
        said = "；".join(f"{entry}：{message}" for _, entry, message in exc.problems[:3])
        raise ServiceError(f"修改后的规则有误：{said}", None) from None
    if rules.hash == documents_hash(base):
        return None, rules_from_documents(base)
    try:
        if head is None:
            head = await RulesVersion.create(
                parent_id=None, hash=documents_hash(base), documents=base,
                files={name: document_hash(base.get(name)) for name in DOCUMENTS},
                source="files", at=now_utc(), actor_label=actor.label[:80],
                summary="首次修改前从文件载入")
        version = await RulesVersion.create(
            parent_id=head.id, hash=rules.hash, documents=documents, files=head.files,
            source="web", at=now_utc(), actor_label=actor.label[:80], summary=summary[:200])
    except IntegrityError:
        raise ServiceError("规则刚刚被其他人修改，请刷新页面后重试。", None, "conflict") from None
    return version, rules


async def live(fallback: Rules) -> Rules:
    """The database's newest rules; `fallback` (the files') if it has none yet."""
    head = await newest()
    return rules_of(head) if head is not None else fallback


# --- minsheng rules load / export ---------------------------------------------------------

@dataclass
class Merge:
    documents: dict[str, Any] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)      # the file's change was taken
    kept: list[str] = field(default_factory=list)       # the web's edit was kept
    conflicts: list[str] = field(default_factory=list)  # both changed: refused


def merge(head: RulesVersion | None, files: dict[str, Any]) -> Merge:
    """The files merged into the live rules, file by file (see the module's doc)."""
    found = Merge()
    for name in DOCUMENTS:
        new = files.get(name)
        if head is None:
            chosen = new
        else:
            live, loaded = head.documents.get(name), head.files.get(name)
            if document_hash(new) == document_hash(live):
                chosen = new
            elif document_hash(live) == loaded:
                chosen = new
                found.taken.append(name)
            elif document_hash(new) == loaded:
                chosen = live
                found.kept.append(name)
            else:
                chosen = live
                found.conflicts.append(name)
        if chosen is not None:
            found.documents[name] = chosen
    return found


class LoadRefused(Exception):
    def __init__(self, head: RulesVersion, conflicts: list[str]):
        self.head, self.conflicts = head, conflicts
        super().__init__(", ".join(conflicts))


@dataclass
class Loaded:
    rules: Rules
    version: RulesVersion | None  # None: the database already had exactly these rules
    merge: Merge


async def load_files(rules_dir: str | Path, actor_label: str, *,
                     force: bool = False) -> Loaded:
    """`minsheng rules load`: the files merged into the live rules and saved as a version,
    and the reference tables brought in line. RulesError if the files (or the merge) are
    wrong; LoadRefused if a file changed that was also edited in the web, unless `force`
    (then the files win everywhere)."""
    files = read_documents(rules_dir)
    rules_from_documents(files)
    async with in_transaction():
        head = await newest()
        found = merge(None if force else head, files)
        if found.conflicts:
            raise LoadRefused(head, found.conflicts)
        rules = rules_from_documents(found.documents)
        loaded = {name: document_hash(files.get(name)) for name in DOCUMENTS}
        version = None
        if head is None or head.hash != rules.hash or head.files != loaded:
            version = await RulesVersion.create(
                parent_id=head.id if head else None, hash=rules.hash,
                documents=found.documents, files=loaded, source="files", at=now_utc(),
                actor_label=actor_label[:80],
                summary="从文件载入" + ("（强制，以文件为准）" if force and head else ""))
        await sync_rules(rules)
    return Loaded(rules, version, found)


def export(version: RulesVersion, folder: str | Path) -> list[Path]:
    """Write each document of `version` as a YAML file of `folder`; the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    header = (f"民声路由规则 第 {version.id} 版（规则版本 {version.hash}），"
              f"由 minsheng rules export 于 {_stamp(version.at)} 从数据库导出。\n"
              "数据库中的规则为准；修改本文件后用 minsheng rules load 载入。")
    written = []
    for name, data in version.documents.items():
        path = folder / name
        path.write_text(dump_document(data, header), encoding="utf-8")
        written.append(path)
    return written


def _stamp(at: datetime) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M")
