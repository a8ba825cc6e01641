from app.models.accounts import Account, LoginThrottle, OneTimeToken, WebSession
from app.models.appeals import (
    Appeal,
    AppealEvent,
    AppealReply,
    LabelledExample,
    SweepMark,
    TrackingCounter,
)
from app.models.attachments import Attachment
from app.models.audit import AuditEntry
from app.models.geography import Category, Department, Region
from app.models.knowledge import KnowledgeEntry, ReplyTemplate
from app.models.outbox import OutboxAttempt, OutboxMessage
from app.models.reference import RulesVersion
from app.models.reveals import Reveal
from app.models.supervision import SupervisionOrder

__all__ = [
    "Account",
    "Appeal",
    "AppealEvent",
    "AppealReply",
    "Attachment",
    "AuditEntry",
    "Category",
    "Department",
    "KnowledgeEntry",
    "LabelledExample",
    "LoginThrottle",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "Region",
    "ReplyTemplate",
    "Reveal",
    "RulesVersion",
    "SupervisionOrder",
    "SweepMark",
    "TrackingCounter",
    "WebSession",
]
