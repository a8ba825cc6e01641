"""What staff send from an appeal's page: reply, return, route, ask for information, and
extension requests and decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.domain.outcomes import EXPLAINED_REASON, REJECT_REASONS
from app.schemas.base import Blank, Input, Say, invalid
from app.schemas.limits import (
    CATEGORY_MAX,
    DEPARTMENT_MAX,
    EXTENSION_DAYS_MAX,
    EXTENSION_DAYS_MIN,
    INFO_MAX,
    INFO_MIN,
    MERGE_MEMBERS_MAX,
    NO_NUL,
    NOTE_MAX,
    REASON_MAX,
    REASON_MIN,
    REMINDER_NOTE_MAX,
    REPLY_MAX,
    REPLY_MIN,
    RETURN_REASON_MAX,
    ROUTE_NOTE_MAX,
    SUPERVISION_ANSWER_MAX,
    SUPERVISION_ANSWER_MIN,
    SUPERVISION_DAYS_MAX,
    SUPERVISION_DAYS_MIN,
    SUPERVISION_REASON_MAX,
    SUPERVISION_REASON_MIN,
)

_REPLY_SHORT = "{label}至少 {min_length} 个字。"
RejectReason = Literal[tuple(REJECT_REASONS)]  # type: ignore[valid-type]


class Reply(Input):
    reply: Annotated[str, Field(title="答复内容", min_length=REPLY_MIN, max_length=REPLY_MAX,
                                pattern=NO_NUL),
                     Say(missing=_REPLY_SHORT, too_short=_REPLY_SHORT)]


class Return(Input):
    reason: Annotated[str, Field(title="退回理由", min_length=1, max_length=RETURN_REASON_MAX,
                                 pattern=NO_NUL),
                      Say(missing="退回须说明理由。")]


class Route(Input):
    department: Annotated[str, Field(title="承办部门", min_length=1, max_length=DEPARTMENT_MAX,
                                     pattern=NO_NUL),
                          Say.always("请选择有效的承办部门。")]
    category: Annotated[str | None, Field(title="分类", max_length=CATEGORY_MAX, pattern=NO_NUL),
                        Blank, Say.always("请选择有效的分类。")] = None
    note: Annotated[str, Field(title="分派说明", max_length=ROUTE_NOTE_MAX, pattern=NO_NUL)] = ""


class AskInfo(Input):
    question: Annotated[str, Field(title="需要群众补充的内容", min_length=INFO_MIN,
                                   max_length=INFO_MAX, pattern=NO_NUL),
                        Say(missing="请填写需要群众补充的内容。")]


class ExtensionRequest(Input):
    days: Annotated[int, Field(title="延期天数", ge=EXTENSION_DAYS_MIN, le=EXTENSION_DAYS_MAX),
                    Say(missing="请填写延期的工作日天数。", type="请填写延期的工作日天数。",
                        range="延期天数须在 {ge} 到 {le} 个工作日之间。")]
    reason: Annotated[str, Field(title="延期理由", min_length=REASON_MIN, max_length=REASON_MAX,
                                 pattern=NO_NUL),
                      Say(missing="请填写延期理由。")]


class ExtensionDecision(Input):
    decision: Annotated[Literal["grant", "refuse"], Field(title="审批意见"),
                        Say.always("请选择批准或不批准。")]
    note: Annotated[str, Field(title="审批说明", max_length=NOTE_MAX, pattern=NO_NUL)] = ""


class Reject(Input):
    """不予受理: one of the reasons of app.domain.outcomes, explained when it is "other"."""

    reason: Annotated[RejectReason, Field(title="不予受理的理由"),
                      Say.always("请选择不予受理的理由。")]
    explanation: Annotated[str, Field(title="说明", max_length=REASON_MAX, pattern=NO_NUL,
                                      validate_default=True)] = ""

    @field_validator("explanation")
    @classmethod
    def _explained_when_other(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("reason") == EXPLAINED_REASON and len(value) < REASON_MIN:
            raise invalid(f"选择“其他”时，请说明不予受理的理由（至少 {REASON_MIN} 个字）。")
        return value


class Supervise(Input):
    """督办, issued or re-issued: why, and how many working days the department has."""

    reason: Annotated[str, Field(title="督办事由", min_length=SUPERVISION_REASON_MIN,
                                 max_length=SUPERVISION_REASON_MAX, pattern=NO_NUL),
                      Say(missing="请填写督办事由。")]
    days: Annotated[int, Field(title="反馈期限", ge=SUPERVISION_DAYS_MIN,
                               le=SUPERVISION_DAYS_MAX),
                    Say(missing="请填写反馈期限（工作日）。", type="请填写反馈期限（工作日）。",
                        range="反馈期限须在 {ge} 到 {le} 个工作日之间。")]


class SupervisionAnswer(Input):
    answer: Annotated[str, Field(title="督办反馈", min_length=SUPERVISION_ANSWER_MIN,
                                 max_length=SUPERVISION_ANSWER_MAX, pattern=NO_NUL),
                      Say(missing=_REPLY_SHORT, too_short=_REPLY_SHORT)]


class SupervisionClose(Input):
    note: Annotated[str, Field(title="结束说明", max_length=NOTE_MAX, pattern=NO_NUL)] = ""


class Reminder(Input):
    note: Annotated[str, Field(title="催办说明", max_length=REMINDER_NOTE_MAX,
                               pattern=NO_NUL)] = ""


class SupervisionFilter(Input):
    """The list at /staff/supervision: which orders, by their state."""

    status: Annotated[Literal["issued", "answered", "closed", "open"] | None,
                      Field(title="督办状态"), Blank, Say.always("请选择有效的督办状态。")] = None
    after: Annotated[int | None, Field(title="页码", ge=1), Blank,
                     Say(type="页码无效，请回到第一页。", range="页码无效，请回到第一页。")] = None


class Merge(Input):
    """并单: the tracking numbers of the appeals merged into this one (the page's ticks, or
    typed, separated by spaces, commas or new lines)."""

    members: Annotated[str, Field(title="并入的诉求", min_length=1, max_length=MERGE_MEMBERS_MAX,
                                  pattern=NO_NUL),
                       Say(missing="请勾选或填写要并入本件的诉求受理编号。")]


class Unmerge(Input):
    reason: Annotated[str, Field(title="撤销理由", min_length=1, max_length=RETURN_REASON_MAX,
                                 pattern=NO_NUL),
                      Say(missing="撤销并单须说明理由。")]
