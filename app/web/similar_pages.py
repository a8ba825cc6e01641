"""相似诉求 on staff pages (app.services.similar): what `_similar.html` shows of an appeal's
similar appeals to one viewer — only appeals the viewer may see (access.visible_appeals),
and never who wrote a report to the department that handles it."""

from __future__ import annotations

import dataclasses

from app.domain.rules import SimilarPolicy
from app.domain.states import OPEN
from app.models import Account, Appeal, Department
from app.services import similar
from app.web import access

SHOWN = 20
# A match a dispatcher may tick for 并单 (the service checks again, with the reason).
MERGEABLE = frozenset(s.value for s in OPEN)


async def similar_context(account: Account, appeal: Appeal, policy: SimilarPolicy) -> dict:
    """The template's `similar`: matches, department names by id, the window in days."""
    found = await similar.find(appeal, policy, limit=SHOWN,
                               among=access.visible_appeals(account))
    matches = _discreet(account, appeal, found, policy)
    ids = {m.department_id for m in matches if m.department_id is not None}
    names = dict(await Department.filter(id__in=ids).values_list("id", "name")) if ids else {}
    # 并单: which matches already follow a main (this one or another), for the merge ticks.
    merged = dict(await Appeal.filter(id__in=[m.appeal_id for m in matches],
                                      merged_into_id__isnull=False)
                  .values_list("id", "merged_into_id")) if matches else {}
    return {"similar": {"matches": matches, "departments": names,
                        "window_days": policy.window_days, "merged_into": merged,
                        "mergeable": MERGEABLE}}


def _discreet(account: Account, appeal: Appeal, matches: list[similar.Match],
              policy: SimilarPolicy) -> list[similar.Match]:
    """Where the viewer may not see a report's contact (its handling department), the
    report's writer must not be linked to another appeal either: no 同一来信人 mark, and
    no match that is listed only because the same person wrote it."""
    shown = []
    for match in matches:
        if access.sees_contact(account, appeal) and access.sees_contact(account, match):
            shown.append(match)
        elif match.similarity >= policy.min_similarity:
            shown.append(dataclasses.replace(match, same_person=False))
    return shown
