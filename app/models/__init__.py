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
from app.models.model_versions import ModelEvent, ModelVersion
from app.models.outbox import OutboxAttempt, OutboxMessage
from app.models.public import ApiClient, Benefit, IdempotencyRecord, Publication
from app.models.reference import RulesVersion
from app.models.reveals import Reveal
from app.models.similarity import (
    AppealBand,
    AppealSketch,
    Hotspot,
    HotspotMember,
    SimilarPending,
)
from app.models.supervision import SupervisionOrder

__all__ = [
    "Account",
    "ApiClient",
    "Appeal",
    "AppealEvent",
    "AppealBand",
    "AppealReply",
    "AppealSketch",
    "Attachment",
    "Benefit",
    "AuditEntry",
    "Category",
    "Department",
    "Hotspot",
    "HotspotMember",
    "IdempotencyRecord",
    "KnowledgeEntry",
    "LabelledExample",
    "LoginThrottle",
    "ModelEvent",
    "ModelVersion",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "Publication",
    "Region",
    "ReplyTemplate",
    "Reveal",
    "RulesVersion",
    "SimilarPending",
    "SupervisionOrder",
    "SweepMark",
    "TrackingCounter",
    "WebSession",
]
