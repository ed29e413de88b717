"""Reading a CSV body: decoding, the header, the data rows with their physical lines and text.

Quirks handled (all occur in real files): UTF-8 with or without BOM, cp1252 bytes, CRLF/LF,
trailing empty header columns, all-comma rows, rows with fewer fields than the header (missing
ones are trailing empties) or more (see :mod:`.lines`).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from footcast.data.football_data.errors import SourceFormatError
from footcast.data.football_data.lines import FittedRow, RowShape, fit_row

_HTML_MARKERS = ("<!doctype", "<html", "<head", "<body", "<?xml", "<script", "<title")

Fail = Callable[[int | None, str], SourceFormatError]


@dataclass
class Table:
    source_url: str
    partition: str | None
    header: list[str]  # stripped names, trailing unnamed columns removed
    header_line: int
    positions: dict[str, int]  # header name -> first position
    rows: list[FittedRow]  # data rows, each exactly len(header) fields, in file order

    def error(self, line: int | None, cause: str) -> SourceFormatError:
        return SourceFormatError(self.source_url, line, cause, self.partition)

    def first(self, names: Sequence[str]) -> str | None:
        return next((n for n in names if n in self.positions), None)

    def column(self, name: str) -> list[str]:
        position = self.positions[name]
        return [row.fields[position].strip() for row in self.rows]

    @property
    def lines(self) -> list[int]:
        return [row.line for row in self.rows]


def _decode(content: bytes, fail: Fail) -> str:
    if content is None or not content.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise fail(None, "empty body (no header, no rows)")
    if content[:2] == b"\x1f\x8b" or content[:4] == b"PK\x03\x04":
        raise fail(None, "compressed/binary body (gzip or zip), not a CSV file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        body = content.removeprefix(codecs.BOM_UTF8)  # a BOM in front of cp1252 bytes says nothing
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = body.count(b"\n", 0, exc.start) + 1
            sample = body[exc.start : exc.start + 8]
            raise fail(line, f"undecodable bytes (neither UTF-8 nor cp1252): {sample!r}") from None
    head = text.lstrip("\ufeff \t\r\n")[:4096].lower()
    if head.startswith("<") or any(marker in head for marker in _HTML_MARKERS):
        raise fail(None, "an HTML/XML page was served instead of a CSV file")
    nul = text.find("\x00")
    if nul >= 0:
        raise fail(text.count("\n", 0, nul) + 1, "binary content (NUL byte), not a CSV file")
    return text


def _header_names(fields: list[str]) -> list[str]:
    """Stripped header names without the trailing unnamed columns."""
    names = [field.strip().lstrip("\ufeff").strip() for field in fields]
    while names and not names[-1]:
        names.pop()
    return names


@dataclass
class _RawRows:
    header: list[str]
    header_line: int
    rows: list[list[str]]  # as read, before fitting them to the header
    lines: list[int]  # physical line where each row starts
    texts: list[str]  # each row's text as in the file (without its line end)


def _read_rows(text: str, fail: Fail) -> _RawRows:
    """The header and the data rows (blank and all-comma rows skipped), with their lines and text."""
    physical = io.StringIO(text, newline="").readlines()  # the lines csv counts in line_num
    reader = csv.reader(io.StringIO(text, newline=""))
    raw: _RawRows | None = None
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue  # blank or all-comma row: not data
            if raw is None:
                raw = _RawRows(_header_names(fields), start, [], [], [])
                continue
            raw.rows.append(fields)
            raw.lines.append(start)
            raw.texts.append("".join(physical[start - 1 : previous]).rstrip("\r\n"))
    except csv.Error as exc:
        raise fail(previous + 1, f"malformed CSV: {exc}") from None
    if raw is None:
        raise fail(None, "empty body (no header, no rows)")
    return raw


def _header_positions(raw: _RawRows, required: Sequence[tuple[str, ...]], fail: Fail) -> dict[str, int]:
    """Header name -> first position; every required column (one of its names) must be there."""
    positions: dict[str, int] = {}
    for position, name in enumerate(raw.header):
        if name:
            positions.setdefault(name, position)
    missing = [names for names in required if not any(n in positions for n in names)]
    if missing:
        wanted = ", ".join(" or ".join(names) for names in missing)
        shown = ",".join(raw.header[:12]) + (",..." if len(raw.header) > 12 else "")
        raise fail(raw.header_line, f"header lacks required column(s) {wanted} (header: {shown[:200]})")
    return positions


def _check_not_truncated(text: str, raw: _RawRows, fail: Fail) -> None:
    """A body cut mid-row: no final newline and a last row shorter than any other row."""
    lengths, width = [len(row) for row in raw.rows], len(raw.header)
    if raw.rows and not text.endswith(("\n", "\r")) and lengths[-1] < width:
        if len(lengths) == 1 or lengths[-1] < min(lengths[:-1]):
            raise fail(
                raw.lines[-1],
                f"truncated file: the last row has {lengths[-1]} of {width} fields and no line end",
            )


def read_table(
    content: bytes,
    source_url: str,
    partition: str | None,
    required: Sequence[tuple[str, ...]],
    shape: Callable[[list[str], dict[str, int]], RowShape],
) -> Table:
    """The file's header and rows fitted to it; ``shape`` says, from the header and its positions,
    what a row of the file is (to recover a match that follows another on one line)."""

    def fail(line: int | None, cause: str) -> SourceFormatError:
        return SourceFormatError(source_url, line, cause, partition)

    text = _decode(content, fail)
    raw = _read_rows(text, fail)
    positions = _header_positions(raw, required, fail)
    _check_not_truncated(text, raw, fail)
    row_shape = shape(raw.header, positions)
    rows = [
        fitted
        for fields, line, row_text in zip(raw.rows, raw.lines, raw.texts, strict=True)
        for fitted in fit_row(fields, line, row_text, row_shape)
    ]
    return Table(source_url, partition, raw.header, raw.header_line, positions, rows)
