"""`minsheng classifier train|evaluate|predict`, also runnable as `python -m classifier`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from classifier.model import ModelError, TrainedModel
from classifier.training import DataError, evaluate, read_csv_examples, train_model

# Supplies extra (text, label) examples, e.g. the platform's corrected routes (`--from-db`).
ExampleSource = Callable[[], Iterable[tuple[str, str]]]


def add_subcommands(
    subparsers: argparse._SubParsersAction, from_db: ExampleSource | None = None
) -> argparse.ArgumentParser:
    """Register `classifier train|evaluate|predict`; each sets `func(args) -> int` on args."""
    parser = subparsers.add_parser("classifier", help="train, evaluate and try the classifier")
    _add_commands(parser, from_db)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifier", description=__doc__)
    _add_commands(parser, None)
    args = parser.parse_args(argv)
    return args.func(args)


def _add_commands(parser: argparse.ArgumentParser, from_db: ExampleSource | None) -> None:
    commands = parser.add_subparsers(dest="classifier_command", required=True)

    train = commands.add_parser("train", help="train a model from labelled CSV files")
    train.add_argument("--data", action="append", default=[], metavar="FILE.csv",
                       help="UTF-8 CSV with text and label columns; repeat for several files")
    train.add_argument("--text-cols", default="title,detail",
                       help="comma-separated text columns, joined (default: title,detail)")
    train.add_argument("--label-col", default="label", help="label column (default: label)")
    train.add_argument("--out", required=True, metavar="DIR", help="folder to write the model to")
    train.add_argument("--no-cv", action="store_true", help="skip cross-validation (faster)")
    if from_db is not None:
        train.add_argument("--from-db", action="store_true",
                           help="also train on the platform's routed and corrected appeals")
    train.set_defaults(func=lambda args: _train(args, from_db))

    evaluate_ = commands.add_parser("evaluate", help="measure a model on labelled CSV data")
    evaluate_.add_argument("--model", required=True, metavar="DIR")
    evaluate_.add_argument("--data", required=True, metavar="FILE.csv")
    evaluate_.add_argument("--text-cols", default="title,detail")
    evaluate_.add_argument("--label-col", default="label")
    evaluate_.add_argument("--restrict", action="store_true",
                           help="predict only among the labels that occur in the data")
    evaluate_.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_.set_defaults(func=_evaluate)

    predict = commands.add_parser("predict", help="top three categories for one text")
    predict.add_argument("--model", required=True, metavar="DIR")
    predict.add_argument("text", help="the appeal's text")
    predict.set_defaults(func=_predict)


def _fail(message: str) -> int:
    print(f"错误 error: {message}", file=sys.stderr)
    return 2


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
        settings = {"cv_folds": 0} if args.no_cv else {}
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
    print(f"saved to {Path(args.out)}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    try:
        model = TrainedModel.load(args.model)
        texts, labels = read_csv_examples(args.data, _columns(args.text_cols), args.label_col)
        report = evaluate(model, texts, labels, restrict=args.restrict)
    except (DataError, ModelError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"model {model.version} on {args.data}: n={report['n']}")
    print(f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    print(f"{'category':<12} precision  recall      f1  support")
    for label, row in report["per_class"].items():
        print(f"{label:<12} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} "
              f"{row['support']:8d}")
    return 0


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
