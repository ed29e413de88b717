"""Every private Dagster API footcast uses, in one place.

Dagster offers no public equivalent for these; keeping them here means a Dagster upgrade that
moves one breaks this module (and the definitions test that imports it), not code scattered
over the package. Pinned to dagster==1.13.27 (pyproject.toml).
"""

from dagster._core.definitions.assets.graph.asset_graph_subset import (  # a backfill's partitions, per asset
    AssetGraphSubset,
)
from dagster._core.execution.backfill import (  # what the UI's launch-backfill mutation builds
    BulkActionStatus,
    PartitionBackfill,
)
from dagster._core.log_manager import (  # a run's log record: its event and the asset's own message
    get_log_record_metadata,
    has_log_record_metadata,
)
from dagster._core.storage.tags import (  # execute_in_process takes a partition range only as tags
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster._core.utils import make_new_backfill_id
from dagster._utils.schedules import get_latest_completed_cron_tick  # a cron's previous tick

__all__ = [
    "AssetGraphSubset",
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "BulkActionStatus",
    "PartitionBackfill",
    "get_latest_completed_cron_tick",
    "get_log_record_metadata",
    "has_log_record_metadata",
    "make_new_backfill_id",
]
