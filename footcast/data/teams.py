"""The team registry: one canonical team per real club, with the names each source gives it,
and case/accent-insensitive team lookups.

A club's canonical name is football-data.co.uk's current spelling (the main source, so match
ids hash the names as published there). Its other names live in rows of (canonical, source,
name):

- the checked-in seed, ``team_names.json`` beside this module (package data): one line per
  club, ``"canonical": {source: [names]}``, where ``source`` is the source that spells the
  club that way (``understat``, ``simulator``, ``football_data``) or ``any`` for spellings any
  source or a user may use ("Man Utd"). Data rather than a Python literal so that it is
  reviewed, edited and exported as data, like the aliases accepted later (the warehouse's
  ``team_aliases`` table: ``footcast teams --accept``, or the linking when fixture evidence
  is unambiguous), which have the same (canonical, source, name) shape.
- accepted aliases, overlaid on the seed with :meth:`TeamRegistry.with_names` (a later row
  overrides the seed's for the same source and spelling).

A club needs a row only where a source spells it differently from the canonical name; names
nobody aliased pass through (whitespace-normalised). Lookups are exact first, then by
:func:`team_key` (case, accents, spacing and punctuation ignored), so "MAN UNITED", "Nottm
Forest" and "Borussia Mönchengladbach" need no rows beyond their key-equivalent spellings.
A source's lookups read that source's rows first, then the ``any`` rows and canonical names:
a source can thus call a club by a name that elsewhere means another club.

Two different clubs that sources spell alike must NOT be merged: football-data's "Leipzig"
(1993/94) is VfB Leipzig, not RB Leipzig, and "Wimbledon" (until 1999/2000) is Wimbledon FC,
not AFC Wimbledon, so neither is aliased. The linking (``footcast.data.linking``) also trusts
a name's registry entry only in a league-season whose football-data teams include the club.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

SEED_FILE = "team_names.json"
ANY_SOURCE = "any"
# The sources a team name can come from (football_data's own names are the canonical ones).
SOURCES: tuple[str, ...] = ("football_data", "understat", "simulator")
# The sources whose names are linked to football-data's (footcast.data.linking).
LINKED_SOURCES: tuple[str, ...] = ("understat", "simulator")
# How a name entered the registry: the checked-in seed, the linking's fixture evidence, a user.
SEED, AUTO, MANUAL = "seed", "auto", "manual"

# Letters NFKD does not decompose into base letter + accent.
_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "ð": "d",
        "þ": "th",
    }
)
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_whitespace(name: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) and trim."""
    return " ".join(name.split())


def team_key(name: str) -> str:
    """Case-, accent-, spacing- and punctuation-insensitive lookup key of a team name.

    ``team_key("München") == team_key("munchen") == "munchen"``; apostrophes vanish
    ("Nott'm" == "Nottm"), "&" reads as "and", other punctuation separates words.
    """
    text = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    return _NON_ALNUM.sub(" ", text).strip()


@dataclass(frozen=True)
class TeamName:
    """One name of a club in one source (``ANY_SOURCE``: any source)."""

    canonical: str
    source: str
    name: str
    origin: str = SEED  # SEED | AUTO | MANUAL
    confidence: float = 1.0  # AUTO: the fixture evidence's confidence; otherwise 1


def check_source(source: str) -> str:
    if source != ANY_SOURCE and source not in SOURCES:
        raise ValueError(f"unknown team name source {source!r}; known: {', '.join((ANY_SOURCE, *SOURCES))}")
    return source


def parse_seed(text: str, where: str = SEED_FILE) -> tuple[TeamName, ...]:
    """Rows of a seed: a JSON object ``{canonical: {source: [name, ...]}}``; ValueError names
    the club and what is wrong."""
    try:
        clubs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc})") from None
    if not isinstance(clubs, dict):
        raise ValueError(f"{where}: want an object of canonical name -> {{source: [names]}}")
    rows = []
    for canonical, by_source in clubs.items():
        if not isinstance(by_source, dict) or not normalize_whitespace(canonical):
            raise ValueError(f"{where}: {canonical!r}: want a non-empty name and {{source: [names]}}")
        for source, names in by_source.items():
            try:
                check_source(source)
            except ValueError as exc:
                raise ValueError(f"{where}: {canonical!r}: {exc}") from None
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                raise ValueError(f"{where}: {canonical!r}: {source} names must be a list of names")
            rows.extend(TeamName(canonical, source, normalize_whitespace(name)) for name in names)
    return tuple(rows)


