"""What an administrator sends from the reference-data pages (/admin/departments,
/admin/hot-topics, /admin/calendar, /admin/routing). Whether a department, category or kind
exists only the rules can say (app.services.reference_edits); these check the form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from app.schemas.base import Blank, Input, Say, invalid
from app.schemas.limits import CATEGORY_MAX, NO_NUL, TITLE_MAX

REASON_MAX = 200
HOT_TOPICS_MAX = 20
KEYWORD_RULE_NAME_MAX = 50
KEYWORD_MAX = 30
KEYWORDS_MAX = 50
KIND_MAX = 30
# Keywords are typed on one line: separated by 、 ， , ; ； or spaces.
KEYWORD_SEPARATORS = re.compile(r"[、，,;；\s]+")

Reason = Annotated[str, Field(title="原因", min_length=2, max_length=REASON_MAX, pattern=NO_NUL),
                   Say(missing="请填写原因。", too_short="原因至少 {min_length} 个字。")]
Kind = Annotated[str, Field(title="承办部门类型", min_length=1, max_length=KIND_MAX,
                            pattern=NO_NUL),
                 Say.always("请选择有效的部门类型。")]
Day = Annotated[dt.date, Field(title="日期"),
                Say(missing="请填写日期。", type="请按 YYYY-MM-DD 填写有效的日期。",
                    invalid="请按 YYYY-MM-DD 填写有效的日期。")]


class DepartmentDeactivate(Input):
    reason: Reason


class HotTopicEdit(Input):
    action: Annotated[Literal["add", "remove", "up", "down"], Field(title="操作"),
                      Say.always("操作无效。")]
    topic: Annotated[str, Field(title="热门话题", min_length=1, max_length=TITLE_MAX,
                                pattern=NO_NUL),
                     Say(missing="请填写热门话题。")]


class CalendarOverride(Input):
    date: Day
    working: Annotated[Literal["holiday", "workday"], Field(title="类型"),
                       Say.always("请选择放假或调休上班。")]
    reason: Annotated[str, Field(title="原因", min_length=1, max_length=REASON_MAX,
                                 pattern=NO_NUL),
                      Say(missing="请填写原因（将显示给工作人员）。")]

    @field_validator("date")
    @classmethod
    def _a_year_we_count(cls, value: dt.date) -> dt.date:
        if not 2000 <= value.year <= 2100:
            raise invalid("日期须在 2000 年到 2100 年之间。")
        return value


class CalendarRemove(Input):
    date: Day


class KeywordRuleEdit(Input):
    """add: a new rule at the end (the first rule that matches wins); update: the rule named
    `original`; remove: the rule named `original`."""

    action: Annotated[Literal["add", "update", "remove"], Field(title="操作"),
                      Say.always("操作无效。")]
    original: Annotated[str | None, Field(title="原规则", max_length=KEYWORD_RULE_NAME_MAX,
                                          pattern=NO_NUL), Blank] = None
    name: Annotated[str | None, Field(title="规则名称", max_length=KEYWORD_RULE_NAME_MAX,
                                      pattern=NO_NUL), Blank] = None
    words: Annotated[str | None, Field(title="关键词", max_length=KEYWORDS_MAX * KEYWORD_MAX,
                                       pattern=NO_NUL), Blank] = None
    department: Annotated[str | None, Field(title="承办部门类型", max_length=KIND_MAX,
                                            pattern=NO_NUL), Blank,
                          Say.always("请选择有效的部门类型。")] = None
    category: Annotated[str | None, Field(title="分类", max_length=CATEGORY_MAX,
                                          pattern=NO_NUL), Blank,
                        Say.always("请选择有效的分类。")] = None

    def keywords(self) -> list[str]:
        return [w for w in KEYWORD_SEPARATORS.split(self.words or "") if w]

    @field_validator("words")
    @classmethod
    def _short_words(cls, value: str | None) -> str | None:
        words = [w for w in KEYWORD_SEPARATORS.split(value or "") if w]
        if len(words) > KEYWORDS_MAX:
            raise invalid(f"关键词最多 {KEYWORDS_MAX} 个。")
        if any(len(w) > KEYWORD_MAX for w in words):
            raise invalid(f"每个关键词不能超过 {KEYWORD_MAX} 个字。")
        return value


class CategoryDepartment(Input):
    category: Annotated[str, Field(title="分类", min_length=1, max_length=CATEGORY_MAX,
                                   pattern=NO_NUL),
                        Say.always("请选择有效的分类。")]
    department: Kind
