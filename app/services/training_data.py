"""Labelled examples the platform has produced, for `minsheng classifier train --from-db`."""

from __future__ import annotations

from tortoise.expressions import Subquery

from app.domain.states import ANSWERED
from app.models import Appeal, AppealEvent, LabelledExample


async def database_examples() -> list[tuple[str, str]]:
    """A person's word first: the dispatcher's category for every appeal routed by hand.
    Then appeals answered by the department they were routed to without a return: the
    department accepted the category by answering."""
    examples: list[tuple[str, str]] = []
    labelled = await LabelledExample.all().values_list("appeal_id", "category")
    corrected = dict(labelled)
    if corrected:
        texts = await Appeal.filter(id__in=list(corrected)).values_list("id", "title", "body")
        examples += [(f"{title}\n{body}", corrected[i]) for i, title, body in texts]
    returned = Subquery(AppealEvent.filter(kind="return").values("appeal_id"))
    answered = await Appeal.filter(status__in=sorted(ANSWERED), category_id__not_isnull=True)\
        .exclude(id__in=returned).exclude(id__in=list(corrected)) \
        .values_list("title", "body", "category__name")
    examples += [(f"{title}\n{body}", category) for title, body, category in answered]
    return examples
