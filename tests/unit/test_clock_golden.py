"""Golden deadlines, worked out by hand against the State Council schedules.

Schedules used (as in chinesecalendar 1.11, checked with get_holiday_detail):
  2025  元旦 1/1; 春节 1/28-2/4, work Sun 1/26 and Sat 2/8; 劳动节 5/1-5/5, work Sun 4/27;
        端午 5/31-6/2; 国庆+中秋 10/1-10/8, work Sun 9/28 and Sat 10/11.
  2026  元旦 1/1-1/3, work Sun 1/4; 春节 2/15-2/23, work Sat 2/14 and Sat 2/28;
        清明 4/4-4/6; 劳动节 5/1-5/5, work Sat 5/9; 端午 6/19-6/21;
        中秋 9/25-9/27; 国庆 10/1-10/7, work Sun 9/20 and Sat 10/10.
  2027 and 2003 are not in the package: Monday-Friday, provisional.
Convention: received on local day D → due 23:59:59.999999 Asia/Shanghai on the N-th
working day after D.
"""

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest

from app.domain.clock import (
    PAUSED_REASON,
    SHANGHAI,
    DayOverride,
    WorkingCalendar,
    add_working_days,
    compute_deadline,
    extend_deadline,
    warn_at,
    working_days_between,
)

CAL = WorkingCalendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def end_of(d: str) -> datetime:
    return datetime.combine(date.fromisoformat(d), time(23, 59, 59, 999999), tzinfo=SHANGHAI)


# (case id, received at, working days, expected due date, expected provisional)
GOLDEN = [
    # National Day 2026 (10/1-10/7 off, Sat 10/10 worked)
    ("nd26-5-from-eve", "2026-09-30T10:00+08:00", 5, "2026-10-13", False),
    ("nd26-15-from-eve", "2026-09-30T10:00+08:00", 15, "2026-10-27", False),
    ("nd26-5-received-on-holiday", "2026-10-01T09:00+08:00", 5, "2026-10-13", False),
    ("nd26-5-from-tuesday-before", "2026-09-29T10:00+08:00", 5, "2026-10-12", False),
    ("nd26-ack-from-eve", "2026-09-30T10:00+08:00", 1, "2026-10-08", False),
    ("nd26-ack-lands-on-makeup-saturday", "2026-10-09T10:00+08:00", 1, "2026-10-10", False),
    ("nd26-5-over-makeup-saturday", "2026-10-09T10:00+08:00", 5, "2026-10-15", False),
    ("nd26-received-on-makeup-saturday", "2026-10-10T09:00+08:00", 1, "2026-10-12", False),
    # Mid-autumn 2026 (9/25-9/27 off) and the make-up Sunday 9/20
    ("makeup-sunday-ack", "2026-09-19T10:00+08:00", 1, "2026-09-20", False),
    ("makeup-sunday-5", "2026-09-18T10:00+08:00", 5, "2026-09-24", False),
    ("mid-autumn-5", "2026-09-22T10:00+08:00", 5, "2026-09-30", False),
    ("mid-autumn-and-nd-15", "2026-09-22T10:00+08:00", 15, "2026-10-20", False),
    # National Day 2025 (10/1-10/8 off, Sun 9/28 and Sat 10/11 worked)
    ("nd25-5-over-makeup-sunday", "2025-09-26T10:00+08:00", 5, "2025-10-10", False),
    ("nd25-15", "2025-09-30T10:00+08:00", 15, "2025-10-28", False),
    # Spring Festival 2026 (2/15-2/23 off, Sat 2/14 and Sat 2/28 worked)
    ("sf26-5-from-friday-before", "2026-02-13T10:00+08:00", 5, "2026-02-27", False),
    ("sf26-5-from-thursday-before", "2026-02-12T10:00+08:00", 5, "2026-02-26", False),
    ("sf26-5-received-in-holiday", "2026-02-20T10:00+08:00", 5, "2026-02-28", False),
    ("sf26-15", "2026-02-10T10:00+08:00", 15, "2026-03-09", False),
    # Spring Festival 2025 (1/28-2/4 off, Sun 1/26 and Sat 2/8 worked)
    ("sf25-5", "2025-01-24T10:00+08:00", 5, "2025-02-07", False),
    ("sf25-15", "2025-01-27T10:00+08:00", 15, "2025-02-24", False),
    # Dragon Boat Festival
    ("db26-5", "2026-06-17T10:00+08:00", 5, "2026-06-25", False),
    ("db26-ack", "2026-06-18T10:00+08:00", 1, "2026-06-22", False),
    ("db25-5", "2025-05-29T10:00+08:00", 5, "2025-06-06", False),
    # Labour Day, Qingming, New Year
    ("ld26-5-over-makeup-saturday", "2026-04-30T10:00+08:00", 5, "2026-05-11", False),
    ("ld25-5-over-makeup-sunday", "2025-04-25T10:00+08:00", 5, "2025-05-06", False),
    ("qm26-ack", "2026-04-03T10:00+08:00", 1, "2026-04-07", False),
    ("ny26-ack-makeup-sunday", "2025-12-31T10:00+08:00", 1, "2026-01-04", False),
    ("ny26-5", "2025-12-31T10:00+08:00", 5, "2026-01-08", False),
    # Edges of the local day
    ("last-second-of-holiday-eve", "2026-09-30T23:59:59+08:00", 5, "2026-10-13", False),
    ("first-second-of-holiday", "2026-10-01T00:00:00+08:00", 5, "2026-10-13", False),
    ("monday-23:59:59", "2026-03-02T23:59:59+08:00", 5, "2026-03-09", False),
    ("tuesday-00:00:00", "2026-03-03T00:00:00+08:00", 5, "2026-03-10", False),
    ("friday-last-microsecond", "2026-03-06T23:59:59.999999+08:00", 1, "2026-03-09", False),
    # Other zones: the local date in Shanghai decides
    ("utc-already-oct-1", "2026-09-30T16:30:00+00:00", 5, "2026-10-13", False),
    ("utc-already-sep-30", "2026-09-29T16:30:00Z", 5, "2026-10-13", False),
    ("utc-still-sep-29", "2026-09-29T15:30:00Z", 5, "2026-10-12", False),
    ("utc-already-sep-30-ack", "2026-09-29T16:30:00Z", 1, "2026-10-08", False),
    ("utc-still-sep-29-ack", "2026-09-29T15:30:00Z", 1, "2026-09-30", False),
    ("new-york-noon-is-next-day", "2026-03-02T12:00:00-05:00", 5, "2026-03-10", False),
    # Into 2027, which chinesecalendar 1.11 does not cover: weekdays, provisional
    ("into-2027-5", "2026-12-28T10:00+08:00", 5, "2027-01-04", True),
    ("into-2027-15", "2026-12-24T10:00+08:00", 15, "2027-01-14", True),
    ("stays-in-2026-ack", "2026-12-28T10:00+08:00", 1, "2026-12-29", False),
    ("stays-in-2026-3", "2026-12-28T10:00+08:00", 3, "2026-12-31", False),
    ("received-in-2027", "2027-03-01T10:00+08:00", 5, "2027-03-08", True),
    ("before-2004", "2003-06-02T10:00+08:00", 5, "2003-06-09", True),
    ("zero-days-is-end-of-day-d", "2026-03-02T10:00+08:00", 0, "2026-03-02", False),
]


