"""Staff accounts, as an administrator (on /admin/ or with `minsheng accounts`) manages them:
create, change role or department, disable, reset the password. Each action checks, writes
and records its audit entry (before and after) in one transaction. A password an
administrator hands out is one-time: generated here, shown once, changed at first login."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.domain.types import DEPARTMENT_ROLES, STAFF_ROLES, Role
from app.models import Account, Department
from app.schemas.admin import AccountChange, AccountCreate, AccountSearch
from app.services import accounts, audit_log, throttle
from app.services.errors import ServiceError
from app.services.secrets import generate_password
from app.services.workflow import Actor

PAGE_SIZE = 50


async def staff_account(account_id: int) -> Account | None:
    """A staff account by id; a resident's account is no administrator's business here."""
    if not 0 < account_id < 2**31:
        return None
    return await Account.get_or_none(id=account_id, role__in=sorted(STAFF_ROLES)) \
        .prefetch_related("department")


async def staff_by_username(username: str) -> Account | None:
    if len(username) > 254 or "\x00" in username:
        return None
    return await Account.get_or_none(username=username, role__in=sorted(STAFF_ROLES))


async def _department(role: Role, code: str | None) -> Department | None:
    if role not in DEPARTMENT_ROLES:
        return None
    # The picker offers names (searched on a phone); scripts pass codes.
    found = await Department.filter(Q(code=code or "") | Q(name=code or "")).limit(2)
    exact = [d for d in found if d.code == code]
    if len(found) > 1 and not exact:
        raise ServiceError(f"有多个名为“{code}”的部门，请输入部门编码。", "department")
    department = (exact or found or [None])[0]
    if department is None:
        raise ServiceError(f"没有名称或编码为“{code}”的部门。", "department")
    if not department.active:
        raise ServiceError(f"{department.name}已停用，不能再安排人员。", "department")
    return department


async def create_staff(actor: Actor, form: AccountCreate) -> tuple[Account, str]:
    """A new staff account with a one-time password (returned, never stored in clear)."""
    role = Role(form.role)
    department = await _department(role, form.department)
    if await Account.exists(username=form.username):
        raise ServiceError(f"用户名“{form.username}”已被使用。", "username")
    password = generate_password()
    hashed = await accounts.hash_password(password)
    try:
        async with in_transaction():
            account = await Account.create(
                username=form.username, password_hash=hashed, role=role.value,
                display_name=form.name, department=department, must_change_password=True)
            await audit_log.record(actor, "account_create", {
                "account": account.username, "account_id": account.id, "before": None,
                "after": await audit_log.account_snapshot(account)})
    except IntegrityError:  # created by someone else in between
        raise ServiceError(f"用户名“{form.username}”已被使用。", "username") from None
    return account, password


async def change_staff(actor: Actor, account: Account, form: AccountChange) -> Account:
    """A new role, department or name; the account's sessions see it at their next request."""
    role = Role(form.role)
    if actor.account is not None and actor.account.id == account.id and role != Role.ADMIN:
        raise ServiceError("不能取消自己的管理员角色，请由另一位管理员操作。", "role")
    department = await _department(role, form.department)
    before = await audit_log.account_snapshot(account)
    account.role, account.department, account.display_name = role.value, department, form.name
    after = await audit_log.account_snapshot(account)
    if after == before:
        return account
    async with in_transaction():
        await account.save(update_fields=["role", "department_id", "display_name"])
        await audit_log.record(actor, "account_change", {
            "account": account.username, "account_id": account.id,
            "before": before, "after": after})
    return account


async def disable_staff(actor: Actor, account: Account) -> None:
    """Disabled, and logged out everywhere at once."""
    if actor.account is not None and actor.account.id == account.id:
        raise ServiceError("不能停用自己的账号。", "account")
    if not account.is_active:
        raise ServiceError("该账号已停用。", "account")
    before = await audit_log.account_snapshot(account)
    async with in_transaction():
        await accounts.deactivate(account)
        await audit_log.record(actor, "account_disable", {
            "account": account.username, "account_id": account.id, "before": before,
            "after": await audit_log.account_snapshot(account)})


async def enable_staff(actor: Actor, account: Account) -> str:
    """A disabled account back in use, with a new one-time password (returned): whatever the
    old password was, it may have been known to others while the account was off."""
    if account.is_active:
        raise ServiceError("该账号未停用。", "account")
    before = await audit_log.account_snapshot(account)
    password = generate_password()
    account.password_hash = await accounts.hash_password(password)
    account.must_change_password, account.is_active = True, True
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password", "is_active"])
        await audit_log.record(actor, "account_enable", {
            "account": account.username, "account_id": account.id, "before": before,
            "after": await audit_log.account_snapshot(account)})
    await throttle.forget(throttle.account_name(account.username))
    return password


async def reset_staff(actor: Actor, account: Account) -> str:
    """A new one-time password (returned); the old one stops working and every session of
    the account ends."""
    if not account.is_active:
        raise ServiceError("该账号已停用，不能重置密码。", "account")
    before = await audit_log.account_snapshot(account)
    password = generate_password()
    account.password_hash = await accounts.hash_password(password)
    account.must_change_password = True
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password"])
        await accounts.end_sessions(account=account)
        await audit_log.record(actor, "account_reset", {
            "account": account.username, "account_id": account.id, "before": before,
            "after": await audit_log.account_snapshot(account)})
    await throttle.forget(throttle.account_name(account.username))
    return password


async def staff_page(search: AccountSearch,
                     size: int = PAGE_SIZE) -> tuple[list[Account], str | None]:
    """Staff accounts by username, after `search.after` (seek paging); the username to
    continue after, if there is more."""
    query = Account.filter(role__in=sorted(STAFF_ROLES))
    if search.q:
        query = query.filter(Q(username__icontains=search.q)
                             | Q(display_name__icontains=search.q))
    if search.role:
        query = query.filter(role=search.role)
    if search.department:
        query = query.filter(department__code=search.department)
    if search.state:
        query = query.filter(is_active=search.state == "active")
    if search.after:
        query = query.filter(username__gt=search.after)
    rows = await query.order_by("username").limit(size + 1).prefetch_related("department")
    more = len(rows) > size
    rows = rows[:size]
    return rows, rows[-1].username if more and rows else None
