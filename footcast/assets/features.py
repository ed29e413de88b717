"""Features layer: point-in-time features of every played match and upcoming fixture."""

import time

import dagster as dg

from footcast.adapters.warehouse import fixtures as fixtures_table
from footcast.adapters.warehouse import matches as matches_table
from footcast.assets.resources import WarehouseResource
from footcast.models.features import builder as feature_builder
from footcast.models.features.columns import FEATURE_COLUMNS, FEATURE_SET_VERSION
from footcast.services.xg import linked_xg


@dg.asset(
    group_name="features",
    kinds={"python", "sql"},
    deps=["validated_matches", "raw_fixtures", "understat_links"],
    description="Point-in-time features (ratings, form, market, expected goals) of every validated match "
    "and upcoming fixture, computed from strictly earlier matches only (xG through the Understat "
    "match links). Stored in the `features` table.",
)
def features(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.get()
    started = time.perf_counter()
    history = store.read_matches(matches_table)
    upcoming = store.read_matches(fixtures_table)
    xg = linked_xg(store)
    frame = feature_builder.build_features(history, upcoming, xg=xg)
    frame["feature_set_version"] = FEATURE_SET_VERSION
    rows = store.replace_features(frame, FEATURE_COLUMNS)
    seconds = time.perf_counter() - started
    null_share = frame[list(FEATURE_COLUMNS)].isna().mean().round(4)
    context.log.info(f"{rows} feature rows ({len(upcoming)} fixtures) in {seconds:.1f}s")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "played_rows": int(frame["played"].sum()),
            "matches_with_xg": len(xg),
            "fixture_rows": int((~frame["played"].astype(bool)).sum()),
            "columns": len(FEATURE_COLUMNS),
            "feature_set_version": FEATURE_SET_VERSION,
            "build_seconds": round(seconds, 2),
            "null_share": dg.MetadataValue.json(null_share.to_dict()),
        }
    )
