"""routing.yaml `retrain:` (issue 14.5): the worker's schedule, validated like the other rules."""

import shutil

import pytest

from app.domain.rules import RetrainPolicy
from app.rules import load_rules
from app.rules_error import RulesError
from app.settings import ROOT

SHIPPED = "retrain:\n  every_days: 7\n  min_examples: 200\n"


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def _edit(folder, new: str) -> None:
    path = folder / "routing.yaml"
    text = path.read_text(encoding="utf-8")
    assert SHIPPED in text
    path.write_text(text.replace(SHIPPED, new), encoding="utf-8")


def test_shipped_schedule():
    assert load_rules(ROOT / "routing_rules").routing.retrain == RetrainPolicy(7, 200)


def test_schedule_is_read_and_defaults_apply(rules_copy):
    _edit(rules_copy, "retrain:\n  every_days: 0\n  min_examples: 50\n")
    assert load_rules(rules_copy).routing.retrain == RetrainPolicy(0, 50)
    path = rules_copy / "routing.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "retrain:\n  every_days: 0\n  min_examples: 50\n", ""), encoding="utf-8")
    assert load_rules(rules_copy).routing.retrain == RetrainPolicy()


@pytest.mark.parametrize("bad, entry", [
    ("retrain:\n  every_days: -1\n", "retrain.every_days"),
    ("retrain:\n  min_examples: 3\n", "retrain.min_examples"),
    ("retrain:\n  every_weeks: 1\n", "retrain.every_weeks"),
])
def test_bad_schedule_is_refused_with_its_entry(rules_copy, bad, entry):
    _edit(rules_copy, bad)
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert any(f == "routing.yaml" and e == entry for f, e, _ in caught.value.problems), \
        caught.value.problems
