"""Labelled examples the platform has produced, for `minsheng classifier train --from-db`."""

from __future__ import annotations

from tortoise.expressions import Subquery

from app.domain.states import ANSWERED
from app.models import Appeal, AppealEvent, Category, LabelledExample


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
        .values_list("title", "body", "category_id")
    top = await _first_level()
    examples += [(f"{title}\n{body}", top[category]) for title, body, category in answered
                 if category in top]
    return examples


async def _first_level() -> dict[int, str]:
    """Each category's first-level name: the classifier predicts the first level, and a
    sub-category's own name (其他 is one under many parents) is no label of it."""
    rows = await Category.all().values_list("id", "parent_id", "level", "name")
    by_id = {i: (parent, level, name) for i, parent, level, name in rows}

    def top(i: int) -> str | None:
        for _ in range(len(by_id)):
            parent, level, name = by_id[i]
            if level == 1 or parent is None:
                return name
            i = parent
        return None
    return {i: name for i in by_id if (name := top(i)) is not None}
