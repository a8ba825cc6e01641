"""Working-day arithmetic on the Chinese State Council holiday schedule (Asia/Shanghai).

Conventions (every deadline in Minsheng means the same thing):

* **Day D.** An instant is placed on its local date in Asia/Shanghai, whatever zone it
  carries. Naive datetimes are refused with ``ValueError``.
* **due_at.** Something received on day D with a window of N working days is due at the
  *end* of the N-th working day after D: ``23:59:59.999999`` Asia/Shanghai on that day
  (the instant just before the next day's 00:00). Day D itself never counts, whatever
  the hour. It is overdue when ``now > due_at``.
* **Pauses** (awaiting the resident's information). A pause from instant P to instant R
  takes out of the count the working days whose local date x satisfies
  ``date(P) < x <= date(R)``, the same rule as receipt: the day the information is
  requested still counts, the day it arrives does not (counting resumes the day after,
  as for a new receipt). Consequently a request and an answer on the same day cost
  nothing, and a pause that begins on or after the due day does not move the deadline
  (a deadline that has already run out is not revived by asking a question).
  Overlapping pauses are merged; a pause still open is passed as ``(P, now)``.
* **Extensions** add working days after the current due day: ``extend_deadline``; an
  extension of n days equals a window of N + n days from the same receipt.
* **Remaining days.** ``working_days_between(now, due_at)`` counts the working days in
  ``(date(now), date(due)]``: 0 on the due day, -1 on the first working day after it.
* **warn_at** for "k working days before" is 00:00 of the k-th working day before the
  due day: the first instant at which ``working_days_between(now, due_at) <= k``.
* **Calendar precedence** for each date: an admin override (data in
  ``routing_rules/calendar.yaml``), else ``chinesecalendar``, else Monday-Friday, marked
  *provisional* unless the year is listed as confirmed in the overrides file. A deadline
  is provisional when any day it walked over was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)

_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

PAUSED_REASON = "暂停计时（等待群众补充材料）"


@dataclass(frozen=True, slots=True)
class DayOverride:
    working: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DayInfo:
    date: date
    working: bool
    reason: str
    provisional: bool


@dataclass(frozen=True)
class Deadline:
    """A computed deadline and the days that explain it (both lists in date order)."""

    start: datetime  # the receipt instant, in Asia/Shanghai
    working_days: int
    due_at: datetime
    provisional: bool
    counted: list[DayInfo] = field(default_factory=list)
    skipped: list[DayInfo] = field(default_factory=list)

    @property
    def due_date(self) -> date:
        return self.due_at.date()

    def days(self) -> list[tuple[DayInfo, str]]:
        """Every day walked over, in date order, with its kind: "counted" or "skipped"."""
        marked = [(d, "counted") for d in self.counted] + [(d, "skipped") for d in self.skipped]
        marked.sort(key=lambda pair: pair[0].date)
        return marked


class WorkingCalendar:
    """Answers "is this date a working day, and why?"; cached per date."""

    def __init__(
        self,
        overrides: dict[date, DayOverride] | None = None,
        confirmed_years: Iterable[int] = (),
    ):
        self._overrides = dict(overrides or {})
        self._confirmed_years = frozenset(confirmed_years)
        self._cache: dict[date, DayInfo] = {}

    @property
    def overrides(self) -> dict[date, DayOverride]:
        return dict(self._overrides)

    @property
    def confirmed_years(self) -> frozenset[int]:
        return self._confirmed_years

    def day(self, d: date) -> DayInfo:
        info = self._cache.get(d)
        if info is None:
            info = self._cache[d] = self._lookup(d)
        return info

    def is_working(self, d: date) -> bool:
        return self.day(d).working

    def _lookup(self, d: date) -> DayInfo:
        override = self._overrides.get(d)
        if override is not None:
            return DayInfo(d, override.working, f"管理员调整：{override.reason}", False)
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            # A year the package does not cover: weekdays, provisional unless confirmed.
            working = d.weekday() < 5
            provisional = d.year not in self._confirmed_years
            return DayInfo(d, working, "工作日" if working else "周末", provisional)
        name_zh = _holiday_zh(name)
        if is_holiday:
            return DayInfo(d, False, name_zh or "周末", False)
        return DayInfo(d, True, f"调休上班（{name_zh}）" if name_zh else "工作日", False)


def _holiday_zh(name: object) -> str | None:
    if name is None:
        return None
    english = getattr(name, "value", name)
    return _HOLIDAY_ZH.get(str(english), str(english))


def to_local(at: datetime) -> datetime:
    """The same instant in Asia/Shanghai; naive datetimes are refused."""
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} refused: give a time zone")
    return at.astimezone(SHANGHAI)


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time.max, tzinfo=SHANGHAI)


def start_of_day(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=SHANGHAI)


def _paused_dates(paused: Iterable[tuple[datetime, datetime]]) -> set[date]:
    dates: set[date] = set()
    for begin, end in paused:
        first, last = to_local(begin).date(), to_local(end).date()
        if end < begin:
            raise ValueError(f"pause ends before it begins: {begin.isoformat()} > {end}")
        d = first
        while d < last:
            d += _ONE_DAY
            dates.add(d)
    return dates


def compute_deadline(
    start: datetime,
    working_days: int,
    calendar: WorkingCalendar,
    paused: Sequence[tuple[datetime, datetime]] = (),
) -> Deadline:
    """Due at the end of the N-th working day after start's local date (see module doc).

    Working days inside a pause (local dates in ``(date(P), date(R)]``) are skipped with
    the reason ``PAUSED_REASON`` and do not count.
    """
    if working_days < 0:
        raise ValueError(f"working_days must be >= 0, got {working_days}")
    local = to_local(start)
    paused_dates = _paused_dates(paused) if paused else None
    counted: list[DayInfo] = []
    skipped: list[DayInfo] = []
    provisional = False
    day = calendar.day
    d = local.date()
    try:
        while len(counted) < working_days:
            d += _ONE_DAY
            info = day(d)
            if info.provisional:
                provisional = True
            if not info.working:
                skipped.append(info)
            elif paused_dates and d in paused_dates:
                skipped.append(replace(info, reason=PAUSED_REASON))
            else:
                counted.append(info)
    except OverflowError:
        raise ValueError(f"deadline beyond the last representable date from {start}") from None
    return Deadline(local, working_days, end_of_day(d), provisional, counted, skipped)


def add_working_days(due: datetime, n: int, calendar: WorkingCalendar) -> Deadline:
    """Due at the end of the n-th working day after due's local date (an extension step).

    ``provisional``, ``counted`` and ``skipped`` cover only the added days; use
    ``extend_deadline`` to keep a full explanation.
    """
    return compute_deadline(due, n, calendar)


def extend_deadline(deadline: Deadline, n: int, calendar: WorkingCalendar) -> Deadline:
    """The deadline pushed n working days past its due day, with the whole explanation."""
    more = add_working_days(deadline.due_at, n, calendar)
    return Deadline(
        start=deadline.start,
        working_days=deadline.working_days + n,
        due_at=more.due_at,
        provisional=deadline.provisional or more.provisional,
        counted=deadline.counted + more.counted,
        skipped=deadline.skipped + more.skipped,
    )


def warn_at(due_at: datetime, before_days: int, calendar: WorkingCalendar) -> datetime:
    """00:00 of the working day ``before_days`` working days before the due day."""
    if before_days < 0:
        raise ValueError(f"before_days must be >= 0, got {before_days}")
    d = to_local(due_at).date()
    left = before_days
    while left:
        d -= _ONE_DAY
        if calendar.day(d).working:
            left -= 1
    return start_of_day(d)


def working_days_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> int:
    """Working days in (date(a), date(b)] (local dates); negative when b is before a.

    ``working_days_between(now, due_at)`` gives "还剩 N 个工作日" when >= 0 and
    "已超期 -N 个工作日" when < 0. It is 0 on the due day itself and also on the
    non-working days right after it; use ``now > due_at`` to decide overdue.
    """
    da, db = to_local(a).date(), to_local(b).date()
    sign = 1
    if db < da:
        da, db, sign = db, da, -1
    count = 0
    d = da
    while d < db:
        d += _ONE_DAY
        if calendar.day(d).working:
            count += 1
    return sign * count


def explain_zh(deadline: Deadline) -> list[str]:
    """One Chinese line per day walked over, e.g. "2026-10-01 国庆节 跳过"."""
    lines = []
    n = 0
    for info, kind in deadline.days():
        note = "（暂定）" if info.provisional else ""
        if kind == "counted":
            n += 1
            lines.append(f"{info.date.isoformat()} {info.reason}{note} 计入（第{n}个工作日）")
        else:
            lines.append(f"{info.date.isoformat()} {info.reason}{note} 跳过")
    return lines
