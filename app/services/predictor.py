"""The classifier the running app routes with; swapped whole when a new model is loaded."""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.domain.routing import Candidate


class Model(Protocol):
    version: str

    def predict_top(self, text: str, k: int = 3) -> list: ...


_current: Model | None = None


def install(model: Model | None) -> None:
    global _current
    _current = model


def current() -> Model | None:
    return _current


async def predict(text: str) -> tuple[list[Candidate], str | None]:
    """Top three categories, computed off the event loop so a long text stalls no one."""
    model = _current
    if model is None:
        return [], None
    raw = await asyncio.to_thread(model.predict_top, text, 3)
    return [Candidate(c.category, float(c.probability), list(c.words)) for c in raw], model.version
