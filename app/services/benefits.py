"""还利于民: what a case returned to the people (退还 / 补发 / 赔偿 / 减免), in yuan.

A handler or head of the appeal's department records an entry with the reply (or its
submission for the head's review), or later on an appeal their department has replied to
(replied or closed); an inspector verifies (核实) or rejects it, once. Each step writes its
event on the appeal's trail in the same transaction (staff-only events: the evidence may
name people).

Totals count verified entries only, summed in SQL over the fen column (exact), grouped by
department, region and year. An entry's year and month are those of its recording
(Asia/Shanghai), so the public yearly totals and the monthly report agree; an entry counts
once an inspector has verified it.
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from tortoise import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.domain.clock import start_of_day, to_local
from app.domain.states import Event, Status
from app.domain.types import DEPARTMENT_ROLES, Role
from app.models import Appeal, Benefit
from app.schemas.benefits import Entry
from app.services.detectors import Sql
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor, now_utc, transition

KINDS = {"refund": "退还", "back_pay": "补发", "compensation": "赔偿", "relief": "减免"}
STATUSES = {"pending": "待核实", "verified": "已核实", "rejected": "已驳回"}
PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"
# One entry at most 一亿元: a larger figure is a typing slip, not one case's money.
MAX_YUAN = Decimal("100000000")
MAX_PEOPLE = 1_000_000
EVIDENCE_MAX = 1000
NOTE_MAX = 200
PAGE = 50
# Where an entry may be recorded: with the reply (under review or sent), or after it.
RECORDABLE = frozenset({Status.REVIEW, Status.REPLIED, Status.CLOSED})
AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
PEOPLE = re.compile(r"[0-9]+")

NOT_YOURS = "只有承办部门的办理人或负责人可以登记还利于民。"
NOT_REPLIED = "诉求答复后才能登记还利于民。"
DECIDED = "该条目已经核实或驳回，不能再次决定。"
NO_ENTRY = "没有这条还利于民记录。"


# --- values --------------------------------------------------------------------------------

def yuan(fen: int) -> str:
    """Fen as 元 with thousands separators: 123456 -> "1,234.56"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def parse_amount(text: str) -> int:
    """Yuan as typed ("1200", "1200.5", "１２００.５０元") -> fen, exactly; ServiceError else."""
    plain = unicodedata.normalize("NFKC", text or "").strip().removesuffix("元").strip()
    if not plain:
        raise ServiceError("请填写金额（元）。", "amount")
    if not AMOUNT.fullmatch(plain):
        raise ServiceError("金额须为数字（元），如 1200 或 1200.50，不要加逗号。", "amount")
    if len(plain.partition(".")[2]) > 2:
        raise ServiceError("金额最多保留两位小数（分）。", "amount")
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise ServiceError("金额须为数字（元）。", "amount") from None
    if value <= 0:
        raise ServiceError("金额须大于 0。", "amount")
    if value > MAX_YUAN:
        raise ServiceError(f"金额不能超过 {yuan(int(MAX_YUAN * 100))} 元。", "amount")
    return int(value * 100)


def _people(text: str) -> int:
    plain = unicodedata.normalize("NFKC", text or "").strip().removesuffix("人").strip()
    if not plain:
        raise ServiceError("请填写受益人数。", "people")
    if not PEOPLE.fullmatch(plain) or not 1 <= int(plain) <= MAX_PEOPLE:
        raise ServiceError(f"受益人数须为 1 至 {MAX_PEOPLE:,} 的整数。", "people")
    return int(plain)


@dataclass(frozen=True)
class Checked:
    kind: str
    amount_fen: int
    people: int
    evidence: str


def check(entry: Entry, prefix: str = "") -> Checked:
    """Every field's problem at once (ValidationFailed keyed by `prefix` + the field: the
    reply form's fields are benefit_amount...), or the values."""
    errors: dict[str, str] = {}
    kind = entry.kind.strip()
    if kind not in KINDS:
        errors["kind"] = "请选择还利类型（退还、补发、赔偿或减免）。"
    fen = people = 0
    for name, parse in (("amount", lambda: parse_amount(entry.amount)),
                        ("people", lambda: _people(entry.people))):
        try:
            value = parse()
        except ServiceError as exc:
            errors[name] = exc.message
            continue
        if name == "amount":
            fen = value
        else:
            people = value
    evidence = entry.evidence.strip()
    if not evidence:
        errors["evidence"] = "请说明核实依据（如退款凭证、发放记录的编号）。"
    elif len(evidence) > EVIDENCE_MAX or "\x00" in evidence:
        errors["evidence"] = f"核实依据不能超过 {EVIDENCE_MAX} 个字。"
    if errors:
        raise ValidationFailed({prefix + name: message for name, message in errors.items()})
    return Checked(kind, fen, people, evidence)


# --- recording and deciding ----------------------------------------------------------------

