"""The track record as readers get it (`footcast track-record --json`, GET /track-record): the
report ``{"matches": [...], "summary": [...], "excluded": [...]}`` and how a reader's filters
select from it. Light on purpose (no numpy, no pandas): the API's workers import it.

- ``matches``: the scored matches in kickoff order, one JSON object each: the track record's
  columns (``models.track_record.TRACK_RECORD_COLUMNS``) but ``status`` and ``reason``, with
  ``publish_version`` named ``version`` (the publish version live at kickoff) and times in ISO 8601;
- ``summary``: the rolling figures, one object per league (``all`` too) and span;
- ``excluded``: the matches predicted before kickoff but not scored, each with its ``reason``
  and the last ``version`` that predicted it.

Filters: ``leagues`` keeps those leagues' matches, exclusions and summary rows (the ``all``
rows cover every league, so they are kept only without a league filter); ``since`` keeps the
matches and exclusions that kicked off at or after it (the summary is what it is: the rolling
figures as of the last computation); ``limit`` keeps the most recent matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

OUTCOMES = ("home", "draw", "away")
SCORES = ("rps", "log_loss", "brier")
REFERENCES = ("market", "close", "elo")
SCORED, EXCLUDED = "scored", "excluded"
ALL = "all"
SPANS: dict[str, int | None] = {"last_50": 50, "last_200": 200, "season": None}
IDENTITY = ("match_id", "league", "season", "kickoff", "home_team", "away_team")
TIME_COLUMNS = ("kickoff", "published_at", "kickoff_at_publish", "first_kickoff", "last_kickoff")


def prob_columns(prefix: str = "") -> list[str]:
    """``p_home``, ``p_draw``, ``p_away`` of the model (prefix "") or e.g. ``market_p_home``."""
    return [f"{prefix}p_{outcome}" for outcome in OUTCOMES]


def _reference_columns(reference: str) -> list[str]:
    return prob_columns(f"{reference}_") + [f"{reference}_{score}" for score in SCORES]


# The track record table (``models.track_record.score``): one row per match.
TRACK_RECORD_COLUMNS: tuple[str, ...] = (
    *IDENTITY,
    "result",
    "status",
    "reason",
    "publish_version",
    "model_version",
    "published_at",
    "kickoff_at_publish",
    *prob_columns(),
    *SCORES,
    "market_source",
    *[column for reference in REFERENCES for column in _reference_columns(reference)],
)
# The rolling figures (``models.track_record.summarise``): one row per league ("all" too) and span.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "league",
    "span",
    "n",
    "first_kickoff",
    "last_kickoff",
    *SCORES,
    "calibration_error",
    "calibration_limit",
    *[
        column
        for reference in REFERENCES
        for column in (
            f"n_{reference}",
            f"{reference}_rps",
            f"diff_vs_{reference}_rps",
            f"{reference}_ci_low",
            f"{reference}_ci_high",
        )
    ],
)

# What readers get: a scored match is its TRACK_RECORD_COLUMNS but these, renamed so.
RENAMED = {"publish_version": "version"}
MATCH_OMITTED = ("status", "reason")
EXCLUDED_FIELDS = (
    "match_id",
    "league",
    "season",
    "kickoff",
    "home_team",
    "away_team",
    "result",
    "reason",
    "version",
    "model_version",
    "published_at",
    "kickoff_at_publish",
)


def since_moment(since: date | datetime | None) -> datetime | None:
    """A date means its start, UTC."""
    if since is None or isinstance(since, datetime):
        return since
    return datetime.combine(since, time.min, UTC)


def select(
    report: dict[str, list[dict[str, Any]]],
    leagues: Sequence[str] | None = None,
    since: date | datetime | None = None,
    limit: int | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], bool]:
    """(the report restricted by the filters, whether ``limit`` cut matches off)."""
    wanted = set(leagues or ())
    start = since_moment(since)

    def keep(record: dict[str, Any]) -> bool:
        if wanted and record["league"] not in wanted:
            return False
        return start is None or datetime.fromisoformat(record["kickoff"]) >= start

    matches = [record for record in report["matches"] if keep(record)]
    truncated = limit is not None and len(matches) > limit
    if truncated:
        matches = matches[len(matches) - limit :] if limit else []
    summary = [row for row in report["summary"] if (row["league"] in wanted if wanted else True)]
    excluded = [record for record in report["excluded"] if keep(record)]
    return {"matches": matches, "summary": summary, "excluded": excluded}, truncated
