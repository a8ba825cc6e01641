"""What an Open311 client application posts: the submission of the JSON API, for the types
Open311 takes (a report, 举报, names a unit and protects its sender: it goes through the web
form 我要留言 only)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.domain.types import TYPE_LABELS, AppealType
from app.schemas.appeals import Submission
from app.schemas.base import Say

OPEN311_TYPES = tuple(t.value for t in AppealType if t != AppealType.REPORT)
OPEN311_TYPE_MESSAGE = ("请选择诉求类型（" + "、".join(TYPE_LABELS[AppealType(t)]
                                               for t in OPEN311_TYPES)
                        + "）；举报请通过网站“我要留言”提交。")
Open311Kind = Literal[OPEN311_TYPES]  # type: ignore[valid-type]


class Open311Submission(Submission):
    type: Annotated[Open311Kind, Field(title="诉求类型"), Say.always(OPEN311_TYPE_MESSAGE)]
