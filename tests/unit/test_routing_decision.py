import dataclasses

from app.domain.routing import NEAR_TIE_RESIDENT_DECIDES, Candidate, decide


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


def _with_margin(rules, margin=0.10):
    return dataclasses.replace(rules, routing=dataclasses.replace(
        rules.routing, near_tie_margin=margin))


NEAR_TIE = [Candidate("城乡建设", 0.46, ["路灯"]), Candidate("交通运输", 0.40, ["道路"]),
            Candidate("环境保护", 0.10, [])]


def test_near_tie_with_no_resident_category_waits_in_triage(rules):
    d = _decide(_with_margin(rules), candidates=NEAR_TIE)
    assert d.department_code is None and not d.confident
    assert "两个类别得分接近" in d.reason and "人工" in d.reason


def test_near_tie_goes_to_triage_when_the_resident_chose_neither_of_the_two(rules):
    # The resident chose a third category: neither of the two the model cannot separate.
    d = _decide(_with_margin(rules), candidates=NEAR_TIE, category="环境保护")
    assert d.department_code is None and not d.confident
    assert "人工" in d.reason


def test_near_tie_is_decided_by_the_resident_choosing_the_second(rules):
    d = _decide(_with_margin(rules), candidates=NEAR_TIE, category="交通运输")
    assert (d.department_code, d.category, d.confident) == ("990100-jiaotong", "交通运输", True)
    assert d.reason.startswith(NEAR_TIE_RESIDENT_DECIDES)


def test_near_tie_is_decided_by_the_resident_choosing_the_first_and_says_so(rules):
    d = _decide(_with_margin(rules), candidates=NEAR_TIE, category="城乡建设")
    assert (d.department_code, d.category) == ("990100-zhujian", "城乡建设")
    assert NEAR_TIE_RESIDENT_DECIDES in d.reason and "自动分类" not in d.reason


def test_a_gap_at_the_margin_is_no_tie(rules):
    apart = [Candidate("城乡建设", 0.50, []), Candidate("交通运输", 0.375, [])]
    strict = dataclasses.replace(rules.routing, near_tie_margin=0.125, confidence_threshold=1.0)
    d = _decide(dataclasses.replace(rules, routing=strict), candidates=apart,
                category="交通运输")
    # Not a tie: the ordinary rule applies, and an unsure top one the resident did not choose
    # waits in triage (the resident's second choice does not decide).
    assert d.department_code is None and "把握不足" in d.reason


def test_just_inside_the_margin_is_a_tie_the_resident_decides(rules):
    close = [Candidate("城乡建设", 0.50, []), Candidate("交通运输", 0.376, [])]
    strict = dataclasses.replace(rules.routing, near_tie_margin=0.125, confidence_threshold=1.0)
    d = _decide(dataclasses.replace(rules, routing=strict), candidates=close,
                category="交通运输")
    assert d.department_code == "990100-jiaotong"


def test_no_margin_means_no_tie_rule(rules):
    d = _decide(_with_margin(rules, 0.0), candidates=NEAR_TIE, category="城乡建设")
    assert d.department_code == "990100-zhujian" and "自动分类" in d.reason


def test_routing_rules_configure_a_near_tie_margin(rules):
    assert 0 < rules.routing.near_tie_margin < 0.5


def test_near_tie_reason_is_kept_in_the_stored_record(rules):
    d = _decide(_with_margin(rules), candidates=NEAR_TIE, category="交通运输")
    assert d.as_record("m-1", rules.hash)["reason"].startswith(NEAR_TIE_RESIDENT_DECIDES)
