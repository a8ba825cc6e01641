from app.models.accounts import Account, LoginThrottle, OneTimeToken, WebSession
from app.models.appeals import (
    Appeal,
    AppealEvent,
    AppealReply,
    LabelledExample,
    SweepMark,
    TrackingCounter,
)
from app.models.audit import AuditEntry
from app.models.geography import Category, Department, Region
from app.models.outbox import OutboxAttempt, OutboxMessage
from app.models.reference import RulesVersion
from app.models.supervision import SupervisionOrder

__all__ = [
    "Account",
    "Appeal",
    "AppealEvent",
    "AppealReply",
    "AuditEntry",
    "Category",
    "Department",
    "LabelledExample",
    "LoginThrottle",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "Region",
    "RulesVersion",
    "SupervisionOrder",
    "SweepMark",
    "TrackingCounter",
    "WebSession",
]
