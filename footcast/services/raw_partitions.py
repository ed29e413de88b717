"""Store what a source returned for one raw partition: the kept rows in ``raw_matches``, the
rows it could not keep in ``quarantine`` (``quarantined_by = "raw"``), in one transaction."""

from __future__ import annotations

import json

import pandas as pd

from footcast import config
from footcast.adapters.warehouse import QUARANTINED_BY_RAW, Warehouse, quarantine, raw_matches
from footcast.services.sources.base import Fetched


def raw_quarantine_rows(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected source rows as quarantine rows: ``reasons`` is the rejection, ``failed_values``
    {rejection: {"reason": ...}}, ``raw_text`` the row as the file has it."""
    reasons = rejected["rejection"].astype("string")
    details = [
        json.dumps({str(kind): {"reason": str(reason)}}, ensure_ascii=False)
        for kind, reason in zip(reasons, rejected["reason"], strict=True)
    ]
    return rejected.drop(columns=["rejection", "reason"]).assign(
        reasons=reasons,
        failed_values=pd.array(details, dtype="string"),
        quarantined_at=pd.Timestamp(config.now()),
        quarantined_by=QUARANTINED_BY_RAW,
    )


def store_fetched(warehouse: Warehouse, league: str, season: int, fetched: Fetched) -> int:
    """Replace the partition's raw rows and its raw rejects (the validated layer's quarantine
    rows of the partition stay); returns the rows stored in ``raw_matches``."""
    where = {"league": league, "season": season}
    with warehouse.engine.begin() as conn:
        rows = warehouse.replace_partition(raw_matches, where, fetched.frame, conn)
        warehouse.replace_partition(
            quarantine,
            {**where, "quarantined_by": QUARANTINED_BY_RAW},
            raw_quarantine_rows(fetched.rejected),
            conn,
        )
    return rows
