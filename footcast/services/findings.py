"""What the raw layer could not read, per partition: cells that became null (findings of kept
rows) and rows it rejected (quarantined by the raw step), for the validated layer's
``findings`` check and the backfill summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class PartitionFindings:
    # {"line", "column", "raw", "reason"} per unreadable cell of a kept row, in file order
    findings: list[dict] = field(default_factory=list)
    # {"line", "rejection", "reason", "raw_text"} per rejected row, in file order
    rejected: list[dict] = field(default_factory=list)
    # what "line" counts in the source: its lines (CSV files) or its elements (a JSON list)
    unit: str = "line"

    def __bool__(self) -> bool:
        return bool(self.findings or self.rejected)

    def lines_by_column(self) -> dict[str, list[int]]:
        """Column -> the source lines of its findings (a value beyond the header is its "field N")."""
        out: dict[str, list[int]] = {}
        for entry in self.findings:
            out.setdefault(entry["column"] or "(line)", []).append(entry["line"])
        return out

    def summary(self) -> str:
        """One line: the columns with their lines, then the rejected rows' lines and rejections."""
        parts = [
            f"{column} {self.unit} {', '.join(map(str, lines))}"
            for column, lines in self.lines_by_column().items()
        ]
        parts += [
            f"rejected {self.unit} {row['line']} ({row['rejection']}: {row['reason']})"
            for row in self.rejected
        ]
        return "; ".join(parts)

    def as_json(self) -> dict:
        return {"findings": self.findings, "rejected": self.rejected}


def _lines(frame: pd.DataFrame) -> list[int | None]:
    return [None if pd.isna(line) else int(line) for line in frame["source_line"]]


def of_partition(raw: pd.DataFrame, raw_rejects: pd.DataFrame) -> PartitionFindings:
    """``raw``: the partition's raw rows (with ``findings``); ``raw_rejects``: its quarantine rows
    of the raw step (``reasons`` = the rejection, ``failed_values``, ``raw_text``)."""
    out = PartitionFindings()
    with_findings = raw[raw["findings"].notna() & (raw["findings"] != "")].sort_values("source_line")
    for line, text in zip(_lines(with_findings), with_findings["findings"], strict=True):
        out.findings += [{"line": line, **entry} for entry in json.loads(text)]
    rejects = raw_rejects.sort_values("source_line")
    for line, kind, values, text in zip(
        _lines(rejects), rejects["reasons"], rejects["failed_values"], rejects["raw_text"], strict=True
    ):
        reason = json.loads(values).get(kind, {}).get("reason", "")
        out.rejected.append({"line": line, "rejection": kind, "reason": reason, "raw_text": text})
    return out
