"""Path and query parameters, validated with pydantic before they reach a Redis key (charset,
length); the OpenAPI parameters are these models' JSON schema."""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from footcast.api.envelope import ApiError, ErrorCode

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
MATCH_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
LEAGUE_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
# At least one ASCII letter or digit (team_key keeps only those), no control characters.
TEAM_PATTERN = r"^[^\x00-\x1f\x7f]*[0-9A-Za-z][^\x00-\x1f\x7f]*$"
CURSOR_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?~[A-Za-z0-9_-]{1,64}$"


def _only(pattern: str, what: str) -> BeforeValidator:
    """Accept only text of this form (pydantic alone would also take e.g. epoch numbers)."""
    regex = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not regex.fullmatch(value):
            raise ValueError(f"should be {what}")
        return value

    return BeforeValidator(check)


# RFC 3339, as the OpenAPI formats "date-time" and "date" say.
DateTime = Annotated[
    datetime,
    _only(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        "an RFC 3339 date-time with offset, e.g. 2026-08-01T15:00:00Z",
    ),
]
Day = Annotated[date, _only(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date YYYY-MM-DD")]


class MatchPath(BaseModel):
    match_id: str = Field(pattern=MATCH_ID_PATTERN, max_length=64, description="match id")


class ListQuery(BaseModel):
    team: str | None = Field(
        None,
        max_length=64,
        pattern=TEAM_PATTERN,
        description="a team's fixtures: any alias, case, accent and punctuation insensitive",
    )
    league: str | None = Field(
        None, max_length=16, pattern=LEAGUE_PATTERN, description="league code, e.g. E0"
    )
    day: Day | None = Field(None, alias="date", description="kickoff on this UK-local date")
    start: DateTime | None = Field(None, alias="from", description="kickoff at or after (RFC 3339)")
    end: DateTime | None = Field(None, alias="to", description="kickoff before (RFC 3339)")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")
    cursor: str | None = Field(
        None, max_length=80, pattern=CURSOR_PATTERN, description="`meta.next_cursor` of the page before"
    )


TRACK_RECORD_LIMIT, MAX_TRACK_RECORD_LIMIT = 1000, 10_000
LEAGUES_PATTERN = r"^[A-Za-z0-9_-]{1,16}(,[A-Za-z0-9_-]{1,16}){0,63}$"


class TrackRecordQuery(BaseModel):
    leagues: str | None = Field(
        None, max_length=1100, pattern=LEAGUES_PATTERN, description="league codes, comma-separated: E0,D1"
    )
    since: Day | None = Field(None, description="matches that kicked off on or after this date (UTC)")
    limit: int = Field(
        TRACK_RECORD_LIMIT, ge=1, le=MAX_TRACK_RECORD_LIMIT, description="the most recent matches at most"
    )

    def league_list(self) -> list[str]:
        return sorted(set(self.leagues.split(","))) if self.leagues else []


def validated(model: type[BaseModel], values: Any) -> Any:
    """``values`` parsed by ``model``, or a 422 naming each bad parameter (never echoing it)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
        raise ApiError(422, ErrorCode.invalid_parameter, "; ".join(problems)) from None
