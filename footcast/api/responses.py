"""The response bodies as pydantic models: the OpenAPI schema. The bodies themselves are built
with orjson (envelope.json_response); these models only describe them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, create_model

from footcast.api.envelope import ErrorCode
from footcast.models import track_record_report as track_shape


class Prediction(BaseModel):
    match_id: str = Field(description="deterministic match id")
    league: str
    season: int = Field(description="start year of the season (2025 is 2025/26)")
    kickoff: datetime = Field(description="kickoff, UTC")
    home_team: str
    away_team: str
    p_home: float
    p_draw: float
    p_away: float
    fair_odds_home: float
    fair_odds_draw: float
    fair_odds_away: float
    model_name: str
    model_version: str
    feature_set_version: str
    generated_at: str = Field(description="when the prediction was made (ISO 8601)")
    publish_version: str = Field(description="the published version this record belongs to")


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str


class EmptyMeta(BaseModel):
    pass


class ErrorEnvelope(BaseModel):
    data: None
    error: ErrorBody
    meta: EmptyMeta


class VersionMeta(BaseModel):
    version: str = Field(description="the published version the data comes from")


class ListMeta(VersionMeta):
    count: int
    limit: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class PredictionEnvelope(BaseModel):
    data: Prediction
    error: None
    meta: VersionMeta


class PredictionListEnvelope(BaseModel):
    data: list[Prediction]
    error: None
    meta: ListMeta


class LeaguesEnvelope(BaseModel):
    data: list[str]
    error: None
    meta: VersionMeta


class Health(BaseModel):
    status: Literal["ok"]
    redis: Literal["reachable"]
    version: str
    published_at: str | None
    age_seconds: float | None = Field(description="seconds since the version was published")
    predictions: int | None
    model_version: str | None
    api_version: str


class HealthEnvelope(BaseModel):
    data: Health
    error: None
    meta: VersionMeta


# -- GET /track-record: the report of footcast.models.track_record_report -------------------------


def _track_record_fields(names, omitted=()) -> dict:
    """Pydantic fields of the report's columns: times as date-times, counts as integers, texts,
    and every figure a float or null (a reference a match has no price or rating for)."""
    texts = {"match_id", "league", "home_team", "away_team", "result", "reason", "span"}
    texts |= {"version", "model_version", "market_source"}
    fields = {}
    for name in names:
        name = track_shape.RENAMED.get(name, name)
        if name in omitted:
            continue
        if name in track_shape.TIME_COLUMNS:
            fields[name] = (datetime | None, ...)
        elif name in texts:
            fields[name] = (str | None, ...)
        elif name in ("season", "n") or name.startswith("n_"):
            fields[name] = (int, ...)
        else:
            fields[name] = (float | None, ...)
    return fields


TrackRecordMatch = create_model(
    "TrackRecordMatch",
    __doc__="A scored match: the prediction live at kickoff (`version`), its scores, and the "
    "references' probabilities and scores on the same match.",
    **_track_record_fields(track_shape.TRACK_RECORD_COLUMNS, track_shape.MATCH_OMITTED),
)
TrackRecordSummary = create_model(
    "TrackRecordSummary",
    __doc__="Rolling figures of one league (or `all`) over one span (last_50, last_200, season).",
    **_track_record_fields(track_shape.SUMMARY_COLUMNS),
)
TrackRecordExcluded = create_model(
    "TrackRecordExcluded",
    __doc__="A match predicted before kickoff but not scored, and why.",
    **_track_record_fields(track_shape.EXCLUDED_FIELDS),
)


class TrackRecord(BaseModel):
    matches: list[TrackRecordMatch]  # type: ignore[valid-type]
    summary: list[TrackRecordSummary]  # type: ignore[valid-type]
    excluded: list[TrackRecordExcluded]  # type: ignore[valid-type]


class TrackRecordMeta(BaseModel):
    version: str = Field(description="the published track record version")
    updated_at: str = Field(description="when the track record was computed (ISO 8601)")
    count: int = Field(description="matches in `data.matches`")
    limit: int
    truncated: bool = Field(description="more matches matched than `limit`: the most recent are given")


class TrackRecordEnvelope(BaseModel):
    data: TrackRecord
    error: None
    meta: TrackRecordMeta
