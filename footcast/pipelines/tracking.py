"""Log a trained model to MLflow: run, parameters, metrics, tags, the model and its registry version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlflow.models import infer_signature

from footcast.models.training import TrainedModel
from footcast.pipelines.resources import MlflowResource


@dataclass
class LoggedModel:
    run_id: str
    version: str
    url: str


def log_training(
    tracking: MlflowResource,
    trained: TrainedModel,
    feature_set_version: str,
    example: np.ndarray,
    extra_metrics: dict[str, float] | None = None,
    tags: dict[str, Any] | None = None,
) -> LoggedModel:
    import mlflow

    tracking.client()
    experiment_id = tracking.experiment_id()
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({k: v for k, v in trained.params.items()})
        mlflow.log_params(
            {
                "validation_seasons": ",".join(map(str, trained.validation_seasons)),
                "train_rows": trained.train_rows,
                "validation_rows": trained.validation_rows,
                "n_features": len(trained.feature_columns),
                "feature_set_version": feature_set_version,
            }
        )
        mlflow.log_metrics({f"validation_{k}": v for k, v in trained.validation_metrics.items()})
        if extra_metrics:
            mlflow.log_metrics(extra_metrics)
        mlflow.set_tags(
            {
                "footcast.xgb_params": json.dumps(trained.params, sort_keys=True),
                "footcast.feature_columns": json.dumps(trained.feature_columns),
                "footcast.feature_set_version": feature_set_version,
                "footcast.data": json.dumps(trained.data_summary, sort_keys=True),
                **{k: str(v) for k, v in (tags or {}).items()},
            }
        )
        mlflow.log_dict({"features": trained.feature_columns}, "feature_list.json")
        probs = trained.classifier.predict_proba(example)
        info = mlflow.xgboost.log_model(
            trained.classifier,
            name="model",
            signature=infer_signature(example, probs),
            input_example=example[:5],
            registered_model_name=tracking.registered_model_name,
        )
        run_id = run.info.run_id
    return LoggedModel(
        run_id=run_id, version=str(info.registered_model_version), url=tracking.run_url(run_id)
    )
