"""Lists of appeals: filters parsed from the query string, and paging by key (seek).

Every list orders by a key plus the id and pages with `?after=<cursor>`, a cursor that
encodes the last row's key: the next page starts right after it through the index, so page
200 costs what page 1 costs and a row that arrives meanwhile shifts nothing. Each filter is
served by an index of `Appeal.Meta.indexes` (filter column, sort key, id).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import BeforeValidator, ConfigDict, Field
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from app.domain.clock import start_of_day
from app.domain.states import COUNTS_AS_OVERDUE, WITH_DEPARTMENT, Status
from app.domain.supervision import OPEN_ORDER
from app.domain.types import AppealType
from app.models import Appeal, Category, Department, Region, SupervisionOrder
from app.schemas.base import Input, InputError, Say, form_values, invalid, parse
from app.schemas.limits import CATEGORY_CODE_MAX, DEPARTMENT_MAX, NO_NUL, REGION_MAX

PAGE_SIZE = 50
# What a list row shows (and its cursor needs): not the body, the contacts or the routing.
COLUMNS = ("id", "tracking_number", "title", "type", "status", "department_id",
           "named_unit_id", "resident_id", "submitted_at", "reply_due_at",
           "deadline_provisional", "merged_into_id", "similar_to_id", "similar_score",
           "similar_same_person")


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Blank = BeforeValidator(_blank_is_none)


def _code(limit: int) -> Any:
    return Annotated[str, Field(max_length=limit, pattern=NO_NUL)] | None


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _day(label: str) -> BeforeValidator:
    def read(value: Any) -> Any:
        value = _blank_is_none(value)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise invalid(f"{label}应为 YYYY-MM-DD 格式的日期。") from None
            if not FIRST_DAY <= value <= LAST_DAY:
                raise invalid(f"{label}须在 {FIRST_DAY} 到 {LAST_DAY} 之间。")
        return value

    return BeforeValidator(read)


class ListFilters(Input):
    """What a list may be narrowed by; every field is optional, blank means "all"."""

    model_config = ConfigDict(frozen=True)

    status: Annotated[Status | None, Blank, Field(title="状态"),
                      Say.always("没有这个状态。")] = None
    type: Annotated[AppealType | None, Blank, Field(title="类型"),
                    Say.always("没有这个诉求类型。")] = None
    department: Annotated[_code(DEPARTMENT_MAX), Blank, Field(title="承办部门")] = None
    category: Annotated[_code(CATEGORY_CODE_MAX), Blank, Field(title="领域")] = None
    region: Annotated[_code(REGION_MAX), Blank, Field(title="地区")] = None
    overdue: Annotated[bool, Field(title="只看超期")] = False
    supervised: Annotated[bool, Field(title="只看督办件")] = False
    similar: Annotated[bool, Field(title="只看疑似重复")] = False
    submitted_from: Annotated[date | None, _day("提交日期起"), Field(title="提交日期起")] = None
    submitted_to: Annotated[date | None, _day("提交日期止"), Field(title="提交日期止")] = None

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for links that keep them."""
        found = self.model_dump(exclude_defaults=True)
        return {k: "1" if v is True else str(v) for k, v in found.items()}


def parse_filters(params: Mapping[str, Any], allowed: Iterable[str] | None = None
                  ) -> tuple[ListFilters, dict[str, str]]:
    """The filters a query string asks for (only the `allowed` ones), and a Chinese message
    per field it got wrong. A bad field is dropped, not refused: the list still shows."""
    data = form_values(ListFilters, params)
    if allowed is not None:
        data = {k: v for k, v in data.items() if k in set(allowed)}
    errors: dict[str, str] = {}
    while True:
        try:
            filters = parse(ListFilters, data)
            break
        except InputError as exc:
            bad = set(exc.errors) & set(data)
            errors.update({k: exc.errors[k] for k in bad})
            data = {k: v for k, v in data.items() if k not in bad} if bad else {}
    if filters.submitted_from and filters.submitted_to \
            and filters.submitted_from > filters.submitted_to:
        errors["submitted_to"] = "提交日期止不能早于提交日期起。"
        filters = filters.model_copy(update={"submitted_to": None})
    return filters, errors


