"""What an administrator sends from /admin/ (and the `minsheng accounts` commands): staff
accounts to create, change, find; and the inspectors' filter of the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.domain.types import DEPARTMENT_ROLES, ROLE_LABELS, STAFF_ROLES, Role
from app.schemas.base import Blank, Input, Say, invalid
from app.schemas.limits import CONTACT_NAME_MAX, DEPARTMENT_MAX, NO_NUL, USERNAME_MAX

# Staff log in with what they are given: plain letters, so nobody mistypes it.
STAFF_USERNAME = r"^[a-z0-9][a-z0-9._@-]*$"
STAFF_USERNAME_MIN, STAFF_USERNAME_MAX = 2, 64
SEARCH_MAX = 100
ACTION_PATTERN = r"^[a-z_]{1,32}$"

# In the order the forms offer them.
STAFF_ROLE_ORDER = (Role.DISPATCHER, Role.HANDLER, Role.HEAD, Role.INSPECTOR, Role.ADMIN)
assert set(STAFF_ROLE_ORDER) == STAFF_ROLES
ROLE_CHOICES = "、".join(f"{role.value}（{ROLE_LABELS[role]}）" for role in STAFF_ROLE_ORDER)
StaffRole = Literal[tuple(role.value for role in STAFF_ROLE_ORDER)]  # type: ignore[valid-type]

_USERNAME_WRONG = (f"用户名须为 {STAFF_USERNAME_MIN}–{STAFF_USERNAME_MAX} 个"
                   "小写字母、数字或 . _ - @，以字母或数字开头。")
Username = Annotated[str, Field(title="用户名", min_length=STAFF_USERNAME_MIN,
                                max_length=STAFF_USERNAME_MAX, pattern=STAFF_USERNAME),
                     Say(missing="请填写用户名。", too_short=_USERNAME_WRONG,
                         too_long=_USERNAME_WRONG, pattern=_USERNAME_WRONG)]
RoleField = Annotated[StaffRole, Field(title="角色"),
                      Say.always(f"请选择有效的角色，可选：{ROLE_CHOICES}。")]
DepartmentField = Annotated[str | None, Field(title="所属部门", max_length=DEPARTMENT_MAX,
                                              pattern=NO_NUL),
                            Blank, Say(too_long="请选择有效的部门。", pattern="请选择有效的部门。",
                                       type="请选择有效的部门。")]
NameField = Annotated[str, Field(title="姓名", max_length=CONTACT_NAME_MAX, pattern=NO_NUL)]


class StaffPlacement(Input):
    """A role, and the department that goes with it: handlers and heads belong to one,
    nobody else does."""

    role: RoleField
    department: DepartmentField = None
    name: NameField = ""

    @model_validator(mode="after")
    def _department_goes_with_role(self) -> StaffPlacement:
        in_department = Role(self.role) in DEPARTMENT_ROLES
        if in_department and not self.department:
            raise invalid("部门办理人和部门负责人须选择所属部门。", "department")
        if not in_department and self.department:
            raise invalid(f"{ROLE_LABELS[Role(self.role)]}不属于任何部门，请不要选择部门。",
                          "department")
        return self


class AccountCreate(StaffPlacement):
    username: Username


class AccountChange(StaffPlacement):
    """A new role, department or name for an existing account."""


class AccountSearch(Input):
    """The staff list at /admin/accounts: text in the username or name, role, state."""

    q: Annotated[str | None, Field(title="查找", max_length=SEARCH_MAX, pattern=NO_NUL),
                 Blank] = None
    role: Annotated[StaffRole | None, Field(title="角色"), Blank,
                    Say.always("请选择有效的角色。")] = None
    department: DepartmentField = None
    state: Annotated[Literal["active", "disabled"] | None, Field(title="状态"), Blank,
                     Say.always("请选择有效的账号状态。")] = None
    after: Annotated[str | None, Field(title="翻页", max_length=USERNAME_MAX, pattern=NO_NUL),
                     Blank, Say.always("翻页参数无效，已回到第一页。")] = None


class AuditFilter(Input):
    """The audit log at /staff/audit: which action, and the page (entries older than
    `after`)."""

    action: Annotated[str | None, Field(title="操作", pattern=ACTION_PATTERN), Blank,
                      Say.always("请选择有效的操作类型。")] = None
    after: Annotated[int | None, Field(title="翻页", ge=1, lt=2**63), Blank,
                     Say(type="翻页参数无效，已回到第一页。",
                         range="翻页参数无效，已回到第一页。")] = None
