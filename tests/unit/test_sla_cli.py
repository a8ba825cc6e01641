import argparse
import json
import shutil
from pathlib import Path

from app.sla_cli import add_subcommands, main

RULES = Path(__file__).resolve().parents[2] / "routing_rules"


def run_json(capsys, *args):
    assert main(["sla", "due", "--json", "--rules", str(RULES), *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


def test_due_json_for_a_utc_input_on_national_day(capsys):
    result = run_json(capsys, "--type", "consultation", "--at", "2026-09-30T16:30Z")
    assert result["received_at"] == "2026-10-01T00:30:00+08:00"
    assert result["due_at"] == "2026-10-13T23:59:59.999999+08:00"
    assert result["warn_at"] == "2026-10-12T00:00:00+08:00"
    assert result["max_due_at"] == "2026-10-15T23:59:59.999999+08:00"
    assert result["ack_due_at"] == "2026-10-08T23:59:59.999999+08:00"
    assert result["provisional"] is False
    assert result["explanation"][0] == {
        "date": "2026-10-02", "kind": "skipped", "reason": "国庆节", "provisional": False}
    assert {"date": "2026-10-10", "kind": "counted", "reason": "调休上班（国庆节）",
            "provisional": False} in result["explanation"]
    assert [e["kind"] for e in result["explanation"]].count("counted") == 5


def test_due_json_complaint_by_chinese_label(capsys):
    result = run_json(capsys, "--type", "投诉", "--at", "2026-09-22T10:00:00+08:00")
    assert result["type"] == "complaint"
    assert result["due_at"] == "2026-10-20T23:59:59.999999+08:00"
    assert result["warn_at"] == "2026-10-15T00:00:00+08:00"
    assert result["max_due_at"] == "2026-11-03T23:59:59.999999+08:00"


def test_due_json_into_2027_is_provisional(capsys):
    result = run_json(capsys, "--type", "help", "--at", "2026-12-28T10:00+08:00")
    # 1 January 2027 is a statutory holiday entered in routing_rules/calendar.yaml
    assert result["due_at"] == "2027-01-05T23:59:59.999999+08:00"
    assert result["provisional"] is True


def test_naive_at_is_read_as_beijing_time(capsys):
    result = run_json(capsys, "--type", "consultation", "--at", "2026-09-29T23:30:00")
    assert result["due_at"] == "2026-10-12T23:59:59.999999+08:00"


def test_pause_option(capsys):
    result = run_json(capsys, "--type", "complaint", "--at", "2026-09-22T10:00+08:00",
                      "--pause", "2026-09-29T09:00+08:00/2026-10-09T15:00+08:00")
    assert result["due_at"] == "2026-10-23T23:59:59.999999+08:00"


def test_due_text_is_chinese(capsys):
    assert main(["sla", "due", "--type", "consultation", "--at", "2026-09-30T10:00+08:00",
                 "--rules", str(RULES)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "答复期限：2026-10-13 23:59:59" in out
    assert "  2026-10-01 国庆节 跳过" in out
    assert "  2026-10-13 工作日 计入（第5个工作日）" in out
    assert not any("暂定" in line for line in out)


def test_bad_type_exits_2(capsys):
    assert main(["sla", "due", "--type", "praise", "--at", "2026-09-30T10:00Z"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "unknown --type 'praise'" in err and "consultation (咨询)" in err


def test_bad_at_exits_2(capsys):
    assert main(["sla", "due", "--type", "help", "--at", "30/09/2026"]) == 2
    assert "bad --at '30/09/2026'" in capsys.readouterr().err


def test_bad_pause_exits_2(capsys):
    assert main(["sla", "due", "--type", "help", "--at", "2026-09-30T10:00Z",
                 "--pause", "2026-10-09T10:00Z/2026-10-01T10:00Z"]) == 2
    assert "ends before it begins" in capsys.readouterr().err


def test_missing_arguments_exit_2(capsys):
    assert main(["sla", "due", "--type", "help"]) == 2
    assert "--at" in capsys.readouterr().err


def test_bad_rules_exit_1(tmp_path, capsys):
    shutil.copy(RULES / "clocks.yaml", tmp_path / "clocks.yaml")
    (tmp_path / "calendar.yaml").write_text("overrides:\n  - {date: 2027-13-01}\n")
    assert main(["sla", "due", "--type", "help", "--at", "2026-09-30T10:00Z",
                 "--rules", str(tmp_path)]) == 1
    assert "overrides[0]" in capsys.readouterr().err


def test_rules_dir_without_calendar_uses_the_package_only(tmp_path, capsys):
    shutil.copy(RULES / "clocks.yaml", tmp_path / "clocks.yaml")
    assert main(["sla", "due", "--json", "--type", "help", "--at", "2026-12-28T10:00+08:00",
                 "--rules", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["due_at"].startswith("2027-01-04")


def test_add_subcommands_plugs_into_another_parser():
    parser = argparse.ArgumentParser()
    sla_commands = add_subcommands(parser.add_subparsers(dest="command"), RULES)
    sla_commands.add_parser("recompute")
    args = parser.parse_args(["sla", "due", "--type", "help", "--at", "2026-09-30T10:00Z"])
    assert args.rules == RULES and callable(args.func)
    assert parser.parse_args(["sla", "recompute"]).sla_command == "recompute"
