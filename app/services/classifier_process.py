"""The classifier process: reads texts on stdin, writes top categories on stdout.

Started by app.services.predictor with `python -m app.services.classifier_process MODEL_DIR
SEED_CACHE RECHECK`. Each message either way is a 4-byte big-endian length and a pickle:
(text, k) in, ("ok", (candidates, version)) or ("error", message) out, answers in the order
of the questions. It exits when its stdin closes, so it never outlives the server.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import BinaryIO


def read_message(stream: BinaryIO):
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - our own parent process wrote it


def frame(value) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(4, "big") + body


def main(argv: list[str]) -> int:
    from app.services import predictor

    # Answers go to a private copy of stdout; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    model_dir = Path(argv[0]) if argv[0] else None
    predictor.child_start(model_dir, Path(argv[1]), float(argv[2]))
    questions = sys.stdin.buffer
    while True:
        question = read_message(questions)
        if question is None:
            return 0
        text, k = question
        try:
            answer = ("ok", predictor.child_predict(text, k))
        except Exception as exc:  # one bad text must not take the process down
            answer = ("error", f"{type(exc).__name__}: {exc}")
        answers.write(frame(answer))
        answers.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
