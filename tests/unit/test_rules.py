import shutil
from datetime import date

import pytest

from app.cli import main
from app.rules import load_rules
from app.rules_error import RulesError
from app.settings import ROOT, Settings, SettingsError


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", target)
    return target


def test_shipped_rules_have_the_demo_province(rules):
    levels = [r.level for r in rules.regions.values()]
    assert levels.count("province") == 1
    assert levels.count("city") >= 2 and levels.count("county") >= 3
    kinds = {d.kind for d in rules.departments.values()}
    assert {"zhujian", "renshe", "jiaoyu", "weijian", "shengtai", "jiaotong", "shangwu", "wenlv",
            "nongye", "gongan", "shichang", "minzheng", "ziranziyuan", "jiwei"} <= kinds
    assert len(rules.categories) == 15


def test_broken_entry_is_named_with_its_file(rules_copy):
    text = (rules_copy / "routing.yaml").read_text(encoding="utf-8")
    (rules_copy / "routing.yaml").write_text(
        text.replace("城乡建设: zhujian", "城乡建设: nosuchkind"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert ("routing.yaml", "category_department.城乡建设", "未知部门类型 nosuchkind") \
        in caught.value.problems


def test_duplicate_region_code_is_refused(rules_copy):
    text = (rules_copy / "regions.yaml").read_text(encoding="utf-8")
    (rules_copy / "regions.yaml").write_text(text.replace('"990222"', '"990221"'),
                                             encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert any(f == "regions.yaml" and "990221" in m for f, _, m in caught.value.problems)


def test_unparsable_yaml_names_the_file(rules_copy):
    (rules_copy / "categories.yaml").write_text("categories: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert caught.value.problems[0][0] == "categories.yaml"


def test_unknown_keys_are_refused_naming_file_and_entry(rules_copy):
    text = (rules_copy / "routing.yaml").read_text(encoding="utf-8")
    (rules_copy / "routing.yaml").write_text(
        text.replace("  - name: 食品安全\n", "  - name: 食品安全\n    colour: red\n"),
        encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert caught.value.problems == [
        ("routing.yaml", "keyword_rules[1] (食品安全).colour",
         "未知的键（可用：name, any, department, category）")]


def test_problems_in_several_files_are_all_listed(rules_copy):
    def edit(name, old, new):
        text = (rules_copy / name).read_text(encoding="utf-8")
        assert old in text
        (rules_copy / name).write_text(text.replace(old, new, 1), encoding="utf-8")

    edit("regions.yaml", "level: city", "level: county")
    edit("routing.yaml", "confidence_threshold: 0.87", 'confidence_threshold: "high"')
    edit("clocks.yaml", "reply_days: 5", "reply_days: 0")
    edit("hot_topics.yaml", "  - 医保报销", "  - [医保, 报销]")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert caught.value.problems == [
        ("regions.yaml", "regions[0] (990000).children[0] (990100)", "level 应为 city，实为 county"),
        ("routing.yaml", "confidence_threshold", "应为数字，实为 'high'"),
        ("clocks.yaml", "types.consultation.reply_days", "应不小于 1，实为 0"),
        ("hot_topics.yaml", "hot_topics[5]", "应为文字，实为 ['医保', '报销']"),
    ]


def test_a_near_tie_margin_above_one_is_refused(rules_copy):
    text = (rules_copy / "routing.yaml").read_text(encoding="utf-8")
    assert "near_tie_margin: 0.10" in text
    (rules_copy / "routing.yaml").write_text(
        text.replace("near_tie_margin: 0.10", "near_tie_margin: 1.5"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(rules_copy)
    assert [(f, key) for f, key, _ in caught.value.problems] == [
        ("routing.yaml", "near_tie_margin")]


def test_a_key_left_empty_means_none(rules_copy):
    (rules_copy / "calendar.yaml").write_text("confirmed_years:\noverrides:\n", encoding="utf-8")
    assert load_rules(rules_copy).calendar.day(date(2027, 1, 1)).provisional


def test_rules_check_command_exits_1_and_lists_problems(rules_copy, capsys):
    (rules_copy / "routing.yaml").write_text("confidence_threshold: 7\nreports_to: jiwei\n",
                                             encoding="utf-8")
    assert main(["rules", "check", "--rules", str(rules_copy)]) == 1
    err = capsys.readouterr().err
    assert "routing.yaml: confidence_threshold:" in err


def test_rules_check_command_passes_on_shipped_rules(capsys):
    assert main(["rules", "check", "--rules", str(ROOT / "routing_rules")]) == 0
    assert "规则无误" in capsys.readouterr().out


def test_production_refuses_to_start_without_a_secret():
    with pytest.raises(SettingsError):
        Settings.from_env({})
    with pytest.raises(SettingsError):
        Settings.from_env({"SECRET_KEY": "short"})
    assert Settings.from_env({"SECRET_KEY": "x" * 40}).secret_key == "x" * 40
    assert Settings.from_env({"MINSHENG_DEV": "1"}).dev_mode


def test_classifier_processes_setting_refuses_nonsense():
    dev = {"MINSHENG_DEV": "1"}
    assert Settings.from_env(dev).classifier_processes == 1
    assert Settings.from_env({**dev, "MINSHENG_CLASSIFIER_PROCESSES": "0"}).classifier_processes == 0
    for bad in ("two", "-1"):
        with pytest.raises(SettingsError, match="MINSHENG_CLASSIFIER_PROCESSES"):
            Settings.from_env({**dev, "MINSHENG_CLASSIFIER_PROCESSES": bad})


def test_default_database_is_a_sqlite_file_under_var():
    settings = Settings.from_env({"MINSHENG_DEV": "1"})
    assert settings.database_url.startswith("sqlite://")
    assert settings.database_url.endswith("var/minsheng.sqlite3")


def test_mail_addresses_longer_than_the_column_are_refused(rules):
    from app.services.errors import ValidationFailed
    from app.services.intake import validate
    from tests.conftest import GOOD_APPEAL

    long_mail = "a" * 64 + "@" + "b" * 185 + ".cn"  # 253 characters: fits
    assert validate({**GOOD_APPEAL, "contact_email": long_mail}, rules).contact_email
    with pytest.raises(ValidationFailed) as caught:
        validate({**GOOD_APPEAL, "contact_email": "a" * 64 + "@" + "b" * 190 + ".cn"}, rules)
    assert "contact_email" in caught.value.errors


def test_a_broken_rules_file_stops_serve_with_file_and_entry(rules_copy):
    import os
    import subprocess
    import sys

    text = (rules_copy / "routing.yaml").read_text(encoding="utf-8")
    (rules_copy / "routing.yaml").write_text(text.replace("教育文体: jiaoyu", "教育文体: nowhere"),
                                             encoding="utf-8")
    env = {**os.environ, "MINSHENG_DEV": "1", "MINSHENG_RULES_DIR": str(rules_copy)}
    run = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "1"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode != 0
    assert "routing.yaml: category_department.教育文体: 未知部门类型 nowhere" in run.stderr


def test_serve_refuses_the_default_secret_outside_development():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("MINSHENG_DEV", "SECRET_KEY")}
    run = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "1"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode != 0 and "SECRET_KEY" in run.stderr
