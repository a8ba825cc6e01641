"""`minsheng classifier train|evaluate|predict`, also runnable as `python -m classifier`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from classifier.model import ModelError, TrainedModel
from classifier.pipeline import Settings
from classifier.training import (
    DEFAULT_GOAL,
    DataError,
    cross_validated_report,
    evaluate,
    group_keys,
    read_csv_examples,
    train_model,
)

# Supplies extra (text, label) examples, e.g. the platform's corrected routes (`--from-db`).
ExampleSource = Callable[[], Iterable[tuple[str, str]]]


def add_subcommands(
    subparsers: argparse._SubParsersAction, from_db: ExampleSource | None = None,
    more: Callable[[argparse._SubParsersAction], None] | None = None,
) -> argparse.ArgumentParser:
    """Register `classifier train|evaluate|predict`; each sets `func(args) -> int` on args.
    `more` adds the app's own commands (retrain, rollback) next to them."""
    parser = subparsers.add_parser("classifier", help="train, evaluate and try the classifier")
    commands = _add_commands(parser, from_db)
    if more is not None:
        more(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifier", description=__doc__)
    _add_commands(parser, None)
    args = parser.parse_args(argv)
    return args.func(args)


def _add_commands(parser: argparse.ArgumentParser,
                  from_db: ExampleSource | None) -> argparse._SubParsersAction:
    commands = parser.add_subparsers(dest="classifier_command", required=True)

    train = commands.add_parser("train", help="train a model from labelled CSV files")
    train.add_argument("--data", action="append", default=[], metavar="FILE.csv",
                       help="UTF-8 CSV with text and label columns; repeat for several files")
    train.add_argument("--text-cols", default="title,detail",
                       help="comma-separated text columns, joined (default: title,detail)")
    train.add_argument("--label-col", default="label", help="label column (default: label)")
    train.add_argument("--out", required=True, metavar="DIR", help="folder to write the model to")
    train.add_argument("--cv", type=int, default=0, metavar="FOLDS",
                       help="also measure the settings by FOLDS-fold grouped cross-validation "
                            "first (about twice the training time)")
    train.add_argument("--no-cv", action="store_true",
                       help="no cross-validation (the default; kept for older scripts)")
    if from_db is not None:
        train.add_argument("--from-db", action="store_true",
                           help="also train on the platform's routed and corrected appeals")
    train.set_defaults(func=lambda args: _train(args, from_db))

    evaluate_ = commands.add_parser(
        "evaluate", help="measure a model on labelled CSV data, or the settings by grouped CV"
    )
    source = evaluate_.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="DIR", help="a saved model to measure")
    source.add_argument("--cv", type=int, metavar="FOLDS",
                        help="instead, train and measure the default settings by FOLDS-fold "
                             "cross-validation grouped by first line (no shared title)")
    evaluate_.add_argument("--data", required=True, action="append", metavar="FILE.csv",
                           help="UTF-8 CSV with text and label columns; repeat for several files")
    evaluate_.add_argument("--text-cols", default="title,detail")
    evaluate_.add_argument("--label-col", default="label")
    evaluate_.add_argument("--restrict", action="store_true",
                           help="predict only among the labels that occur in the data")
    evaluate_.add_argument("--goal", type=_share, default=DEFAULT_GOAL,
                           help="share of automatic routes that must be right; prints the lowest "
                                f"threshold reaching it (default: {DEFAULT_GOAL})")
    evaluate_.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_.set_defaults(func=_evaluate)

    predict = commands.add_parser("predict", help="top three categories for one text")
    predict.add_argument("--model", required=True, metavar="DIR")
    predict.add_argument("text", help="the appeal's text")
    predict.set_defaults(func=_predict)
    return commands


def _fail(message: str) -> int:
    print(f"错误 error: {message}", file=sys.stderr)
    return 2


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1: {value}")
    return share


