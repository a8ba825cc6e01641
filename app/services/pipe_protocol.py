"""How the server and its classifier processes talk over a pipe.

Each message either way is a 4-byte big-endian length and a pickle: (text, k) in,
("ok", (candidates, version)) or ("error", message) out, answers in the order of the
questions. Only our own processes write to these pipes, so unpickling them is safe.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any, BinaryIO


def frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(4, "big") + body


def read_message(stream: BinaryIO) -> Any:
    """The next message on a blocking stream, or None once it has closed."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - our own process wrote it


async def read_message_async(stream: asyncio.StreamReader) -> Any:
    """The next message on an asyncio stream; IncompleteReadError once it has closed."""
    head = await stream.readexactly(4)
    return pickle.loads(await stream.readexactly(int.from_bytes(head, "big")))  # noqa: S301
