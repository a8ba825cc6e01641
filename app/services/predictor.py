"""The classifier the running app routes with.

A configured model folder (MINSHENG_MODEL_DIR) is watched: when `minsheng classifier train`
writes a new model there, every running process picks it up within RECHECK seconds, and the
version stored on each routing decision says which model made it. Without one, the bundled
seed model is used.

`serve` classifies in a process of its own (MINSHENG_CLASSIFIER_PROCESSES, default 1): jieba
and the vectorisers are pure Python and hold the GIL, so in a thread they still stop the event
loop, and every request waits its turn for the interpreter. In another process they run on
another core, and the loop only sends a text and reads back three categories. With 0, or if
that process dies, classification runs in a thread of the app's own process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
    pool: ProcessPoolExecutor | None = None


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


async def start(model_dir: Path | None, seed_cache: Path, processes: int = 0,
                recheck: float | None = None) -> None:
    """Load the model here; with `processes` > 0 also start that many classifier processes
    (each loads the same model; the seed model's cache is written here first). `recheck`
    overrides RECHECK, here and in those processes."""
    global RECHECK
    if recheck is not None:
        RECHECK = recheck
    model, folder = await asyncio.to_thread(load_configured, model_dir, seed_cache)
    install(model, folder)
    log.info("routing with classifier %s", model.version)
    if processes > 0:
        pool = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start, initargs=(model_dir, seed_cache, RECHECK),
        )
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, _child_predict, "启动", 1)
                               for _ in range(processes)))
        _state.pool = pool
        log.info("classifying in %d separate process(es)", processes)


async def stop() -> None:
    pool, _state.pool = _state.pool, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)


def _check_due() -> bool:
    """True at most once every RECHECK seconds, when a folder is watched."""
    if _state.folder is None or time.monotonic() - _state.checked < RECHECK:
        return False
    _state.checked = time.monotonic()
    return True


def _reload_if_changed() -> None:
    """Load a model newly written to the watched folder."""
    folder = _state.folder
    if folder is None:
        return
    stamp = _stamp(folder)
    if stamp is None or stamp == _state.stamp:
        return
    from classifier.model import ModelError, TrainedModel

    try:
        model = TrainedModel.load(folder)
    except ModelError as exc:
        log.error("new model in %s refused, keeping %s: %s", folder,
                  getattr(_state.model, "version", None), exc)
        _state.stamp = stamp
        return
    _state.model, _state.stamp = model, stamp
    log.info("reloaded classifier %s", model.version)


def _classify(text: str, k: int) -> tuple[list[Candidate], str | None]:
    model = _state.model
    if model is None:
        return [], None
    raw = model.predict_top(text, k)
    return [Candidate(c.category, float(c.probability), list(c.words)) for c in raw], \
        model.version


# --- in the classifier process -------------------------------------------------------------

def _child_start(model_dir: Path | None, seed_cache: Path, recheck: float) -> None:
    global RECHECK
    RECHECK = recheck
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    model, folder = load_configured(model_dir, seed_cache)
    install(model, folder)


def _exit_with_parent(parent: int) -> None:
    # A server killed outright (SIGKILL, OOM) cannot stop its pool; don't outlive it.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _child_predict(text: str, k: int) -> tuple[list[Candidate], str | None]:
    if _check_due():
        _reload_if_changed()
    return _classify(text, k)


# --- in the app --------------------------------------------------------------------------

async def predict(text: str) -> tuple[list[Candidate], str | None]:
    """Top three categories with the version of the model that chose them."""
    pool = _state.pool
    if pool is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _child_predict, text, 3)
        except BrokenProcessPool:
            log.error("the classifier process died; classifying in this process from now on")
            if _state.pool is pool:
                _state.pool = None
                pool.shutdown(wait=False, cancel_futures=True)
    if _check_due():
        await asyncio.to_thread(_reload_if_changed)
    return await asyncio.to_thread(_classify, text, 3)
