"""Linking Understat's matches to football-data's in the warehouse, and the team registry's
accepted aliases.

- :func:`link_partition` (and ``_many``): link one league-season of ``understat_matches`` to
  ``matches`` (:func:`footcast.data.linking.link_season`) with the registry of the checked-in
  seed plus ``team_aliases``; store its rows of ``understat_links`` and ``team_proposals``, and
  the names accepted from the fixtures as ``team_aliases`` (origin "auto"), in one transaction.
- :func:`accept_alias`: store a name a user accepts (origin "manual"), replacing the source's
  entry for that spelling.
- :func:`links_report`: what ``footcast teams`` prints: per league-season, Understat's played
  matches, how many are linked and the others with their reasons; and the names still
  unresolved with their proposals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from footcast import config
from footcast.adapters.warehouse import (
    Warehouse,
    matches,
    team_aliases,
    team_proposals,
    understat_links,
    understat_matches,
)
from footcast.data import linking, teams
from footcast.data.catalogue import LEAGUES, partition_key
from footcast.services.understat import read_understat

MATCH_COLUMNS = ["match_id", "kickoff", "home_team", "away_team", "fthg", "ftag"]


class UnknownTeamError(ValueError):
    """An alias named a club the registry and the warehouse do not know."""


def stored_aliases(warehouse: Warehouse) -> list[teams.TeamName]:
    """The accepted aliases of ``team_aliases`` (none when the table does not exist yet)."""
    rows = warehouse.read(team_aliases)
    return [
        teams.TeamName(r.canonical, r.source, r.name, origin=r.origin, confidence=float(r.confidence))
        for r in rows.itertuples()
    ]


def registry(warehouse: Warehouse) -> teams.TeamRegistry:
    """The checked-in seed with the warehouse's accepted aliases over it."""
    return teams.seed_registry().with_names(stored_aliases(warehouse))


def _alias_row(name: str, source: str, canonical: str, origin: str, confidence: float, evidence: str):
    return {
        "source": source,
        "name_key": teams.team_key(name),
        "name": teams.normalize_whitespace(name),
        "canonical": canonical,
        "origin": origin,
        "confidence": confidence,
        "evidence": evidence,
        "accepted_at": pd.Timestamp(config.now()),
    }


def link_partition(
    warehouse: Warehouse, league: str, season: int, known: teams.TeamRegistry | None = None
) -> linking.LinkResult:
    """Link one league-season and store it (module docstring); returns the result."""
    where = {"league": league, "season": season}
    xg = read_understat(warehouse, understat_matches, where)
    played = warehouse.read(matches, where, columns=MATCH_COLUMNS)
    result = linking.link_season(
        xg, played, known or registry(warehouse), league=league, season=season, source=linking.SOURCE
    )
    now = pd.Timestamp(config.now())
    aliases = [
        _alias_row(a["name"], a["source"], a["canonical"], a["origin"], a["confidence"], a["evidence"])
        for a in linking.accepted_aliases(result.proposals)
    ]
    with warehouse.engine.begin() as conn:
        warehouse.replace_partition(understat_links, where, result.links.assign(linked_at=now), conn)
        warehouse.replace_partition(team_proposals, where, result.proposals.assign(proposed_at=now), conn)
        # A name another partition (or a user) stored first keeps that entry.
        warehouse.upsert(team_aliases, aliases, conn, replace=False)
    return result


def link_partitions(warehouse: Warehouse, targets: Iterable[tuple[str, int]]) -> list[linking.LinkResult]:
    """:func:`link_partition` for each (league, season) in turn; names accepted in one partition
    place them in the next."""
    results = []
    for league, season in targets:
        results.append(link_partition(warehouse, league, season, registry(warehouse)))
    return results


