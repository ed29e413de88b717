"""How a command ends: its exit code, and the two failures `main` reports as one line."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure to report as one line with exit code 1."""


class UsageError(Exception):
    """Bad usage found after parsing: one line, exit code 2."""
