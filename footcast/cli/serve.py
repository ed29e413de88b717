"""`footcast serve`: the read-only HTTP API over the predictions in Redis."""

from __future__ import annotations

import argparse

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, UsageError


def cmd_serve(args: argparse.Namespace) -> int:
    from footcast.api.runner import run
    from footcast.api.settings import ServeConfigError

    prepare_environment()
    try:
        run(args.host, args.port, args.workers, args.access_log, args.allow_anonymous)
    except ServeConfigError as exc:
        raise UsageError(str(exc)) from exc
    return EXIT_OK
