from app.domain.routing import Candidate, decide


def _decide(rules, **kw):
    base = {"appeal_type": "complaint", "region_code": "990100", "text": "路灯坏了很久没人修"}
    return decide(rules, **{**base, **kw})


def test_resident_category_routes_to_its_department_without_a_model(rules):
    d = _decide(rules, category="城乡建设")
    assert (d.department_code, d.confident) == ("990100-zhujian", True)


def test_county_without_the_department_falls_back_to_the_city(rules):
    d = _decide(rules, region_code="990222", category="环境保护")
    assert d.department_code == "990200-shengtai"


def test_level_override_sends_county_economy_to_the_government_office(rules):
    d = _decide(rules, region_code="990121", category="经济管理")
    assert d.department_code == "990121-zhengfuban"


def test_keyword_rule_overrides_the_category(rules):
    d = _decide(rules, category="城乡建设", text="工地老板拖欠农民工工资三个月")
    assert d.department_code == "990100-renshe"
    assert d.keyword_rule == "拖欠农民工工资"
    assert d.category == "劳动和社会保障"


def test_report_is_never_routed_to_the_unit_it_names_even_when_the_model_is_sure(rules):
    sure = [Candidate("城乡建设", 0.99, ["住建局"])]
    d = _decide(rules, appeal_type="report", category="城乡建设", candidates=sure,
                named_unit="990100-zhujian", text="住建局某科长收受开发商贿赂，拖欠农民工工资")
    assert d.department_code == "990100-jiwei"
    assert d.vetoed == "990100-zhujian"


def test_report_naming_the_discipline_body_goes_one_level_up(rules):
    d = _decide(rules, appeal_type="report", named_unit="990100-jiwei")
    assert d.department_code == "990000-jiwei"


def test_unsure_prediction_waits_in_triage(rules):
    unsure = [Candidate("城乡建设", 0.30, []), Candidate("交通运输", 0.28, [])]
    d = _decide(rules, candidates=unsure)
    assert d.department_code is None and not d.confident


def test_unsure_prediction_agreeing_with_the_resident_is_dispatched(rules):
    unsure = [Candidate("交通运输", 0.40, ["公交"])]
    d = _decide(rules, candidates=unsure, category="交通运输")
    assert d.department_code == "990100-jiaotong" and d.confident


def test_confident_prediction_beats_the_resident_category(rules):
    sure = [Candidate("教育文体", 0.91, ["学校"])]
    d = _decide(rules, candidates=sure, category="交通运输")
    assert d.department_code == "990100-jiaoyu"


def test_no_category_and_no_model_waits_in_triage(rules):
    d = _decide(rules)
    assert d.department_code is None and "人工" in d.reason


def test_record_keeps_model_version_rules_hash_and_candidates(rules):
    d = _decide(rules, candidates=[Candidate("城乡建设", 0.8, ["路灯"])])
    record = d.as_record("m-1", rules.hash)
    assert record["model_version"] == "m-1"
    assert record["rules_hash"] == rules.hash
    assert record["candidates"][0] == {"category": "城乡建设", "probability": 0.8,
                                       "words": ["路灯"]}
