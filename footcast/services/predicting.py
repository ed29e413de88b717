"""Score upcoming fixtures into a prediction batch, and read batches back from the warehouse."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from footcast.adapters.warehouse import Warehouse, predictions
from footcast.data import schema
from footcast.models import training

ID_COLUMNS = list(schema.IDENTITY_COLUMNS)


def score_fixtures(
    features: pd.DataFrame,
    classifier,
    feature_columns: list[str],
    *,
    now: datetime,
    model_name: str,
    model_version: str,
    feature_set_version: str,
    publish_version: str,
) -> pd.DataFrame:
    """A batch of predictions for every fixture that kicks off after ``now``."""
    upcoming = features[~features["played"].astype(bool) & (features["kickoff"] > pd.Timestamp(now))]
    upcoming = upcoming.sort_values(["kickoff", "match_id"])
    probs = training.predict_proba(classifier, upcoming, feature_columns)
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
    return batch


def latest_version(warehouse: Warehouse) -> str | None:
    with warehouse.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(predictions.c.publish_version))).scalar_one_or_none()


def read_batch(warehouse: Warehouse, version: str) -> pd.DataFrame:
    return warehouse.read(predictions, {"publish_version": version})
