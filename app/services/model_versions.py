"""Models that improve themselves safely: retrain, promote only if not worse, roll back.

Layout of the model folder (MINSHENG_MODEL_DIR, else <var>/models):

    versions/<folder>/model.joblib, meta.json   one per candidate, never overwritten
    LIVE                                         the live version's folder name

The running app (app.services.predictor) reads LIVE every few seconds, so a promotion or a
rollback reaches every process without a restart. The database (ModelVersion, ModelEvent) is
the record inspectors read at /staff/models.

A candidate is trained on the seed corpus (what the bundled model learned from) plus the
city's labelled history minus a held-out slice: the examples whose first line hashes into
HELD_OUT_SHARE. Both candidate and live model are measured on that slice, which neither saw;
the candidate becomes live iff its macro-F1 is not below the live model's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.models import ModelEvent, ModelVersion, SweepMark
from app.services.predictor import LIVE_FILE, VERSIONS, load_configured
from app.services.training_data import database_examples
from app.services.workflow import now_utc

log = logging.getLogger("minsheng.models")
HELD_OUT_SHARE = 5  # one example group in five is held out
SCHEDULED = "定时任务"
SCHEDULE_MARK = "retrain:since"
ACTIONS = {"promote": "启用", "reject": "未启用", "keep": "保持现用模型", "rollback": "回退"}
STATUSES = {"live": "使用中", "retired": "已替换", "rejected": "未启用", "withdrawn": "已回退"}
BASES = ("seed", "none")


@dataclass
class Outcome:
    ok: bool          # promoted / rolled back
    message: str      # why, in Chinese, for stdout and the log
    version: str | None = None


def model_root(model_dir: Path | None, var_dir: Path) -> Path:
    return model_dir if model_dir is not None else var_dir / "models"


def _point_live(root: Path, folder: str) -> None:
    tmp = root / f".{LIVE_FILE}.tmp"
    tmp.write_text(folder + "\n", encoding="utf-8")
    os.replace(tmp, root / LIVE_FILE)


def held_out(text: str) -> bool:
    """Deterministic, by the example's group (its first line), so near-copies share a side."""
    key = text.split("\n", 1)[0].strip()
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % HELD_OUT_SHARE == 0


