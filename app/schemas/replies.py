"""Reply templates, the knowledge base and the head's review (审核): what staff send."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from app.schemas.base import Blank, Input, Say
from app.schemas.limits import CATEGORY_MAX, DEPARTMENT_MAX, NO_NUL, NOTE_MAX, REPLY_MAX

TEMPLATE_TITLE_MAX = 80
ENTRY_TITLE_MAX = 120
ENTRY_TEXT_MAX = 10000
SEARCH_MAX = 50
ID_MAX = 2_000_000_000

_BAD_ID = Say(*(["编号无效。"] * 8))
_BAD_DAY = Say(*(["请按 YYYY-MM-DD 填写有效的日期。"] * 8))
Id = Annotated[int | None, Field(title="编号", ge=1, le=ID_MAX), Blank, _BAD_ID]


class TemplateEdit(Input):
    """No id: a new template; an id: that template changed."""

    id: Id = None
    title: Annotated[str, Field(title="模板名称", min_length=1, max_length=TEMPLATE_TITLE_MAX,
                                pattern=NO_NUL), Say(missing="请填写模板名称。")]
    text: Annotated[str, Field(title="模板内容", min_length=1, max_length=REPLY_MAX,
                               pattern=NO_NUL), Say(missing="请填写模板内容。")]


class Remove(Input):
    id: Annotated[int, Field(title="编号", ge=1, le=ID_MAX), _BAD_ID]


class KnowledgeEdit(Input):
    id: Id = None
    title: Annotated[str, Field(title="标题", min_length=1, max_length=ENTRY_TITLE_MAX,
                                pattern=NO_NUL), Say(missing="请填写标题。")]
    text: Annotated[str, Field(title="内容", min_length=1, max_length=ENTRY_TEXT_MAX,
                               pattern=NO_NUL), Say(missing="请填写内容。")]
    category: Annotated[str | None, Field(title="分类", max_length=CATEGORY_MAX,
                                          pattern=NO_NUL), Blank,
                        Say.always("请选择有效的分类。")] = None
    department: Annotated[str | None, Field(title="部门", max_length=DEPARTMENT_MAX,
                                            pattern=NO_NUL), Blank,
                          Say.always("请选择有效的部门。")] = None
    valid_until: Annotated[dt.date | None, Field(title="有效期至"), Blank,
                           _BAD_DAY] = None


class KnowledgeSearch(Input):
    q: Annotated[str, Field(title="关键词", max_length=SEARCH_MAX, pattern=NO_NUL),
                 Say.always(f"关键词不能超过 {SEARCH_MAX} 个字。")] = ""
    category: Annotated[str | None, Field(title="分类", max_length=CATEGORY_MAX,
                                          pattern=NO_NUL), Blank,
                        Say.always("请选择有效的分类。")] = None


class Revise(Input):
    note: Annotated[str, Field(title="修改意见", min_length=2, max_length=NOTE_MAX,
                               pattern=NO_NUL),
                    Say(missing="退回修改须写明修改意见。",
                        too_short="退回修改须写明修改意见（至少 {min_length} 个字）。")]


class DepartmentReview(Input):
    """/admin/departments: the department's replies reviewed by its head (on) or not (off)."""

    review: Annotated[Literal["on", "off"], Field(title="答复审核"),
                      Say.always("请选择是否开启答复审核。")]
