"""The classifier process: reads texts on stdin, writes top categories on stdout.

Started by app.services.predictor with `python -m app.services.classifier_process MODEL_DIR
SEED_CACHE RECHECK`; the messages are framed as app.services.pipe_protocol says. It exits
when its stdin closes, so it never outlives the server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.services.pipe_protocol import frame, read_message


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
