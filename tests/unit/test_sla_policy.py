import copy

import pytest
import yaml

from app.domain.sla_policy import Policy
from app.rules import load_policies
from app.rules_error import RulesError

GOOD = {
    "ack_days": 1,
    "types": {
        name: {"reply_days": days, "warn_before_days": warn, "max_extension_days": ext}
        for name, days, warn, ext in [
            ("consultation", 5, 1, 2), ("help", 5, 1, 2), ("complaint", 15, 3, 10),
            ("report", 15, 3, 10), ("suggestion", 15, 3, 10), ("evaluation", 15, 3, 10),
        ]
    },
}


def write(tmp_path, data):
    path = tmp_path / "clocks.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems(excinfo):
    return [(entry, message) for _file, entry, message in excinfo.value.problems]


def test_repository_defaults():
    policies = load_policies("routing_rules/clocks.yaml")
    assert policies.ack_days == 1
    assert policies.reply("consultation") == Policy("consultation", 5, 1, 2)
    assert policies.reply("help") == Policy("help", 5, 1, 2)
    assert policies.reply("consultation").max_total_days == 7
    for name in ("complaint", "report", "suggestion", "evaluation"):
        assert policies.reply(name) == Policy(name, 15, 3, 10)
    assert policies.types == ["consultation", "help", "complaint", "report", "suggestion",
                              "evaluation"]


def test_chinese_label_resolves_to_type():
    policies = load_policies("routing_rules/clocks.yaml")
    assert policies.resolve_type("咨询") == "consultation"
    assert policies.resolve_type("举报") == "report"
    assert policies.resolve_type("report") == "report"
    assert policies.resolve_type("表扬") is None
    assert policies.reply("evaluation").label == "评议"


def test_unknown_type_lookup_raises_key_error():
    with pytest.raises(KeyError, match="unknown appeal type"):
        load_policies("routing_rules/clocks.yaml").reply("praise")


def test_missing_type_is_named(tmp_path):
    data = copy.deepcopy(GOOD)
    del data["types"]["help"]
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, data))
    assert excinfo.value.problems == [
        (str(tmp_path / "clocks.yaml"), "types.help", "缺少该诉求类型的时限")]


def test_negative_numbers_and_wrong_types_are_named(tmp_path):
    data = copy.deepcopy(GOOD)
    data["ack_days"] = -1
    data["types"]["complaint"]["max_extension_days"] = -3
    data["types"]["report"]["reply_days"] = "15"
    data["types"]["suggestion"]["warn_before_days"] = True
    data["types"]["evaluation"]["reply_days"] = 0
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, data))
    assert problems(excinfo) == [
        ("ack_days", "应不小于 0，实为 -1"),
        ("types.complaint.max_extension_days", "应不小于 0，实为 -3"),
        ("types.report.reply_days", "应为整数，实为 '15'"),
        ("types.suggestion.warn_before_days", "应为整数，实为 True"),
        ("types.evaluation.reply_days", "应不小于 1，实为 0"),
    ]


def test_unknown_keys_and_types_are_named(tmp_path):
    data = copy.deepcopy(GOOD)
    data["timezone"] = "UTC"
    data["types"]["praise"] = {"reply_days": 3}
    data["types"]["help"]["reply_hours"] = 4
    del data["types"]["consultation"]["warn_before_days"]
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, data))
    found = problems(excinfo)
    assert ("timezone", "未知的键（可用：ack_days, rating_window_days, followup_share, "
            "followup_window_days, followup_attempts, types）") in found
    assert ("types.consultation.warn_before_days", "缺少此项") in found
    assert ("types.help.reply_hours",
            "未知的键（可用：reply_days, warn_before_days, max_extension_days）") in found
    assert any(e == "types.praise" and m.startswith("应为 'consultation'") for e, m in found)


def test_warning_must_fall_inside_the_window(tmp_path):
    data = copy.deepcopy(GOOD)
    data["types"]["help"]["warn_before_days"] = 5
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, data))
    assert problems(excinfo) == [("types.help", "warn_before_days 必须小于 reply_days")]


def test_missing_ack_and_types(tmp_path):
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, {"types": None}))
    assert problems(excinfo) == [("ack_days", "缺少此项"), ("types", "缺少此项")]


def test_not_a_mapping_or_unreadable(tmp_path):
    path = tmp_path / "clocks.yaml"
    path.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(RulesError, match="应为映射"):
        load_policies(path)
    with pytest.raises(RulesError, match="文件不存在"):
        load_policies(tmp_path / "nope.yaml")


def test_rating_window_defaults_to_seven_days_and_refuses_zero(tmp_path):
    assert load_policies("routing_rules/clocks.yaml").rating_window_days == 7
    assert load_policies(write(tmp_path, GOOD)).rating_window_days == 7
    with pytest.raises(RulesError) as excinfo:
        load_policies(write(tmp_path, {**GOOD, "rating_window_days": 0}))
    assert problems(excinfo) == [("rating_window_days", "应不小于 1，实为 0")]