def load_seed() -> tuple[TeamName, ...]:
    """The checked-in seed (``team_names.json``, shipped as package data)."""
    text = resources.files(__package__).joinpath(SEED_FILE).read_text(encoding="utf-8")
    return parse_seed(text)


class TeamRegistry:
    """Names of clubs per source, looked up exactly, then by :func:`team_key`.

    Within one source (``ANY_SOURCE`` included) a spelling names one club: the constructor
    raises ValueError on a conflict. :meth:`with_names` overlays accepted names, which replace
    the entries they collide with.
    """

    def __init__(self, names: Iterable[TeamName]):
        self.names: tuple[TeamName, ...] = tuple(names)
        self._exact: dict[str, dict[str, TeamName]] = {}
        self._by_key: dict[str, dict[str, TeamName]] = {}
        for entry in self.names:
            check_source(entry.source)
            for index, token in (
                (self._exact, normalize_whitespace(entry.name)),
                (self._by_key, team_key(entry.name)),
            ):
                owner = index.setdefault(entry.source, {}).setdefault(token, entry)
                if owner.canonical != entry.canonical:
                    raise ValueError(
                        f"{entry.source} team name {entry.name!r} claimed by both {owner.canonical!r} "
                        f"and {entry.canonical!r}"
                    )
        # A canonical name is its club's name in every source, unless a row says otherwise.
        for canonical in self.canonical_teams():
            own = TeamName(canonical, ANY_SOURCE, canonical)
            self._exact.setdefault(ANY_SOURCE, {}).setdefault(canonical, own)
            self._by_key.setdefault(ANY_SOURCE, {}).setdefault(team_key(canonical), own)

    def with_names(self, names: Iterable[TeamName]) -> TeamRegistry:
        """This registry plus ``names``, which replace the entries of the same source whose
        spelling (or key) they share."""
        extra = list(names)
        taken = {(n.source, team_key(n.name)) for n in extra}
        kept = [n for n in self.names if (n.source, team_key(n.name)) not in taken]
        return TeamRegistry([*kept, *extra])

    def canonical_teams(self) -> list[str]:
        return sorted({entry.canonical for entry in self.names})

    def lookup(self, name: str, source: str | None = None) -> TeamName | None:
        """The entry naming ``name`` in ``source`` (its own rows, then ``any`` rows and canonical
        names; ``None``: every source), or None when the registry does not know the name."""
        normalized = normalize_whitespace(name)
        scopes = (ANY_SOURCE, *SOURCES) if source is None else (check_source(source), ANY_SOURCE)
        key = team_key(normalized)
        for scope in scopes:  # a source's own rows first, whatever the case or accents
            for index, token in ((self._exact, normalized), (self._by_key, key)):
                found = index.get(scope, {}).get(token)
                if found is not None:
                    return found
        return None

    def canonical(self, name: str, source: str | None = None) -> str:
        """The canonical name of ``name`` as ``source`` spells it; unknown names pass through."""
        found = self.lookup(name, source)
        return found.canonical if found is not None else normalize_whitespace(name)

    def names_of(self, canonical: str, source: str | None = None) -> list[str]:
        """The club's names (canonical first) in ``source`` and ``any`` rows, or in every source."""
        wanted = (ANY_SOURCE, source) if source is not None else None
        found = [
            n.name
            for n in self.names
            if n.canonical == canonical and (wanted is None or n.source in wanted) and n.name != canonical
        ]
        return [canonical, *dict.fromkeys(found)]


@functools.cache
def seed_registry() -> TeamRegistry:
    """The registry of the checked-in seed alone (what parsers without a warehouse use)."""
    return TeamRegistry(load_seed())


