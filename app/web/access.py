"""Who may do what: every staff route's roles, and which appeals each account may see."""

from __future__ import annotations

from app.domain.states import Event, allowed_events
from app.domain.types import Role
from app.models import Account, Appeal
from app.schemas.limits import TRACKING_NUMBER_MAX

H, D, I = Role.HANDLER, Role.DISPATCHER, Role.INSPECTOR  # noqa: E741

ROUTE_ROLES: dict[str, frozenset[Role]] = {
    "handler_queue": frozenset({H}),
    "triage_queue": frozenset({D}),
    "inspect_list": frozenset({I}),
    # The city-wide list leaves the platform only in an inspector's hands (and is audited).
    "export_appeals": frozenset({I}),
    "export_log": frozenset({I}),
    "appeal_detail": frozenset({H, D, I}),
    "acknowledge": frozenset({H}),
    "reply": frozenset({H}),
    "return_appeal": frozenset({H}),
    "route_appeal": frozenset({D}),
    "returns_stats": frozenset({D, I}),
    "detectors": frozenset({D, I}),
    "detector_list": frozenset({D, I}),
    # Statistics: a handler sees only their own department's row (app.web.stats_pages).
    "stats": frozenset({H, D, I}),
    "stats_list": frozenset({H, D, I}),
    "ask_info": frozenset({H}),
    "request_extension": frozenset({H}),
    "decide_extension": frozenset({D, I}),
    "reject_appeal": frozenset({D}),
    # 督办 (issue 10): inspectors issue, close and re-issue; the department answers; a
    # handler's list shows their own department's orders. 催办: inspectors and dispatchers.
    "supervision_list": frozenset({H, D, I}),
    "supervise": frozenset({I}),
    "answer_supervision": frozenset({H}),
    "close_supervision": frozenset({I}),
    "reissue_supervision": frozenset({I}),
    "remind": frozenset({D, I}),
}

# The event each acting route causes: its button shows only where the state table allows it.
ROUTE_EVENTS: dict[str, Event] = {
    "acknowledge": Event.ACKNOWLEDGE,
    "reply": Event.REPLY,
    "return_appeal": Event.RETURN,
    "route_appeal": Event.ROUTE_MANUAL,
    "ask_info": Event.ASK_INFO,
    "request_extension": Event.EXTENSION_REQUEST,
    "decide_extension": Event.EXTENSION_GRANT,
    "reject_appeal": Event.REJECT,
}

HOME_BY_ROLE = {
    Role.HANDLER: "handler_queue",
    Role.DISPATCHER: "triage_queue",
    Role.INSPECTOR: "inspect_list",
}


def may_use(account: Account, route_name: str) -> bool:
    return Role(account.role) in ROUTE_ROLES.get(route_name, frozenset())


def buttons(account: Account, appeal: Appeal) -> dict[str, bool]:
    """For each acting route: may this account use it on this appeal now?"""
    events = allowed_events(appeal.status, account.role)
    return {name: may_use(account, name) and event in events
            for name, event in ROUTE_EVENTS.items()}


async def appeal_numbered(number: str) -> Appeal | None:
    """The appeal with this tracking number, if any. Text that cannot be a number (longer
    than the column, or holding U+0000, which PostgreSQL refuses) must not reach the query."""
    if len(number) > TRACKING_NUMBER_MAX or "\x00" in number:
        return None
    return await Appeal.get_or_none(tracking_number=number)


def may_see(account: Account, appeal: Appeal) -> bool:
    role = Role(account.role)
    if role in (Role.DISPATCHER, Role.INSPECTOR):
        return True
    if role == Role.HANDLER:
        # A report's named unit never handles it, so never sees it either.
        return (
            appeal.department_id is not None
            and appeal.department_id == account.department_id
            and appeal.named_unit_id != account.department_id
        )
    return False


def sees_contact(account: Account, appeal: Appeal) -> bool:
    """A reporter's identity is never shown to the department handling the report."""
    return not (Role(account.role) == Role.HANDLER and appeal.type == "report")
