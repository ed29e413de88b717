"""Parser for football-data.co.uk CSV files of the main layout: season results and the upcoming
fixtures list.

Turns the site's bytes into frames conformed to :mod:`footcast.data.schema`. One code path
serves every league of the site (``mmz4281/<SEASON4>/<DIV>.csv``) and ``/fixtures.csv``: the
header says which columns a file has, nothing depends on the league code.

Modules by concern: :mod:`.reading` (decoding, header, rows with their lines and text),
:mod:`.lines` (rows longer than the header: findings or the next match), :mod:`.cells` (one
cell: dates, times, numbers, prices), :mod:`.parsing` (columns, findings and rejections),
:mod:`.frames` (canonical frames), :mod:`.results` and :mod:`.fixtures` (the two file kinds).

A fault of one row or one cell is not a fault of the file: results keep every row whose
essential fields parse (unreadable other cells are null with a finding) and return the others
as rejected rows with their reason and text. Only whole-file problems raise
:class:`SourceFormatError`, naming the source, the partition and the first offending line.
"""

from footcast.data.football_data.columns import odds_columns_of
from footcast.data.football_data.errors import SourceFormatError
from footcast.data.football_data.fixtures import parse_fixtures
from footcast.data.football_data.frames import SOURCE
from footcast.data.football_data.lines import DUPLICATE, NEXT_MATCH, REJECTIONS, UNPARSEABLE
from footcast.data.football_data.results import ParsedResults, parse_results

__all__ = [
    "DUPLICATE",
    "NEXT_MATCH",
    "REJECTIONS",
    "SOURCE",
    "UNPARSEABLE",
    "ParsedResults",
    "SourceFormatError",
    "odds_columns_of",
    "parse_fixtures",
    "parse_results",
]
