"""The response bodies as pydantic models: the OpenAPI schema. The bodies themselves are built
with orjson (envelope.json_response); these models only describe them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from footcast.api.envelope import ErrorCode


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