def _columns(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _train(args: argparse.Namespace, from_db: ExampleSource | None) -> int:
    texts: list[str] = []
    labels: list[str] = []
    try:
        for path in args.data:
            file_texts, file_labels = read_csv_examples(
                path, _columns(args.text_cols), args.label_col
            )
            texts += file_texts
            labels += file_labels
            print(f"{path}: {len(file_texts)} examples")
        if getattr(args, "from_db", False) and from_db is not None:
            extra = [(t, lab) for t, lab in from_db() if t and t.strip() and lab]
            texts += [t for t, _ in extra]
            labels += [lab for _, lab in extra]
            print(f"database: {len(extra)} examples")
        if not texts:
            return _fail("没有训练数据 no training data: give --data FILE.csv")
        if args.cv == 1 or args.cv < 0:
            return _fail("--cv needs at least 2 folds")
        settings = {"cv_folds": 0 if args.no_cv else args.cv}
        model = train_model(texts, labels, **settings)
        model.save(args.out)
    except (DataError, ModelError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write the model to {args.out}: {exc}")
    meta = model.meta
    print(f"model {model.version}: {meta['n_examples']} examples, {len(model.labels)} categories, "
          f"{meta['training_seconds']} s")
    cv = meta["cv_metrics"]
    if cv:
        print(f"cross-validated ({cv['folds']} folds, grouped by {cv['grouped_by']}): "
              f"macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f}")
        confidence = cv.get("confidence")
        if confidence:
            best = confidence["threshold_for_goal"]
            reach = (f"lowest threshold with precision >= {confidence['goal']:.2f}: "
                     f"{best['threshold']:.2f} (coverage {best['coverage']:.1%})" if best
                     else f"no threshold reaches precision {confidence['goal']:.2f}")
            print(f"calibration: ECE {confidence['ece']:.4f}; {reach}")
    print(f"saved to {Path(args.out)}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    try:
        texts: list[str] = []
        labels: list[str] = []
        for path in args.data:
            file_texts, file_labels = read_csv_examples(
                path, _columns(args.text_cols), args.label_col
            )
            texts += file_texts
            labels += file_labels
        if args.model is not None:
            model = TrainedModel.load(args.model)
            report = evaluate(model, texts, labels, restrict=args.restrict, goal=args.goal)
            measured = f"model {model.version}"
        else:
            report = _cross_validated(texts, labels, args.cv, args.goal)
            measured = f"{report['folds']}-fold cross-validation grouped by first line"
    except (DataError, ModelError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"{measured} on {', '.join(args.data)}: n={report['n']}")
    print(f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    print(f"{'category':<12} precision  recall      f1  support")
    for label, row in report["per_class"].items():
        print(f"{label:<12} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} "
              f"{row['support']:8d}")
    _print_confidence(report["confidence"])
    return 0


def _cross_validated(texts: list[str], labels: list[str], folds: int, goal: float) -> dict:
    if folds < 2:
        raise DataError("--cv needs at least 2 folds")
    settings = Settings.from_kwargs(cv_folds=folds)
    report = cross_validated_report(texts, labels, group_keys(texts), settings, goal)
    if report is None:
        raise DataError("too few examples or titles for cross-validation")
    return report


def _print_confidence(confidence: dict) -> None:
    print(f"\nreliability of the top probability (expected calibration error "
          f"{confidence['ece']:.4f})")
    print("confidence      count  mean conf.  accuracy")
    for row in confidence["reliability"]:
        if row["count"]:
            print(f"({row['lower']:.1f}, {row['upper']:.1f}] {row['count']:9d} "
                  f"{row['mean_confidence']:11.4f} {row['accuracy']:9.4f}")
    print("\nautomatic routes by threshold (precision = share right, coverage = share routed)")
    print("threshold  precision  coverage")
    goal, best = confidence["goal"], confidence["threshold_for_goal"]
    for row in confidence["curve"]:
        # Every 0.05, and the chosen threshold; --json gives all of them.
        shown = round(row["threshold"] * 100) % 5 == 0 or row is best
        if shown and row["precision"] is not None:
            print(f"{row['threshold']:9.2f} {row['precision']:10.4f} {row['coverage']:9.4f}")
    if best is None:
        print(f"\nno threshold reaches precision {goal:.2f}: keep automatic routing off "
              "(confidence_threshold: 1.0)")
    else:
        print(f"\nlowest threshold with precision >= {goal:.2f}: {best['threshold']:.2f} "
              f"(precision {best['precision']:.4f}, coverage {best['coverage']:.1%}); "
              f"in routing_rules/routing.yaml: confidence_threshold: {best['threshold']:.2f}")


def _predict(args: argparse.Namespace) -> int:
    if not args.text.strip():
        return _fail("文本为空 the text is empty")
    try:
        model = TrainedModel.load(args.model)
    except ModelError as exc:
        return _fail(str(exc))
    for rank, candidate in enumerate(model.predict_top(args.text, k=3), start=1):
        print(f"{rank}. {candidate.category}\t{candidate.probability:.3f}\t"
              f"{' '.join(candidate.words)}")
    return 0
