"""The one error of the football-data parser: a file that cannot be this partition's data."""

from __future__ import annotations


class SourceFormatError(ValueError):
    """A whole source file that cannot be turned into canonical rows (an HTML page, a truncated or
    unreadable body, another season's file, ...): the partition fails and keeps its previous data."""

    def __init__(self, source_url: str, line: int | None, cause: str, partition: str | None = None) -> None:
        self.source_url = source_url
        self.line = line
        self.cause = " ".join(str(cause).split())  # always one line
        self.partition = partition
        where = f" [{partition}]" if partition else ""
        at = f" line {line}" if line is not None else ""
        super().__init__(f"{source_url}{where}{at}: {self.cause}")

    def __reduce__(self):  # keep it picklable (multiprocess executors ship exceptions around)
        return (type(self), (self.source_url, self.line, self.cause, self.partition))