@dataclass(frozen=True)
class Order:
    """A list's sort key: a column and the id to break ties, both ascending or descending."""

    name: str
    field: str
    descending: bool

    def fields(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.field}", f"{sign}id"


NEWEST_FIRST = Order("new", "submitted_at", descending=True)
MOST_URGENT_FIRST = Order("due", "reply_due_at", descending=False)


class BadCursor(ValueError):
    message = "翻页参数无效，已回到第一页。"


def encode_cursor(order: Order, appeal: Appeal) -> str | None:
    key = getattr(appeal, order.field)
    if key is None:  # intake always sets both keys; without one there is no place to resume
        return None
    raw = json.dumps([order.name, key.isoformat(), appeal.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, key, ident = json.loads(raw)
        at = datetime.fromisoformat(key)
        if at.tzinfo is None:
            raise ValueError(key)
        at = at.astimezone(UTC)
    except (binascii.Error, ValueError, TypeError, OverflowError):
        raise BadCursor(cursor) from None
    if name != order.name or type(ident) is not int or not 0 < ident < 2**63:
        raise BadCursor(cursor)
    return at, ident


def after(query: QuerySet[Appeal], order: Order, key: datetime, ident: int) -> QuerySet[Appeal]:
    """Rows strictly after (key, id) in `order`.

    Written as `key <= k AND (key < k OR id < i)` rather than a row comparison (which the
    ORM cannot say): the first half is the index range that makes the seek, the second
    only trims the rows that share the key.
    """
    f = order.field
    if order.descending:
        return query.filter(Q(**{f"{f}__lte": key}),
                            Q(**{f"{f}__lt": key}) | Q(id__lt=ident))
    return query.filter(Q(**{f"{f}__gte": key}), Q(**{f"{f}__gt": key}) | Q(id__gt=ident))


@dataclass
class Page:
    appeals: list[Appeal]
    next_after: str | None
    is_first: bool
    total: int | None = None

    def links(self, params: dict[str, str]) -> dict[str, str | None]:
        """The next page's and the first page's query strings, keeping the filters."""
        return {
            "next": "?" + urlencode({**params, "after": self.next_after})
            if self.next_after else None,
            "first": "?" + urlencode(params) if not self.is_first else None,
        }


async def page(query: QuerySet[Appeal], order: Order, cursor: str | None, *,
               size: int = PAGE_SIZE, count: bool = False, related: tuple[str, ...] = ()
               ) -> Page:
    """One page of `query` in `order`, starting after `cursor` (None: the first page).

    Raises BadCursor for a cursor this list did not make.
    """
    total = await query.count() if count else None
    if cursor:
        query = after(query, order, *decode_cursor(order, cursor))
    rows = await query.order_by(*order.fields()).limit(size + 1).only(*COLUMNS)
    if related:
        await Appeal.fetch_for_list(rows[:size], *related)
    more = len(rows) > size
    rows = rows[:size]
    next_after = encode_cursor(order, rows[-1]) if more else None
    return Page(rows, next_after, is_first=not cursor, total=total)


async def page_or_first(query: QuerySet[Appeal], order: Order, cursor: str | None,
                        **options: Any) -> tuple[Page, str | None]:
    """`page`, falling back to the first page (with a message) on a cursor it cannot read."""
    try:
        return await page(query, order, cursor, **options), None
    except BadCursor as exc:
        return await page(query, order, None, **options), exc.message


# The lists themselves.

def department_queue(department_id: int | None) -> QuerySet[Appeal]:
    """A department's open appeals; never a report that names the department itself. A
    merged member is handled through its main (并单) and is not listed."""
    if department_id is None:  # a handler without a department has no queue
        return Appeal.filter(id__in=[])
    return Appeal.filter(Q(named_unit_id__isnull=True) | ~Q(named_unit_id=department_id),
                         department_id=department_id, status__in=list(WITH_DEPARTMENT),
                         merged_into_id__isnull=True)


def triage() -> QuerySet[Appeal]:
    """Waiting for the desk; a merged member waits with its main and is not listed."""
    return Appeal.filter(status=Status.TRIAGE, merged_into_id__isnull=True)


def own(resident_id: int) -> QuerySet[Appeal]:
    return Appeal.filter(resident_id=resident_id)


def overdue(query: QuerySet[Appeal], now: datetime) -> QuerySet[Appeal]:
    """The one meaning of overdue (app.domain.states): open, not awaiting the resident,
    past its reply deadline."""
    return query.filter(status__in=list(COUNTS_AS_OVERDUE), reply_due_at__lt=now)


def supervised(query: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """Appeals under an open 督办 order (issued or answered, not yet closed)."""
    return query.filter(id__in=Subquery(SupervisionOrder.filter(
        status__in=sorted(OPEN_ORDER)).values("appeal_id")))


async def narrowed(query: QuerySet[Appeal], filters: ListFilters, now: datetime
                   ) -> tuple[QuerySet[Appeal], dict[str, str]]:
    """`query` narrowed by `filters`, and a message per code that names nothing (ignored)."""
    errors: dict[str, str] = {}
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.type:
        query = query.filter(type=filters.type)
    if filters.overdue:
        query = overdue(query, now)
    if filters.supervised:
        query = supervised(query)
    if filters.similar:  # 疑似重复 not yet merged (app.services.similar.mark_pending)
        query = query.filter(similar_to_id__isnull=False, merged_into_id__isnull=True)
    if filters.submitted_from:
        query = query.filter(submitted_at__gte=start_of_day(filters.submitted_from))
    if filters.submitted_to:
        query = query.filter(
            submitted_at__lt=start_of_day(filters.submitted_to + timedelta(days=1)))
    if filters.department:
        found = await Department.filter(code=filters.department).values_list("id", flat=True)
        if not found:
            errors["department"] = "没有这个承办部门。"
        else:
            query = query.filter(department_id=found[0])
    for name, model, label in (("category", Category, "领域"), ("region", Region, "地区")):
        code = getattr(filters, name)
        if not code:
            continue
        ids = await _subtree(model, code)
        if not ids:
            errors[name] = f"没有这个{label}。"
        else:
            query = query.filter(**{f"{name}_id__in": ids})
    return query, errors


async def _subtree(model: type[Category] | type[Region], code: str) -> list[int]:
    """The ids of the node with `code` and of everything under it (a few levels deep)."""
    ids = level = await model.filter(code=code).values_list("id", flat=True)
    while level:
        level = await model.filter(parent_id__in=level).values_list("id", flat=True)
        ids = [*ids, *level]
    return ids


@dataclass
class Listing:
    """What a list page shows: one page, the filters it applied and what it ignored."""

    page: Page
    filters: ListFilters
    errors: dict[str, str]

    @property
    def links(self) -> dict[str, str | None]:
        return self.page.links(self.filters.params())


async def listing(params: Mapping[str, Any], base: QuerySet[Appeal], order: Order, *,
                  now: datetime, allowed: Iterable[str] | None = None, count: bool = False,
                  related: tuple[str, ...] = ()) -> Listing:
    """The page a list's query string asks for: filters (only `allowed`), then `after`.
    Nothing a person types makes it fail: what cannot be used is ignored, with a message."""
    filters, errors = parse_filters(params, allowed)
    query, unknown = await narrowed(base, filters, now)
    found, bad_cursor = await page_or_first(query, order, params.get("after"), count=count,
                                            related=related)
    errors = {**errors, **unknown, **({"after": bad_cursor} if bad_cursor else {})}
    return Listing(found, filters, errors)


def seek_cursor(at: datetime, ident: int) -> str:
    """A plain `<time>_<id>` cursor, for the queues that seek on (time, id) in their own SQL."""
    return f"{at.isoformat()}_{ident}"


def read_seek_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) of a `seek_cursor`; None for none; ValueError for one it did not make."""
    if not cursor:
        return None
    at, _, ident = cursor.rpartition("_")
    try:
        parsed, number = datetime.fromisoformat(at), int(ident)
    except ValueError:
        raise ValueError(cursor) from None
    if parsed.tzinfo is None or not 0 < number < 2**63:
        raise ValueError(cursor)
    return parsed, number
