"""What a resident sends: a submission (full form, quick channel, API), information a
department asked for, and a rating of the reply."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.domain.outcomes import RATINGS
from app.domain.types import TYPE_LABELS, AppealType
from app.schemas.base import Blank, Input, Say, invalid
from app.schemas.limits import (
    BODY_MAX,
    BODY_MIN,
    CATEGORY_MAX,
    CONTACT_NAME_MAX,
    DEPARTMENT_MAX,
    EMAIL_MAX,
    EMAIL_PATTERN,
    INFO_MAX,
    INFO_MIN,
    NO_NUL,
    PHONE_PATTERN,
    REASON_MAX,
    REASON_MIN,
    REGION_MAX,
    TITLE_MAX,
)

_labels = list(TYPE_LABELS.values())
TYPE_MESSAGE = f"请选择诉求类型（{'、'.join(_labels[:-1])}或{_labels[-1]}）。"
QUICK_TYPES = ("consultation", "help", "complaint", "suggestion")
QUICK_TYPE_MESSAGE = "快速通道只受理咨询、求助、投诉和建议；举报请走“我要留言”。"
CONTACT_MESSAGE = "请至少留下电话或电子邮箱，以便联系您。"
REGION_MESSAGE = "请选择所在地区。"
CATEGORY_MESSAGE = "所选分类不存在，请重新选择或留空由系统判断。"
NAMED_UNIT_MESSAGE = "举报须选择被举报的单位。"

AppealKind = Literal[tuple(t.value for t in AppealType)]  # type: ignore[valid-type]
QuickKind = Literal[QUICK_TYPES]  # type: ignore[valid-type]
RatingKey = Literal[tuple(RATINGS)]  # type: ignore[valid-type]


def _rules(info: ValidationInfo) -> Any:
    """The routing rules the caller handed in: regions, categories and units are data."""
    return (info.context or {})["rules"]


class Submission(Input):
    """An appeal as a resident submits it, on the web form or through the API."""

    type: Annotated[AppealKind, Field(title="诉求类型",
                                      description="诉求类型 appeal type (see catalog.types)."),
                    Say.always(TYPE_MESSAGE)]
    category: Annotated[str | None, Field(
        title="分类", max_length=CATEGORY_MAX, pattern=NO_NUL,
        description="一级分类 first-level category name from catalog.categories; "
                    "null or empty lets the classifier decide."),
        Say.always(CATEGORY_MESSAGE)] = None
    region: Annotated[str, Field(title="地区", max_length=REGION_MAX, pattern=NO_NUL,
                                 description="Region code from catalog.regions."),
                      Say.always(REGION_MESSAGE)]
    title: Annotated[str, Field(title="标题", min_length=1, max_length=TITLE_MAX, pattern=NO_NUL,
                                description="标题; must not be blank after trimming.")]
    body: Annotated[str, Field(
        title="内容", min_length=BODY_MIN, max_length=BODY_MAX, pattern=NO_NUL,
        description=f"内容; at least {BODY_MIN} characters after trimming."),
        Say(missing="请把情况写清楚，内容至少 {min_length} 个字。",
            too_short="请把情况写清楚，内容至少 {min_length} 个字。",
            too_long="内容不能超过 {max_length} 个字，请精简或分次提交。")]
    contact_name: Annotated[str | None, Field(
        title="姓名", max_length=CONTACT_NAME_MAX, pattern=NO_NUL,
        description="姓名 (optional).")] = None
    contact_phone: Annotated[str | None, Field(
        title="电话号码", pattern=PHONE_PATTERN,
        description="电话; at least one of contact_phone and contact_email is required "
                    "(empty or null: not given)."),
        Blank] = None
    contact_email: Annotated[str | None, Field(
        title="电子邮箱", max_length=EMAIL_MAX, pattern=EMAIL_PATTERN, validate_default=True,
        description="电子邮箱; at least one of contact_phone and contact_email is required "
                    "(empty or null: not given)."),
        Say(too_long="电子邮箱格式不正确。"), Blank] = None
    public: Annotated[bool, Field(
        title="是否公开", description="Whether the appeal may be published (default false).")
    ] = False
    named_unit: Annotated[str | None, Field(
        title="被举报单位", max_length=DEPARTMENT_MAX, pattern=NO_NUL, validate_default=True,
        description="举报对象: the department code (catalog.departments) a report is about; "
                    "required when type is report, ignored otherwise."),
        Say.always(NAMED_UNIT_MESSAGE)] = None

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str, info: ValidationInfo) -> str:
        if value not in _rules(info).regions:
            raise invalid(REGION_MESSAGE)
        return value

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and value not in _rules(info).categories:
            raise invalid(CATEGORY_MESSAGE)
        return value or None

    @field_validator("contact_email")
    @classmethod
    def _some_contact(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "contact_phone" in info.data and not value and not info.data["contact_phone"]:
            raise invalid(CONTACT_MESSAGE, "contact_phone")
        return value

    @field_validator("named_unit")
    @classmethod
    def _report_names_a_unit(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") != AppealType.REPORT:
            return None  # only a report names a unit; anything else sent is ignored
        if not value or value not in _rules(info).departments:
            raise invalid(NAMED_UNIT_MESSAGE)
        return value


class QuickSubmission(Submission):
    """The quick channel: the same submission, for the types it takes."""

    type: Annotated[QuickKind, Field(title="诉求类型"),
                    Say.always(QUICK_TYPE_MESSAGE)]


class InfoSupplied(Input):
    text: Annotated[str, Field(
        title="补充内容", min_length=INFO_MIN, max_length=INFO_MAX, pattern=NO_NUL,
        description=f"补充内容: at least {INFO_MIN} characters after trimming."),
        Say(missing="请填写补充内容。", too_short="请填写补充内容（至少 {min_length} 个字）。")]


class Rating(Input):
    rating: Annotated[RatingKey, Field(title="评价", description="满意 / 基本满意 / 不满意."),
                      Say.always("请选择满意、基本满意或不满意。")]
    reason: Annotated[str | None, Field(
        title="不满意的理由", max_length=REASON_MAX, pattern=NO_NUL, validate_default=True,
        description=f"Required (at least {REASON_MIN} characters) when rating is unsatisfied; "
                    "a first 不满意 reopens the appeal once for a redo, a second one "
                    "closes it.")] = None

    @field_validator("reason")
    @classmethod
    def _reason_for_unsatisfied(cls, value: str | None, info: ValidationInfo) -> str:
        if info.data.get("rating") == "unsatisfied" and len(value or "") < REASON_MIN:
            raise invalid(f"请填写不满意的理由（至少 {REASON_MIN} 个字）。")
        return value or ""
