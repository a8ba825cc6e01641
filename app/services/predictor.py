"""The classifier the running app routes with.

A configured model folder (MINSHENG_MODEL_DIR) is watched: when `minsheng classifier train`
writes a new model there, every running process picks it up within RECHECK seconds, and the
version stored on each routing decision says which model made it. Without one, the bundled
seed model is used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Protocol

from app.domain.routing import Candidate

log = logging.getLogger("minsheng.classifier")
RECHECK = 10.0


class Model(Protocol):
    version: str

    def predict_top(self, text: str, k: int = 3) -> list: ...


class _State:
    model: Model | None = None
    folder: Path | None = None
    stamp: tuple[int, int] | None = None
    checked: float = 0.0
    reloading: asyncio.Lock | None = None


_state = _State()


def install(model: Model | None, folder: Path | None = None) -> None:
    _state.model, _state.folder = model, folder
    _state.stamp = _stamp(folder) if folder else None
    _state.checked = time.monotonic()


def current() -> Model | None:
    return _state.model


def _stamp(folder: Path) -> tuple[int, int] | None:
    try:
        info = (folder / "meta.json").stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def load_configured(model_dir: Path | None, seed_cache: Path) -> tuple[Model, Path | None]:
    """The configured model, else the seed model. Runs in a worker thread (it is slow)."""
    from classifier.model import ModelError, TrainedModel
    from classifier.seed import load_seed_model

    if model_dir is not None:
        try:
            return TrainedModel.load(model_dir), model_dir
        except ModelError as exc:
            log.error("cannot use the model in %s, routing with the seed model: %s",
                      model_dir, exc)
    return load_seed_model(seed_cache), model_dir


async def start(model_dir: Path | None, seed_cache: Path) -> None:
    model, folder = await asyncio.to_thread(load_configured, model_dir, seed_cache)
    install(model, folder)
    log.info("routing with classifier %s", model.version)


async def _maybe_reload() -> None:
    folder = _state.folder
    if folder is None or time.monotonic() - _state.checked < RECHECK:
        return
    _state.checked = time.monotonic()
    stamp = _stamp(folder)
    if stamp is None or stamp == _state.stamp:
        return
    from classifier.model import ModelError, TrainedModel

    try:
        model = await asyncio.to_thread(TrainedModel.load, folder)
    except ModelError as exc:
        log.error("new model in %s refused, keeping %s: %s", folder,
                  getattr(_state.model, "version", None), exc)
        _state.stamp = stamp
        return
    _state.model, _state.stamp = model, stamp
    log.info("reloaded classifier %s", model.version)


async def predict(text: str) -> tuple[list[Candidate], str | None]:
    """Top three categories, computed off the event loop so a long text stalls no one."""
    await _maybe_reload()
    model = _state.model
    if model is None:
        return [], None
    raw = await asyncio.to_thread(model.predict_top, text, 3)
    return [Candidate(c.category, float(c.probability), list(c.words)) for c in raw], model.version
