"""`classifier train|evaluate|predict` through argparse, on CSV files the tests write."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from classifier.cli import add_subcommands, main

CORPUS = {
    "交通运输": [
        "公交车司机开车太猛，老人在车上摔倒", "建议增开公交线路，早高峰公交车挤不上",
        "出租车拒载还绕路，请运管部门处理", "公交站台被取消，乘客要走很远坐公交车",
        "客运班车不按时发车，乘客等了一个小时", "出租车司机不打表，乱收乘客车费",
    ],
    "教育文体": [
        "学校违规补课收费，学生家长负担重", "孩子上学划片不合理，学校离家太远",
        "幼儿园学费太贵，希望开办普惠幼儿园", "老师课堂上体罚学生，学校不处理",
        "乡村学校教师工资被拖欠", "培训机构关门，学生的学费退不回来",
    ],
    "环境保护": [
        "化工厂晚上偷排废气，小区居民闻到刺鼻气味", "养猪场污水直排河里，河水发黑发臭",
        "烧烤店油烟扰民，窗户都不敢开", "工地夜间施工噪音太大，居民无法睡觉",
        "搅拌站粉尘污染，附近菜地一层白灰", "电镀厂偷排废水污染河流",
    ],
}


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    rows = [[text[:6], text, label] for label, texts in CORPUS.items() for text in texts]
    folder = tmp_path_factory.mktemp("data")
    return write_csv(folder / "train.csv", ["title", "detail", "label"], rows)


@pytest.fixture(scope="module")
def model_dir(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    assert main(["train", "--data", str(data), "--out", str(out)]) == 0
    return out


def test_train_writes_a_model_folder_and_reports_cross_validation(data, tmp_path, capsys):
    assert main(["train", "--data", str(data), "--cv", "2", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "cross-validated (2 folds" in out and "macro-F1" in out
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["n_examples"] == sum(len(t) for t in CORPUS.values())
    assert (tmp_path / "m" / "model.joblib").is_file()


def test_train_measures_nothing_unless_asked_and_refuses_one_fold(data, tmp_path, capsys):
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "m")]) == 0
    assert "cross-validated" not in capsys.readouterr().out
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["cv_metrics"] is None
    assert main(["train", "--data", str(data), "--cv", "1", "--out", str(tmp_path / "n")]) != 0
    assert_plain_error(capsys, "--cv needs at least 2 folds")
    assert not (tmp_path / "n").exists()


def test_train_joins_several_files_and_a_missing_text_column_counts_as_empty(data, tmp_path):
    titles = write_csv(tmp_path / "titles.csv", ["title", "label"], [["公交车拒载", "交通运输"]])
    out = tmp_path / "m"
    assert main(["train", "--data", str(data), "--data", str(titles), "--out", str(out)]) == 0
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["label_counts"]["交通运输"] == len(CORPUS["交通运输"]) + 1


def test_train_takes_other_text_and_label_columns(tmp_path):
    rows = [[text, label] for label, texts in CORPUS.items() for text in texts]
    path = write_csv(tmp_path / "x.csv", ["内容", "类别"], rows)
    argv = ["train", "--data", str(path), "--text-cols", "内容", "--label-col", "类别",
            "--no-cv", "--out", str(tmp_path / "m")]
    assert main(argv) == 0


def assert_plain_error(capsys, *needles: str) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("错误 error:")
    for needle in needles:
        assert needle in err


def test_train_reports_a_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["train", "--data", str(missing), "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "file not found", str(missing))
    assert not (tmp_path / "m").exists()


def test_train_reports_a_missing_label_column(tmp_path, capsys):
    rows = [["公交", "晚点", "交通运输"]]
    path = write_csv(tmp_path / "a.csv", ["title", "detail", "类别"], rows)
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "missing label column", "label")


def test_train_reports_an_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "empty file")


def test_train_reports_a_file_with_a_header_and_no_rows(tmp_path, capsys):
    path = write_csv(tmp_path / "h.csv", ["title", "detail", "label"], [])
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "no labelled examples")


def test_train_reports_a_file_that_is_not_utf8(tmp_path, capsys):
    rows = [["公交车晚点", "等了一个小时", "交通运输"]] * 3
    path = write_csv(tmp_path / "gbk.csv", ["title", "detail", "label"], rows, encoding="gbk")
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "not UTF-8")


def test_train_without_data_is_refused(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "m")]) != 0
    assert_plain_error(capsys, "--data")


def test_evaluate_json_prints_one_object_with_the_agreed_keys(model_dir, data, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_dir), "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"n", "accuracy", "macro_f1", "per_class", "confusion"} <= set(report)
    assert report["n"] == sum(len(t) for t in CORPUS.values())
    assert set(report["per_class"]) == set(CORPUS)
    for row in report["per_class"].values():
        assert set(row) == {"precision", "recall", "f1", "support"}
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    assert len(matrix) == len(labels) and all(len(r) == len(labels) for r in matrix)
    assert sum(map(sum, matrix)) == report["n"]


def test_evaluate_prints_a_table_without_json(model_dir, data, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_dir), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out
    assert all(label in out for label in CORPUS)


def test_evaluate_json_holds_the_reliability_table_and_the_precision_coverage_curve(
    model_dir, data, capsys
):
    capsys.readouterr()
    argv = ["evaluate", "--model", str(model_dir), "--data", str(data), "--json", "--goal", "0.5"]
    assert main(argv) == 0
    confidence = json.loads(capsys.readouterr().out)["confidence"]
    table = confidence["reliability"]
    assert [(r["lower"], r["upper"]) for r in table][:2] == [(0.0, 0.1), (0.1, 0.2)]
    assert sum(r["count"] for r in table) == sum(len(t) for t in CORPUS.values())
    for row in table:
        assert set(row) == {"lower", "upper", "count", "mean_confidence", "accuracy"}
        if row["count"]:
            assert row["lower"] < row["mean_confidence"] <= row["upper"]
    assert 0 <= confidence["ece"] <= 1
    curve = confidence["curve"]
    thresholds = [r["threshold"] for r in curve]
    assert thresholds == sorted(thresholds) and thresholds[0] <= 0.55 and thresholds[-1] >= 0.95
    coverages = [r["coverage"] for r in curve]
    assert coverages == sorted(coverages, reverse=True)  # a higher bar routes fewer
    assert confidence["goal"] == 0.5
    best = confidence["threshold_for_goal"]
    assert best in curve and best["precision"] >= 0.5
    below = [r for r in curve if r["threshold"] < best["threshold"] and r["precision"] is not None]
    assert all(r["precision"] < 0.5 for r in below)


def test_evaluate_prints_the_curve_and_the_threshold_for_the_goal(model_dir, data, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_dir), "--data", str(data), "--goal", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "expected calibration error" in out
    assert "threshold  precision  coverage" in out
    assert "confidence_threshold: " in out


def test_evaluate_says_when_no_threshold_reaches_the_goal(model_dir, data, tmp_path, capsys):
    # Every text labelled with one category the model never predicts for most of them.
    rows = [[t[:6], t, "交通运输"] for texts in CORPUS.values() for t in texts]
    wrong = write_csv(tmp_path / "wrong.csv", ["title", "detail", "label"], rows)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_dir), "--data", str(wrong), "--goal", "1"]) == 0
    assert "no threshold reaches precision 1.00" in capsys.readouterr().out


def test_evaluate_refuses_a_goal_out_of_range(model_dir, data, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", str(model_dir), "--data", str(data), "--goal", "1.5"])
    assert "--goal" in capsys.readouterr().err


def test_evaluate_by_grouped_cross_validation_needs_no_model(data, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--cv", "2", "--data", str(data), "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["folds"] == 2
    assert report["n"] == 2 * sum(len(t) for t in CORPUS.values())
    assert sum(r["count"] for r in report["confidence"]["reliability"]) == report["n"]


def test_evaluate_wants_a_model_or_cross_validation_but_not_both(model_dir, data, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--data", str(data)])
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", str(model_dir), "--cv", "2", "--data", str(data)])


def test_evaluate_reports_a_missing_model(tmp_path, data, capsys):
    assert main(["evaluate", "--model", str(tmp_path), "--data", str(data)]) != 0
    assert_plain_error(capsys, "minsheng classifier train")


def test_predict_prints_three_ranked_categories_with_words(model_dir, capsys):
    capsys.readouterr()
    text = "出租车司机拒载还绕路"
    assert main(["predict", "--model", str(model_dir), text]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    fields = [line.split("\t") for line in lines]
    assert fields[0][0] == "1. 交通运输"
    probabilities = [float(f[1]) for f in fields]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(word in text for word in fields[0][2].split())


def test_predict_refuses_an_empty_text(model_dir, capsys):
    assert main(["predict", "--model", str(model_dir), "  "]) != 0
    assert_plain_error(capsys, "empty")


def test_add_subcommands_registers_the_group_and_from_db_adds_examples(data, tmp_path):
    parser = argparse.ArgumentParser(prog="minsheng")
    subparsers = parser.add_subparsers(dest="command", required=True)
    extra = [("公交车又晚点了，等了四十分钟", "交通运输")] * 2 + [("低保评定不公平", "民政")] * 3
    add_subcommands(subparsers, from_db=lambda: iter(extra))
    out = tmp_path / "m"
    args = parser.parse_args(
        ["classifier", "train", "--from-db", "--data", str(data), "--no-cv", "--out", str(out)]
    )
    assert args.func(args) == 0
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["label_counts"]["民政"] == 3
    assert meta["label_counts"]["交通运输"] == len(CORPUS["交通运输"]) + 2


def test_from_db_flag_is_absent_without_a_source():
    parser = argparse.ArgumentParser(prog="minsheng")
    add_subcommands(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["classifier", "train", "--from-db", "--out", "x"])
