"""The track record in Redis: published whole by the `published_track_record` asset, read by the
HTTP API (GET /track-record and the gauges of /metrics) in one round trip.

Key layout (``P`` the key prefix, ``V`` a version id, as ``store.new_version`` makes them):

    P:track:current                 string   the version readers see
    P:track:v:V:meta                hash     version, updated_at, matches, excluded
    P:track:v:V:summary             string   JSON list: the rolling figures
    P:track:v:V:excluded            string   JSON list: the excluded matches
    P:track:v:V:leagues             set      leagues with scored matches
    P:track:v:V:league:<league>     zset     JSON of each scored match, score = kickoff epoch

A publish writes every key of the new version, then switches the pointer (one SET), then gives
the previous version's keys a TTL (readers in the middle of a read finish on it). The read
script resolves the pointer and reads the version in one call, so a response is one version.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import redis

from footcast.adapters.redis.store import new_version

CHUNK = 5000
OLD_VERSION_TTL_SECONDS = 300

# KEYS[1] the pointer; ARGV: prefix, lowest kickoff score ("-inf" or epoch seconds), most matches
# per league, then the leagues asked for (none: every league of the version). Returns false when
# nothing is published, else {version, summary JSON, excluded JSON, updated_at, {leagues of the
# version}, league, {match JSON, newest first}, league, {...}, ...}.
READ_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local base = ARGV[1] .. ':track:v:' .. v
local known = redis.call('SMEMBERS', base .. ':leagues')
local leagues = known
if #ARGV > 3 then
  leagues = {}
  for i = 4, #ARGV do leagues[#leagues + 1] = ARGV[i] end
end
local out = {v, redis.call('GET', base .. ':summary') or '[]', redis.call('GET', base .. ':excluded') or '[]',
             redis.call('HGET', base .. ':meta', 'updated_at') or '', known}
for _, league in ipairs(leagues) do
  out[#out + 1] = league
  out[#out + 1] = redis.call('ZREVRANGEBYSCORE', base .. ':league:' .. league, '+inf', ARGV[2],
                             'LIMIT', 0, tonumber(ARGV[3]))
end
return out
"""


def current_key(prefix: str) -> str:
    return f"{prefix}:track:current"


def version_base(prefix: str, version: str) -> str:
    return f"{prefix}:track:v:{version}"


def read_args(
    prefix: str, leagues: list[str], since_epoch: float | None, per_league: int
) -> tuple[list[str], list[Any]]:
    """(keys, args) of READ_SCRIPT."""
    lowest = "-inf" if since_epoch is None else repr(float(since_epoch))
    return [current_key(prefix)], [prefix, lowest, per_league, *leagues]


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def publish(client: redis.Redis, prefix: str, report: dict[str, list[dict]], updated_at: datetime) -> str:
    """Write ``report`` (``models.track_record_report``) as a new version and switch readers to
    it; returns the version."""
    version = new_version()
    base = version_base(prefix, version)
    by_league: dict[str, dict[str, float]] = {}
    for record in report["matches"]:
        score = datetime.fromisoformat(record["kickoff"]).timestamp()
        by_league.setdefault(record["league"], {})[_dumps(record)] = score
    pipe = client.pipeline(transaction=False)
    for league, members in by_league.items():
        items = list(members.items())
        for start in range(0, len(items), CHUNK):
            pipe.zadd(f"{base}:league:{league}", dict(items[start : start + CHUNK]))
            pipe.execute()
    if by_league:
        pipe.sadd(f"{base}:leagues", *by_league)
    pipe.set(f"{base}:summary", _dumps(report["summary"]))
    pipe.set(f"{base}:excluded", _dumps(report["excluded"]))
    meta = {
        "version": version,
        "updated_at": updated_at.isoformat(),
        "matches": len(report["matches"]),
        "excluded": len(report["excluded"]),
    }
    pipe.hset(f"{base}:meta", mapping=meta)
    pipe.execute()
    previous = client.set(current_key(prefix), version, get=True)
    if previous:
        _expire(client, prefix, previous.decode() if isinstance(previous, bytes) else previous)
    return version


def _expire(client: redis.Redis, prefix: str, version: str) -> None:
    base = version_base(prefix, version)
    leagues = client.smembers(f"{base}:leagues")
    keys = [f"{base}:{name}" for name in ("meta", "summary", "excluded", "leagues")]
    keys += [
        f"{base}:league:{league.decode() if isinstance(league, bytes) else league}" for league in leagues
    ]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.expire(key, OLD_VERSION_TTL_SECONDS)
    pipe.execute()
