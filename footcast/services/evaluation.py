"""`footcast evaluate`: the walk-forward backtest over the warehouse's validated matches.

Reads the validated ``matches`` of the warehouse, builds the point-in-time features from them
(the same ``build_features`` the ``features`` asset runs, with the matches' xG when given), and
runs :func:`footcast.models.backtest.walk_forward` with the recipes the ``model`` asset trains
(``training.MARKET_RECIPE`` / ``NO_MARKET_RECIPE``): for each test season S, both models are
tuned (``n_trials`` Optuna trials on season S-1) and fitted on seasons before S only. When some
match has xG, both are also fitted without the xG features (``training.without_xg``: the
predictors ``model_without_xg`` and ``model_no_market_without_xg``, on the same matches), and
each model's row holds its xG gain (``diff_vs_without_xg_rps``, negative when xG helps) with a
bootstrap 95% interval; without any xG those predictors are omitted (they would equal the
models). Any list
of leagues works: a league with closing prices only is scored against the closing market (the
model serves it the no-market recipe), and a test season that cannot be evaluated (no earlier
seasons to fit on) is skipped with its reason. The result
goes to the ``backtests`` table (one row per evaluation x comparison x test season x league x
predictor) and to MLflow (one run per evaluation in the ``footcast-evaluate`` experiment, with
the overall and per-league metrics, the table and an RPS-by-season plot as artifacts).

The Optuna studies of an evaluation are in memory: identical arguments give identical figures,
whereas a resumed RDB study would add trials on every run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from footcast.adapters.warehouse import Warehouse, backtests, matches
from footcast.models import backtest, plots, training, tuning
from footcast.models.features import builder as feature_builder
from footcast.services.xg import linked_xg

if TYPE_CHECKING:
    from footcast.adapters.model_registry import ModelRegistry

DEFAULT_TRIALS = tuning.DEFAULT_TRIALS
EXPERIMENT = "footcast-evaluate"


class EvaluationError(Exception):
    """The evaluation cannot run on this data (one line naming what is missing)."""


@dataclass
class Evaluation:
    report: backtest.BacktestReport
    rows_written: int
    mlflow_run_id: str | None = None
    mlflow_url: str | None = None


def load_features(warehouse: Warehouse, xg: pd.DataFrame | None = None) -> pd.DataFrame:
    """Point-in-time features of every validated match in the warehouse (all leagues: ratings
    carry across leagues, exactly as in the ``features`` asset). ``xg``: the matches' expected
    goals (``build_features``'s ``xg``: match_id, home_xg, away_xg); by default the warehouse's
    linked Understat xG, as the ``features`` asset reads it."""
    history = warehouse.read_matches(matches)
    if history.empty:
        raise EvaluationError("the warehouse has no validated matches: run `footcast backfill` first")
    return feature_builder.build_features(history, xg=linked_xg(warehouse) if xg is None else xg)


def check_leagues(frame: pd.DataFrame, leagues: list[str] | None) -> list[str]:
    """The leagues to evaluate (any list of leagues the warehouse holds: a test season their
    matches cannot be evaluated in is skipped with its reason); EvaluationError naming the
    leagues the warehouse lacks."""
    available = sorted(frame["league"].unique().tolist())
    chosen = list(leagues) if leagues else available
    missing = [league for league in chosen if league not in available]
    if missing:
        raise EvaluationError(
            f"no validated matches of league(s) {', '.join(missing)} in the warehouse "
            f"(it has {', '.join(available)}): run `footcast backfill --leagues {','.join(missing)}` first"
        )
    return chosen


def evaluate(
    warehouse: Warehouse,
    test_seasons: list[int],
    *,
    leagues: list[str] | None = None,
    n_trials: int = DEFAULT_TRIALS,
    timeout_seconds: float | None = None,
    seed: int = 0,
    bootstrap_resamples: int = 2000,
    tracking: ModelRegistry | None = None,
    progress: Callable[[str], None] | None = None,
    frame: pd.DataFrame | None = None,
    xg: pd.DataFrame | None = None,
) -> Evaluation:
    """Run the walk-forward backtest, store it in ``backtests`` and (with ``tracking``, the
    model registry of the evaluations' experiment) log it to MLflow. ``frame``: features to use
    instead of building them from the warehouse (tests); ``xg``: the matches' expected goals
    for :func:`load_features`."""
    import optuna

    # One progress line per test season instead of optuna's line per trial.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    say = progress or (lambda message: None)
    test_seasons = sorted({int(s) for s in test_seasons})
    if frame is None:
        frame = load_features(warehouse, xg)
        say(f"features of {len(frame)} validated matches built")
    chosen = check_leagues(frame, leagues)
    try:
        report = backtest.walk_forward(
            frame,
            test_seasons,
            leagues=chosen,
            recipe=training.MARKET_RECIPE,
            no_market_recipe=training.NO_MARKET_RECIPE,
            n_trials=n_trials,
            timeout_seconds=timeout_seconds,
            seed=seed,
            bootstrap_resamples=bootstrap_resamples,
            progress=say,
        )
    except training.TrainingError as exc:
        raise EvaluationError(f"leagues {','.join(chosen)}: {exc}") from exc
    report.config["recipes"] = {
        "model": training.MARKET_RECIPE.to_dict(),
        "model_no_market": training.NO_MARKET_RECIPE.to_dict(),
    }
    if report.config["xg_ablations"]:
        report.config["recipes"]["model_without_xg"] = training.MARKET_RECIPE_WITHOUT_XG.to_dict()
        report.config["recipes"]["model_no_market_without_xg"] = (
            training.NO_MARKET_RECIPE_WITHOUT_XG.to_dict()
        )
    result = Evaluation(report=report, rows_written=0)
    if tracking is not None:
        result.mlflow_run_id, result.mlflow_url = log_evaluation(tracking, report)
    result.rows_written = store(warehouse, report, result.mlflow_run_id)
    return result


def params_json(report: backtest.BacktestReport) -> str:
    """The evaluation's configuration as stored with every row (column lists by count only)."""
    config = dict(report.config)
    for key in ("feature_columns", "no_market_feature_columns"):
        config[key] = len(config.get(key) or [])
    config["test_seasons"] = report.test_seasons
    config["leagues"] = report.leagues
    return json.dumps(backtest.jsonable(config), sort_keys=True)


def store(warehouse: Warehouse, report: backtest.BacktestReport, mlflow_run_id: str | None = None) -> int:
    """Write the report's rows to ``backtests`` (replacing any rows of the same run id)."""
    frame = report.to_frame()
    unknown = set(frame.columns) - {c.name for c in backtests.columns}
    if unknown:  # a column added to the backtest table must be added to the warehouse table
        raise RuntimeError(f"backtests table lacks column(s) {sorted(unknown)}")
    frame["mlflow_run_id"] = mlflow_run_id
    frame["params"] = params_json(report)
    return warehouse.replace_partition(backtests, {"run_id": report.run_id}, frame)


# The comparison each league's summary shows: the first one with matches of the league.
COMPARISON_PREFERENCE = ("market", "close", "all")
COMPARISON_SCOPE = {
    "market": "with opening and closing prices",
    "close": "with closing prices",
    "all": "all matches",
}


def overall(report: backtest.BacktestReport) -> pd.DataFrame:
    """Rows of every test season together, per league (and ``all``) its first comparison of
    ``COMPARISON_PREFERENCE`` with matches: every predictor on the same matches, the opening
    market where the league has it, else the closing market as the reference."""
    table = report.table[report.table["test_season"] == backtest.ALL]
    parts = []
    for _, rows in table.groupby("league", sort=False):
        chosen = next(c for c in COMPARISON_PREFERENCE if (rows["comparison"] == c).any())
        parts.append(rows[rows["comparison"] == chosen])
    return pd.concat(parts, ignore_index=True)


def rps_by_season(report: backtest.BacktestReport) -> pd.DataFrame:
    table = report.table
    summary = overall(report)
    comparison = summary.loc[summary["league"] == backtest.ALL, "comparison"].iloc[0]
    rows = table[
        (table["comparison"] == comparison)
        & (table["league"] == backtest.ALL)
        & (table["test_season"] != backtest.ALL)
    ]
    frame = rows.pivot(index="test_season", columns="predictor", values="rps")
    frame.index = frame.index.astype(int)
    return frame.sort_index()[[p for p in backtest.ORDER if p in frame.columns]]


def log_evaluation(tracking: ModelRegistry, report: backtest.BacktestReport) -> tuple[str, str]:
    """One MLflow run: parameters, metrics ``<league>/<predictor>/<score>`` (RPS also by test
    season, as steps), the table (CSV), the report (JSON) and the RPS-by-season plot."""
    import mlflow

    tracking.client()
    experiment_id = tracking.experiment_id()
    summary = overall(report)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate-{report.run_id[:8]}") as run:
        mlflow.log_params(
            {
                "test_seasons": ",".join(map(str, report.test_seasons)),
                "leagues": ",".join(report.leagues),
                "n_trials": report.config.get("n_trials"),
                "seed": report.config.get("seed"),
                "bootstrap_resamples": report.config.get("bootstrap_resamples"),
                "comparison": ",".join(
                    f"{league}:{c}" for league, c in summary.groupby("league")["comparison"].first().items()
                )[:6000],
                "model_recipe": json.dumps(report.config["recipes"]["model"], sort_keys=True)[:6000],
                "no_market_recipe": json.dumps(report.config["recipes"]["model_no_market"], sort_keys=True),
            }
        )
        mlflow.set_tags({"footcast.backtest_run_id": report.run_id})
        values: dict[str, float] = {}
        for row in summary.itertuples(index=False):
            for score in (
                "n",
                "rps",
                "log_loss",
                "brier",
                "accuracy",
                "diff_vs_market_rps",
                "ci_low",
                "ci_high",
                "diff_vs_close_rps",
                "diff_vs_without_xg_rps",
                "without_xg_ci_low",
                "without_xg_ci_high",
            ):
                value = getattr(row, score)
                if value is not None and np.isfinite(value):
                    values[f"{row.league}/{row.predictor}/{score}"] = float(value)
        mlflow.log_metrics(values)
        for season, rps in rps_by_season(report).iterrows():
            mlflow.log_metrics(
                {f"season_rps/{p}": float(v) for p, v in rps.items() if np.isfinite(v)}, step=int(season)
            )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            report.to_frame().to_csv(folder / "backtest_table.csv", index=False)
            (folder / "backtest_report.json").write_text(json.dumps(report.to_dict(), indent=1))
            plots.rps_by_season(
                # Base rates (about 0.23) would squash the scale the others differ on.
                rps_by_season(report).drop(columns=["base_rate"], errors="ignore"),
                folder / "rps_by_season.png",
                f"Walk-forward RPS by test season ({', '.join(report.leagues)})",
            )
            mlflow.log_artifacts(str(folder))
        run_id = run.info.run_id
    return run_id, tracking.run_url(run_id)


def recorded_report(tracking: ModelRegistry, mlflow_run_id: str) -> dict:
    """The JSON report of an evaluation as its MLflow run recorded it (``to_json`` of it, but for
    ``rows_written``, which the run's materialization holds)."""
    import mlflow

    tracking.client()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # (one small file)
    path = mlflow.artifacts.download_artifacts(f"runs:/{mlflow_run_id}/backtest_report.json")
    report = json.loads(Path(path).read_text())
    report["mlflow_run_id"] = mlflow_run_id
    report["mlflow_url"] = tracking.run_url(mlflow_run_id)
    return report


# -- output -------------------------------------------------------------------------------------

LABELS = {
    "model": "model (as served)",
    "model_no_market": "model without market",
    "model_without_xg": "model without xG",
    "model_no_market_without_xg": "no market, no xG",
    "market_open": "opening market",
    "market_close": "closing market",
    "elo": "Elo",
    "elo_logit": "Elo (logistic fit)",
    "base_rate": "base rates",
}


def _ci(value, low, high) -> str:
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:+.5f} [{low:+.5f}, {high:+.5f}]"


def format_table(evaluation: Evaluation) -> str:
    """The human summary: per league and overall, every predictor on the same matches."""
    report = evaluation.report
    summary = overall(report)
    lines = [
        f"walk-forward backtest {report.run_id}: test seasons "
        f"{report.test_seasons[0]}-{report.test_seasons[-1]}, leagues {', '.join(report.leagues)}, "
        f"{report.config.get('n_trials')} Optuna trials per model and season",
        "(per league every predictor scored on the same matches; lower is better; model - market: "
        "paired RPS difference with a bootstrap 95% interval)",
        "(model as served: the market recipe; the model without market for matches without opening prices)",
        *(f"test season {season} skipped: {reason}" for season, reason in report.skipped_seasons.items()),
    ]
    # The pooled block only when there is more than one league (else it repeats the league's).
    leagues = ([backtest.ALL] if len(report.leagues) > 1 else []) + list(report.leagues)
    for league in leagues:
        rows = summary[summary["league"] == league]
        lines.append("")
        if rows.empty:
            lines.append(f"{league}: no played match in the evaluated test seasons")
            continue
        n, scope = int(rows["n"].iloc[0]), COMPARISON_SCOPE[rows["comparison"].iloc[0]]
        lines.append(f"{'all leagues' if league == backtest.ALL else league}: {n} matches ({scope})")
        lines.append(
            f"  {'predictor':22} {'RPS':>8} {'log loss':>9} {'Brier':>8}  "
            f"{'minus opening market [95% CI]':32} {'minus closing':>13}"
        )
        for row in rows.itertuples(index=False):
            close = "" if not np.isfinite(row.diff_vs_close_rps) else f"{row.diff_vs_close_rps:+.5f}"
            lines.append(
                f"  {LABELS.get(row.predictor, row.predictor):22} {row.rps:8.5f} {row.log_loss:9.5f} "
                f"{row.brier:8.5f}  {_ci(row.diff_vs_market_rps, row.ci_low, row.ci_high):32} {close:>13}"
            )
    lines += _xg_gain_lines(summary, leagues)
    by_season = rps_by_season(report)
    lines.append("")
    lines.append("RPS by test season (all leagues):")
    widths = [max(16, len(p) + 2) for p in by_season.columns]
    header = "".join(f"{p:>{w}}" for p, w in zip(by_season.columns, widths, strict=True))
    lines.append("  " + f"{'season':8}" + header)
    for season, values in by_season.iterrows():
        cells = "".join(f"{v:{w}.5f}" for v, w in zip(values, widths, strict=True))
        lines.append("  " + f"{season}/{(season + 1) % 100:02d}".ljust(8) + cells)
    lines.append("")
    lines.append(
        f"{evaluation.rows_written} rows -> warehouse table backtests (run_id {report.run_id})"
        + (
            f"; MLflow run {evaluation.mlflow_run_id}: {evaluation.mlflow_url}"
            if evaluation.mlflow_run_id
            else ""
        )
    )
    return "\n".join(lines)


def _xg_gain_lines(summary: pd.DataFrame, leagues: list[str]) -> list[str]:
    """The xG gain of both models per league (nothing when the evaluation had no xG)."""
    rows = summary[summary["diff_vs_without_xg_rps"].notna()]
    if rows.empty:
        return []
    lines = ["", "xG gain (model minus the same model without the xG features; negative: xG helps):"]
    for league in leagues:
        for row in rows[rows["league"] == league].itertuples(index=False):
            interval = _ci(row.diff_vs_without_xg_rps, row.without_xg_ci_low, row.without_xg_ci_high)
            name = "all leagues" if league == backtest.ALL else league
            lines.append(f"  {name:12} {LABELS.get(row.predictor, row.predictor):22} {interval}")
    return lines


def to_json(evaluation: Evaluation) -> dict:
    out = evaluation.report.to_dict()
    out["mlflow_run_id"] = evaluation.mlflow_run_id
    out["mlflow_url"] = evaluation.mlflow_url
    out["rows_written"] = evaluation.rows_written
    return out