@pytest.mark.parametrize(
    ("received", "days", "due", "provisional"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden_deadline(received, days, due, provisional):
    deadline = compute_deadline(at(received), days, CAL)
    assert deadline.due_at == end_of(due)
    assert deadline.due_at.tzinfo is SHANGHAI
    assert deadline.provisional is provisional
    assert len(deadline.counted) == days
    assert all(d.working for d in deadline.counted)
    assert all(not d.working for d in deadline.skipped)


def test_golden_table_has_at_least_forty_cases():
    assert len(GOLDEN) >= 40
    assert len({case[0] for case in GOLDEN}) == len(GOLDEN)


def test_golden_schedule_assumptions_match_the_package():
    detail = chinese_calendar.get_holiday_detail
    assert detail(date(2026, 10, 1)) == (True, "National Day")
    assert detail(date(2026, 10, 10)) == (False, "National Day")
    assert detail(date(2026, 9, 20)) == (False, "National Day")
    assert detail(date(2026, 2, 14)) == (False, "Spring Festival")
    assert detail(date(2026, 2, 23)) == (True, "Spring Festival")
    assert detail(date(2026, 2, 28)) == (False, "Spring Festival")
    assert detail(date(2026, 6, 19)) == (True, "Dragon Boat Festival")
    assert detail(date(2025, 6, 2)) == (True, "Dragon Boat Festival")
    assert detail(date(2026, 1, 4)) == (False, "New Year's Day")
    with pytest.raises(NotImplementedError):
        detail(date(2027, 1, 4))


def test_national_day_explanation_lists_each_skipped_day_with_its_reason():
    deadline = compute_deadline(at("2026-09-30T10:00+08:00"), 5, CAL)
    assert [(d.date.isoformat(), d.reason) for d in deadline.skipped] == [
        ("2026-10-01", "国庆节"), ("2026-10-02", "国庆节"), ("2026-10-03", "国庆节"),
        ("2026-10-04", "国庆节"), ("2026-10-05", "国庆节"), ("2026-10-06", "国庆节"),
        ("2026-10-07", "国庆节"), ("2026-10-11", "周末"),
    ]
    assert [(d.date.isoformat(), d.reason) for d in deadline.counted] == [
        ("2026-10-08", "工作日"), ("2026-10-09", "工作日"),
        ("2026-10-10", "调休上班（国庆节）"), ("2026-10-12", "工作日"), ("2026-10-13", "工作日"),
    ]


def test_provisional_only_from_the_days_the_deadline_walked_over():
    deadline = compute_deadline(at("2026-12-28T10:00+08:00"), 5, CAL)
    assert [d.date.isoformat() for d in deadline.counted if d.provisional] == [
        "2027-01-01", "2027-01-04"]
    assert [d.date.isoformat() for d in deadline.skipped] == ["2027-01-02", "2027-01-03"]


# --- overrides for a year the package does not cover ------------------------------

NEW_YEAR_2027 = {date(2027, 1, 1): DayOverride(False, "元旦")}


def test_override_for_uncovered_year_moves_the_deadline_but_it_stays_provisional():
    cal = WorkingCalendar(NEW_YEAR_2027)
    deadline = compute_deadline(at("2026-12-28T10:00+08:00"), 5, cal)
    assert deadline.due_at == end_of("2027-01-05")
    assert deadline.provisional is True
    assert deadline.skipped[0].reason == "管理员调整：元旦"


def test_confirmed_year_with_overrides_is_not_provisional():
    cal = WorkingCalendar(NEW_YEAR_2027, confirmed_years=[2027])
    deadline = compute_deadline(at("2026-12-28T10:00+08:00"), 5, cal)
    assert deadline.due_at == end_of("2027-01-05")
    assert deadline.provisional is False


def test_override_takes_precedence_over_the_package():
    cal = WorkingCalendar({date(2026, 10, 10): DayOverride(False, "台风停工")})
    deadline = compute_deadline(at("2026-10-09T10:00+08:00"), 1, cal)
    assert deadline.due_at == end_of("2026-10-12")
    assert deadline.skipped[0].reason == "管理员调整：台风停工"


# --- pauses: working days x with date(P) < x <= date(R) do not count ----------------

PAUSE_CASES = [
    # complaint from 9/22 (due 10/20); waiting 9/29 → 10/9 costs 9/30, 10/8, 10/9
    ("across-national-day", "2026-09-22T10:00+08:00", 15,
     [("2026-09-29T09:00+08:00", "2026-10-09T15:00+08:00")], "2026-10-23"),
    ("asked-and-answered-same-day", "2026-03-02T09:00+08:00", 5,
     [("2026-03-03T09:00+08:00", "2026-03-03T17:00+08:00")], "2026-03-09"),
    ("over-a-weekend-costs-the-monday", "2026-03-02T09:00+08:00", 5,
     [("2026-03-06T10:00+08:00", "2026-03-09T08:00+08:00")], "2026-03-10"),
    ("starting-on-the-due-day-changes-nothing", "2026-03-02T09:00+08:00", 5,
     [("2026-03-09T10:00+08:00", "2026-03-12T10:00+08:00")], "2026-03-09"),
    ("utc-pause-within-one-local-day", "2026-03-02T09:00+08:00", 5,
     [("2026-03-03T16:30:00Z", "2026-03-04T10:00+08:00")], "2026-03-09"),
    ("utc-pause-crossing-local-midnight", "2026-03-02T09:00+08:00", 5,
     [("2026-03-03T15:00:00Z", "2026-03-04T10:00+08:00")], "2026-03-10"),
    ("overlapping-pauses-are-merged", "2026-03-02T09:00+08:00", 5,
     [("2026-03-03T10:00+08:00", "2026-03-05T10:00+08:00"),
      ("2026-03-04T10:00+08:00", "2026-03-06T10:00+08:00")], "2026-03-12"),
    # 2/13 counts; Sat 2/14 (worked), 2/24, 2/25 paused; then 2/26, 2/27, Sat 2/28, 3/2
    ("across-spring-festival", "2026-02-12T10:00+08:00", 5,
     [("2026-02-13T10:00+08:00", "2026-02-25T10:00+08:00")], "2026-03-02"),
]


@pytest.mark.parametrize(
    ("received", "days", "pauses", "due"),
    [case[1:] for case in PAUSE_CASES],
    ids=[case[0] for case in PAUSE_CASES],
)
def test_golden_pause(received, days, pauses, due):
    paused = [(at(a), at(b)) for a, b in pauses]
    deadline = compute_deadline(at(received), days, CAL, paused)
    assert deadline.due_at == end_of(due)
    assert len(deadline.counted) == days


def test_paused_working_days_are_explained():
    deadline = compute_deadline(
        at("2026-09-22T10:00+08:00"), 15, CAL,
        [(at("2026-09-29T09:00+08:00"), at("2026-10-09T15:00+08:00"))],
    )
    paused = [d.date.isoformat() for d in deadline.skipped if d.reason == PAUSED_REASON]
    assert paused == ["2026-09-30", "2026-10-08", "2026-10-09"]
    assert deadline.days()[-1][0].date == date(2026, 10, 23)


def test_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        compute_deadline(at("2026-03-02T09:00+08:00"), 5, CAL,
                         [(at("2026-03-05T10:00+08:00"), at("2026-03-04T10:00+08:00"))])


# --- extensions and redo -------------------------------------------------------------

def test_consultation_extension_of_two_equals_a_seven_day_window():
    due = compute_deadline(at("2026-09-30T10:00+08:00"), 5, CAL)
    longer = extend_deadline(due, 2, CAL)
    assert longer.due_at == end_of("2026-10-15")
    assert longer.due_at == compute_deadline(at("2026-09-30T10:00+08:00"), 7, CAL).due_at
    assert longer.working_days == 7 and len(longer.counted) == 7


def test_complaint_extension_of_ten():
    due = compute_deadline(at("2026-09-22T10:00+08:00"), 15, CAL)
    assert extend_deadline(due, 10, CAL).due_at == end_of("2026-11-03")


def test_extension_across_spring_festival():
    assert add_working_days(end_of("2026-02-13"), 2, CAL).due_at == end_of("2026-02-24")


def test_extension_into_2027_is_provisional():
    due = compute_deadline(at("2026-12-28T10:00+08:00"), 2, CAL)
    assert due.due_at == end_of("2026-12-30") and not due.provisional
    longer = extend_deadline(due, 2, CAL)
    assert longer.due_at == end_of("2027-01-01")
    assert longer.provisional is True


def test_redo_gets_a_fresh_window_from_the_redo_time():
    first = compute_deadline(at("2026-09-22T10:00+08:00"), 5, CAL)
    assert first.due_at == end_of("2026-09-30")
    redo = compute_deadline(at("2026-10-09T14:00+08:00"), 5, CAL)
    assert redo.due_at == end_of("2026-10-15")
    assert compute_deadline(at("2026-10-10T09:00+08:00"), 15, CAL).due_at == end_of("2026-10-30")


# --- warnings and remaining days -------------------------------------------------------

@pytest.mark.parametrize(
    ("due", "before", "expected"),
    [
        ("2026-10-13", 1, "2026-10-12"),
        ("2026-10-13", 3, "2026-10-09"),  # 10/12, Sat 10/10 (worked), 10/9
        ("2026-10-08", 1, "2026-09-30"),
        ("2026-02-24", 1, "2026-02-14"),
        ("2026-10-13", 0, "2026-10-13"),
    ],
)
def test_warn_at_is_midnight_of_the_kth_working_day_before_due(due, before, expected):
    assert warn_at(end_of(due), before, CAL) == datetime.combine(
        date.fromisoformat(expected), time(0), tzinfo=SHANGHAI)


def test_warning_starts_exactly_when_remaining_days_reach_k():
    due = end_of("2026-10-13")
    warn = warn_at(due, 3, CAL)
    assert working_days_between(warn, due, CAL) == 3
    assert working_days_between(warn - timedelta(microseconds=1), due, CAL) == 4


@pytest.mark.parametrize(
    ("now", "due", "expected"),
    [
        ("2026-10-09T12:00+08:00", "2026-10-13", 3),
        ("2026-10-13T08:00+08:00", "2026-10-13", 0),
        ("2026-10-14T10:00+08:00", "2026-10-13", -1),
        ("2026-10-11T10:00+08:00", "2026-10-09", -1),
        ("2026-09-30T10:00+08:00", "2026-10-08", 1),
        ("2026-09-30T16:30:00Z", "2026-10-08", 1),
        ("2026-12-30T10:00+08:00", "2027-01-05", 4),
    ],
)
def test_working_days_between(now, due, expected):
    assert working_days_between(at(now), end_of(due), CAL) == expected


def test_utc_due_input_is_converted():
    due = end_of("2026-10-13").astimezone(UTC)
    assert add_working_days(due, 1, CAL).due_at == end_of("2026-10-14")
