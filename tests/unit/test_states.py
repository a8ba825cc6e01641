from datetime import UTC, datetime, timedelta

import pytest

from app.domain.states import (
    ANSWERED,
    AWAITING_RATING,
    AWAITING_RESIDENT,
    CLOCK_RUNNING,
    COUNTS_AS_OVERDUE,
    EVENT_LABELS,
    FINISHED,
    FOLLOWED,
    OPEN,
    REOPENING,
    ROLE_EVENTS,
    STATUS_LABELS,
    TRANSITIONS,
    WITH_DEPARTMENT,
    Event,
    IllegalTransition,
    Status,
    allowed_events,
    counts_as_overdue,
    merge_move,
    next_status,
)
from app.domain.types import Role

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
    # Issue 11: the department holding it was deactivated; back to the desk, clock running.
    (S.ASSIGNED, E.DEPARTMENT_CLOSED, S.TRIAGE),
    (S.ACCEPTED, E.DEPARTMENT_CLOSED, S.TRIAGE),
    (S.AWAITING_INFO, E.DEPARTMENT_CLOSED, S.TRIAGE),
    (S.ACCEPTED, E.ASK_INFO, S.AWAITING_INFO),
    (S.AWAITING_INFO, E.INFO_SUPPLIED, S.ACCEPTED),
    (S.ACCEPTED, E.REPLY, S.REPLIED),
    # 审核 (issue 12): where the department asks for it, the head approves or returns a reply.
    (S.ACCEPTED, E.SUBMIT_REPLY, S.REVIEW),
    (S.REVIEW, E.APPROVE_REPLY, S.REPLIED),
    (S.REVIEW, E.REVISE_REPLY, S.ACCEPTED),
    (S.REVIEW, E.DEPARTMENT_CLOSED, S.TRIAGE),
    (S.REPLIED, E.RATE_OK, S.CLOSED),
    (S.REPLIED, E.LAPSE, S.CLOSED),
    (S.REPLIED, E.RATE_UNSATISFIED, S.ACCEPTED),
    (S.REPLIED, E.RATE_UNSATISFIED_FINAL, S.CLOSED),
    # 回访 (issue 11): recorded on a closed appeal; "not solved" reopens it (once).
    (S.CLOSED, E.FOLLOWUP, S.CLOSED),
    (S.CLOSED, E.FOLLOWUP_UNSOLVED, S.ACCEPTED),
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
        E.DEADLINE_MOVED, E.SLA_WARNING, E.SLA_OVERDUE, E.SUPERVISION_ANSWER,
        E.SUPERVISION_ESCALATE, E.SUPERVISION_CLOSE, E.SUPERVISION_REISSUE, E.REMIND,
        E.REVEAL,
        # Issue 13, published replies (app.services.publication).
        E.PUBLISH, E.UNPUBLISH, E.CONSENT_WITHDRAWN,
        # Issue 13, 还利于民 entries (app.services.benefits).
        E.BENEFIT_RECORD, E.BENEFIT_VERIFY, E.BENEFIT_REJECT,
        # Issue 15, 并单: the main records whom it took in (its members move by merge_move).
        E.MERGE_MAIN}


def test_a_merge_moves_only_between_open_states():
    assert merge_move(S.TRIAGE, E.MERGE, S.ACCEPTED) is S.ACCEPTED
    assert merge_move(S.ACCEPTED, E.UNMERGE, S.TRIAGE) is S.TRIAGE
    for status, target in [(S.REPLIED, S.ACCEPTED), (S.ACCEPTED, S.CLOSED),
                           (S.REJECTED, S.TRIAGE)]:
        with pytest.raises(IllegalTransition):
            merge_move(status, E.MERGE, target)
    with pytest.raises(IllegalTransition):
        merge_move(S.TRIAGE, E.REPLY, S.ACCEPTED)  # only the two merge events move so
    assert not {E.RATE_OK, E.RATE_UNSATISFIED, E.LAPSE, E.FOLLOWUP_UNSOLVED} & FOLLOWED


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
    (S.REVIEW, E.REPLY),
    (S.REVIEW, E.RETURN),
    (S.ASSIGNED, E.SUBMIT_REPLY),
    (S.REPLIED, E.APPROVE_REPLY),
    (S.CLOSED, E.SUPERVISE),
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transition_raises_a_chinese_message(state, event):
    with pytest.raises(IllegalTransition) as caught:
        next_status(state, event)
    assert STATUS_LABELS[state] in str(caught.value)
    assert "不能" in str(caught.value)


