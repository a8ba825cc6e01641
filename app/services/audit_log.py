"""The audit log (app.models.audit.AuditEntry): administrative actions with who, when, what,
and the record before and after; exports write theirs in app.services.exports. Entries are
only ever added: nothing here, or anywhere in the application, edits or deletes one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.types import ROLE_LABELS, Role
from app.models import Account, AuditEntry, Department
from app.services.workflow import Actor, now_utc

CLI = Actor(None, "命令行")  # the `minsheng` command, run by whoever runs the server
PAGE_SIZE = 50

ACTION_LABELS = {
    "account_create": "新建账号",
    "account_change": "修改账号",
    "account_disable": "停用账号",
    "account_reset": "重置密码",
    "account_enable": "重新启用账号",
    "export": "导出",
    # Reference data (app.services.reference_edits): the rules' edits.
    "department_deactivate": "停用部门",
    "department_activate": "启用部门",
    "department_review": "设置答复审核",
    "hot_topics_change": "修改热门话题",
    "calendar_override_add": "调整工作日历",
    "calendar_override_remove": "取消工作日历调整",
    "keyword_rule_add": "新增关键词规则",
    "keyword_rule_change": "修改关键词规则",
    "keyword_rule_remove": "删除关键词规则",
    "category_department_change": "修改分类承办部门",
    # Reply templates and the knowledge base (app.services.replies).
    "reply_template_create": "新增答复模板",
    "reply_template_change": "修改答复模板",
    "reply_template_remove": "删除答复模板",
    "knowledge_create": "新增知识库条目",
    "knowledge_change": "修改知识库条目",
    "knowledge_remove": "删除知识库条目",
    # Open311 client applications (app.services.api_clients).
    "api_client_create": "发放 Open311 密钥",
    "api_client_revoke": "吊销 Open311 密钥",
}
# What an account's snapshot holds, in the order the log shows it. Never a password or hash.
FIELD_LABELS = {
    "username": "用户名",
    "role": "角色",
    "department": "所属部门",
    "display_name": "姓名",
    "is_active": "启用",
    "must_change_password": "须修改密码",
}


async def record(actor: Actor, action: str, details: dict[str, Any],
                 at: datetime | None = None) -> AuditEntry:
    """Write one entry; call it inside the action's own transaction."""
    return await AuditEntry.create(at=at or now_utc(), actor=actor.account,
                                   actor_label=actor.label[:80], action=action,
                                   details=details)


async def account_snapshot(account: Account) -> dict[str, Any]:
    """What an administrator can change on an account, as the log keeps it: the department
    by name and code, so the entry still reads after the department is renamed."""
    department = await Department.get_or_none(id=account.department_id) \
        if account.department_id else None
    return {
        "username": account.username,
        "role": account.role,
        "department": f"{department.name}（{department.code}）" if department else "",
        "display_name": account.display_name,
        "is_active": account.is_active,
        "must_change_password": account.must_change_password,
    }


def _shown(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role" and value in {r.value for r in Role}:
        return ROLE_LABELS[Role(value)]
    return "" if value is None else str(value)


def changes(details: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(field label, before, after) in words for each field the entry's action changed;
    before is None for a record that did not exist before."""
    before, after = details.get("before"), details.get("after") or {}
    keys = [*FIELD_LABELS, *(k for k in after if k not in FIELD_LABELS)]
    if before is None:
        return [(FIELD_LABELS.get(k, k), None, _shown(k, after[k])) for k in keys if k in after]
    return [(FIELD_LABELS.get(k, k), _shown(k, before.get(k)), _shown(k, after.get(k)))
            for k in keys if (k in before or k in after) and before.get(k) != after.get(k)]


async def page(action: str | None, after: int | None,
               size: int = PAGE_SIZE) -> tuple[list[AuditEntry], int | None]:
    """Entries newest first, older than the entry `after` (seek paging on the primary key;
    with an action, on the (action, id) index); the id to continue after, if there is more."""
    query = AuditEntry.all()
    if action:
        query = query.filter(action=action)
    if after:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return rows, rows[-1].id if more and rows else None