def known_clubs(warehouse: Warehouse) -> dict[str, str]:
    """team_key -> canonical name of every club the registry or the warehouse's matches know."""
    names = set(registry(warehouse).canonical_teams())
    names.update(n for league_teams in teams.LEAGUE_TEAMS.values() for n in league_teams)
    for column in ("home_team", "away_team"):
        names.update(str(n) for n in warehouse.distinct(matches, column))
    return {teams.team_key(name): name for name in sorted(names)}


def accept_alias(warehouse: Warehouse, name: str, canonical: str, source: str) -> dict[str, Any]:
    """Store ``name`` (as ``source`` spells it) as an alias of the club ``canonical`` (origin
    "manual"). Returns the stored row and the partitions whose proposals name it (to re-link)."""
    if source not in teams.LINKED_SOURCES:
        raise ValueError(
            f"unknown source {source!r}; names of {', '.join(teams.LINKED_SOURCES)} can be accepted"
        )
    if not name.strip():
        raise ValueError("the name to accept is empty")
    club = known_clubs(warehouse).get(teams.team_key(canonical))
    if club is None:
        raise UnknownTeamError(
            f"{canonical!r} is not a known club (give football-data's name, as in `footcast teams` proposals)"
        )
    row = _alias_row(name, source, club, teams.MANUAL, 1.0, "accepted by footcast teams --accept")
    with warehouse.engine.begin() as conn:
        warehouse.upsert(team_aliases, [row], conn, replace=True)
    proposed = warehouse.read(team_proposals, {"source": source}, columns=["league", "season", "name"])
    hit = proposed[proposed["name"].map(teams.team_key) == row["name_key"]]
    partitions = sorted(
        {partition_key(lg, int(s)) for lg, s in zip(hit["league"], hit["season"], strict=True)}
    )
    return {**row, "partitions": partitions}


# -- the report ---------------------------------------------------------------------------------


def link_summaries(warehouse: Warehouse) -> list[linking.LinkSummary]:
    """One summary per league-season of ``understat_links``, in catalogue order then season."""
    stored = warehouse.read(understat_links)
    order = {code: i for i, code in enumerate(LEAGUES)}
    summaries = []
    for (league, season), rows in stored.groupby(["league", "season"], sort=False):
        summaries.append(linking.summarize(linking.conform_links(rows), str(league), int(season)))
    return sorted(summaries, key=lambda s: (order.get(s.league, len(order)), s.league, s.season))


def unresolved_names(warehouse: Warehouse) -> list[dict[str, Any]]:
    """The names the last linking of their partitions could not place, with their candidate
    clubs, unless an alias was accepted for them since."""
    proposals = warehouse.read(team_proposals)
    proposals = proposals[~proposals["status"].isin(linking.USED_STATUSES)]
    if proposals.empty:
        return []
    accepted = warehouse.read(team_aliases, columns=["source", "name_key", "accepted_at"])
    since = {(r.source, r.name_key): r.accepted_at for r in accepted.itertuples()}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in proposals.sort_values(["source", "name", "league", "season", "evidence"]).itertuples():
        accepted_at = since.get((r.source, teams.team_key(r.name)))
        if accepted_at is not None and accepted_at >= r.proposed_at:
            continue
        entry = out.setdefault((r.source, r.name), {"source": r.source, "name": r.name, "proposals": []})
        entry["proposals"].append(
            {
                "league": r.league,
                "season": int(r.season),
                "canonical": None if pd.isna(r.canonical) else r.canonical,
                "confidence": float(r.confidence),
                "evidence": int(r.evidence),
                "matches": int(r.matches),
                "status": r.status,
                "detail": r.detail,
            }
        )
    for entry in out.values():
        entry["proposals"].sort(key=lambda p: (p["league"], p["season"], -p["evidence"]))
    return list(out.values())


def links_report(warehouse: Warehouse) -> dict[str, Any]:
    """``{"links": [summary, ...], "unresolved": [...]}`` (``footcast teams --json``)."""
    return {
        "links": [summary.as_json() for summary in link_summaries(warehouse)],
        "unresolved": unresolved_names(warehouse),
    }