def _may_record(appeal: Appeal, actor: Actor) -> None:
    account = actor.account
    if account is None or Role(account.role) not in DEPARTMENT_ROLES \
            or appeal.department_id is None or account.department_id != appeal.department_id:
        raise ServiceError(NOT_YOURS, None, "not_yours")
    if Status(appeal.status) not in RECORDABLE:
        raise ServiceError(NOT_REPLIED, None, "illegal_transition")


def summary(kind: str, fen: int, people: int) -> str:
    return f"{KINDS.get(kind, kind)} {yuan(fen)} 元，受益 {people} 人"


async def record(appeal: Appeal, actor: Actor, entry: Entry | Checked) -> Benefit:
    """Record one entry (pending) and its event, in one transaction (the caller's, if open:
    the reply form records the reply and its entry together)."""
    checked = entry if isinstance(entry, Checked) else check(entry)
    _may_record(appeal, actor)
    at = now_utc()
    async with in_transaction():
        row = await Benefit.create(
            appeal_id=appeal.id, kind=checked.kind, amount_fen=checked.amount_fen,
            people=checked.people, evidence=checked.evidence, status=PENDING,
            department_id=appeal.department_id, region_id=appeal.region_id,
            recorded_by=actor.account, recorded_label=actor.label[:80], recorded_at=at)
        said = summary(checked.kind, checked.amount_fen, checked.people)
        await transition(appeal, Event.BENEFIT_RECORD, actor, at=at, public=False,
                         note=f"登记还利于民：{said}（待核实）",
                         data={"benefit": row.id, "kind": checked.kind,
                               "amount_fen": checked.amount_fen, "people": checked.people})
    return row


async def entry_numbered(text: str) -> Benefit:
    if not text.isdigit() or len(text) > 18:
        raise ServiceError(NO_ENTRY, "entry", "not_an_entry")
    found = await Benefit.get_or_none(id=int(text))
    if found is None:
        raise ServiceError(NO_ENTRY, "entry", "not_an_entry")
    return found


async def _decide(entry: Benefit, inspector: Actor, status: str, note: str) -> Benefit:
    account = inspector.account
    if account is None or Role(account.role) is not Role.INSPECTOR:
        raise ServiceError("只有纪检监察人员可以核实或驳回。", None, "not_yours")
    note = note.strip()
    if len(note) > NOTE_MAX or "\x00" in note:
        raise ValidationFailed({"note": f"说明不能超过 {NOTE_MAX} 个字。"})
    if status == REJECTED and not note:
        raise ValidationFailed({"note": "驳回须说明理由。"})
    at = now_utc()
    event = Event.BENEFIT_VERIFY if status == VERIFIED else Event.BENEFIT_REJECT
    verb = "核实" if status == VERIFIED else "驳回"
    async with in_transaction():
        # Conditional on pending: of two decisions at once, the second changes nothing.
        changed = await Benefit.filter(id=entry.id, status=PENDING).update(
            status=status, decided_by_id=account.id, decided_label=inspector.label[:80],
            decided_at=at, decision_note=note)
        if changed != 1:
            raise ServiceError(DECIDED, None, "decided")
        appeal = await Appeal.get(id=entry.appeal_id)
        said = f"{verb}还利于民：{summary(entry.kind, entry.amount_fen, entry.people)}"
        await transition(appeal, event, inspector, at=at, public=False,
                         note=f"{said}{'。' + note if note else ''}",
                         data={"benefit": entry.id, "amount_fen": entry.amount_fen})
    entry.status, entry.decided_at, entry.decision_note = status, at, note
    entry.decided_by_id, entry.decided_label = account.id, inspector.label[:80]
    return entry


async def verify(entry: Benefit, inspector: Actor, note: str = "") -> Benefit:
    return await _decide(entry, inspector, VERIFIED, note)


async def reject(entry: Benefit, inspector: Actor, reason: str) -> Benefit:
    return await _decide(entry, inspector, REJECTED, reason)


async def of_appeal(appeal: Appeal) -> list[Benefit]:
    return await Benefit.filter(appeal_id=appeal.id).order_by("id")


# --- the inspectors' list ------------------------------------------------------------------

@dataclass
class Listed:
    entries: list[Benefit]
    next_after: str | None


async def listed(status: str, after: str, limit: int = PAGE) -> Listed:
    """Entries of `status` ("" for all), oldest first, paged by (recorded_at, id): `after`
    is the last id of the page before. The (status, recorded_at, id) index serves it."""
    query = Benefit.filter(status=status) if status else Benefit.all()
    if after:
        last = await entry_numbered(after)
        query = query.filter(Q(recorded_at__gt=last.recorded_at)
                             | Q(recorded_at=last.recorded_at, id__gt=last.id))
    rows = await query.order_by("recorded_at", "id").limit(limit + 1) \
        .prefetch_related("appeal", "department")
    more = len(rows) > limit
    rows = rows[:limit]
    return Listed(rows, str(rows[-1].id) if more else None)


# --- totals --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Total:
    label: str
    fen: int
    entries: int
    people: int

    @property
    def yuan(self) -> str:
        return yuan(self.fen)


