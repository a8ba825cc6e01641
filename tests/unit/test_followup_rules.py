"""回访 settings in routing_rules/clocks.yaml: read, checked, and the share chosen by id."""

import shutil

import pytest

from app.domain.sla_policy import FollowupPolicy
from app.models import Appeal
from app.rules import RulesError, load_rules
from app.services import followup
from app.settings import ROOT


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def test_the_shipped_rules_call_back_a_fifth_of_the_rest():
    policy = load_rules(ROOT / "routing_rules").policies.followup
    assert policy == FollowupPolicy(share=0.2, window_days=30, attempts=3)


def test_a_share_outside_zero_to_one_is_refused_naming_file_and_key(rules_copy):
    path = rules_copy / "clocks.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "followup_share: 0.2", "followup_share: 1.5"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert [(file, key) for file, key, _ in caught.value.problems] == [
        ("clocks.yaml", "followup_share")]


def test_complaints_and_reports_always_and_the_rest_by_id():
    policy = FollowupPolicy(share=0.2)
    assert followup.is_selected(Appeal(id=999, type="complaint"), policy)
    assert followup.is_selected(Appeal(id=999, type="report"), policy)
    assert followup.is_selected(Appeal(id=1199, type="consultation"), policy)  # 199 < 200
    assert not followup.is_selected(Appeal(id=1200, type="consultation"), policy)
    assert "a.id % 1000 < 200" in followup.selected(policy)
    assert not followup.is_selected(Appeal(id=1000, type="help"), FollowupPolicy(share=0))
