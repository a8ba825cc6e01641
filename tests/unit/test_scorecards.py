"""The public scorecards' rules without a database: which period a query names, and how a
small cell or a rate over too few appeals is shown (app.services.scorecards)."""

import shutil
from datetime import UTC, date, datetime

import pytest

from app.rules import load_rules
from app.rules_error import RulesError
from app.services import scorecards, stats
from app.settings import ROOT

NOW = datetime(2026, 5, 20, 4, tzinfo=UTC)  # 2026-05-20 in Beijing


@pytest.mark.parametrize(("asked", "key", "start", "end"), [
    ("", "2026-04", date(2026, 4, 1), date(2026, 4, 30)),  # the last full month
    ("2026-02", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-05", "2026-05", date(2026, 5, 1), date(2026, 5, 20)),  # in progress: up to today
    ("2025", "2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2026", "2026", date(2026, 1, 1), date(2026, 5, 20)),
])
def test_a_period_is_a_month_or_a_year_never_past_today(asked, key, start, end):
    period, error = scorecards.period_of(asked, NOW)
    assert error is None
    assert (period.key, period.start, period.end) == (key, start, end)


@pytest.mark.parametrize("asked", ["2026-06", "2027", "1999", "2026-13", "2026-5", "五月",
                                   "2026-05-01"])
def test_a_period_that_cannot_be_used_falls_back_to_last_month_with_a_message(asked):
    period, error = scorecards.period_of(asked, NOW)
    assert period.key == "2026-04" and "已显示上月" in error


def test_counts_under_the_threshold_read_less_than_it():
    assert [scorecards.count_text(n, 5) for n in (0, 1, 4, 5, 120)] == \
        ["0", "<5", "<5", "5", "120"]


def _row(**counts) -> stats.Row:
    every = {f.key: 0 for f in stats.FIGURES}
    return stats.Row(1, "某局", "x", {**every, **counts}, mean_days=3.25)


def test_a_rate_or_a_mean_over_fewer_appeals_than_the_threshold_is_not_shown():
    few = _row(received=4, due=4, reply_on_time=4, rated=3, satisfied=3, replied=4)
    assert scorecards.line(few, 5) == scorecards.Line("不参与排名", "某局", "<5", "—", "—",
                                                      "—")
    many = _row(received=40, due=20, reply_on_time=15, rated=4, satisfied=4, replied=20)
    shown = scorecards.line(many, 5)
    assert (shown.received, shown.on_time, shown.mean_days, shown.satisfaction) == \
        ("40", "75.0%", "3.2", "—")


def test_a_small_month_is_drawn_as_an_empty_bar_labelled_less_than_the_threshold():
    scope = stats.StatsScope(date(2026, 1, 1), date(2026, 3, 31))
    months = [stats.Month("2026-01", scope, 3, 3, 3), stats.Month("2026-02", scope, 40, 20, 25),
              stats.Month("2026-03", scope, 30, 20, 25)]
    (small, small_label), (big, big_label), (hidden, hidden_label) = \
        scorecards.month_bars(months, 5)
    assert small.height == 0 and small_label == "<5"
    assert big.height == stats.CHART_HEIGHT and big_label == "40"
    # The year's total minus 40 would give the small month: the smallest other goes too.
    assert hidden.height == 0 and hidden_label == "—"
    assert [m.received for m in scorecards.month_lines(months, 5)] == ["<5", "40", "—"]
    assert scorecards.month_line(months[0], 5).on_time == "—"
    assert scorecards.month_line(months[1], 5).on_time == "80.0%"


def test_the_public_threshold_is_read_from_the_stats_section(tmp_path, rules):
    assert rules.detectors.public_min_cell == 5
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    (target / "detectors.yaml").write_text("stats:\n  public_min_cell: 10\n", encoding="utf-8")
    assert load_rules(target).detectors.public_min_cell == 10
    (target / "detectors.yaml").write_text("stats:\n  public_min_cell: 0\n", encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(target)
    assert "public_min_cell" in str(refused.value)
