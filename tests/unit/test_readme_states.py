"""The README's table of the state machine's edges is the code's table (app.domain.states),
so the document a city's IT office reads cannot drift from what the code does."""

import re
from pathlib import Path

from app.domain import states

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| (\S+) `(\w+)` \| (.+?) `(\w+)` \| (\S+) `(\w+)` \|$", re.M)


def test_the_readme_lists_exactly_the_moving_edges_with_their_labels():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Every edge of the state table"):]
    found = ROW.findall(section)
    listed = {(s, e, n) for _, s, _, e, _, n in found}
    moving = {(s.value, e.value, n.value) for (s, e), n in states.TRANSITIONS.items()
              if e not in states._STAY_EVENTS}
    assert listed == moving
    assert len(found) == len(moving)  # no row twice
    for status_label, s, event_label, e, next_label, n in found:
        assert states.STATUS_LABELS[states.Status(s)] == status_label
        assert states.EVENT_LABELS[states.Event(e)] == event_label
        assert states.STATUS_LABELS[states.Status(n)] == next_label
