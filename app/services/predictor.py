"""The classifier the running app routes with.

A configured model folder (MINSHENG_MODEL_DIR) is watched: when `minsheng classifier train`
writes a new model there, every running process picks it up within RECHECK seconds, and the
version stored on each routing decision says which model made it. Without one, the bundled
seed model is used.

`serve` classifies in a process of its own (MINSHENG_CLASSIFIER_PROCESSES, default 1): jieba
and the vectorisers are pure Python and hold the GIL, so in a thread they still stop the event
loop, and every request waits its turn for the interpreter. In another process they run on
another core, and the loop only sends a text and reads back three categories. With 0, or if
that process dies, classification runs in a thread of the app's own process. The process
speaks over pipes (app.services.pipe_protocol), so no helper threads share the GIL.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import deque
from pathlib import Path
from typing import Protocol

from app.domain.routing import Candidate
from app.services.pipe_protocol import frame, read_message_async

log = logging.getLogger("minsheng.classifier")
RECHECK = 10.0
# A classifier process that has not answered in this long is taken for hung: it is killed,
# and what it had not answered is classified here. (Loading a new model takes a few seconds.)
ANSWER_TIMEOUT = 30.0


class Model(Protocol):
    version: str

    def predict_top(self, text: str, k: int = 3) -> list: ...


class _State:
    model: Model | None = None
    folder: Path | None = None
    stamp: tuple[str, int, int] | None = None
    checked: float = 0.0
    workers: list[_Worker] = []


_state = _State()


def install(model: Model | None, folder: Path | None = None) -> None:
    _state.model, _state.folder = model, folder
    _state.stamp = _stamp(folder) if folder else None
    _state.checked = time.monotonic()


def current() -> Model | None:
    return _state.model


# Versions kept by app.services.model_versions: <model dir>/versions/<version>/, and a LIVE
# file naming the one in use (replaced atomically on promotion or rollback).
LIVE_FILE = "LIVE"
VERSIONS = "versions"


def live_folder(root: Path) -> Path | None:
    """The live version's folder, when a version has been promoted in `root`."""
    try:
        name = (root / LIVE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return root / VERSIONS / name if name else None


def _resolve(folder: Path) -> Path:
    """The folder's live version if one was promoted there, else the folder itself (a model
    written there by `minsheng classifier train`)."""
    return live_folder(folder) or folder


def _stamp(folder: Path) -> tuple[str, int, int] | None:
    resolved = _resolve(folder)
    try:
        info = (resolved / "meta.json").stat()
    except OSError:
        return None
    return str(resolved), info.st_mtime_ns, info.st_size


def load_configured(model_dir: Path | None, seed_cache: Path) -> tuple[Model, Path | None]:
    """The configured model, else the seed model. Runs in a worker thread (it is slow)."""
    from classifier.model import ModelError, TrainedModel
    from classifier.seed import load_seed_model

    if model_dir is not None and not model_dir.exists():
        return load_seed_model(seed_cache), model_dir  # nothing promoted there yet: watch it
    if model_dir is not None:
        try:
            return TrainedModel.load(_resolve(model_dir)), model_dir
        except ModelError as exc:
            log.error("cannot use the model in %s, routing with the seed model: %s",
                      model_dir, exc)
    return load_seed_model(seed_cache), model_dir


class ClassifierGone(Exception):
    """The classifier process exited or could not answer."""


class _Worker:
    """One classifier process and the questions it has not answered yet, in order."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.waiting: deque[asyncio.Future] = deque()
        self.alive = True
        self.reader = asyncio.get_running_loop().create_task(self._read_answers())

    async def ask(self, text: str, k: int) -> tuple[list[Candidate], str | None]:
        if not self.alive:
            raise ClassifierGone("classifier process has exited")
        answer = asyncio.get_running_loop().create_future()
        self.waiting.append(answer)
        try:
            self.process.stdin.write(frame((text, k)))
            await self.process.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._fail(f"cannot write to the classifier process: {exc}")
        try:
            return await asyncio.wait_for(asyncio.shield(answer), ANSWER_TIMEOUT)
        except asyncio.CancelledError:
            answer.cancel()  # the request went away; its answer will be dropped
            raise
        except TimeoutError:
            answer.cancel()  # nobody waits for it any more
            self._fail(f"classifier process gave no answer in {ANSWER_TIMEOUT:.0f} s")
            self.process.kill()
            raise ClassifierGone("classifier process hung; killed") from None

    async def _read_answers(self) -> None:
        stdout = self.process.stdout
        try:
            while True:
                status, value = await read_message_async(stdout)
                answer = self.waiting.popleft()
                if answer.done():  # the request was cancelled meanwhile
                    continue
                if status == "ok":
                    answer.set_result(value)
                else:
                    answer.set_exception(RuntimeError(f"classifier process: {value}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            self._fail("classifier process has exited")

    def _fail(self, reason: str) -> None:
        self.alive = False
        while self.waiting:
            answer = self.waiting.popleft()
            if not answer.done():
                answer.set_exception(ClassifierGone(reason))

    async def close(self) -> None:
        self.alive = False
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.reader.cancel()


async def _spawn(model_dir: Path | None, seed_cache: Path) -> _Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.services.classifier_process",
        str(model_dir) if model_dir else "", str(seed_cache), repr(RECHECK),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    worker = _Worker(process)
    try:
        await worker.ask("启动", 1)  # answers once the model is loaded
    except BaseException:
        await worker.close()
        raise
    return worker


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
        started = await asyncio.gather(*(_spawn(model_dir, seed_cache) for _ in range(processes)),
                                       return_exceptions=True)
        _state.workers = [w for w in started if isinstance(w, _Worker)]
        for failure in (f for f in started if not isinstance(f, _Worker)):
            log.error("a classifier process did not start (%s); classifying in this process",
                      failure)
        log.info("classifying in %d separate process(es)", len(_state.workers))


async def stop() -> None:
    workers, _state.workers = _state.workers, []
    await asyncio.gather(*(w.close() for w in workers))


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
        model = TrainedModel.load(_resolve(folder))
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

def child_start(model_dir: Path | None, seed_cache: Path, recheck: float) -> None:
    global RECHECK
    RECHECK = recheck
    model, folder = load_configured(model_dir, seed_cache)
    install(model, folder)


def child_predict(text: str, k: int) -> tuple[list[Candidate], str | None]:
    if _check_due():
        _reload_if_changed()
    return _classify(text, k)


# --- in the app --------------------------------------------------------------------------

async def predict(text: str) -> tuple[list[Candidate], str | None]:
    """Top three categories with the version of the model that chose them."""
    while _state.workers:  # each failure below takes a worker out, so this ends
        alive = [w for w in _state.workers if w.alive]
        if len(alive) < len(_state.workers):
            log.error("a classifier process has exited; %d left, then this process classifies",
                      len(alive))
            _state.workers = alive
        if not alive:
            break
        try:
            return await min(alive, key=lambda w: len(w.waiting)).ask(text, 3)
        except ClassifierGone:
            continue
    if _check_due():
        await asyncio.to_thread(_reload_if_changed)
    return await asyncio.to_thread(_classify, text, 3)
