"""Understat's matches in the warehouse: load a league-season (raw), validate it (validated).

- :func:`ingest_understat_season`: fetch one league-season from Understat and store it in
  ``raw_understat_matches`` (its unreadable elements in ``understat_quarantine``, ``quarantined_by
  = "raw"``), replacing the partition in one transaction. A failed fetch or a refused body
  raises and leaves the stored partition as it was.
- :func:`validate_and_store_understat` (and ``_many``): run the Understat suite
  (:mod:`footcast.quality.understat`) over raw partitions; valid rows replace the partition of
  ``understat_matches`` and failing rows that layer's rows of ``understat_quarantine``, in one
  transaction, unless a blocking check fails (then the previous version stays).

Tables: see ``footcast.adapters.warehouse`` (``raw_understat_matches``, ``understat_matches``,
``understat_quarantine``); their rows are ``footcast.data.understat.UNDERSTAT_COLUMNS`` plus
``fetched_at``. Read them back in those dtypes with :func:`read_understat`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from footcast import config
from footcast.adapters.warehouse import (
    QUARANTINED_BY_RAW,
    QUARANTINED_BY_VALIDATED,
    Warehouse,
    raw_understat_matches,
    understat_matches,
    understat_quarantine,
)
from footcast.data import understat
from footcast.quality.understat import UnderstatPartition, UnderstatValidation, validate_understat_partitions
from footcast.services.findings import PartitionFindings
from footcast.services.sources.base import Fetched, XgSource


def read_understat(
    warehouse: Warehouse, table: sa.Table, where: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Rows of an Understat table in the frame's dtypes (``UNDERSTAT_COLUMNS`` + ``fetched_at``;
    for ``understat_quarantine`` also its reasons, failed values, raw text and step)."""
    stored = warehouse.read(table, where)
    # a rejected element's is_result may be unknown
    dtypes = understat.REJECTED_DTYPES if table is understat_quarantine else understat.UNDERSTAT_DTYPES
    frame = understat.conform(
        stored[[c for c in stored.columns if c in understat.UNDERSTAT_DTYPES]],
        {c: dtypes[c] for c in understat.UNDERSTAT_COLUMNS},
    ).assign(fetched_at=stored["fetched_at"].to_numpy())
    extra = [c for c in stored.columns if c not in frame.columns]
    return pd.concat([frame, stored[extra].reset_index(drop=True)], axis=1) if extra else frame


def stored_played_matches(warehouse: Warehouse, league: str, season: int) -> int:
    """Played matches the raw partition holds (a newer fetch must not have fewer)."""
    return warehouse.count(raw_understat_matches, {"league": league, "season": season, "is_result": True})


