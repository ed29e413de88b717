"""The Redis key layout of published predictions, and the Lua scripts that read it.

Key layout (``P`` is the key prefix, default ``footcast``; ``V`` a publish version id):

    P:current                       string   the version readers see
    P:versions                      list     published versions, newest first (rollback)
    P:pending                       set      versions being written (cleanup after a crash)
    P:v:V:meta                      hash     version, published_at, count, model_version
    P:v:V:match:<match_id>          hash     one prediction (all fields as strings)
    P:v:V:team:<team_key>           zset     match ids of a team's fixtures, score = kickoff epoch
    P:v:V:league:<league>:<date>    zset     match ids of a league on a UK-local date, score = kickoff
    P:v:V:kickoff                   zset     all match ids, score = kickoff epoch (time windows)
    P:v:V:leagues                   set      leagues in this version
    P:v:V:indexes                   set      the index keys above (team:..., league:..., kickoff)

Readers resolve the pointer and read the version inside one Lua script, so a lookup is one
round trip and always sees one complete version. The publisher (store.PredictionStore) and the
HTTP API (footcast.api, on redis.asyncio) both build keys with these functions and run these
scripts with these arguments, so the layout is defined here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from footcast.data import schema, teams

PREDICTION_FIELDS: tuple[str, ...] = (
    *schema.IDENTITY_COLUMNS,
    "p_home",
    "p_draw",
    "p_away",
    "fair_odds_home",
    "fair_odds_draw",
    "fair_odds_away",
    "model_name",
    "model_version",
    "feature_set_version",
    "generated_at",
    "publish_version",
)
FLOAT_FIELDS = frozenset({"p_home", "p_draw", "p_away", "fair_odds_home", "fair_odds_draw", "fair_odds_away"})

# Resolve the current version and read one match: one round trip, one consistent version.
LOOKUP_MATCH_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('HGETALL', ARGV[1] .. ':v:' .. v .. ':match:' .. ARGV[2])}
"""
# Resolve the current version, range an index zset by score, read every match in it.
LOOKUP_INDEX_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local base = ARGV[1] .. ':v:' .. v
local ids = redis.call('ZRANGEBYSCORE', base .. ':' .. ARGV[2], ARGV[3], ARGV[4],
                      'LIMIT', 0, tonumber(ARGV[5]))
local out = {v}
for i, id in ipairs(ids) do
  out[#out + 1] = redis.call('HGETALL', base .. ':match:' .. id)
end
return out
"""

KICKOFF_INDEX = "kickoff"
INDEXES = "indexes"  # below a version: the set of its index keys (the kickoff index among them)


class NotPublishedError(LookupError):
    """Nothing has been published to this Redis yet."""


def current_key(prefix: str) -> str:
    return f"{prefix}:current"


def versions_key(prefix: str) -> str:
    return f"{prefix}:versions"


def pending_key(prefix: str) -> str:
    return f"{prefix}:pending"


def version_base(prefix: str, version: str) -> str:
    """Prefix of every key of one version (``meta`` and ``leagues`` hang below it)."""
    return f"{prefix}:v:{version}"


def team_index(team: str) -> str:
    """Index (below a version) of a team's match ids by kickoff."""
    return f"team:{teams.team_key(team)}"


def league_date_index(league: str, day: str) -> str:
    """Index (below a version) of a league's match ids on a UK-local date (YYYY-MM-DD)."""
    return f"league:{league}:{day}"


def match_lookup_args(prefix: str, match_id: str) -> tuple[list[str], list[str]]:
    """(keys, args) of LOOKUP_MATCH_SCRIPT."""
    return [current_key(prefix)], [prefix, match_id]


def index_lookup_args(
    prefix: str, index: str, start: float | str, end: float | str, limit: int
) -> tuple[list[str], list[Any]]:
    """(keys, args) of LOOKUP_INDEX_SCRIPT: ``limit`` ids of ``index`` with start <= score <= end
    (a bound prefixed with "(" is exclusive, as in ZRANGEBYSCORE)."""
    return [current_key(prefix)], [prefix, index, start, end, limit]


def decode_record(flat: Iterable[str]) -> dict[str, Any]:
    """A prediction from the flat field/value list HGETALL gives (as a script returns it)."""
    items = list(flat)
    record: dict[str, Any] = dict(zip(items[0::2], items[1::2], strict=True))
    for key in FLOAT_FIELDS & record.keys():
        record[key] = float(record[key])
    if "season" in record:
        record["season"] = int(record["season"])
    return record
