"""The head's review of replies (审核) is data: a `review` list of department kinds per
region in routing_rules/regions.yaml, off by default."""

from __future__ import annotations

import shutil

import pytest

from app.rules import RulesError, load_rules
from app.settings import ROOT

CITY = '        heads: {zhujian: 李建国, renshe: 王秀兰, jiwei: 赵正}\n'


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def _with(rules_copy, line: str) -> None:
    path = rules_copy / "regions.yaml"
    text = path.read_text(encoding="utf-8")
    assert CITY in text
    path.write_text(text.replace(CITY, CITY + line), encoding="utf-8")


def test_no_department_reviews_replies_by_default(rules):
    assert not any(spec.review for spec in rules.departments.values())


def test_a_region_names_the_departments_whose_replies_its_heads_approve(rules_copy):
    _with(rules_copy, "        review: [zhujian]\n")
    loaded = load_rules(rules_copy)
    assert loaded.departments["990100-zhujian"].review
    assert not loaded.departments["990100-jiaoyu"].review
    assert not loaded.departments["990000-zhujian"].review  # per department, not per kind


def test_review_of_a_kind_the_region_does_not_have_is_refused(rules_copy):
    _with(rules_copy, "        review: [nosuch]\n")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert any(f == "regions.yaml" and where.endswith(".review") and "nosuch" in message
               for f, where, message in caught.value.problems)
