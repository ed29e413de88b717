"""Linking a second source's matches (Understat's) to football-data's, one league-season at a time.

Pure (no IO). An Understat match is linked to at most one football-data match of the same
league and season, with:

- the same teams through the team registry (``footcast.data.teams``): a name's registry entry
  counts only when its club plays in the league-season (football-data's teams of it), so a
  spelling that means another club elsewhere (VfB Leipzig, Wimbledon FC) is never merged;
- a kickoff within a day: the UK-local dates differ by at most one day (football-data's times
  are UK local, Understat's UTC, and football-data had only dates before 2019/20);
- the same score when both are played.

Names the registry cannot place are proposed from the fixtures (:func:`propose_names`): an
Understat match of the name agrees with a football-data match when they fall within a day,
have the same score, and the opponent agrees too (the opponent's resolved club, or an
unplaced club when the opponent is unplaced as well). A name's ``evidence`` for a club is the
number of its played matches that agree with one of that club's matches at the same venue;
its ``confidence`` is that number over the name's played matches. A proposal is accepted when
it is unambiguous: exactly one club reaches ``ACCEPT_CONFIDENCE`` with at least
``MIN_EVIDENCE`` matches, and no other unplaced name reaches it for that club. Accepting
names makes them anchors for the rest, so proposing repeats until nothing more is accepted.

Matches that cannot be linked are kept with the reason (an awarded or corrected score, a
match football-data lacks, a date more than a day apart), never guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from footcast.data.schema import UK
from footcast.data.teams import ANY_SOURCE, AUTO, TeamRegistry, normalize_whitespace, team_key

SOURCE = "understat"

# A proposal is accepted when its club agrees with at least this share of the name's played
# matches, on at least MIN_EVIDENCE matches, and no other club or name is as strong. A true
# club agrees with nearly all (only awarded or rescheduled matches disagree); a wrong one with
# a few coincidences at most (same day, same score, an unplaced opponent).
ACCEPT_CONFIDENCE = 0.8
MIN_EVIDENCE = 3
# A league-season fails the link check when more of its played Understat matches stay unlinked.
MAX_UNLINKED_SHARE = 0.005
# Kickoffs link when their UK-local dates are at most this many days apart.
MAX_DAYS_APART = 1
# Candidate clubs kept per unplaced name in the proposals.
PROPOSALS_PER_NAME = 3

# How a name found its club (``method`` of the links).
BY_REGISTRY = "registry"
BY_FIXTURES = "fixtures"

# Proposal statuses. ACCEPTED: used for the season, and to be stored as an alias of the source;
# SEASON_ONLY: used for the season, but the registry gives the name's source another club
# (which does not play in this league-season), so it is not stored; the others are not used.
ACCEPTED = "accepted"
SEASON_ONLY = "season-only"
AMBIGUOUS = "ambiguous"
WEAK = "weak"
UNMATCHED = "unmatched"
USED_STATUSES = (ACCEPTED, SEASON_ONLY)

LINK_COLUMNS: tuple[str, ...] = (
    "understat_id",
    "league",
    "season",
    "kickoff",  # Understat's (UTC)
    "home_team",  # Understat's names
    "away_team",
    "home_goals",
    "away_goals",
    "is_result",
    "home_canonical",  # the clubs the names resolved to (null: unresolved)
    "away_canonical",
    "match_id",  # the football-data match; null when unlinked
    "method",  # BY_REGISTRY | BY_FIXTURES (a name placed by this season's proposals)
    "confidence",  # the lower of the two names' confidences
    "score_checked",  # both sides played, scores equal
    "kickoff_delta_hours",  # Understat's kickoff minus football-data's
    "reason",  # why it is unlinked; null when linked
)
PROPOSAL_COLUMNS: tuple[str, ...] = (
    "league",
    "season",
    "source",
    "name",
    "canonical",  # the proposed club (null: no candidate)
    "confidence",
    "evidence",  # agreeing matches
    "matches",  # the name's played matches in the league-season
    "status",
    "detail",
)


@dataclass(frozen=True)
class Placement:
    """The club a source name stands for in one league-season, and how that was found."""

    canonical: str
    method: str  # BY_REGISTRY | BY_FIXTURES
    confidence: float


@dataclass
class LinkSummary:
    """Per league-season: Understat's played matches, how many are linked, and the others."""

    league: str
    season: int
    played: int
    linked: int
    unlinked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unlinked_share(self) -> float:
        return len(self.unlinked) / self.played if self.played else 0.0

    @property
    def complete(self) -> bool:
        """At most MAX_UNLINKED_SHARE of the played matches unlinked (the asset check)."""
        return self.unlinked_share <= MAX_UNLINKED_SHARE

    def as_json(self) -> dict[str, Any]:
        return {
            "league": self.league,
            "season": self.season,
            "played": self.played,
            "linked": self.linked,
            "unlinked": self.unlinked,
        }