def _raw_quarantine_rows(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected elements as quarantine rows: ``reasons`` the rejection, ``failed_values``
    {rejection: {"reason": ...}}, ``raw_text`` the element's JSON."""
    details = [
        json.dumps({str(kind): {"reason": str(reason)}}, ensure_ascii=False)
        for kind, reason in zip(rejected["rejection"], rejected["reason"], strict=True)
    ]
    return rejected.drop(columns=["rejection", "reason"]).assign(
        reasons=rejected["rejection"].astype("string"),
        failed_values=pd.array(details, dtype="string"),
        quarantined_at=pd.Timestamp(config.now()),
        quarantined_by=QUARANTINED_BY_RAW,
    )


def store_fetched_understat(warehouse: Warehouse, league: str, season: int, fetched: Fetched) -> int:
    """Replace the raw partition and its raw rejects in one transaction; the rows stored."""
    where = {"league": league, "season": season}
    with warehouse.engine.begin() as conn:
        rows = warehouse.replace_partition(raw_understat_matches, where, fetched.frame, conn)
        warehouse.replace_partition(
            understat_quarantine,
            {**where, "quarantined_by": QUARANTINED_BY_RAW},
            _raw_quarantine_rows(fetched.rejected),
            conn,
        )
    return rows


def ingest_understat_season(
    source: XgSource,
    warehouse: Warehouse,
    league: str,
    season: int,
    *,
    force: bool = False,
    allow_fewer_rows: bool = False,
) -> tuple[Fetched, int]:
    """Fetch one league-season from Understat and store it as the raw partition; (what was
    fetched, rows stored). Raises what :meth:`XgSource.fetch_season` raises, storing nothing."""
    fetched = source.fetch_season(
        league,
        season,
        force=force,
        stored_matches=stored_played_matches(warehouse, league, season),
        allow_fewer_rows=allow_fewer_rows,
    )
    return fetched, store_fetched_understat(warehouse, league, season, fetched)


# -- the validated layer ------------------------------------------------------------------------


@dataclass
class UnderstatValidationReport:
    league: str
    season: int
    outcome: UnderstatValidation
    raw_rows: int
    written: bool
    changes: dict[str, Any] = field(default_factory=dict)
    # what the raw step could not read: findings of kept rows and its rejected elements
    findings: PartitionFindings = field(default_factory=lambda: PartitionFindings(unit="element"))

    @property
    def blocked(self) -> bool:
        return bool(self.outcome.blocking_failures)

    @property
    def blocking_names(self) -> list[str]:
        return [c.name for c in self.outcome.blocking_failures]

    def metadata(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for text in self.outcome.quarantined["reasons"]:
            for reason in str(text).split(","):
                reasons[reason] = reasons.get(reason, 0) + 1
        valid = self.outcome.valid
        return {
            "raw_rows": self.raw_rows,
            "rows": len(valid),
            "played": int(valid["is_result"].sum()),
            "quarantined": len(self.outcome.quarantined),
            "quarantine_share": round(self.outcome.quarantine_share, 4),
            "quarantine_reasons": json.dumps(reasons, sort_keys=True),
            "partition_replaced": self.written,
            "findings": len(self.findings.findings),
            "rejected": len(self.findings.rejected),
            "findings_summary": self.findings.summary(),
            **self.changes,
        }


def _findings(raw: pd.DataFrame, rejects: pd.DataFrame) -> PartitionFindings:
    out = PartitionFindings(unit="element")
    noted = raw[raw["findings"].notna()].sort_values("source_index")
    for index, text in zip(noted["source_index"], noted["findings"], strict=True):
        out.findings += [{"line": int(index), **entry} for entry in json.loads(text)]
    for index, kind, values, text in zip(
        rejects["source_index"],
        rejects["reasons"],
        rejects["failed_values"],
        rejects["raw_text"],
        strict=True,
    ):
        reason = json.loads(values).get(kind, {}).get("reason", "")
        line = None if pd.isna(index) else int(index)
        out.rejected.append({"line": line, "rejection": kind, "reason": reason, "raw_text": text})
    return out


def diff(previous: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """What a new version changed, by Understat id (lineage and findings excluded)."""
    compared = [
        c for c in understat.UNDERSTAT_COLUMNS if c not in ("source_url", "content_hash", "source_index")
    ]

    def digests(frame: pd.DataFrame) -> dict[str, int]:
        hashes = pd.util.hash_pandas_object(frame[compared], index=False)
        return dict(zip(frame["understat_id"].astype(str), hashes.tolist(), strict=True))

    before, after = digests(previous), digests(current)
    changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
    return {
        "rows_added": len(after.keys() - before.keys()),
        "rows_removed": len(before.keys() - after.keys()),
        "rows_changed": len(changed),
        "changed_understat_ids": ", ".join(changed[:20]),
    }


def _partitions(warehouse: Warehouse, table: sa.Table, targets: list[tuple[str, int]], **where: Any) -> dict:
    """(league, season) -> that partition's rows of ``table`` (possibly none); one query for all."""
    leagues = sorted({league for league, _season in targets})
    seasons = sorted({season for _league, season in targets})
    frame = read_understat(warehouse, table, {"league": leagues, "season": seasons, **where})
    groups = {
        (str(lg), int(s)): g.reset_index(drop=True) for (lg, s), g in frame.groupby(["league", "season"])
    }
    return {target: groups.get(target, frame.iloc[0:0]) for target in targets}


def validate_and_store_understat(
    warehouse: Warehouse, league: str, season: int, max_quarantine_share: float = 0.05
) -> UnderstatValidationReport:
    """Validate the raw Understat partition (league, season) and store the outcome atomically."""
    return validate_and_store_understat_many(warehouse, [(league, season)], max_quarantine_share)[0]


def validate_and_store_understat_many(
    warehouse: Warehouse, targets: list[tuple[str, int]], max_quarantine_share: float = 0.05
) -> list[UnderstatValidationReport]:
    """Validate raw Understat partitions (one suite run for all) and store each outcome in one
    transaction: valid rows to ``understat_matches``, failing ones to ``understat_quarantine``
    (``quarantined_by = "validated"``; the raw step's rows stay). A partition whose blocking
    checks fail keeps its previous version."""
    raws = _partitions(warehouse, raw_understat_matches, targets)
    rejects = _partitions(warehouse, understat_quarantine, targets, quarantined_by=QUARANTINED_BY_RAW)
    previous = _partitions(warehouse, understat_matches, targets)
    outcomes = validate_understat_partitions(
        [UnderstatPartition(raws[t].drop(columns="fetched_at"), *t) for t in targets],
        max_quarantine_share=max_quarantine_share,
    )
    reports = []
    for (league, season), outcome in zip(targets, outcomes, strict=True):
        raw = raws[(league, season)]
        report = UnderstatValidationReport(league, season, outcome, raw_rows=len(raw), written=False)
        report.findings = _findings(raw, rejects[(league, season)])
        reports.append(report)
        if report.blocked:
            continue
        fetched_at = raw["fetched_at"].max()  # one fetch fills a raw partition
        held = outcome.quarantined.assign(
            fetched_at=fetched_at,
            quarantined_at=pd.Timestamp(config.now()),
            quarantined_by=QUARANTINED_BY_VALIDATED,
        )
        where = {"league": league, "season": season}
        with warehouse.engine.begin() as conn:
            warehouse.replace_partition(
                understat_matches, where, outcome.valid.assign(fetched_at=fetched_at), conn
            )
            warehouse.replace_partition(
                understat_quarantine, {**where, "quarantined_by": QUARANTINED_BY_VALIDATED}, held, conn
            )
        report.written = True
        report.changes = diff(previous[(league, season)], outcome.valid)
    return reports
