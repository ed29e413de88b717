"""`footcast evaluate`: the walk-forward backtest, as a run of the `evaluate` job."""

from __future__ import annotations

import argparse
import json

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK
from footcast.cli.runs import asset_metadata, run_job


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Walk-forward backtest of the model recipes against the market, Elo and base rates: a run
    of the `evaluate` job (the `backtests` asset), recorded in the instance the UI reads."""
    from footcast import config
    from footcast.adapters.model_registry import ModelRegistry
    from footcast.services import evaluation

    prepare_environment()
    backtest_config = {"test_seasons": args.test_seasons, "leagues": args.leagues or [], "seed": args.seed}
    if args.trials is not None:
        backtest_config["n_trials"] = args.trials
    # The asset logs one line per test season at INFO: the progress shown (on stderr).
    result, _seconds = run_job(
        "evaluate",
        "evaluate",
        run_config={"ops": {"backtests": {"config": backtest_config}}},
        log_level="INFO",
    )
    metadata = asset_metadata(result, "backtests")
    if args.json:
        tracking = ModelRegistry(
            tracking_uri=config.mlflow_tracking_uri(), experiment_name=evaluation.EXPERIMENT
        )
        report = evaluation.recorded_report(tracking, metadata["mlflow_run_id"])
        report["rows_written"] = metadata["rows"]
        print(json.dumps(report, indent=1, allow_nan=False))
    else:
        print(metadata["results"].strip("`\n"))
    return EXIT_OK