@dataclass
class LinkResult:
    links: pd.DataFrame  # LINK_COLUMNS, one row per Understat match
    proposals: pd.DataFrame  # PROPOSAL_COLUMNS, one row per (unplaced name, candidate)
    summary: LinkSummary


# -- placing names --------------------------------------------------------------------------------


def _uk_day(kickoff: pd.Series) -> pd.Series:
    return kickoff.dt.tz_convert(UK).dt.tz_localize(None).dt.normalize()


def match_days(xg: pd.DataFrame) -> dict[str, list]:
    """Each name's UK-local match dates (a club plays at most once a day)."""
    days = _uk_day(xg["kickoff"])
    out: dict[str, list] = {}
    for side in ("home_team", "away_team"):
        for name, day in zip(xg[side].astype(str), days, strict=True):
            out.setdefault(name, []).append(day)
    return out


def _one_club(claimants: list[str], days: dict[str, list]) -> bool:
    """Whether names the registry gives one club can be that club spelled several ways: they
    never play on the same day. (Two clubs, one wrongly aliased, play on the same matchdays.)"""
    seen: set = set()
    for name in claimants:
        mine = set(days.get(name, []))
        if seen & mine:
            return False
        seen |= mine
    return True


def place_by_registry(
    names: list[str], season_teams: list[str], registry: TeamRegistry, source: str, days: dict[str, list]
) -> tuple[dict[str, Placement], dict[str, str]]:
    """(placed names, why each other name is not placed) for one league-season.

    A name is placed when its registry club (or the name itself, when the registry does not know
    it) is one of ``season_teams``. Names placed on one club that play on the same day (``days``:
    :func:`match_days`) cannot all be that club: they are all left to the fixtures.
    """
    by_key = {team_key(team): team for team in season_teams}
    placed: dict[str, Placement] = {}
    unplaced: dict[str, str] = {}
    for name in names:
        entry = registry.lookup(name, source)
        canonical = entry.canonical if entry is not None else normalize_whitespace(name)
        team = by_key.get(team_key(canonical))
        if team is None:
            unplaced[name] = (
                f"the registry gives {canonical!r}, which does not play in this league-season"
                if entry is not None
                else "not in the registry"
            )
            continue
        placed[name] = Placement(team, BY_REGISTRY, entry.confidence if entry is not None else 1.0)
    owners: dict[str, list[str]] = {}
    for name, placement in placed.items():
        owners.setdefault(placement.canonical, []).append(name)
    for team, claimants in owners.items():
        if len(claimants) > 1 and not _one_club(claimants, days):
            for name in claimants:
                del placed[name]
                unplaced[name] = (
                    f"{' and '.join(map(repr, claimants))} all resolve to {team!r} and play on the same days"
                )
    return placed, unplaced


