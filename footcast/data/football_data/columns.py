"""Header names of the site's main layout and the canonical columns they feed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from footcast.data import schema

# canonical field -> header names, preferred first (older/other spellings after).
DIV = ("Div",)
DATE = ("Date",)
TIME = ("Time",)
HOME = ("HomeTeam", "HT", "Home")
AWAY = ("AwayTeam", "AT", "Away")
GOALS = {"fthg": ("FTHG", "HG"), "ftag": ("FTAG", "AG"), "hthg": ("HTHG",), "htag": ("HTAG",)}
LETTERS = {"ftr": ("FTR", "Res"), "htr": ("HTR",)}
STATS = dict(
    zip(
        schema.STAT_COLUMNS,
        [(n,) for n in ("HS", "AS", "HST", "AST", "HC", "AC", "HF", "AF", "HY", "AY", "HR", "AR")],
        strict=True,
    )
)

# <prefix><C?><H|D|A>: opening price, or closing price with "C". Market-wide Avg/Max replaced
# Betbrain's BbAv/BbMx in 2019/20; when a file has both, Avg/Max win (rank 0 before rank 1).
_ODDS_PREFIXES: dict[str, tuple[str, int]] = {
    "B365": ("b365", 0),
    "BW": ("bw", 0),
    "IW": ("iw", 0),
    "LB": ("lb", 0),
    "PS": ("ps", 0),
    "WH": ("wh", 0),
    "SJ": ("sj", 0),
    "VC": ("vc", 0),
    "Avg": ("avg", 0),
    "Max": ("max", 0),
    "BbAv": ("avg", 1),
    "BbMx": ("max", 1),
}
_ODDS_HEADER = re.compile(r"^(" + "|".join(sorted(_ODDS_PREFIXES, key=len, reverse=True)) + r")(C?)([HDA])$")


def odds_columns_of(header: Sequence[str]) -> dict[str, list[str]]:
    """Canonical odds column -> the header names feeding it, preferred first."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for position, name in enumerate(header):
        match = _ODDS_HEADER.match(name)
        if match is None:
            continue
        prefix, closing, outcome = match.groups()
        book, rank = _ODDS_PREFIXES[prefix]
        column = f"odds_{book}_{'close' if closing else 'open'}_{outcome.lower()}"
        found.setdefault(column, []).append((rank, position, name))
    return {column: [name for _r, _p, name in sorted(sources)] for column, sources in found.items()}