def test_finished_appeals_accept_no_moving_event_but_the_followup_reopening():
    assert REOPENING == {(S.CLOSED, E.FOLLOWUP_UNSOLVED)}
    for state in (S.CLOSED, S.REJECTED):
        for event in E:
            if event in (E.NOTE,) or (state, event) in TRANSITIONS and \
                    TRANSITIONS[(state, event)] is state:
                continue
            if (state, event) in REOPENING:
                assert next_status(state, event) is S.ACCEPTED
                continue
            with pytest.raises(IllegalTransition):
                next_status(state, event)


def test_every_state_is_reachable_from_submission():
    reached, frontier = {S.SUBMITTED}, [S.SUBMITTED]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)


def test_every_moving_event_is_caused_by_a_role_or_the_system():
    by_roles = {e for events in ROLE_EVENTS.values() for e in events}
    # DEPARTMENT_CLOSED follows an administrator's deactivation of a department, not a
    # button on the appeal.
    system = {E.ROUTE_CONFIDENT, E.ROUTE_UNSURE, E.LAPSE, E.DEPARTMENT_CLOSED}
    moving = {e for (s, e), t in TRANSITIONS.items() if s is not t}
    assert moving <= by_roles | system


def test_every_status_is_open_awaiting_rating_or_finished_and_only_one():
    assert OPEN | AWAITING_RATING | FINISHED == set(Status)
    assert not OPEN & AWAITING_RATING
    assert not OPEN & FINISHED
    assert not AWAITING_RATING & FINISHED


def test_finished_states_are_exactly_those_no_event_moves_but_the_reopening():
    moved_from = {s for (s, e), t in TRANSITIONS.items()
                  if s is not t and (s, e) not in REOPENING}
    assert FINISHED == set(Status) - moved_from


def test_the_narrower_groups_lie_inside_open():
    assert WITH_DEPARTMENT <= OPEN
    assert AWAITING_RESIDENT <= WITH_DEPARTMENT
    assert CLOCK_RUNNING == OPEN - AWAITING_RESIDENT
    assert ANSWERED == AWAITING_RATING | {S.CLOSED}


def test_with_department_is_where_routing_puts_an_appeal_and_a_return_takes_it_out():
    assert next_status(S.TRIAGE, E.ROUTE_MANUAL) in WITH_DEPARTMENT
    for state in WITH_DEPARTMENT:
        if (state, E.RETURN) in TRANSITIONS:
            assert next_status(state, E.RETURN) not in WITH_DEPARTMENT


def test_a_closed_department_gives_back_every_appeal_it_holds():
    for state in WITH_DEPARTMENT:
        assert next_status(state, E.DEPARTMENT_CLOSED) is S.TRIAGE
    assert {s for (s, e) in TRANSITIONS if e is E.DEPARTMENT_CLOSED} == WITH_DEPARTMENT


def test_overdue_means_open_not_awaiting_the_resident_and_past_the_deadline():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    assert COUNTS_AS_OVERDUE == OPEN - {S.AWAITING_INFO}
    assert counts_as_overdue(S.REVIEW, past, now)  # the resident still has no reply
    assert counts_as_overdue(S.TRIAGE, past, now)
    assert counts_as_overdue(S.ACCEPTED, past, now)
    assert not counts_as_overdue(S.ACCEPTED, future, now)
    assert not counts_as_overdue(S.AWAITING_INFO, past, now)
    assert not counts_as_overdue(S.REPLIED, past, now)
    assert not counts_as_overdue(S.CLOSED, past, now)
    assert not counts_as_overdue(S.SUBMITTED, None, now)


BUTTONS = [
    (Role.DISPATCHER, S.TRIAGE, [E.ROUTE_MANUAL, E.REJECT]),
    (Role.DISPATCHER, S.ASSIGNED, [E.ROUTE_MANUAL, E.EXTENSION_GRANT, E.EXTENSION_REFUSE]),
    (Role.DISPATCHER, S.REPLIED, []),
    (Role.HANDLER, S.ASSIGNED, [E.ACKNOWLEDGE, E.EXTENSION_REQUEST, E.RETURN]),
    (Role.HANDLER, S.ACCEPTED, [E.REPLY, E.ASK_INFO, E.EXTENSION_REQUEST, E.RETURN,
                                E.SUBMIT_REPLY]),
    (Role.HANDLER, S.REVIEW, [E.EXTENSION_REQUEST]),
    (Role.HEAD, S.REVIEW, [E.EXTENSION_REQUEST, E.EXTENSION_GRANT, E.EXTENSION_REFUSE,
                           E.APPROVE_REPLY, E.REVISE_REPLY]),
    (Role.HANDLER, S.AWAITING_INFO, [E.EXTENSION_REQUEST]),
    (Role.HANDLER, S.TRIAGE, []),
    (Role.INSPECTOR, S.ACCEPTED, [E.SUPERVISE, E.EXTENSION_GRANT, E.EXTENSION_REFUSE]),
    (Role.INSPECTOR, S.REPLIED, [E.SUPERVISE]),
    (Role.INSPECTOR, S.CLOSED, []),
    (Role.RESIDENT, S.AWAITING_INFO, [E.INFO_SUPPLIED]),
    (Role.RESIDENT, S.REPLIED, [E.RATE_OK, E.RATE_UNSATISFIED]),
    (Role.RESIDENT, S.ACCEPTED, []),
    (Role.ADMIN, S.TRIAGE, []),
]


