"""Forms of 还利于民 (app.services.benefits). Amounts and counts arrive as text: the service
parses them exactly (Decimal) and says what is wrong beside each field."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.schemas.base import Input
from app.schemas.limits import NO_NUL
from app.schemas.staff import Reply

AMOUNT_TEXT_MAX = 30
PEOPLE_TEXT_MAX = 12
EVIDENCE_MAX = 1000
DECISION_NOTE_MAX = 200

class Entry(Input):
    """One entry, recorded on a replied appeal (the service validates the values)."""

    kind: Annotated[str, Field(title="还利类型", max_length=16, pattern=NO_NUL)] = ""
    amount: Annotated[str, Field(title="金额", max_length=AMOUNT_TEXT_MAX, pattern=NO_NUL)] = ""
    people: Annotated[str, Field(title="受益人数", max_length=PEOPLE_TEXT_MAX,
                                 pattern=NO_NUL)] = ""
    evidence: Annotated[str, Field(title="核实依据", max_length=EVIDENCE_MAX,
                                   pattern=NO_NUL)] = ""


class ReplyWithEntry(Reply):
    """The reply form with its optional entry (all blank: none)."""

    benefit_kind: Annotated[str, Field(title="还利类型", max_length=16, pattern=NO_NUL)] = ""
    benefit_amount: Annotated[str, Field(title="金额", max_length=AMOUNT_TEXT_MAX,
                                         pattern=NO_NUL)] = ""
    benefit_people: Annotated[str, Field(title="受益人数", max_length=PEOPLE_TEXT_MAX,
                                         pattern=NO_NUL)] = ""
    benefit_evidence: Annotated[str, Field(title="核实依据", max_length=EVIDENCE_MAX,
                                           pattern=NO_NUL)] = ""

    def entry(self) -> Entry | None:
        if not any((self.benefit_kind, self.benefit_amount, self.benefit_people,
                    self.benefit_evidence)):
            return None
        return Entry(kind=self.benefit_kind, amount=self.benefit_amount,
                     people=self.benefit_people, evidence=self.benefit_evidence)


class Decision(Input):
    """An inspector's decision on one entry: 核实 (verify) or 驳回 (reject, with a reason)."""

    entry: Annotated[str, Field(title="条目", max_length=20, pattern=NO_NUL)] = ""
    decision: Annotated[str, Field(title="决定", max_length=10, pattern=NO_NUL)] = ""
    note: Annotated[str, Field(title="说明", max_length=DECISION_NOTE_MAX, pattern=NO_NUL)] = ""
