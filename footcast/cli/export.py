"""`footcast export`: a warehouse table to a .csv or .parquet file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError, UsageError

EXPORTABLE = (
    "raw_matches",
    "matches",
    "quarantine",
    "fixtures",
    "features",
    "predictions",
    "backtests",
    "run_failures",
    "understat_links",
    "team_proposals",
    "team_aliases",
)


def cmd_export(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from footcast import config
    from footcast.adapters import warehouse as wh

    prepare_environment()
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out {out} must end in .csv or .parquet")
    store = wh.Warehouse(config.warehouse_url(), os.environ.get("FOOTCAST_WAREHOUSE_SCHEMA") or None)
    try:
        with store.engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        where = store.engine.url.render_as_string(hide_password=True)
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CommandError(f"the warehouse {where} is unreachable: {cause}") from exc
    try:
        frame = store.read_features() if args.table == "features" else store.read(getattr(wh, args.table))
    except (sa.exc.NoSuchTableError, sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise CommandError(
            f"table {args.table} is not in the warehouse yet ({type(exc).__name__}): materialize it first"
        ) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    print(f"{len(frame)} rows x {len(frame.columns)} columns of {args.table} -> {out}")
    return EXIT_OK
