"""Appeal types and roles."""

from enum import StrEnum


class AppealType(StrEnum):
    CONSULTATION = "consultation"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    EVALUATION = "evaluation"


TYPE_LABELS = {
    AppealType.CONSULTATION: "咨询",
    AppealType.HELP: "求助",
    AppealType.COMPLAINT: "投诉",
    AppealType.REPORT: "举报",
    AppealType.SUGGESTION: "建议",
    AppealType.EVALUATION: "评议",
}


class Channel(StrEnum):
    """The door an appeal came in by (stored on the appeal; "" before it was recorded)."""

    WEB = "web"
    QUICK = "quick"
    API = "api"
    PHONE = "phone"


CHANNEL_LABELS = {
    Channel.WEB: "网上表单",
    Channel.QUICK: "快速通道",
    Channel.API: "接口",
    Channel.PHONE: "电话",
}


class Role(StrEnum):
    RESIDENT = "resident"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    HEAD = "head"
    INSPECTOR = "inspector"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.RESIDENT: "群众",
    Role.DISPATCHER: "受理/分派员",
    Role.HANDLER: "部门办理人",
    Role.HEAD: "部门负责人",
    Role.INSPECTOR: "纪检/效能监察",
    Role.ADMIN: "管理员",
}

STAFF_ROLES = frozenset({Role.DISPATCHER, Role.HANDLER, Role.HEAD, Role.INSPECTOR,
                         Role.ADMIN})
# The roles that belong to a department and work its queue (a head is also a handler).
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.HEAD})
