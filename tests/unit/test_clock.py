from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.clock import (
    DayInfo,
    DayOverride,
    WorkingCalendar,
    compute_deadline,
    explain_zh,
    working_days_between,
)
from app.rules import load_calendar, load_calendar_overrides
from app.rules_error import RulesError

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "working", "reason"),
    [
        (date(2026, 10, 1), False, "国庆节"),
        (date(2026, 10, 10), True, "调休上班（国庆节）"),
        (date(2026, 10, 11), False, "周末"),
        (date(2026, 10, 12), True, "工作日"),
        (date(2026, 9, 25), False, "中秋节"),
        (date(2026, 4, 5), False, "清明节"),
        (date(2026, 6, 19), False, "端午节"),
        (date(2026, 2, 16), False, "春节"),
        (date(2026, 2, 14), True, "调休上班（春节）"),
        (date(2026, 5, 9), True, "调休上班（劳动节）"),
        (date(2026, 1, 2), False, "元旦"),
    ],
)
def test_day_reasons_in_chinese(day, working, reason):
    assert CAL.day(day) == DayInfo(day, working, reason, False)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1999, 2, 16), date(2027, 1, 2),
                                 date(2100, 6, 1), date(9999, 12, 31)])
def test_dates_outside_the_package_do_not_crash_and_are_provisional(day):
    info = CAL.day(day)
    assert info.provisional is True
    assert info.working is (day.weekday() < 5)
    assert info.reason == ("工作日" if info.working else "周末")


def test_day_is_cached():
    cal = WorkingCalendar()
    assert cal.day(date(2026, 10, 1)) is cal.day(date(2026, 10, 1))


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        compute_deadline(datetime(2026, 10, 1, 10), 5, CAL)
    with pytest.raises(ValueError, match="naive"):
        working_days_between(datetime(2026, 10, 1), datetime.now(UTC), CAL)


def test_negative_window_is_refused():
    with pytest.raises(ValueError):
        compute_deadline(datetime(2026, 10, 1, tzinfo=UTC), -1, CAL)


def test_deadline_past_the_last_date_is_a_value_error():
    with pytest.raises(ValueError):
        compute_deadline(datetime(9999, 12, 30, tzinfo=UTC), 5, CAL)


def test_due_at_is_the_last_microsecond_of_the_local_day():
    due = compute_deadline(datetime(2026, 3, 2, 10, tzinfo=UTC), 1, CAL).due_at
    assert due.isoformat() == "2026-03-03T23:59:59.999999+08:00"
    assert (due + timedelta(microseconds=1)).isoformat() == "2026-03-04T00:00:00+08:00"


def test_explain_zh_lines():
    deadline = compute_deadline(datetime.fromisoformat("2026-10-09T10:00+08:00"), 3, CAL)
    assert explain_zh(deadline) == [
        "2026-10-10 调休上班（国庆节） 计入（第1个工作日）",
        "2026-10-11 周末 跳过",
        "2026-10-12 工作日 计入（第2个工作日）",
        "2026-10-13 工作日 计入（第3个工作日）",
    ]


def test_explain_zh_marks_provisional_days():
    deadline = compute_deadline(datetime.fromisoformat("2026-12-31T10:00+08:00"), 1, CAL)
    assert explain_zh(deadline) == ["2027-01-01 工作日（暂定） 计入（第1个工作日）"]


# --- calendar.yaml ---------------------------------------------------------------------

def write(tmp_path, text, name="calendar.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(excinfo):
    return [(entry, message) for _file, entry, message in excinfo.value.problems]


def test_repository_calendar_file_loads():
    cal = load_calendar("routing_rules/calendar.yaml")
    assert cal.day(date(2027, 1, 1)).working is False


def test_load_overrides(tmp_path):
    path = write(tmp_path, """
confirmed_years: [2027]
overrides:
  - {date: 2027-01-01, working: false, reason: 元旦}
  - {date: "2027-02-06", working: true, reason: 调休上班}
""")
    assert load_calendar_overrides(path) == {
        date(2027, 1, 1): DayOverride(False, "元旦"),
        date(2027, 2, 6): DayOverride(True, "调休上班"),
    }
    cal = load_calendar(path)
    assert cal.day(date(2027, 1, 4)).provisional is False
    assert cal.day(date(2027, 2, 6)).reason == "管理员调整：调休上班"


def test_empty_calendar_file_means_no_overrides(tmp_path):
    assert load_calendar_overrides(write(tmp_path, "")) == {}


def test_bad_date_is_named(tmp_path):
    path = write(tmp_path, """
overrides:
  - {date: 2027-02-30, working: false, reason: x}
""")
    with pytest.raises(RulesError) as excinfo:
        load_calendar_overrides(path)
    assert excinfo.value.problems[0][0] == str(path)
    assert problems(excinfo) == [
        ("overrides[0] (2027-02-30).date", "日期有误 '2027-02-30'：应为 YYYY-MM-DD")]


def test_duplicate_date_is_named(tmp_path):
    path = write(tmp_path, """
overrides:
  - {date: 2027-01-01, working: false, reason: 元旦}
  - {date: 2027-01-01, working: true, reason: 又一次}
""")
    with pytest.raises(RulesError) as excinfo:
        load_calendar_overrides(path)
    assert problems(excinfo) == [
        ("overrides[1] (2027-01-01)", "日期重复，已见于 overrides[0] (2027-01-01)")]


def test_missing_reason_and_wrong_types_are_all_reported(tmp_path):
    path = write(tmp_path, """
overrides:
  - {date: 2027-01-01, working: false}
  - {date: 2027-01-02, working: "no", reason: x}
  - {date: 2027-01-03 10:00:00, working: false, reason: x}
  - {date: 2027-01-04, working: false, reason: 7}
  - {date: 2027-01-05, working: false, reason: x, note: y}
  - just a string
  - {working: false, reason: x}
""")
    with pytest.raises(RulesError) as excinfo:
        load_calendar_overrides(path)
    found = problems(excinfo)
    assert ("overrides[0] (2027-01-01).reason", "缺少此项") in found
    assert ("overrides[1] (2027-01-02).working", "应为 true 或 false，实为 'no'") in found
    assert any(e.startswith("overrides[2]") and "日期有误" in m for e, m in found)
    assert ("overrides[3] (2027-01-04).reason", "应为文字，实为 7") in found
    assert ("overrides[4] (2027-01-05).note", "未知的键（可用：date, working, reason）") in found
    assert ("overrides[5]", "应为映射，实为 'just a string'") in found
    assert ("overrides[6].date", "缺少此项") in found
    assert len(found) == 7


def test_bad_top_level(tmp_path):
    with pytest.raises(RulesError) as excinfo:
        load_calendar_overrides(write(tmp_path, "overrides: {}\nconfirmed: [2027]\n"))
    assert sorted(e for e, _ in problems(excinfo)) == ["confirmed", "overrides"]
    with pytest.raises(RulesError):
        load_calendar_overrides(write(tmp_path, "- a list\n"))
    with pytest.raises(RulesError) as excinfo:
        load_calendar(write(tmp_path, "confirmed_years: [twenty]\n"))
    assert problems(excinfo) == [("confirmed_years[0]", "应为整数，实为 'twenty'")]


def test_unreadable_or_invalid_yaml(tmp_path):
    with pytest.raises(RulesError, match="文件不存在"):
        load_calendar_overrides(tmp_path / "missing.yaml")
    with pytest.raises(RulesError, match="不是有效的 YAML"):
        load_calendar_overrides(write(tmp_path, "overrides: [\n"))