def _played(frame: pd.DataFrame, home: str, away: str) -> pd.DataFrame:
    goals = frame[[home, away]].apply(pd.to_numeric, errors="coerce")
    known = goals.notna().all(axis=1)
    return frame[known].assign(_hg=goals.loc[known, home].astype(int), _ag=goals.loc[known, away].astype(int))


def _agreements(
    xg_played: pd.DataFrame, fd_played: pd.DataFrame, placed: dict[str, Placement]
) -> pd.DataFrame:
    """Every (Understat match, football-data match) pair within a day with the same score."""
    pairs = xg_played.merge(fd_played, on=["_hg", "_ag"], suffixes=("", "_fd"))
    apart = (pairs["_day"] - pairs["_day_fd"]).abs()
    pairs = pairs[apart <= pd.Timedelta(days=MAX_DAYS_APART)]
    claimed = {p.canonical for p in placed.values()}
    return pairs.assign(
        _home_c=pairs["home_team"].map(lambda n: placed[n].canonical if n in placed else None),
        _away_c=pairs["away_team"].map(lambda n: placed[n].canonical if n in placed else None),
        _home_free=~pairs["home_team_fd"].isin(claimed),
        _away_free=~pairs["away_team_fd"].isin(claimed),
    )


def _evidence(pairs: pd.DataFrame, unplaced: set[str]) -> Counter:
    """(name, club) -> matches of the name that agree with a match of the club."""
    found: set[tuple[str, str, str]] = set()  # (name, club, understat_id): one count per match
    for side, other in (("home", "away"), ("away", "home")):
        mine = pairs[pairs[f"{side}_team"].isin(unplaced) & pairs[f"_{side}_free"]]
        opponent_placed = mine[f"_{other}_c"].notna()
        agrees = (opponent_placed & (mine[f"_{other}_c"] == mine[f"{other}_team_fd"])) | (
            ~opponent_placed & mine[f"_{other}_free"]
        )
        mine = mine[agrees]
        found.update(zip(mine[f"{side}_team"], mine[f"{side}_team_fd"], mine["understat_id"], strict=True))
    return Counter((name, club) for name, club, _match in found)


@dataclass
class _Candidate:
    name: str
    canonical: str | None
    evidence: int
    matches: int

    @property
    def confidence(self) -> float:
        return self.evidence / self.matches if self.matches else 0.0

    @property
    def strong(self) -> bool:
        return self.confidence >= ACCEPT_CONFIDENCE and self.evidence >= MIN_EVIDENCE


def _candidates(evidence: Counter, names: list[str], played: Counter) -> dict[str, list[_Candidate]]:
    by_name: dict[str, list[_Candidate]] = {name: [] for name in names}
    for (name, club), count in evidence.items():
        by_name[name].append(_Candidate(name, club, count, played[name]))
    for name, found in by_name.items():
        found.sort(key=lambda c: (-c.evidence, c.canonical))
        if not found:
            found.append(_Candidate(name, None, 0, played[name]))
    return by_name


def _decide(name: str, found: list[_Candidate], strong_names: Counter) -> tuple[str, str]:
    """(status, detail) of a name's best candidate."""
    best = found[0]
    strong = [c for c in found if c.strong]
    if best.canonical is None and not best.matches:
        return UNMATCHED, "no played match yet to compare"
    if best.canonical is None:
        return UNMATCHED, "no match of the name agrees with a football-data match on date, score and opponent"
    if len(strong) > 1:
        clubs = ", ".join(repr(c.canonical) for c in strong)
        return AMBIGUOUS, f"{len(strong)} clubs agree with the fixtures: {clubs}"
    if strong and strong_names[best.canonical] > 1:
        return AMBIGUOUS, f"another unplaced name agrees with {best.canonical!r} as strongly"
    if strong:
        return ACCEPTED, f"{best.evidence} of {best.matches} played matches agree"
    return WEAK, (
        f"{best.evidence} of {best.matches} played matches agree (accepted at {ACCEPT_CONFIDENCE:.0%} "
        f"and at least {MIN_EVIDENCE} matches)"
    )


