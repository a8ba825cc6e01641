"""Published replies (/public): what an approver published, searchable, newest first.

Reads the `publication` table only, and only rows whose status is "published": the redacted
title, question and reply (app.services.publication writes them). The appeal's own text never
reaches a public page. Words are found as staff search finds them (app.services.search, over
the publication's bigrams); department, region (with everything under it), category (with
everything under it) and the month received are the lists' filters (app.services.lists).
Pages go by key: `?after=<id>` starts after the last row shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tortoise.queryset import QuerySet

from app.domain.clock import to_local
from app.models import Category, Department, Region
from app.models.public import Publication
from app.services import lists, search
from app.services.detectors import cursor_of

PUBLISHED = "published"
PAGE_SIZE = 20
FILTERS = ("department", "region", "category")
TEXT = ("title", "question", "reply")
COLUMNS = ("id", "title", "question", "reply", "type", "department_id", "region_id",
           "category_id", "submitted_at", "replied_at", "published_at")
TOO_SHORT = "请输入至少两个字的词语（以空格分隔多个词）。"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def published():
    """Every published row: the one base of every public list, feed and file. A report
    (举报) is never published (app.services.publication); this does not rely on it."""
    return Publication.filter(status=PUBLISHED).exclude(type="report")


@dataclass
class Item:
    id: int
    title: str
    question: str
    reply: str
    type: str
    department: str
    region: str
    category: str
    submitted_on: date
    replied_on: date | None
    published_on: date


@dataclass
class Found:
    items: list[Item]
    params: dict[str, str]  # what was asked and used, for links that keep it
    next_after: int | None
    is_first: bool
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def links(self) -> dict[str, str | None]:
        return {"next": "?" + urlencode({**self.params, "after": self.next_after})
                if self.next_after else None,
                "first": "?" + urlencode(self.params) if not self.is_first else None}


def month_of(text: str) -> tuple[date, date] | None:
    """The first and last day of a month written YYYY-MM (2000 to 2099), else None."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 2000 <= int(found[1]) <= 2099 or not 1 <= int(found[2]) <= 12:
        return None
    first = date(int(found[1]), int(found[2]), 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


async def listing(params: Mapping[str, Any], now: datetime, size: int = PAGE_SIZE) -> Found:
    """The page the query string asks for. Nothing typed makes it fail: what cannot be used
    is ignored, with a message beside its field."""
    query, used, errors = await asked(params, now)
    after, bad_cursor = cursor_of(params)
    errors.update(bad_cursor)
    if after is not None:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(size + 1).values(*COLUMNS)
    more = len(rows) > size
    rows = rows[:size]
    return Found(await items_of(rows), used, rows[-1]["id"] if more else None,
                 is_first=after is None, errors=errors)


async def asked(params: Mapping[str, Any], now: datetime
                ) -> tuple[QuerySet[Publication], dict[str, str], dict[str, str]]:
    """The published rows the words and filters of `params` ask for, the parameters used
    (for links), and a message per parameter that could not be used."""
    filters, errors = lists.parse_filters(params, FILTERS)
    text, text_errors = search.parse_q(params)
    errors.update(text_errors)
    query, used = published(), {"q": text, **filters.params()}
    if text:
        words, message = search.words_of(text)
        if message:
            errors["q"] = TOO_SHORT if message == search.TOO_SHORT else message
            used.pop("q")
        else:
            query = search.by_words(query, words, TEXT)
    month = str(params.get("month") or "").strip()
    if month:
        days = month_of(month)
        if days is None:
            errors["month"] = "月份应为 YYYY-MM 格式，如 2026-05。"
        else:
            used["month"] = month
            filters = filters.model_copy(update={"submitted_from": days[0],
                                                 "submitted_to": days[1]})
    query, unknown = await lists.narrowed(query, filters, now)
    for name in unknown:
        used.pop(name, None)
    errors.update(unknown)
    return query, {k: v for k, v in used.items() if v}, errors


async def _names(model, ids: set) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(await model.filter(id__in=sorted(ids)).values_list("id", "name"))


async def items_of(rows: list[dict]) -> list[Item]:
    departments = await _names(Department, {r["department_id"] for r in rows})
    regions = await _names(Region, {r["region_id"] for r in rows})
    categories = await _names(Category, {r["category_id"] for r in rows})
    return [Item(r["id"], r["title"], r["question"], r["reply"], r["type"],
                 departments.get(r["department_id"], ""), regions.get(r["region_id"], ""),
                 categories.get(r["category_id"], ""), local_day(r["submitted_at"]),
                 local_day(r["replied_at"]) if r["replied_at"] else None,
                 local_day(r["published_at"])) for r in rows]


def local_day(at: datetime) -> date:
    return to_local(at).date()