def _aliases_by_canonical() -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    for entry in seed_registry().names:
        aliases.setdefault(entry.canonical, []).append(entry.name)
    return aliases


# canonical name -> every other spelling the seed knows (all sources). Derived from the seed.
TEAM_ALIASES: dict[str, list[str]] = _aliases_by_canonical()


def canonical_team(name: str, source: str | None = None) -> str:
    """The canonical name of a team as ``source`` (default: any source) spells it, by the seed;
    unknown names pass through."""
    return seed_registry().canonical(name, source)


def aliases_of(name: str) -> list[str]:
    """Every spelling the seed knows for the club ``name`` refers to (canonical first)."""
    return seed_registry().names_of(canonical_team(name))


def resolve_team(query: str, known: Iterable[str]) -> str | None:
    """Resolve a user query to one of the ``known`` team names, or None.

    Matches the canonical name or any alias, ignoring case, accents, spacing and punctuation.
    Returns the name as spelled in ``known``; None when nothing (or more than one name) matches.
    """
    names = list(dict.fromkeys(known))
    if not names or not query.strip():
        return None
    wanted = team_key(canonical_team(query))
    query_key = team_key(query)
    # 1) the query names a known team directly; 2) both are spellings of the same club.
    for level in (
        [n for n in names if team_key(n) == query_key],
        [n for n in names if team_key(canonical_team(n)) == wanted],
    ):
        if len(level) == 1:
            return level[0]
        if len(level) > 1:
            return None
    return None


# Clubs known in each league (canonical names), from every season the project has seen; the
# validated layer quarantines a team name that is not known for its league (a new spelling
# would otherwise become a phantom team). Add a newly promoted club here, and its spellings
# to team_names.json.
LEAGUE_TEAMS: dict[str, tuple[str, ...]] = {
    "D1": (
        "Aachen",
        "Augsburg",
        "Bayern Munich",
        "Bielefeld",
        "Bochum",
        "Braunschweig",
        "Cottbus",
        "Darmstadt",
        "Dortmund",
        "Dresden",
        "Duisburg",
        "Ein Frankfurt",
        "FC Koln",
        "Fortuna Dusseldorf",
        "Freiburg",
        "Greuther Furth",
        "Hamburg",
        "Hannover",
        "Hansa Rostock",
        "Heidenheim",
        "Hertha",
        "Hoffenheim",
        "Holstein Kiel",
        "Ingolstadt",
        "Kaiserslautern",
        "Karlsruhe",
        "Leipzig",
        "Leverkusen",
        "M'gladbach",
        "Mainz",
        "Munich 1860",
        "Nurnberg",
        "Paderborn",
        "RB Leipzig",
        "Schalke 04",
        "St Pauli",
        "Stuttgart",
        "Uerdingen",
        "Ulm",
        "Union Berlin",
        "Unterhaching",
        "Wattenscheid",
        "Werder Bremen",
        "Wolfsburg",
    ),
    "E0": (
        "Arsenal",
        "Aston Villa",
        "Barnsley",
        "Birmingham",
        "Blackburn",
        "Blackpool",
        "Bolton",
        "Bournemouth",
        "Bradford",
        "Brentford",
        "Brighton",
        "Burnley",
        "Cardiff",
        "Charlton",
        "Chelsea",
        "Coventry",
        "Crystal Palace",
        "Derby",
        "Everton",
        "Fulham",
        "Huddersfield",
        "Hull",
        "Ipswich",
        "Leeds",
        "Leicester",
        "Liverpool",
        "Luton",
        "Man City",
        "Man United",
        "Middlesbrough",
        "Newcastle",
        "Norwich",
        "Nott'm Forest",
        "Oldham",
        "Portsmouth",
        "QPR",
        "Reading",
        "Sheffield United",
        "Sheffield Weds",
        "Southampton",
        "Stoke",
        "Sunderland",
        "Swansea",
        "Swindon",
        "Tottenham",
        "Watford",
        "West Brom",
        "West Ham",
        "Wigan",
        "Wimbledon",
        "Wolves",
    ),
}