def split(examples: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    train = [e for e in examples if not held_out(e[0])]
    test = [e for e in examples if held_out(e[0])]
    return train, test


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    return {"macro_f1": report["macro_f1"], "accuracy": report["accuracy"], "n": report["n"],
            "version": report.get("model_version")}


def _train_and_measure(root: Path, seed_cache: Path, train: list[tuple[str, str]],
                       test: list[tuple[str, str]], base: str) -> tuple[Any, dict, dict]:
    """CPU work, in a thread: the candidate, and both models' figures on the held-out slice."""
    from classifier.seed import SEED_CORPUS
    from classifier.training import evaluate, read_csv_examples, train_model

    texts, labels = ([], []) if base == "none" else read_csv_examples(SEED_CORPUS)
    texts = list(texts) + [t for t, _ in train]
    labels = list(labels) + [label for _, label in train]
    candidate = train_model(texts, labels, cv_folds=0)
    live, _ = load_configured(root, seed_cache)
    test_texts, test_labels = [t for t, _ in test], [label for _, label in test]
    return candidate, _figures(evaluate(candidate, test_texts, test_labels)), \
        _figures(evaluate(live, test_texts, test_labels))


async def _keep(actor_label: str, reason: str, figures: dict | None = None,
                version: ModelVersion | None = None, action: str = "keep") -> Outcome:
    await ModelEvent.create(version=version, action=action, at=now_utc(),
                            actor_label=actor_label[:80], reason=reason, figures=figures)
    log.info("classifier %s: %s", action, reason)
    return Outcome(False, reason, version.version if version else None)


async def retrain(root: Path, seed_cache: Path, actor_label: str, min_examples: int,
                  base: str = "seed", examples: list[tuple[str, str]] | None = None) -> Outcome:
    """Train a candidate on the labelled history (`examples`: the platform's, unless given);
    promote it only if it is not worse than the live model on the held-out slice."""
    from classifier.training import DataError

    if examples is None:
        examples = await database_examples()
    examples = [(t, label) for t, label in examples if t.strip() and label]
    train, test = split(examples)
    if len(examples) < min_examples:
        return await _keep(actor_label, f"样本不足：本市已标注样本 {len(examples)} 条，"
                                        f"至少需要 {min_examples} 条，继续使用现用模型。")
    if len({label for _, label in test}) < 2 or not train:
        return await _keep(actor_label, f"样本不足：留出集 {len(test)} 条、训练集 {len(train)} "
                                        "条（检验集须含至少两个分类），无法比较，继续使用现用模型。")
    try:
        candidate, ours, theirs = await asyncio.to_thread(
            _train_and_measure, root, seed_cache, train, test, base)
    except DataError as exc:
        return await _keep(actor_label, f"无法训练候选模型（{exc}），继续使用现用模型。")
    folder = candidate.version
    target = root / VERSIONS / folder
    if target.exists():
        return await _keep(actor_label, f"版本 {folder} 已存在，未覆盖，继续使用现用模型。")
    await asyncio.to_thread(candidate.save, target)
    figures = {"candidate": ours, "live": theirs, "held_out": len(test), "trained_on": len(train)}
    better = ours["macro_f1"] >= theirs["macro_f1"]
    compared = (f"留出集 {len(test)} 条上，候选模型 macro-F1 {ours['macro_f1']:.4f}、准确率 "
                f"{ours['accuracy']:.4f}；现用模型 {theirs['version']} macro-F1 "
                f"{theirs['macro_f1']:.4f}、准确率 {theirs['accuracy']:.4f}")
    at = now_utc()
    if not better:
        reason = f"未启用：{compared}。候选模型较差，继续使用现用模型。"
        async with in_transaction():
            version = await _version(candidate, folder, len(examples), len(test), figures,
                                     "rejected", reason)
            return await _keep(actor_label, reason, figures, version, "reject")
    reason = f"已启用：{compared}。候选模型不差于现用模型。"
    async with in_transaction():
        await ModelVersion.filter(status="live").update(status="retired")
        version = await _version(candidate, folder, len(examples), len(test), figures, "live",
                                 reason, promoted_at=at, promoted_by=actor_label[:80])
        await ModelEvent.create(version=version, action="promote", at=at,
                                actor_label=actor_label[:80], reason=reason, figures=figures)
        _point_live(root, folder)
    log.info("classifier promote %s: %s", folder, reason)
    return Outcome(True, reason, folder)


async def _version(candidate: Any, folder: str, examples: int, held: int, figures: dict,
                   status: str, reason: str, **more: Any) -> ModelVersion:
    meta = candidate.meta
    return await ModelVersion.create(
        version=candidate.version, folder=folder,
        trained_at=datetime.fromisoformat(meta["trained_at"]).astimezone(UTC),
        examples=meta["n_examples"], city_examples=examples, held_out=held, figures=figures,
        status=status, reason=reason, **more)


async def rollback(root: Path, actor_label: str) -> Outcome:
    """The version promoted before the live one becomes live again; the live one is withdrawn."""
    live = await ModelVersion.filter(status="live").first()
    if live is None:
        return Outcome(False, "没有已启用的模型版本，无法回退。")
    previous = await ModelVersion.filter(status="retired", promoted_at__lt=live.promoted_at) \
        .order_by("-promoted_at").first()
    if previous is None:
        return Outcome(False, f"{live.version} 之前没有启用过的版本，无法回退。")
    if not (root / VERSIONS / previous.folder).is_dir():
        return Outcome(False, f"版本 {previous.version} 的文件不在 {root / VERSIONS}，无法回退。")
    reason = f"回退：由 {live.version} 回到上一版本 {previous.version}。"
    async with in_transaction():
        await ModelVersion.filter(id=live.id).update(status="withdrawn")
        await ModelVersion.filter(id=previous.id).update(status="live")
        await ModelEvent.create(version=previous, action="rollback", at=now_utc(),
                                actor_label=actor_label[:80], reason=reason,
                                figures={"from": live.version, "to": previous.version,
                                         **previous.figures})
        _point_live(root, previous.folder)
    log.info("classifier rollback: %s", reason)
    return Outcome(True, reason, previous.version)


async def scheduled_retrain(root: Path, seed_cache: Path, every_days: int,
                            min_examples: int, now: datetime | None = None) -> Outcome | None:
    """The worker's run: `every_days` after the last retrain (or after the schedule was first
    seen), by whichever worker claims the day."""
    if every_days <= 0:
        return None
    at = now or now_utc()
    last = await ModelEvent.exclude(action="rollback").order_by("-at").first()
    since = last.at if last else None
    if since is None:
        mark = await SweepMark.get_or_none(key=SCHEDULE_MARK)
        if mark is None:
            await _claim(SCHEDULE_MARK, at)
            return None
        since = mark.at
    if at - since < timedelta(days=every_days):
        return None
    if not await _claim(f"retrain:{at.date().isoformat()}", at):
        return None  # another worker has today's run
    return await retrain(root, seed_cache, SCHEDULED, min_examples)


async def _claim(key: str, at: datetime) -> bool:
    try:
        await SweepMark.create(key=key, at=at)
    except IntegrityError:
        return False
    return True


async def history(limit: int = 100) -> tuple[list[ModelVersion], list[ModelEvent]]:
    versions = await ModelVersion.all().order_by("-id").limit(limit)
    events = await ModelEvent.all().order_by("-id").limit(limit).prefetch_related("version")
    return versions, events
