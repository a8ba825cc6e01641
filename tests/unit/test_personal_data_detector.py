"""The one detector of personal data in free text (app.domain.masking.find_personal_data):
what staff see masked and what the public side redacts; and the reveal limit's rule."""

import shutil

import pytest

from app.domain.masking import find_personal_data, mask_free_text
from app.rules import load_rules
from app.rules_error import RulesError
from app.settings import ROOT

TEXT = ("电话13987654321，座机010-87654321，邮箱zhang.wei@example.org，"
        "身份证11010519800101123X，编号MS20261201-000001，金额12345元")


def test_every_kind_is_found_in_order_with_its_place():
    found = find_personal_data(TEXT)
    assert [(f.kind, f.value) for f in found] == [
        ("mobile", "13987654321"), ("landline", "010-87654321"),
        ("email", "zhang.wei@example.org"), ("id", "11010519800101123X")]
    for item in found:
        assert TEXT[item.start:item.end] == item.value


def test_masking_is_the_detector_applied():
    masked = mask_free_text(TEXT)
    assert masked == ("电话139****4321，座机010****4321，邮箱z***@example.org，"
                      "身份证110***********123X，编号MS20261201-000001，金额12345元")
    assert find_personal_data(masked) == []  # masking twice changes nothing


@pytest.mark.parametrize("text", ["", None, "没有联系方式的诉求"])
def test_nothing_found_in_text_without_contacts(text):
    assert find_personal_data(text) == []


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def test_the_daily_limit_of_reveals_is_read_and_defaults_to_20(rules, rules_copy):
    assert rules.detectors.reveal_daily_limit == 20
    (rules_copy / "detectors.yaml").write_text("reveals:\n  daily_limit: 5\n", encoding="utf-8")
    assert load_rules(rules_copy).detectors.reveal_daily_limit == 5
    (rules_copy / "detectors.yaml").write_text("period_days: 7\n", encoding="utf-8")
    assert load_rules(rules_copy).detectors.reveal_daily_limit == 20


def test_a_bad_daily_limit_is_named_with_file_and_entry(rules_copy):
    (rules_copy / "detectors.yaml").write_text("reveals:\n  daily_limit: 0\n", encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert caught.value.problems == [("detectors.yaml", "reveals.daily_limit",
                                      "应不小于 1，实为 0")]
