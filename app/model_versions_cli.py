"""`minsheng classifier retrain` and `minsheng classifier rollback` (app.services.model_versions).

Exit codes: 0 promoted / rolled back; 1 kept the live model (worse candidate, too few
examples, nothing to roll back to), with the reason on stdout; 2 bad configuration.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from app.settings import Settings

CLI_LABEL = "命令行"


def add_subcommands(commands: argparse._SubParsersAction, settings: Callable[[], Settings],
                    run_with_db: Callable, file_rules: Callable) -> None:
    """`file_rules(settings)`: routing_rules/ as the files say (app.cli's loader)."""
    retrain = commands.add_parser(
        "retrain", help="train a candidate on the city's labelled appeals; promote it only if "
                        "it is not worse than the live model on a held-out slice")
    retrain.add_argument("--min-examples", type=int, default=None, metavar="N",
                         help="labelled examples needed (default: routing.yaml retrain)")
    retrain.add_argument("--base", choices=("seed", "none"), default="seed",
                         help="also train on the seed corpus (default) or on the city's alone")
    retrain.set_defaults(func=lambda args: _retrain(args, settings(), run_with_db,
                                                         file_rules))
    rollback = commands.add_parser("rollback", help="make the previously promoted model live")
    rollback.set_defaults(func=lambda args: _rollback(settings(), run_with_db))


def _retrain(args: argparse.Namespace, settings: Settings, run_with_db: Callable,
             file_rules: Callable) -> int:
    from app.services import model_versions, rules_store

    async def work():
        minimum = args.min_examples
        if minimum is None:
            rules = await rules_store.live(file_rules(settings))
            minimum = rules.routing.retrain.min_examples
        root = model_versions.model_root(settings.model_dir, settings.var_dir)
        return await model_versions.retrain(root, settings.var_dir / "seed-model", CLI_LABEL,
                                            minimum, base=args.base)

    outcome = run_with_db(settings, work)
    print(outcome.message)
    return 0 if outcome.ok else 1


def _rollback(settings: Settings, run_with_db: Callable) -> int:
    from app.services import model_versions

    async def work():
        root = model_versions.model_root(settings.model_dir, settings.var_dir)
        return await model_versions.rollback(root, CLI_LABEL)

    outcome = run_with_db(settings, work)
    print(outcome.message)
    return 0 if outcome.ok else 1
