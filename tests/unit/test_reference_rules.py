"""The rules as documents: inactive departments in routing, the hash, export and the merge
`minsheng rules load` makes with the database's live rules. No database."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from app.domain.routing import decide
from app.rules import (
    dump_document,
    load_rules,
    read_documents,
    rules_from_documents,
)
from app.rules_error import RulesError
from app.services.rules_store import document_hash, merge
from app.settings import ROOT

RULES_DIR = ROOT / "routing_rules"


@pytest.fixture
def documents():
    return read_documents(RULES_DIR)


def _deactivate(documents, region: str, kind: str) -> dict:
    changed = copy.deepcopy(documents)
    stack = list(changed["regions.yaml"]["regions"])
    while stack:
        entry = stack.pop()
        if entry["code"] == region:
            entry["inactive"] = [kind]
        stack.extend(entry.get("children") or [])
    return changed


def test_the_same_rules_from_files_or_documents_have_the_same_version(documents):
    assert rules_from_documents(documents).hash == load_rules(RULES_DIR).hash


def test_an_inactive_department_sends_what_would_go_there_to_triage_saying_why(documents):
    rules = rules_from_documents(_deactivate(documents, "990100", "zhujian"))
    assert not rules.departments["990100-zhujian"].active
    by_category = decide(rules, appeal_type="complaint", region_code="990100",
                         text="小区道路破损", category="城乡建设")
    by_keyword = decide(rules, appeal_type="complaint", region_code="990100",
                        text="物业公司乱收费", category="城乡建设")
    for decision in (by_category, by_keyword):
        assert not decision.confident and decision.department_code is None
        assert "云州市住房和城乡建设局”已停用" in decision.reason
    assert by_keyword.keyword_rule == "物业纠纷"
    other = decide(rules, appeal_type="complaint", region_code="990102",
                   text="小区道路破损", category="城乡建设")
    assert other.department_code == "990102-zhujian"


def test_an_inactive_discipline_body_takes_no_report(documents):
    rules = rules_from_documents(_deactivate(documents, "990100", "jiwei"))
    decision = decide(rules, appeal_type="report", region_code="990100",
                      text="某局长收受红包", named_unit="990100-zhujian")
    assert decision.department_code is None and "已停用" in decision.reason


def test_only_a_kind_the_region_has_can_be_inactive(documents):
    documents["regions.yaml"]["regions"][0]["inactive"] = ["nosuch"]
    with pytest.raises(RulesError) as caught:
        rules_from_documents(documents)
    assert caught.value.problems == [
        ("regions.yaml", "regions[0] (990000).inactive", "nosuch 不是该区划的部门类型")]


def test_an_exported_document_reads_back_unchanged(documents, tmp_path):
    for name, data in documents.items():
        (tmp_path / name).write_text(dump_document(data, "导出\n第二行"), encoding="utf-8")
    assert read_documents(tmp_path) == documents
    assert load_rules(tmp_path).hash == load_rules(RULES_DIR).hash


def _head(live: dict, loaded: dict):
    return SimpleNamespace(documents=live,
                           files={name: document_hash(data) for name, data in loaded.items()})


def test_a_load_takes_file_changes_keeps_web_edits_and_refuses_where_both_changed(documents):
    web = copy.deepcopy(documents)
    web["hot_topics.yaml"]["hot_topics"].append("网页上加的")
    files = copy.deepcopy(documents)
    files["clocks.yaml"]["ack_days"] = 2

    found = merge(_head(web, documents), files)
    assert found.taken == ["clocks.yaml"] and found.kept == ["hot_topics.yaml"]
    assert found.conflicts == []
    assert found.documents["hot_topics.yaml"] == web["hot_topics.yaml"]
    assert found.documents["clocks.yaml"]["ack_days"] == 2

    files["hot_topics.yaml"]["hot_topics"] = ["文件里改的"]
    assert merge(_head(web, documents), files).conflicts == ["hot_topics.yaml"]


def test_a_load_of_what_was_exported_changes_nothing(documents):
    web = copy.deepcopy(documents)
    web["hot_topics.yaml"]["hot_topics"].append("网页上加的")
    found = merge(_head(web, documents), web)
    assert (found.taken, found.kept, found.conflicts) == ([], [], [])
    assert found.documents == web
