"""Fitting a data row to the header, and the rows with more fields than the header.

Fields beyond the header that are empty are cut (real files up to 2004/05 have them). Values
beyond the header are kept: as findings of the row (a price column the header lacks), or, when
they are plainly the next match (a missing line break: the line holds one match followed by
the next), as that match. The next match starts at the first field from the header's last
column on whose fields, read as a row, the essential fields parse; when the line had no line
end, the row's last value and the next row's first (its ``Div``, known to be the league code)
run together in one field (``5.04E0``) and are split. A next match whose essential fields do
not parse, but that plainly starts one (its ``Div`` is the league code or a date sits in the
date column), is rejected with its text rather than read as findings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from footcast.data.football_data.cells import looks_like_date

# Rejections of a row (the ``rejection`` of a rejected row; reasons are free text):
UNPARSEABLE = "unparseable"  # its essential fields do not parse
NEXT_MATCH = "next_match"  # a second match on one line whose essential fields do not parse
DUPLICATE = "duplicate"  # repeats a match listed before it in the file
REJECTIONS: tuple[str, ...] = (UNPARSEABLE, NEXT_MATCH, DUPLICATE)


def finding(column: str, raw: str, reason: str) -> dict[str, str]:
    """A cell the source published that could not be read (see ``schema.FINDINGS_COLUMNS``)."""
    return {"column": column, "raw": raw, "reason": reason}


@dataclass
class FittedRow:
    fields: list[str]  # exactly the header's width
    line: int  # physical line where the row starts
    text: str  # the row as the file has it (for a match recovered from a line, its part)
    findings: list[dict[str, str]] = field(default_factory=list)
    rejection: tuple[str, str] | None = None  # (one of REJECTIONS, reason) when decided while fitting


@dataclass(frozen=True)
class RowShape:
    """What a row of one file is, for telling the next match from values beyond the header."""

    width: int  # named header columns
    essential_problem: Callable[[list[str]], str | None]  # why a fitted row is no match, None if it is
    date_position: int
    first_value: str | None = None  # the value every row has in its first column (Div), if known


def _fitted(fields: list[str], width: int) -> list[str]:
    if len(fields) >= width:
        return fields[:width]
    return fields + [""] * (width - len(fields))  # missing trailing fields are empty


def _beyond_header(fields: list[str], width: int) -> list[dict[str, str]]:
    return [
        finding(f"field {position + 1}", value.strip(), f"value beyond the header's {width} columns")
        for position, value in enumerate(fields[width:], width)
        if value.strip()
    ]


@dataclass
class _NextMatch:
    start: int  # position of its first field in the line
    head_tail: str  # the previous row's last value, when it ran into the next row's first
    fields: list[str]
    problem: str | None  # why its essential fields do not parse, None when they do


def _candidate(fields: list[str], start: int, shape: RowShape) -> _NextMatch:
    candidate, head_tail = fields[start:], ""
    first = shape.first_value
    if first and candidate[0] != first and candidate[0].endswith(first):
        head_tail, candidate = candidate[0][: -len(first)], [first, *candidate[1:]]
    return _NextMatch(start, head_tail, candidate, shape.essential_problem(_fitted(candidate, shape.width)))


def _starts_a_match(candidate: _NextMatch, shape: RowShape) -> bool:
    fitted = _fitted(candidate.fields, shape.width)
    return (shape.first_value is not None and fitted[0] == shape.first_value) or looks_like_date(
        fitted[shape.date_position]
    )


def _next_match(fields: list[str], shape: RowShape) -> _NextMatch | None:
    """The match that follows the row on its line: the first that parses, else the first that
    plainly starts one; None when the values beyond the header are no match."""
    plain: _NextMatch | None = None
    for start in range(shape.width - 1, len(fields)):
        candidate = _candidate(fields, start, shape)
        if candidate.problem is None:
            return candidate
        if plain is None and _starts_a_match(candidate, shape):
            plain = candidate
    return plain


def _as_text(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def fit_row(fields: list[str], line: int, text: str, shape: RowShape) -> list[FittedRow]:
    """The row(s) a line of ``fields`` holds, each fitted to the header's width."""
    width = shape.width
    if len(fields) <= width or not any(value.strip() for value in fields[width:]):
        return [FittedRow(_fitted(fields, width), line, text)]
    following = _next_match(fields, shape)
    if following is None:
        return [FittedRow(fields[:width], line, text, _beyond_header(fields, width))]
    head = fields[: following.start] + ([following.head_tail] if following.head_tail else [])
    first = FittedRow(_fitted(head, width), line, text, _beyond_header(head, width))
    rest = fit_row(following.fields, line, _as_text(following.fields), shape)
    where = f"line {line} holds it after another match (a missing line break)"
    if following.problem is None:
        rest[0].findings.insert(0, finding("", rest[0].text, f"recovered: {where}"))
    else:
        rest[0].rejection = (NEXT_MATCH, f"{where}; {following.problem}")
    return [first, *rest]
