"""Staff search (/staff/search) and a department's history of answered appeals.

What a query `q` is decides how it is looked up, each through an index:
- a tracking number: the unique index on it;
- a phone number (digits, +86, spaces, dashes): equality on `phone_key`, a hash of the
  normalised digits. Only the whole number finds anything; no part of one, never LIKE;
- otherwise words (separated by spaces), each a phrase that must occur in the title or the
  body. On PostgreSQL a phrase's character bigrams, ANDed, select candidates through the
  GIN index of migration 0014; the phrase itself is then confirmed on the text (ILIKE), so
  the bigrams need not be adjacent in the index. SQLite has only the confirming LIKE.
Either engine returns the same rows. Region and category include their subtrees; type,
status and the date range are the lists' filters (app.services.lists). Who sees what is
app.web.access.visible_appeals: the caller passes its base query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from tortoise import connections
from tortoise.expressions import Q, RawSQL
from tortoise.queryset import QuerySet

from app.domain import search_text
from app.domain.states import ANSWERED
from app.models import Appeal
from app.schemas.base import Blank, Input, InputError, form_values, parse
from app.schemas.limits import NO_NUL, TRACKING_NUMBER_MAX
from app.services import lists

Q_MAX = 100
FILTERS = ("status", "type", "category", "region", "submitted_from", "submitted_to")
TOO_SHORT = "请输入至少两个字的词语，或完整的受理编号、电话号码。"
TOO_MANY_WORDS = "搜索词最多 8 个（以空格分隔）。"
MAX_WORDS = 8
_TRACKING = r"[A-Za-z]{2,3}[0-9]{8}-[0-9]{6}"


class SearchText(Input):
    q: Annotated[Annotated[str, Field(max_length=Q_MAX, pattern=NO_NUL)] | None, Blank,
                 Field(title="搜索内容")] = None


def is_tracking_number(query: str) -> bool:
    return len(query) <= TRACKING_NUMBER_MAX and re.fullmatch(_TRACKING, query) is not None


def _postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def _tsquery(grams: set[str]) -> str:
    # Bigrams hold only digits, a-z and CJK ideographs (search_text._RUN): nothing in them
    # can end the literal or be a tsquery operator.
    return " & ".join(sorted(grams))


APPEAL_TEXT = ("title", "body")


def _confirmed(word: str, columns: tuple[str, ...]) -> Q:
    """One of `columns` holds `word` itself. Without letters that have a case (Chinese), a
    plain LIKE: upper() over every candidate's body would cost more than the rest."""
    lookup = "contains" if word.upper() == word.lower() else "icontains"
    found = [Q(**{f"{column}__{lookup}": word}) for column in columns]
    return Q(*found, join_type=Q.OR)


def _exact_gram(word: str) -> bool:
    """A two-character word without digits is its one bigram: the index alone answers it
    (and the planner, not misled by a LIKE it cannot estimate, may walk the newest first)."""
    return len(word) == 2 and search_text.word_grams(word) == {word} \
        and not any(c.isdigit() for c in word)


def by_words(query: QuerySet, words: list[str], columns: tuple[str, ...] = APPEAL_TEXT
             ) -> QuerySet:
    """Rows whose `columns` (an appeal's title or body) hold every one of `words`, each as a
    phrase; the rows' `search_grams` are those columns' bigrams (search_text.grams)."""
    postgres = _postgres()
    if postgres:
        every = set().union(*(search_text.word_grams(w) for w in words))
        query = query.annotate(search_hit=RawSQL(
            f"\"search_grams\" @@ '{_tsquery(every)}'::tsquery")).filter(search_hit=True)
    for word in words:
        if not (postgres and _exact_gram(word)):
            query = query.filter(_confirmed(word, columns))
    return query


def words_of(text: str) -> tuple[list[str], str | None]:
    """The words a query searches for, or a message why it cannot be searched."""
    words = search_text.words(text)
    if len(words) > MAX_WORDS:
        return [], TOO_MANY_WORDS
    if any(not search_text.word_grams(w) for w in words):
        return [], TOO_SHORT
    return words, None


def by_query(query: QuerySet[Appeal], text: str) -> tuple[QuerySet[Appeal], str | None]:
    """`query` narrowed by what `text` is (number, phone or words); or a message why not."""
    text = text.strip()
    if is_tracking_number(text):
        return query.filter(tracking_number=text.upper()), None
    if search_text.looks_like_phone(text):
        return query.filter(phone_key=search_text.phone_key(text)), None
    words, message = words_of(text)
    if message:
        return query, message
    return by_words(query, words), None


@dataclass
class Found:
    """A search: the text asked for, the listing (None until something was asked)."""

    q: str
    listing: lists.Listing | None
    errors: dict[str, str]

    @property
    def links(self) -> dict[str, str | None]:
        if self.listing is None:
            return {}
        params = {**({"q": self.q} if self.q else {}), **self.listing.filters.params()}
        return self.listing.page.links(params)


def parse_q(params: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    try:
        return parse(SearchText, form_values(SearchText, {"q": params.get("q", "")})).q or "", {}
    except InputError as exc:
        return "", exc.errors


async def search(params: Mapping[str, Any], base: QuerySet[Appeal], *, now: datetime
                 ) -> Found:
    """The page of results the query string asks for, within `base` (what the person may
    see), newest first. Bad input is said per field and leaves the rest usable."""
    text, errors = parse_q(params)
    filters, filter_errors = lists.parse_filters(params, FILTERS)
    errors.update(filter_errors)
    query = base
    if text:
        query, message = by_query(query, text)
        if message:
            errors["q"], text = message, ""
    if not text and filters == lists.ListFilters():
        return Found(text, None, errors)  # nothing asked: the form alone, no scan
    query, unknown = await lists.narrowed(query, filters, now)
    found, bad_cursor = await lists.page_or_first(query, lists.NEWEST_FIRST,
                                                  params.get("after"),
                                                  related=("department",))
    errors.update(unknown)
    if bad_cursor:
        errors["after"] = bad_cursor
    return Found(text, lists.Listing(found, filters, {}), errors)


HISTORY_FILTERS = ("status", "type", "submitted_from", "submitted_to")


def history(department_base: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """A department's answered and closed appeals (its base: what it may see)."""
    return department_base.filter(status__in=sorted(ANSWERED))


async def history_listing(params: Mapping[str, Any], department_base: QuerySet[Appeal], *,
                          now: datetime) -> lists.Listing:
    """The history's page, newest first; a status filter only among the answered ones."""
    found = await lists.listing(params, history(department_base), lists.NEWEST_FIRST,
                                now=now, allowed=HISTORY_FILTERS)
    if found.filters.status and found.filters.status not in ANSWERED:
        found.errors["status"] = "历史记录只含已答复和已办结的诉求。"
    return found
