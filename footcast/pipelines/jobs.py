"""Every job of the code location, and the run config of the runs the automation launches.

| job | what it runs |
|---|---|
| `ingest` | raw -> validated for one league-season partition (also the backfills) |
| `ingest_understat` | Understat's xG raw -> validated -> links for one league-season (backfills, sensor) |
| `predict` | fixtures -> features -> model -> predictions -> Redis |
| `publish` | re-publish a batch from the warehouse to Redis |
| `evaluate` | the walk-forward backtests |
| `refresh_predictions` | fixtures -> predictions -> Redis with the current champion (schedule, sensor) |
| `retrain` | features -> model -> predictions -> Redis (weekly schedule) |
| `freshness_checks` | the freshness checks (hourly schedule) |
| `update_track_record` | the published predictions scored after their matches -> Redis (daily schedule) |
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from footcast import config
from footcast.assets import (
    backtests,
    features,
    links,
    model,
    predictions,
    raw,
    track_record,
    understat,
    validated,
)
from footcast.assets.freshness import VALIDATED_FRESH

# What kind of work a run does, as a run tag: the production instance's run queue limits
# runs by it (one training at a time, one prediction refresh at a time).
STAGE_TAG = "footcast/stage"

INGEST_ASSETS = [raw.raw_matches, validated.validated_matches]
PREDICT_ASSETS = [
    raw.raw_fixtures,
    features.features,
    model.model,
    predictions.predictions,
    predictions.published_predictions,
]


def execution_config() -> dict[str, Any]:
    """Run config choosing the step executor mode of automated runs (FOOTCAST_RUN_EXECUTION)."""
    mode = config.run_execution()
    if not mode:
        return {}
    return {"execution": {"config": {mode: {}}}}


ingest_job = dg.define_asset_job(
    "ingest",
    # The freshness checks run on their own schedule, not once per ingested partition.
    selection=dg.AssetSelection.assets(*INGEST_ASSETS) - dg.AssetSelection.checks(VALIDATED_FRESH),
    partitions_def=raw.SEASON_LEAGUE,
    description="raw -> validated for one league-season partition",
)
# Understat's match xG of a league-season, then its links to the football-data matches (which
# the `ingest` job of the same partition key loads).
INGEST_UNDERSTAT_ASSETS = [*understat.UNDERSTAT_ASSETS, *links.LINK_ASSETS]
ingest_understat_job = dg.define_asset_job(
    "ingest_understat",
    selection=dg.AssetSelection.assets(*INGEST_UNDERSTAT_ASSETS),
    partitions_def=understat.UNDERSTAT_PARTITIONS,
    description="Understat's xG raw -> validated -> links to the football-data matches, for one "
    "league-season partition (Understat's leagues and the simulated ones, from 2014/15)",
)
# The links alone: re-linking league-seasons after the team registry changed (`footcast teams
# --accept`), without fetching anything.
link_understat_job = dg.define_asset_job(
    "link_understat",
    selection=dg.AssetSelection.assets(*links.LINK_ASSETS),
    partitions_def=understat.UNDERSTAT_PARTITIONS,
    description="Understat's stored matches of a league-season linked again to the football-data "
    "matches (after an alias was accepted into the team registry)",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.assets(predictions.published_predictions),
    description="re-publish a prediction batch from the warehouse to Redis (no recomputation)",
)
predict_job = dg.define_asset_job(
    "predict",
    selection=dg.AssetSelection.assets(*PREDICT_ASSETS),
    description="fixtures -> features -> model -> predictions -> Redis",
)
evaluate_job = dg.define_asset_job(
    "evaluate",
    selection=dg.AssetSelection.assets(backtests.backtests),
    description="walk-forward backtest of the model recipes against the market, Elo and base rates "
    "(`footcast evaluate`; config: test_seasons, leagues, n_trials, seed)",
)

# -- jobs the automation launches ---------------------------------------------------------

refresh_predictions_job = dg.define_asset_job(
    "refresh_predictions",
    selection=dg.AssetSelection.assets("raw_fixtures", "features", "predictions", "published_predictions"),
    tags={STAGE_TAG: "predict"},
    description="fixtures -> features -> predictions -> Redis with the current champion (no training)",
)
retrain_job = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.assets("features", "model", "predictions", "published_predictions"),
    tags={STAGE_TAG: "train"},
    description="features -> model (promoted only if it beats the champion) -> predictions -> Redis",
)
freshness_job = dg.define_asset_job(
    "freshness_checks",
    selection=dg.AssetSelection.checks(predictions.predictions_fresh, VALIDATED_FRESH),
    tags={STAGE_TAG: "check"},
    description="freshness of the published predictions and of the current season's validated data",
)

TRACK_RECORD_ASSETS = [track_record.track_record, track_record.published_track_record]
track_record_job = dg.define_asset_job(
    "update_track_record",
    selection=dg.AssetSelection.assets(*TRACK_RECORD_ASSETS),
    tags={STAGE_TAG: "check"},
    description="the published predictions scored after their matches, with the rolling figures, "
    "drift checks and pictures -> Redis (`footcast track-record`)",
)

JOBS = [
    ingest_job,
    ingest_understat_job,
    link_understat_job,
    predict_job,
    publish_job,
    evaluate_job,
    refresh_predictions_job,
    retrain_job,
    freshness_job,
    track_record_job,
]
