"""Score upcoming fixtures into a prediction batch with the champion model, and read batches back
from the warehouse."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from footcast.adapters.model_registry import Champion, ModelRegistry
from footcast.adapters.warehouse import Warehouse, predictions
from footcast.data import schema
from footcast.models import training
from footcast.models.features.columns import FEATURE_SET_VERSION, MARKET_BASELINE_COLUMNS

ID_COLUMNS = list(schema.IDENTITY_COLUMNS)


class NoChampionError(LookupError):
    """No model carries the registry's champion alias yet."""


def score_fixtures(
    features: pd.DataFrame,
    model: tuple,
    fallback: tuple | None = None,
    required_columns=(),
    *,
    now: datetime,
    model_name: str,
    model_version: str,
    feature_set_version: str,
    publish_version: str,
) -> pd.DataFrame:
    """A batch of predictions for every fixture that kicks off after ``now``, in every league of
    the features. ``model`` / ``fallback``: (classifier, feature columns); the fallback predicts
    the fixtures without every ``required_columns`` (see ``training.served_proba``)."""
    upcoming = features[~features["played"].astype(bool) & (features["kickoff"] > pd.Timestamp(now))]
    upcoming = upcoming.sort_values(["kickoff", "match_id"])
    probs = training.served_proba(upcoming, model, fallback, required_columns)
    batch = upcoming[ID_COLUMNS].reset_index(drop=True).copy()
    batch["p_home"], batch["p_draw"], batch["p_away"] = probs[:, 0], probs[:, 1], probs[:, 2]
    batch["fair_odds_home"] = 1.0 / batch["p_home"]
    batch["fair_odds_draw"] = 1.0 / batch["p_draw"]
    batch["fair_odds_away"] = 1.0 / batch["p_away"]
    batch["model_name"] = model_name
    batch["model_version"] = model_version
    batch["feature_set_version"] = feature_set_version
    batch["generated_at"] = pd.Timestamp(now)
    batch["publish_version"] = publish_version
    # What the market said when the batch was made: the track record compares with it later.
    for column in (*MARKET_BASELINE_COLUMNS[:3], "market_open_available"):
        batch[column] = upcoming[column].to_numpy(dtype="float64") if column in upcoming else float("nan")
    return batch


def champion_batch(
    registry: ModelRegistry, warehouse: Warehouse, *, now: datetime, publish_version: str
) -> tuple[Champion, pd.DataFrame]:
    """The registry's champion and its batch of predictions for the warehouse's features (the
    champion's own feature columns and feature set version; its fallback model for the fixtures
    without the recipe's required columns, e.g. of leagues without opening prices)."""
    champion = registry.champion()
    if champion is None:
        raise NoChampionError("no champion model is registered in MLflow yet: materialize `model` first")
    frame = warehouse.read_features()
    recipe = champion.trained_recipe()
    fallback = registry.load_fallback(champion)
    batch = score_fixtures(
        frame,
        (registry.load_model(champion.version), champion.feature_columns),
        (fallback, list(recipe.fallback.feature_columns)) if fallback is not None else None,
        recipe.required_columns,
        now=now,
        model_name=registry.registered_model_name,
        model_version=champion.version,
        feature_set_version=champion.feature_set_version or FEATURE_SET_VERSION,
        publish_version=publish_version,
    )
    return champion, batch


def latest_version(warehouse: Warehouse) -> str | None:
    with warehouse.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(predictions.c.publish_version))).scalar_one_or_none()


def read_batch(warehouse: Warehouse, version: str) -> pd.DataFrame:
    return warehouse.read(predictions, {"publish_version": version})
