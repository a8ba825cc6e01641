"""Who may do what: every staff route's roles, and which appeals each account may see."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from app.domain.states import FOLLOWED, Event, allowed_events
from app.domain.types import DEPARTMENT_ROLES, Role
from app.models import Account, Appeal
from app.schemas.limits import TRACKING_NUMBER_MAX

H, D, I = Role.HANDLER, Role.DISPATCHER, Role.INSPECTOR  # noqa: E741
HEAD, ADMIN = Role.HEAD, Role.ADMIN


def _heads_too(table: dict[str, frozenset[Role]]) -> dict[str, frozenset[Role]]:
    """A department head (部门负责人) is a handler of their department first: every route
    open to handlers is open to heads; what heads do beyond that is named in the table."""
    return {name: roles | {HEAD} if H in roles else roles for name, roles in table.items()}


ROUTE_ROLES: dict[str, frozenset[Role]] = _heads_too({
    "handler_queue": frozenset({H}),
    "triage_queue": frozenset({D}),
    "inspect_list": frozenset({I}),
    # The city-wide list leaves the platform only in an inspector's hands (and is audited).
    "export_appeals": frozenset({I}),
    "export_log": frozenset({I}),
    "appeal_detail": frozenset({H, D, I}),
    # An attachment: whoever sees the appeal (may_see), as its page does.
    "attachment": frozenset({H, D, I}),
    "acknowledge": frozenset({H}),
    "reply": frozenset({H}),
    "return_appeal": frozenset({H}),
    "route_appeal": frozenset({D}),
    # 并单 (app.web.merge_pages): the desk merges duplicates into a main appeal and undoes it.
    "merge_appeals": frozenset({D}),
    "unmerge_appeal": frozenset({D}),
    "returns_stats": frozenset({D, I}),
    # 未诉先办 (app.web.hotspot_pages): the hotspots and their appeals, city-wide.
    "hotspots": frozenset({D, I}),
    "hotspot": frozenset({D, I}),
    "detectors": frozenset({D, I}),
    "detector_list": frozenset({D, I}),
    # Statistics: a handler sees only their own department's row (app.web.stats_pages).
    "stats": frozenset({H, D, I}),
    "stats_list": frozenset({H, D, I}),
    # The misroute figures' lists (stats_list?figure=misroute_*): whoever sees the table,
    # city-wide (/staff/returns, and /staff/stats but not a department's).
    "misroute_list": frozenset({D, I}),
    # Each page's own export (format=csv|xlsx): whoever reads the page, of what it shows
    # them (a handler: their own department's row and lists), audited.
    "export_detector_list": frozenset({D, I}),
    "export_stats": frozenset({H, D, I}),
    "export_stats_list": frozenset({H, D, I}),
    # The monthly report (and its XLSX, audited): what an inspector hands to the 纪委.
    "report": frozenset({D, I}),
    "ask_info": frozenset({H}),
    "request_extension": frozenset({H}),
    # A head decides their own department's requests (may_see), never their own (clocks).
    "decide_extension": frozenset({D, I, HEAD}),
    "reject_appeal": frozenset({D}),
    # 督办 (issue 10): inspectors issue, close and re-issue; the department answers; a
    # handler's list shows their own department's orders. 催办: inspectors and dispatchers.
    "supervision_list": frozenset({H, D, I}),
    "supervise": frozenset({I}),
    "answer_supervision": frozenset({H}),
    "close_supervision": frozenset({I}),
    "reissue_supervision": frozenset({I}),
    "remind": frozenset({D, I}),
    # The hotline desk (issue 11, app.web.desk): a dispatcher takes a call; the extension
    # requests waiting for whoever may decide them (a head: their department's).
    "intake_form": frozenset({D}),
    "intake": frozenset({D}),
    "pending_extensions": frozenset({D, I, HEAD}),
    # 回访 (app.web.followup_pages): the dispatchers' calls after closing.
    "followup_list": frozenset({D}),
    "followup_call": frozenset({D}),
    "record_followup": frozenset({D}),
    # Issue 12: one masked value revealed, with a reason, on the record (may_reveal says on
    # which appeals); the inspectors list every reveal per person.
    "reveal": frozenset({H, D, I}),
    "reveal_log": frozenset({I}),
    # Issue 12 (app.web.search_pages): search, each within what they may see
    # (visible_appeals); a department's history of answered appeals, its own staff's.
    "search": frozenset({H, D, I}),
    "history": frozenset({H}),
    # Issue 12 (app.web.reply_pages): the knowledge base, searched by whoever answers; a
    # department's reply templates kept by its head; the head's review (审核) of replies.
    "knowledge_search": frozenset({H, D, I}),
    "department_templates": frozenset({HEAD}),
    "department_template_save": frozenset({HEAD}),
    "department_template_remove": frozenset({HEAD}),
    "approve_reply": frozenset({HEAD}),
    "revise_reply": frozenset({HEAD}),
    # Issue 13 (app.web.benefit_pages): 还利于民, recorded by the appeal's department (with
    # the reply, or later on a replied appeal); inspectors list and verify or reject entries.
    "record_benefit": frozenset({H}),
    "benefits_list": frozenset({I}),
    "decide_benefit": frozenset({I}),
    # Issue 13 (app.web.publication_pages): published replies, approved (and taken down) by a
    # dispatcher or an inspector; never a department's, nor an administrator's.
    "publication_queue": frozenset({D, I}),
    "publication_page": frozenset({D, I}),
    "publication_approve": frozenset({D, I}),
    "publication_unpublish": frozenset({D, I}),
    # Issue 11: the audit of administrative actions and exports, read-only, for inspectors.
    "audit_log": frozenset({I}),
    # Issue 14: the classifier's versions, promotions and rollbacks with their figures; no
    # appeal's content is on the page, so administrators (who keep the rules) read it too.
    "model_versions": frozenset({I, ADMIN}),
    # Administration (app.web.admin): accounts; no appeal's content is on these pages.
    "admin_home": frozenset({ADMIN}),
    "admin_accounts": frozenset({ADMIN}),
    "admin_account_new": frozenset({ADMIN}),
    "admin_account_create": frozenset({ADMIN}),
    "admin_account": frozenset({ADMIN}),
    "admin_account_change": frozenset({ADMIN}),
    "admin_account_disable": frozenset({ADMIN}),
    "admin_account_enable": frozenset({ADMIN}),
    "admin_account_reset": frozenset({ADMIN}),
    # Reference data (app.web.admin_reference): departments, hot topics, the calendar,
    # keyword rules and the category table; no appeal's content on these pages either.
    "admin_reference": frozenset({ADMIN}),
    "admin_departments": frozenset({ADMIN}),
    "admin_department_deactivate": frozenset({ADMIN}),
    "admin_department_activate": frozenset({ADMIN}),
    # Issue 12: whether the head approves the department's replies (审核).
    "admin_department_review": frozenset({ADMIN}),
    "admin_hot_topics": frozenset({ADMIN}),
    "admin_hot_topics_edit": frozenset({ADMIN}),
    "admin_calendar": frozenset({ADMIN}),
    "admin_calendar_add": frozenset({ADMIN}),
    "admin_calendar_remove": frozenset({ADMIN}),
    "admin_routing": frozenset({ADMIN}),
    "admin_keyword_rule": frozenset({ADMIN}),
    "admin_category_department": frozenset({ADMIN}),
    # Issue 12: shared reply templates and the knowledge base (no appeal's content).
    "admin_templates": frozenset({ADMIN}),
    "admin_template_save": frozenset({ADMIN}),
    "admin_template_remove": frozenset({ADMIN}),
    "admin_knowledge": frozenset({ADMIN}),
    "admin_knowledge_save": frozenset({ADMIN}),
    "admin_knowledge_remove": frozenset({ADMIN}),
    # Issue 13: Open311 client applications' keys (app.web.admin_api_clients).
    "admin_api_clients": frozenset({ADMIN}),
    "admin_api_client_create": frozenset({ADMIN}),
    "admin_api_client_revoke": frozenset({ADMIN}),
})

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
    "approve_reply": Event.APPROVE_REPLY,
    "revise_reply": Event.REVISE_REPLY,
}

HOME_BY_ROLE = {
    Role.HANDLER: "handler_queue",
    Role.HEAD: "handler_queue",
    Role.DISPATCHER: "triage_queue",
    Role.INSPECTOR: "inspect_list",
    Role.ADMIN: "admin_home",
}


def may_use(account: Account, route_name: str) -> bool:
    return Role(account.role) in ROUTE_ROLES.get(route_name, frozenset())


def buttons(account: Account, appeal: Appeal) -> dict[str, bool]:
    """For each acting route: may this account use it on this appeal now? A merged member
    takes the main's steps (并单): nothing of the kind is done on it directly."""
    events = allowed_events(appeal.status, account.role)
    if appeal.merged_into_id is not None:
        events = [e for e in events if e not in FOLLOWED and e is not Event.EXTENSION_REQUEST]
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
    if role in DEPARTMENT_ROLES:
        # A report's named unit never handles it, so never sees it either.
        return (
            appeal.department_id is not None
            and appeal.department_id == account.department_id
            and appeal.named_unit_id != account.department_id
        )
    return False


def visible_appeals(account: Account) -> QuerySet[Appeal]:
    """The appeals `account` may see, as a query (the set may_see decides one by one)."""
    role = Role(account.role)
    if role in (Role.DISPATCHER, Role.INSPECTOR):
        return Appeal.all()
    if role in DEPARTMENT_ROLES and account.department_id is not None:
        return Appeal.filter(Q(named_unit_id__isnull=True)
                             | ~Q(named_unit_id=account.department_id),
                             department_id=account.department_id)
    return Appeal.filter(id__in=[])


def sees_contact(account: Account, appeal: Appeal) -> bool:
    """A reporter's identity is never shown to the department handling the report."""
    return not (Role(account.role) in DEPARTMENT_ROLES and appeal.type == "report")


def may_reveal(account: Account, appeal: Appeal) -> bool:
    """Reveal a masked value of this appeal: a dispatcher or an inspector, or a handler of
    the appeal's department, but never in a report (举报), whose reporter the handling
    department must not identify (DESIGN.md)."""
    if not (may_use(account, "reveal") and may_see(account, appeal)):
        return False
    return Role(account.role) not in DEPARTMENT_ROLES or appeal.type != "report"
