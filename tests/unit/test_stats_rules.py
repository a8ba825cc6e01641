"""routing_rules/detectors.yaml `stats:`: the minimum volume for a department to be ranked."""

import shutil

import pytest

from app.rules import load_rules
from app.rules_error import RulesError
from app.settings import ROOT


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def test_the_shipped_minimum_volume_is_ten(rules):
    assert rules.detectors.stats_min_volume == 10


def test_the_minimum_volume_is_read_from_the_stats_section(rules_copy):
    (rules_copy / "detectors.yaml").write_text("stats:\n  min_volume: 3\n", encoding="utf-8")
    assert load_rules(rules_copy).detectors.stats_min_volume == 3


def test_a_minimum_volume_below_one_is_refused_with_its_entry(rules_copy):
    (rules_copy / "detectors.yaml").write_text("stats:\n  min_volume: 0\n", encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(rules_copy)
    assert "min_volume" in str(refused.value)