def propose_names(
    xg: pd.DataFrame,
    matches: pd.DataFrame,
    placed: dict[str, Placement],
    unplaced: dict[str, str],
) -> tuple[dict[str, Placement], list[dict[str, Any]]]:
    """Place the ``unplaced`` names from the fixtures (module docstring): (every placement,
    proposal rows without league/season/source). Rounds repeat while names are accepted."""
    placed = dict(placed)
    xg_played = _played(xg, "home_goals", "away_goals")
    xg_played = xg_played.assign(_day=_uk_day(xg_played["kickoff"]))
    fd_played = _played(matches, "fthg", "ftag")
    fd_played = fd_played.assign(_day=_uk_day(fd_played["kickoff"]))[
        ["home_team", "away_team", "_hg", "_ag", "_day"]
    ]
    played = Counter([*xg_played["home_team"], *xg_played["away_team"]])
    pending = sorted(unplaced)
    rows: list[dict[str, Any]] = []
    while pending:
        pairs = _agreements(xg_played, fd_played, placed)
        by_name = _candidates(_evidence(pairs, set(pending)), pending, played)
        strong_names = Counter(c.canonical for found in by_name.values() for c in found if c.strong)
        decisions = {name: _decide(name, found, strong_names) for name, found in by_name.items()}
        accepted = [name for name, (status, _detail) in decisions.items() if status == ACCEPTED]
        for name in accepted:
            best = by_name[name][0]
            placed[name] = Placement(str(best.canonical), BY_FIXTURES, best.confidence)
            rows.append(_proposal_row(best, ACCEPTED, decisions[name][1], unplaced[name]))
        pending = [name for name in pending if name not in accepted]
        if not accepted:
            for name in pending:
                status, detail = decisions[name]
                for candidate in by_name[name][:PROPOSALS_PER_NAME]:
                    rows.append(_proposal_row(candidate, status, detail, unplaced[name]))
            break
    return placed, rows


def _proposal_row(candidate: _Candidate, status: str, detail: str, why_unplaced: str) -> dict[str, Any]:
    return {
        "name": candidate.name,
        "canonical": candidate.canonical,
        "confidence": round(candidate.confidence, 4),
        "evidence": candidate.evidence,
        "matches": candidate.matches,
        "status": status,
        "detail": f"{why_unplaced}; {detail}",
    }


def _season_only(rows: list[dict[str, Any]], registry: TeamRegistry, source: str) -> None:
    """An accepted name whose source already calls another club so is used for this season only."""
    for row in rows:
        entry = registry.lookup(row["name"], source)
        if row["status"] == ACCEPTED and entry is not None and entry.source != ANY_SOURCE:
            row["status"] = SEASON_ONLY
            row["detail"] += (
                f"; kept for this league-season only: the registry's {source} name means {entry.canonical!r}"
            )


# -- linking matches ------------------------------------------------------------------------------


def _score(home: Any, away: Any) -> str:
    return "-" if pd.isna(home) or pd.isna(away) else f"{int(home)}-{int(away)}"


def _reason_unplaced(row: pd.Series) -> str | None:
    missing = [row[f"{side}_team"] for side in ("home", "away") if pd.isna(row[f"{side}_canonical"])]
    if missing:
        return "unresolved team name: " + ", ".join(map(repr, missing))
    return None


