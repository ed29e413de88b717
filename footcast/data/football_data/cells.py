"""Reading one cell: dates, times, whole numbers, prices, result letters.

Each parser returns the value, or None when the text is not one (the caller decides whether
that rejects the row or becomes a finding). Every layout of the site reads its cells here.
"""

from __future__ import annotations

import math
import re
from datetime import date, time

_DATE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")
RESULT_LETTERS = ("H", "D", "A")


def _two_digit_year(yy: int, season: int | None) -> int:
    if season is None:
        return 2000 + yy
    centuries = (season // 100 * 100 - 100, season // 100 * 100, season // 100 * 100 + 100)
    return min((c + yy for c in centuries), key=lambda year: abs(year - season - 0.5))


def looks_like_date(text: str) -> bool:
    """Whether the text has a date's shape (dd/mm/yy[yy] or yyyy-mm-dd), valid or not."""
    text = text.strip()
    return bool(_DATE_DMY.match(text) or _DATE_ISO.match(text))


def parse_date(text: str, season: int | None) -> date | None:
    """dd/mm/yy, dd/mm/yyyy or yyyy-mm-dd; a two-digit year is the one nearest ``season``."""
    match = _DATE_DMY.match(text)
    try:
        if match:
            day, month, year = match.groups()
            full = int(year) if len(year) == 4 else _two_digit_year(int(year), season)
            return date(full, int(month), int(day))
        match = _DATE_ISO.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def parse_time(text: str) -> time | None:
    match = _TIME.match(text)
    if match is None:
        return None
    try:
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError:
        return None


def parse_whole_number(text: str) -> int | None:
    """A non-negative whole number ("2", "2.0"); None for anything else (``1.2``, ``-1``, ``two``)."""
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number >= 0 and number.is_integer() else None


def parse_price(text: str) -> float | None:
    """A finite decimal price; None for anything else (``3.53.75``, ``nan``)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def date_problem(name: str, text: str) -> str:
    return f"unparseable {name} {text!r} (want dd/mm/yy[yy])" if text else f"missing {name}"


def whole_number_problem(name: str, text: str) -> str:
    return f"{name} {text!r} is not a non-negative whole number" if text else f"missing {name}"


def price_problem(name: str, text: str) -> str:
    return f"{name} {text!r} is not a decimal price"


def letter_problem(name: str, text: str) -> str:
    return f"{name} {text!r} is not H, D or A"
