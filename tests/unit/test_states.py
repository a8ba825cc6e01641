import pytest

from app.domain.states import (
    STATUS_LABELS,
    TRANSITIONS,
    Event,
    IllegalTransition,
    Status,
    next_status,
)

S, E = Status, Event

LIFE = [  # DESIGN.md's diagram, edge by edge
    (S.SUBMITTED, E.ROUTE_CONFIDENT, S.ASSIGNED),
    (S.SUBMITTED, E.ROUTE_UNSURE, S.TRIAGE),
    (S.TRIAGE, E.ROUTE_MANUAL, S.ASSIGNED),
    (S.TRIAGE, E.REJECT, S.REJECTED),
    (S.ASSIGNED, E.ROUTE_MANUAL, S.ASSIGNED),
    (S.ASSIGNED, E.ACKNOWLEDGE, S.ACCEPTED),
    (S.ASSIGNED, E.RETURN, S.TRIAGE),
    (S.ACCEPTED, E.RETURN, S.TRIAGE),
    (S.ACCEPTED, E.ASK_INFO, S.AWAITING_INFO),
    (S.AWAITING_INFO, E.INFO_SUPPLIED, S.ACCEPTED),
    (S.ACCEPTED, E.REPLY, S.REPLIED),
    (S.REPLIED, E.RATE_OK, S.CLOSED),
    (S.REPLIED, E.LAPSE, S.CLOSED),
    (S.REPLIED, E.RATE_UNSATISFIED, S.ACCEPTED),
]


@pytest.mark.parametrize(("state", "event", "expected"), LIFE)
def test_every_legal_transition_moves_to_its_state(state, event, expected):
    assert next_status(state, event) is expected


def test_the_table_holds_nothing_beyond_the_diagram_and_recording_events():
    moving = {k: v for k, v in TRANSITIONS.items() if k[0] is not v}
    legal = {(s, e): t for s, e, t in LIFE}
    assert moving == {k: v for k, v in legal.items() if k[0] is not v}
    staying = {k for k, v in TRANSITIONS.items() if k[0] is v} - set(legal)
    assert {e for _, e in staying} == {
        E.SUPERVISE, E.NOTE, E.EXTENSION_REQUEST, E.EXTENSION_GRANT, E.EXTENSION_REFUSE,
        E.DEADLINE_MOVED, E.SLA_WARNING, E.SLA_OVERDUE}


ILLEGAL = [
    (S.SUBMITTED, E.REPLY),
    (S.TRIAGE, E.ACKNOWLEDGE),
    (S.ASSIGNED, E.REPLY),
    (S.AWAITING_INFO, E.REPLY),
    (S.REPLIED, E.ACKNOWLEDGE),
    (S.CLOSED, E.RATE_UNSATISFIED),
    (S.CLOSED, E.ROUTE_MANUAL),
    (S.REJECTED, E.ROUTE_MANUAL),
    (S.ACCEPTED, E.RATE_OK),
    (S.CLOSED, E.SUPERVISE),
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transition_raises_a_chinese_message(state, event):
    with pytest.raises(IllegalTransition) as caught:
        next_status(state, event)
    assert STATUS_LABELS[state] in str(caught.value)
    assert "不能" in str(caught.value)


def test_finished_appeals_accept_no_moving_event():
    for state in (S.CLOSED, S.REJECTED):
        for event in E:
            if event in (E.NOTE,):
                continue
            with pytest.raises(IllegalTransition):
                next_status(state, event)