def _nearest(xg: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """Each Understat row with the football-data match of the same teams nearest in date (if any)."""
    fd = matches[["match_id", "home_team", "away_team", "kickoff", "fthg", "ftag"]].rename(
        columns={"home_team": "home_canonical", "away_team": "away_canonical", "kickoff": "kickoff_fd"}
    )
    pairs = xg.merge(fd, on=["home_canonical", "away_canonical"], how="left")
    pairs["_days"] = (_uk_day(pairs["kickoff"]) - _uk_day(pairs["kickoff_fd"])).abs().dt.days
    pairs = pairs.sort_values(["_row", "_days"], na_position="last", kind="stable")
    return pairs.drop_duplicates("_row").set_index("_row").sort_index()


def _verdict(row: pd.Series) -> str | None:
    """Why the row cannot link to its nearest football-data match (None: it links)."""
    unplaced = _reason_unplaced(row)
    if unplaced:
        return unplaced
    fixture = f"{row['home_canonical']} v {row['away_canonical']}"
    if pd.isna(row["match_id"]):
        return (
            f"no football-data match of {fixture} in this league-season (abandoned, or not in football-data?)"
        )
    if row["_days"] > MAX_DAYS_APART:
        day = row["kickoff_fd"].tz_convert(UK).date()
        return f"football-data has {fixture} on {day}, {int(row['_days'])} days apart (rescheduled?)"
    understat, football_data = _score(row["home_goals"], row["away_goals"]), _score(row["fthg"], row["ftag"])
    if "-" not in (understat, football_data) and understat != football_data:
        return f"score differs: Understat {understat}, football-data {football_data} (awarded or corrected?)"
    return None


def _drop_repeats(nearest: pd.DataFrame, reasons: pd.Series, delta: pd.Series) -> pd.Series:
    """A football-data match linked from two Understat rows (a repeated match) stays with the
    row nearest in kickoff; the other gets the reason."""
    linked = nearest[reasons.isna()].assign(_gap=delta.abs()).sort_values("_gap", kind="stable")
    repeated = linked["match_id"].duplicated()
    first = linked[~repeated].set_index("match_id")["understat_id"]
    reasons = reasons.copy()
    for row, match_id in linked.loc[repeated, "match_id"].items():
        reasons.loc[row] = f"repeats Understat match {first[match_id]}: football-data's match is linked there"
    return reasons


def _how(placed: dict[str, Placement], home: str, away: str) -> tuple[str, float]:
    """(method, confidence) of a link between the two names' clubs."""
    methods = {placed[home].method, placed[away].method}
    method = BY_FIXTURES if BY_FIXTURES in methods else BY_REGISTRY
    return method, min(placed[home].confidence, placed[away].confidence)


def link_matches(xg: pd.DataFrame, matches: pd.DataFrame, placed: dict[str, Placement]) -> pd.DataFrame:
    """LINK_COLUMNS for every row of ``xg``: its football-data match, or the reason it has none."""
    frame = xg.reset_index(drop=True).assign(_row=lambda f: range(len(f)))
    for side in ("home", "away"):
        frame[f"{side}_canonical"] = frame[f"{side}_team"].map(
            lambda n: placed[n].canonical if n in placed else None
        )
    nearest = _nearest(frame, matches)
    reasons = nearest.apply(_verdict, axis=1).astype(object) if len(nearest) else pd.Series(dtype=object)
    delta = (nearest["kickoff"] - nearest["kickoff_fd"]).dt.total_seconds() / 3600
    reasons = _drop_repeats(nearest, reasons, delta)
    linked = reasons.isna()
    how = [
        _how(placed, h, a) if ok else (None, None)
        for h, a, ok in zip(nearest["home_team"], nearest["away_team"], linked, strict=True)
    ]
    both_played = nearest[["home_goals", "away_goals", "fthg", "ftag"]].notna().all(axis=1)
    out = nearest.assign(
        match_id=nearest["match_id"].where(linked),
        method=[method for method, _confidence in how],
        confidence=[confidence for _method, confidence in how],
        score_checked=both_played & linked,
        kickoff_delta_hours=delta.where(linked),
        reason=reasons,
    )
    return conform_links(out)


_LINK_TEXT_COLUMNS = (
    "understat_id",
    "league",
    "home_team",
    "away_team",
    "home_canonical",
    "away_canonical",
    "match_id",
    "method",
    "reason",
)


def conform_links(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly LINK_COLUMNS in their dtypes (also for frames read back)."""
    out = frame.reindex(columns=list(LINK_COLUMNS)).reset_index(drop=True)
    out["kickoff"] = pd.to_datetime(out["kickoff"], utc=True)
    for column in ("season", "home_goals", "away_goals"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    for column in ("confidence", "kickoff_delta_hours"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ("is_result", "score_checked"):
        out[column] = out[column].astype("boolean").fillna(False).astype(bool)
    for column in _LINK_TEXT_COLUMNS:
        out[column] = out[column].astype("string")
    return out


def conform_proposals(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=list(PROPOSAL_COLUMNS)).reset_index(drop=True)
    out["season"] = pd.to_numeric(out["season"], errors="coerce").astype("Int64")
    out["confidence"] = pd.to_numeric(out["confidence"], errors="coerce").astype("float64")
    for column in ("evidence", "matches"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    for column in ("league", "source", "name", "canonical", "status", "detail"):
        out[column] = out[column].astype("string")
    return out


def summarize(links: pd.DataFrame, league: str, season: int) -> LinkSummary:
    """The league-season's summary from its LINK_COLUMNS rows (unlinked matches by kickoff)."""
    played = links[links["is_result"]].sort_values(["kickoff", "understat_id"], kind="stable")
    unlinked = played[played["match_id"].isna()]
    return LinkSummary(
        league=league,
        season=season,
        played=len(played),
        linked=int(played["match_id"].notna().sum()),
        unlinked=[
            {
                "understat_id": str(row.understat_id),
                "kickoff": row.kickoff.isoformat(),
                "home_team": str(row.home_team),
                "away_team": str(row.away_team),
                "score": _score(row.home_goals, row.away_goals),
                "reason": str(row.reason),
            }
            for row in unlinked.itertuples()
        ],
    )


def link_season(
    xg: pd.DataFrame,
    matches: pd.DataFrame,
    registry: TeamRegistry,
    *,
    league: str,
    season: int,
    source: str = SOURCE,
) -> LinkResult:
    """Link one league-season's Understat matches (``xg``: understat_id, kickoff, home_team,
    away_team, home_goals, away_goals, is_result) to football-data's (``matches``: match_id,
    kickoff, home_team, away_team, fthg, ftag), proposing the names the registry cannot place.
    Both frames hold only that league-season."""
    names = sorted(set(xg["home_team"].astype(str)) | set(xg["away_team"].astype(str)))
    season_teams = sorted(set(matches["home_team"].astype(str)) | set(matches["away_team"].astype(str)))
    placed, unplaced = place_by_registry(names, season_teams, registry, source, match_days(xg))
    rows: list[dict[str, Any]] = []
    if season_teams:  # (with no football-data matches there is nothing to propose from)
        placed, rows = propose_names(xg, matches, placed, unplaced)
        _season_only(rows, registry, source)
    links = link_matches(xg.assign(league=league, season=season), matches, placed)
    if not season_teams:
        links["reason"] = f"football-data's {league} {season} has no matches in the warehouse (load it first)"
    proposals = conform_proposals(
        pd.DataFrame(
            rows, columns=[c for c in PROPOSAL_COLUMNS if c not in ("league", "season", "source")]
        ).assign(league=league, season=season, source=source)
    )
    return LinkResult(links, proposals, summarize(links, league, season))


def accepted_aliases(proposals: pd.DataFrame) -> list[dict[str, Any]]:
    """The ACCEPTED proposals as team alias rows (source, name, canonical, origin, confidence, evidence)."""
    accepted = proposals[proposals["status"] == ACCEPTED]
    return [
        {
            "source": row.source,
            "name": row.name,
            "canonical": row.canonical,
            "origin": AUTO,
            "confidence": float(row.confidence),
            "evidence": f"{row.league} {row.season}: {row.evidence} of {row.matches} played matches agree",
        }
        for row in accepted.itertuples()
    ]