@pytest.mark.parametrize(("role", "state", "expected"), BUTTONS)
def test_allowed_events_are_the_buttons_of_each_role(role, state, expected):
    assert allowed_events(state, role) == expected


def test_allowed_events_are_always_legal_in_that_state():
    for role in Role:
        for state in Status:
            for event in allowed_events(state, role):
                next_status(state, event)


def test_a_used_redo_turns_unsatisfied_into_the_final_rating():
    assert allowed_events(S.REPLIED, Role.RESIDENT, redo_used=True) == [
        E.RATE_OK, E.RATE_UNSATISFIED_FINAL]
    assert next_status(S.REPLIED, E.RATE_UNSATISFIED_FINAL) is S.CLOSED
    assert "再次不满意" in EVENT_LABELS[E.RATE_UNSATISFIED_FINAL]


def test_nobody_acts_on_a_finished_appeal_but_the_dispatcher_calling_back():
    for role in Role:
        for state in FINISHED:
            if role is Role.DISPATCHER and state is S.CLOSED:
                continue
            assert allowed_events(state, role) == []
    assert allowed_events(S.CLOSED, Role.DISPATCHER) == [E.FOLLOWUP, E.FOLLOWUP_UNSOLVED]


def test_a_followup_reopens_once():
    assert allowed_events(S.CLOSED, Role.DISPATCHER, followup_reopen_used=True) == [
        E.FOLLOWUP]
    assert next_status(S.CLOSED, E.FOLLOWUP) is S.CLOSED
    assert next_status(S.CLOSED, E.FOLLOWUP_UNSOLVED) is S.ACCEPTED


def test_every_event_has_a_chinese_label():
    assert set(EVENT_LABELS) == set(Event)


def test_every_acting_route_is_open_to_exactly_the_roles_that_may_cause_its_event():
    from app.web.access import ROUTE_EVENTS, ROUTE_ROLES

    for route, event in ROUTE_EVENTS.items():
        causing = {role for role, events in ROLE_EVENTS.items() if event in events}
        assert ROUTE_ROLES[route] == causing, route


def test_only_an_appeal_that_counts_as_overdue_can_be_marked_overdue():
    marked = {s for (s, e) in TRANSITIONS if e is E.SLA_OVERDUE}
    assert marked == COUNTS_AS_OVERDUE
    with pytest.raises(IllegalTransition):
        next_status(S.AWAITING_INFO, E.SLA_OVERDUE)


def test_a_reveal_is_recorded_in_every_state_and_moves_nothing():
    for state in Status:
        assert next_status(state, E.REVEAL) is state
    # Not a button of the state table: the reveal form has its own rules (app.web.access).
    assert all(E.REVEAL not in events for events in ROLE_EVENTS.values())


def test_a_reply_in_review_is_with_the_department_and_its_clock_runs():
    assert S.REVIEW in WITH_DEPARTMENT
    assert S.REVIEW in CLOCK_RUNNING
    assert S.REVIEW not in ANSWERED
    assert {role for role, events in ROLE_EVENTS.items()
            if E.APPROVE_REPLY in events or E.REVISE_REPLY in events} == {Role.HEAD}
    assert E.SUBMIT_REPLY not in ROLE_EVENTS[Role.HEAD]  # the head's own reply goes out


def test_benefit_entries_are_recorded_once_replied_and_decided_on_any_appeal():
    for state in (S.REVIEW, S.REPLIED, S.CLOSED):
        assert next_status(state, E.BENEFIT_RECORD) is state
    for state in (S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.ACCEPTED, S.AWAITING_INFO,
                  S.REJECTED):
        with pytest.raises(IllegalTransition):
            next_status(state, E.BENEFIT_RECORD)
    for state in Status:
        assert next_status(state, E.BENEFIT_VERIFY) is state
        assert next_status(state, E.BENEFIT_REJECT) is state
