"""What a dispatcher records after a 回访 call: reached or not; if reached, whether the
problem was solved and how satisfied the resident is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.domain.outcomes import RATINGS
from app.schemas.base import Blank, Input, Say, invalid
from app.schemas.limits import NO_NUL, NOTE_MAX

SOLVED = {"solved": "已解决", "partly": "部分解决", "unsolved": "未解决"}
REACHED = {"yes": "已接通", "no": "未接通"}
SolvedKey = Literal[tuple(SOLVED)]  # type: ignore[valid-type]
RatingKey = Literal[tuple(RATINGS)]  # type: ignore[valid-type]


class Followup(Input):
    reached: Annotated[Literal["yes", "no"], Field(title="是否接通"),
                       Say.always("请选择电话是否接通。")]
    solved: Annotated[SolvedKey | None, Field(title="问题是否解决", validate_default=True),
                      Blank, Say.always("请选择问题是否解决（已解决、部分解决或未解决）。")] = None
    satisfaction: Annotated[RatingKey | None, Field(title="满意度", validate_default=True),
                            Blank, Say.always("请选择群众的满意度。")] = None
    note: Annotated[str, Field(title="回访记录", max_length=NOTE_MAX, pattern=NO_NUL)] = ""

    @field_validator("solved")
    @classmethod
    def _solved_when_reached(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("reached") == "yes" and value is None:
            raise invalid("请选择问题是否解决（已解决、部分解决或未解决）。")
        return value if info.data.get("reached") == "yes" else None

    @field_validator("satisfaction")
    @classmethod
    def _rated_when_reached(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("reached") == "yes" and value is None:
            raise invalid("请选择群众的满意度。")
        return value if info.data.get("reached") == "yes" else None
