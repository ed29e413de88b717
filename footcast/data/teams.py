"""One team alias table shared by every source, and case/accent-insensitive team lookups.

``TEAM_ALIASES`` maps a canonical team name to the other spellings sources use for the same
club. Canonical names are football-data.co.uk's current spelling (the main source, so most
match ids hash the names as published there). To support another source (ClubElo, an xG
feed, ...) add its spellings to the club's alias list; a new club needs an entry only when
some source spells it differently from the canonical name.

Lookups are exact first, then by :func:`team_key` (case, accents, spacing and punctuation
ignored), so "MAN UNITED", "Nottm Forest" and "Borussia Mönchengladbach" need no extra entries
beyond their key-equivalent spellings. Names nobody aliased pass through (whitespace-normalised).

Two different clubs that sources spell alike must NOT be merged here: football-data's
"Leipzig" (1993/94) is VfB Leipzig, not RB Leipzig, and "Wimbledon" (until 1999/2000) is
Wimbledon FC, not AFC Wimbledon, so neither is aliased.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# canonical name -> aliases (other spellings of the same club). Plain data: extend freely.
TEAM_ALIASES: dict[str, list[str]] = {
    # --- England ---------------------------------------------------------------------------
    "Man United": ["Manchester United", "Man Utd", "Manchester Utd", "Man. United"],
    "Man City": ["Manchester City", "Man. City"],
    "Nott'm Forest": ["Nottm Forest", "Nottingham Forest", "Forest"],
    "Sheffield Weds": ["Sheffield Wednesday", "Sheffield Wed", "Sheff Wed", "Sheff Weds"],
    "Sheffield United": ["Sheffield Utd", "Sheff Utd", "Sheffield U"],
    "Middlesbrough": ["Middlesboro"],
    "Wolves": ["Wolverhampton", "Wolverhampton Wanderers"],
    "West Brom": ["West Bromwich", "West Bromwich Albion", "WBA"],
    "West Ham": ["West Ham United"],
    "Tottenham": ["Tottenham Hotspur", "Spurs"],
    "Newcastle": ["Newcastle United", "Newcastle Utd"],
    "Leeds": ["Leeds United"],
    "Leicester": ["Leicester City"],
    "Brighton": ["Brighton & Hove Albion", "Brighton and Hove Albion", "Brighton Hove"],
    "QPR": ["Queens Park Rangers"],
    "Blackburn": ["Blackburn Rovers"],
    "Bolton": ["Bolton Wanderers"],
    "Birmingham": ["Birmingham City"],
    "Bournemouth": ["AFC Bournemouth"],
    "Bradford": ["Bradford City"],
    "Cardiff": ["Cardiff City"],
    "Charlton": ["Charlton Athletic"],
    "Coventry": ["Coventry City"],
    "Derby": ["Derby County"],
    "Huddersfield": ["Huddersfield Town"],
    "Hull": ["Hull City"],
    "Ipswich": ["Ipswich Town"],
    "Luton": ["Luton Town"],
    "Norwich": ["Norwich City"],
    "Oldham": ["Oldham Athletic"],
    "Stoke": ["Stoke City"],
    "Swansea": ["Swansea City"],
    "Swindon": ["Swindon Town"],
    "Wigan": ["Wigan Athletic"],
    # --- Germany ---------------------------------------------------------------------------
    "Bayern Munich": ["Bayern", "Bayern Munchen", "Bayern Muenchen", "FC Bayern Munchen", "FC Bayern"],
    "Dortmund": ["Borussia Dortmund"],
    "M'gladbach": [
        "M'Gladbach",
        "Gladbach",
        "Monchengladbach",
        "Moenchengladbach",
        "Borussia Monchengladbach",
        "Borussia Moenchengladbach",
        "Borussia M'gladbach",
    ],
    "Ein Frankfurt": ["Eintracht Frankfurt", "Frankfurt"],
    "FC Koln": ["Koln", "Koeln", "FC Koeln", "1. FC Koln", "1. FC Koeln", "Cologne"],
    "Leverkusen": ["Bayer Leverkusen", "Bayer 04 Leverkusen"],
    "Schalke 04": ["Schalke", "FC Schalke 04"],
    "Werder Bremen": ["Werder", "Bremen", "SV Werder Bremen"],
    "Hertha": ["Hertha BSC", "Hertha Berlin"],
    "Hamburg": ["Hamburger SV"],
    "Hannover": ["Hannover 96"],
    "Stuttgart": ["VfB Stuttgart"],
    "Wolfsburg": ["VfL Wolfsburg"],
    "Freiburg": ["SC Freiburg"],
    "Hoffenheim": ["TSG Hoffenheim", "Hoffenheim 1899", "TSG 1899 Hoffenheim"],
    "Mainz": ["Mainz 05", "FSV Mainz 05", "1. FSV Mainz 05"],
    "Augsburg": ["FC Augsburg"],
    "Union Berlin": ["1. FC Union Berlin"],
    "RB Leipzig": ["RasenBallsport Leipzig"],
    "Bochum": ["VfL Bochum"],
    "Heidenheim": ["1. FC Heidenheim", "FC Heidenheim"],
    "Holstein Kiel": ["Kiel"],
    "Darmstadt": ["Darmstadt 98", "SV Darmstadt 98"],
    "Paderborn": ["SC Paderborn", "SC Paderborn 07"],
    "Ingolstadt": ["FC Ingolstadt", "FC Ingolstadt 04"],
    "Braunschweig": ["Eintracht Braunschweig"],
    "Fortuna Dusseldorf": ["Dusseldorf", "Duesseldorf", "Fortuna Duesseldorf"],
    "Greuther Furth": ["Greuther Fuerth", "SpVgg Greuther Furth", "Furth", "Fuerth"],
    "Nurnberg": ["Nuernberg", "1. FC Nurnberg", "1. FC Nuernberg"],
    "Kaiserslautern": ["1. FC Kaiserslautern", "Lautern"],
    "Bielefeld": ["Arminia Bielefeld", "Arminia"],
    "Hansa Rostock": ["Rostock", "FC Hansa Rostock"],
    "Cottbus": ["Energie Cottbus"],
    "Dresden": ["Dynamo Dresden"],
    "Duisburg": ["MSV Duisburg"],
    "Aachen": ["Alemannia Aachen"],
    "Karlsruhe": ["Karlsruher SC"],
    "Unterhaching": ["SpVgg Unterhaching"],
    "Uerdingen": ["KFC Uerdingen", "Bayer Uerdingen"],
    "Munich 1860": ["1860 Munich", "Munchen 1860", "1860 Munchen", "1860 Muenchen", "TSV 1860 Munchen"],
    "St Pauli": ["FC St Pauli"],
    "Wattenscheid": ["SG Wattenscheid 09", "Wattenscheid 09"],
    "Ulm": ["SSV Ulm", "SSV Ulm 1846", "Ulm 1846"],
}

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


def _build_indexes() -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for canonical, aliases in TEAM_ALIASES.items():
        for spelling in (canonical, *aliases):
            normalized = normalize_whitespace(spelling)
            key = team_key(normalized)
            for index, token in ((exact, normalized), (by_key, key)):
                owner = index.setdefault(token, canonical)
                if owner != canonical:
                    raise ValueError(f"team alias {spelling!r} claimed by both {owner!r} and {canonical!r}")
    return exact, by_key


_EXACT, _BY_KEY = _build_indexes()


def canonical_team(name: str) -> str:
    """The canonical name of a team as any source spells it; unknown names pass through."""
    normalized = normalize_whitespace(name)
    found = _EXACT.get(normalized)
    if found is None:
        found = _BY_KEY.get(team_key(normalized))
    return found if found is not None else normalized


def aliases_of(name: str) -> list[str]:
    """Every spelling known for the club ``name`` refers to (canonical first)."""
    canonical = canonical_team(name)
    return [canonical, *TEAM_ALIASES.get(canonical, [])]


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
# to TEAM_ALIASES.
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
