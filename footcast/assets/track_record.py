"""Track record: every published prediction scored after its match, against the market and Elo
(``models.track_record`` says which prediction, which references and how), with its rolling
figures, checks, pictures, and its publication to Redis for the HTTP API.

Neither partitioned nor incremental: each run recomputes the whole track record from the
warehouse and replaces it in one transaction. A match's row depends on more than its own day (a
postponed match moves to another day, results arrive days late or are corrected, the batch live
at a kickoff is only known once every batch before it is), so day partitions would each need
the whole history anyway, and an incremental append would freeze whatever it got wrong. A full
recomputation is idempotent by construction (one row per match id, nothing scored twice) and
cheap: 100,000 scored matches in 2-3 s in memory, about 9 s with the SQLite reads and writes
(BENCHMARKS.md, benchmarks/bench_track_record.py).
"""

import dagster as dg

from footcast.adapters.model_registry import ModelRegistry
from footcast.adapters.redis import track_record as redis_track_record
from footcast.assets.resources import MlflowResource, RedisResource, WarehouseResource
from footcast.config import now as current_time
from footcast.models import plots
from footcast.models import track_record as model
from footcast.models import track_record_report as shape
from footcast.services import track_record as service

MARKET_CHECK = "not_worse_than_market"
CALIBRATION_CHECK = "calibrated"

CHECK_SPECS = [
    dg.AssetCheckSpec(
        MARKET_CHECK,
        asset="track_record",
        description=f"[warning] over its last 200 scored matches (scopes with at least {model.MIN_JUDGED}: "
        "all leagues, each league), the model is not worse than the pre-closing market beyond the "
        "bootstrap 95% interval of model-minus-market RPS",
    ),
    dg.AssetCheckSpec(
        CALIBRATION_CHECK,
        asset="track_record",
        description="[error] over its last 200 scored matches, the model's calibration error (ECE, 10 "
        "bins, mean over home/draw/away) is within the 99.9th percentile of what perfectly "
        "calibrated forecasts of the same matches show by chance",
    ),
]


def _check_result(
    name: str, outcome: model.CheckOutcome, severity: dg.AssetCheckSeverity
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.passed,
        severity=severity,
        description=outcome.description[:2000],
        metadata={
            "judged_scopes": ", ".join(outcome.judged),
            "failing": dg.MetadataValue.json(
                [
                    {k: v for k, v in row.items() if k not in ("first_kickoff", "last_kickoff")}
                    for row in outcome.failing
                ]
            ),
        },
    )


@dg.asset(
    group_name="track_record",
    kinds={"python", "sql", "mlflow"},
    deps=["validated_matches", "predictions", "features"],
    check_specs=CHECK_SPECS,
    description="Every played match a published batch predicted before kickoff, scored (RPS, log loss, "
    "Brier) against the prediction live at kickoff, with the pre-closing and closing market and Elo on "
    "the same matches (warehouse tables `track_record`, `track_record_summary`); rolling figures per "
    "league, pictures here and in MLflow (experiment `footcast-track-record`).",
)
def track_record(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
) -> dg.MaterializeResult:
    record = service.update(warehouse.get(), now=current_time())
    images = service.pictures(record)
    tracking = ModelRegistry(
        tracking_uri=mlflow_tracking.tracking_uri,
        experiment_name=service.EXPERIMENT,
        artifact_location=mlflow_tracking.artifact_location,
    )
    run_id, url = service.log_to_mlflow(tracking, record, images)
    scored, excluded = record.scored, record.excluded
    context.log.info(
        f"{len(scored)} matches scored, {len(excluded)} excluded, from {record.batches} published batches"
    )
    overall = record.summary[record.summary["league"] == shape.ALL].set_index("span")
    headline = {
        f"{span}_{name}": round(float(overall.loc[span, name]), 5)
        for span in overall.index
        for name in ("rps", "diff_vs_market_rps", "calibration_error")
        if overall.loc[span, name] == overall.loc[span, name]  # (not NaN)
    }
    return dg.MaterializeResult(
        metadata={
            "scored": len(scored),
            "excluded": len(excluded),
            "batches": record.batches,
            "leagues": ", ".join(sorted(scored["league"].unique())),
            **headline,
            "summary": dg.MetadataValue.md(f"```\n{service.summary_table(record.summary)}\n```"),
            "pictures": dg.MetadataValue.md(plots.markdown_images(images) or "(no scored match yet)"),
            "mlflow_run_id": run_id,
            "mlflow_run": dg.MetadataValue.url(url),
        },
        check_results=[
            _check_result(MARKET_CHECK, model.market_check(record.summary), dg.AssetCheckSeverity.WARN),
            _check_result(
                CALIBRATION_CHECK, model.calibration_check(record.summary), dg.AssetCheckSeverity.ERROR
            ),
        ],
    )


@dg.asset(
    group_name="track_record",
    kinds={"redis"},
    deps=[track_record],
    description="The track record published to Redis for the HTTP API (GET /track-record, the gauges "
    "of /metrics): written whole as a new version, then switched to.",
)
def published_track_record(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, redis: RedisResource
) -> dg.MaterializeResult:
    report = service.report(service.read(warehouse.get()))
    store = redis.store()
    version = redis_track_record.publish(store.client, store.prefix, report, current_time())
    context.log.info(f"track record version {version}: {len(report['matches'])} scored matches")
    return dg.MaterializeResult(
        metadata={"version": version, "matches": len(report["matches"]), "excluded": len(report["excluded"])}
    )
