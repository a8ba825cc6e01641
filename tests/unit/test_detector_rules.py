"""routing_rules/detectors.yaml: the detectors' thresholds, checked like every rules file."""

import shutil

import pytest

from app.cli import main
from app.domain.rules import DetectorThresholds
from app.rules import load_rules
from app.rules_error import RulesError
from app.settings import ROOT


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def test_shipped_thresholds_are_read(rules):
    assert rules.detectors == DetectorThresholds(
        period_days=30, ping_pong_returns=2, ping_pong_departments=3, perfunctory_hours=24,
        perfunctory_chars=30, no_contact_reply_chars=50)


def test_without_the_file_the_defaults_apply(rules_copy):
    (rules_copy / "detectors.yaml").unlink()
    assert load_rules(rules_copy).detectors == DetectorThresholds()


def test_a_file_naming_only_some_thresholds_keeps_the_others(rules_copy):
    (rules_copy / "detectors.yaml").write_text("perfunctory:\n  max_hours: 4\n",
                                               encoding="utf-8")
    found = load_rules(rules_copy).detectors
    assert (found.perfunctory_hours, found.perfunctory_chars) == (4, 30)


def test_bad_thresholds_are_named_with_file_and_entry(rules_copy):
    (rules_copy / "detectors.yaml").write_text(
        "ping_pong:\n  min_returns: 0\n  colour: red\nperfunctory:\n  max_chars: many\n",
        encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert caught.value.problems == [
        ("detectors.yaml", "ping_pong.min_returns", "应不小于 1，实为 0"),
        ("detectors.yaml", "ping_pong.colour", "未知的键（可用：min_returns, min_departments）"),
        ("detectors.yaml", "perfunctory.max_chars", "应为整数，实为 'many'"),
    ]


def test_rules_check_reports_a_broken_detectors_file(rules_copy, capsys):
    (rules_copy / "detectors.yaml").write_text("period_days: -1\n", encoding="utf-8")
    assert main(["rules", "check", "--rules", str(rules_copy)]) == 1
    assert "detectors.yaml: period_days: 应不小于 1" in capsys.readouterr().err