def _year(sql: Sql, column: str) -> str:
    if sql.pg:
        return f"CAST(EXTRACT(YEAR FROM ({column}) AT TIME ZONE 'Asia/Shanghai') AS INTEGER)"
    return f"CAST(substr({sql.local_date(column)}, 1, 4) AS INTEGER)"


def _within(sql: Sql, start: date | None, end: date | None) -> str:
    """Recorded on local days [start, end): bounds on the indexed column, not a function."""
    parts = []
    if start is not None:
        parts.append(f"b.recorded_at >= {sql.param(start_of_day(start).astimezone(UTC))}")
    if end is not None:
        parts.append(f"b.recorded_at < {sql.param(start_of_day(end).astimezone(UTC))}")
    return "".join(f" AND {p}" for p in parts)


SUMS = "COALESCE(SUM(b.amount_fen), 0) AS fen, COUNT(*) AS n, COALESCE(SUM(b.people), 0) AS p"


async def _rows(sql: Sql, text: str) -> list[dict]:
    return await connections.get("default").execute_query_dict(text, sql.params)


def _total(row: dict, label: str) -> Total:
    return Total(label, int(row["fen"] or 0), int(row["n"] or 0), int(row["p"] or 0))


async def grand_total(start: date | None = None, end: date | None = None) -> Total:
    sql = Sql()
    rows = await _rows(sql, f"SELECT {SUMS} FROM benefit b WHERE b.status = 'verified'"
                            f"{_within(sql, start, end)}")
    return _total(rows[0], "合计")


async def by_year() -> list[Total]:
    sql = Sql()
    year = _year(sql, "b.recorded_at")
    rows = await _rows(sql, f"SELECT {year} AS y, {SUMS} FROM benefit b "
                            f"WHERE b.status = 'verified' GROUP BY {year} ORDER BY {year} DESC")
    return [_total(r, f"{int(r['y'])} 年") for r in rows]


async def by_department(start: date | None = None, end: date | None = None) -> list[Total]:
    sql = Sql()
    rows = await _rows(sql, f"SELECT d.name AS name, {SUMS} FROM benefit b "
                            "LEFT JOIN department d ON d.id = b.department_id "
                            f"WHERE b.status = 'verified'{_within(sql, start, end)} "
                            "GROUP BY b.department_id, d.name ORDER BY fen DESC, d.name")
    return [_total(r, r["name"] or "未分派部门") for r in rows]


async def by_region(start: date | None = None, end: date | None = None) -> list[Total]:
    sql = Sql()
    rows = await _rows(sql, f"SELECT r.name AS name, {SUMS} FROM benefit b "
                            "JOIN region r ON r.id = b.region_id "
                            f"WHERE b.status = 'verified'{_within(sql, start, end)} "
                            "GROUP BY b.region_id, r.name ORDER BY fen DESC, r.name")
    return [_total(r, r["name"]) for r in rows]


async def by_kind(start: date | None = None, end: date | None = None) -> list[Total]:
    sql = Sql()
    rows = await _rows(sql, f"SELECT b.kind AS kind, {SUMS} FROM benefit b "
                            f"WHERE b.status = 'verified'{_within(sql, start, end)} "
                            "GROUP BY b.kind ORDER BY fen DESC, b.kind")
    return [_total(r, KINDS.get(r["kind"], r["kind"])) for r in rows]


def _year_bounds(year: int | None) -> tuple[date | None, date | None]:
    return (date(year, 1, 1), date(year + 1, 1, 1)) if year else (None, None)


@dataclass
class PublicTotals:
    year: int | None
    total: Total
    years: list[Total]
    departments: list[Total]
    regions: list[Total]


async def public_totals(year: int | None = None) -> PublicTotals:
    """Verified entries only: the total, by year (all years), and by department and region
    (of `year`, or all time). Kinds, amounts and counts: nothing about a person."""
    start, end = _year_bounds(year)
    return PublicTotals(year, await grand_total(start, end), await by_year(),
                        await by_department(start, end), await by_region(start, end))


@dataclass
class MonthTotals:
    total: Total
    departments: list[Total]
    kinds: list[Total]
    pending: int
    rejected: int


async def month_totals(start: date, end: date) -> MonthTotals:
    """The monthly report's section: entries recorded on local days [start, end), verified
    as of now (by department and by kind), and how many still wait or were rejected."""
    sql = Sql()
    counts = await _rows(sql, "SELECT b.status AS s, COUNT(*) AS n FROM benefit b "
                              f"WHERE b.status <> 'verified'{_within(sql, start, end)} "
                              "GROUP BY b.status")
    waiting = {r["s"]: int(r["n"]) for r in counts}
    return MonthTotals(await grand_total(start, end), await by_department(start, end),
                       await by_kind(start, end), waiting.get(PENDING, 0),
                       waiting.get(REJECTED, 0))


async def public_banner(at: datetime | None = None) -> dict:
    """For the /public page: the all-time verified total and this year's (Asia/Shanghai)."""
    year = to_local(at or now_utc()).year
    start, end = _year_bounds(year)
    return {"all_time": await grand_total(), "this_year": await grand_total(start, end),
            "year": year, "link": "/public/benefits"}
