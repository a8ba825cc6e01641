from app.models.accounts import Account, LoginThrottle, OneTimeToken, WebSession
from app.models.appeals import (
    Appeal,
    AppealEvent,
    AppealReply,
    LabelledExample,
    SweepMark,
    TrackingCounter,
)
from app.models.geography import Category, Department, Region
from app.models.outbox import OutboxAttempt, OutboxMessage

__all__ = [
    "Account",
    "Appeal",
    "AppealEvent",
    "AppealReply",
    "Category",
    "Department",
    "LabelledExample",
    "LoginThrottle",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "Region",
    "SweepMark",
    "TrackingCounter",
    "WebSession",
]
