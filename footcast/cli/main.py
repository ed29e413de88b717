"""The `footcast` command line. Every command that does work runs it through Dagster, in the
same instance (DAGSTER_HOME) the UI reads, so `dagster dev` shows the runs afterwards.

Exit codes: 0 success, 1 the work failed (one line naming what and why), 2 bad usage.

This module is the parser, its validation and the dispatch to a command's handler, which
reports a failure as one line and an exit code; the commands live in one module per family.
"""

from __future__ import annotations

import argparse
import os
import sys

from footcast.cli.demo import cmd_demo
from footcast.cli.errors import EXIT_FAILED, EXIT_USAGE, CommandError, UsageError
from footcast.cli.evaluate import cmd_evaluate
from footcast.cli.export import EXPORTABLE, cmd_export
from footcast.cli.ingest import SOURCES, cmd_backfill
from footcast.cli.leagues import cmd_leagues
from footcast.cli.predict import cmd_lookup, cmd_publish, cmd_run
from footcast.cli.runs import DEBUG_VARIABLE
from footcast.cli.serve import cmd_serve
from footcast.cli.teams import cmd_teams, parse_alias
from footcast.cli.track_record import cmd_track_record
from footcast.data.teams import LINKED_SOURCES


def parse_seasons(text: str) -> list[int]:
    """ "2010-2024" (start years, inclusive) or "2019" -> seasons."""
    first, sep, last = text.partition("-")
    try:
        start, end = int(first), int(last) if sep else int(first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a season range like 2010-2024") from None
    if not 1900 < start <= end < 2100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a season range like 2010-2024")
    return list(range(start, end + 1))


def parse_leagues(text: str) -> list[str]:
    """League codes, ``all``, ``country:<name>``, ``tier:<n>`` or ``layout:<main|extra>``, comma-separated."""
    from footcast.data import catalogue

    try:
        return catalogue.select(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_date(text: str):
    """YYYY-MM-DD."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_sources(text: str) -> list[str]:
    """Comma-separated source names (football-data, understat), each once, in SOURCES order."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{', '.join(map(repr, unknown)) or repr(text)} names no source; use {' or '.join(SOURCES)} "
            "(comma-separated)"
        )
    return [source for source in SOURCES if source in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footcast",
        description="Football match prediction as a Dagster code location.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline offline on simulated leagues (replaying their last rounds on a "
        "scripted clock), then print the track record and predictions looked up from Redis",
    )
    demo.add_argument("--seasons", type=int, default=6, help="simulated seasons to ingest (default 6)")
    demo.add_argument("--show", type=int, default=10, help="predictions to print (default 10)")
    demo.set_defaults(handler=cmd_demo)

    backfill = commands.add_parser(
        "backfill",
        help="raw + validated layers for league-seasons from every source a league has (football-data, "
        "Understat's xG), as Dagster runs, with progress and a summary",
    )
    backfill.add_argument(
        "--leagues",
        type=parse_leagues,
        required=True,
        help="comma-separated codes (E0,D1,NOR), all, country:<name>, tier:<n> or layout:<main|extra>",
    )
    backfill.add_argument(
        "--seasons",
        type=parse_seasons,
        required=True,
        help="start years, inclusive: 2010-2024 (or one year); 2023 is 2023-24 in a split-season "
        "league and 2023 in a calendar-year one; seasons a league does not have are skipped",
    )
    backfill.add_argument(
        "--sources",
        type=parse_sources,
        default=None,
        help="which sources to load, comma-separated: football-data (results and odds), understat "
        "(match xG, then their links to the results; for the leagues with an xG feed, from 2014/15). "
        "Default: every source each league has",
    )
    backfill.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes running partition ranges (one Dagster run each) side by side "
        "(default: up to 2); they share one per-host request rate",
    )
    backfill.add_argument(
        "--force",
        action="store_true",
        help="re-download completed seasons the archive already holds, and re-validate",
    )
    backfill.add_argument(
        "--allow-fewer-rows",
        action="store_true",
        help="accept a season file with fewer matches than the stored partition (normally refused "
        "as truncated: nothing is replaced)",
    )
    backfill.add_argument(
        "--submit",
        action="store_true",
        help="hand the backfill to the Dagster daemon (tracked in the UI) instead of running it here",
    )
    backfill.set_defaults(handler=cmd_backfill)

    leagues = commands.add_parser(
        "leagues", help="the league catalogue, with the seasons and matches the warehouse holds of each"
    )
    leagues.add_argument("--held", action="store_true", help="only leagues the warehouse has matches of")
    leagues.add_argument("--json", action="store_true", help="print JSON")
    leagues.set_defaults(handler=cmd_leagues)

    teams = commands.add_parser(
        "teams",
        help="the team registry: Understat matches linked to football-data's per league-season, the "
        "names it cannot place yet with their proposals; --accept stores an alias",
    )
    teams.add_argument("--json", action="store_true", help="print JSON")
    teams.add_argument(
        "--accept",
        type=parse_alias,
        metavar="NAME=CANONICAL",
        help="store NAME (as --source spells it) as an alias of the club CANONICAL (football-data's name)",
    )
    teams.add_argument(
        "--source",
        choices=LINKED_SOURCES,
        help="the source that spells NAME (with --accept; default understat)",
    )
    teams.add_argument(
        "--no-relink",
        action="store_true",
        help="with --accept: only store the alias; by default the league-seasons whose proposals "
        "name it are linked again at once (one Dagster run of understat_links per range)",
    )
    teams.set_defaults(handler=cmd_teams)

    run = commands.add_parser(
        "run",
        help="fixtures -> features -> model -> predictions -> Redis for the leagues in the warehouse "
        "(one Dagster run; the new model serves only if it beats the champion)",
    )
    run.add_argument(
        "--trials",
        type=int,
        default=None,
        help="Optuna trials before the fit (default 0: the recipe's fixed parameters)",
    )
    run.add_argument(
        "--no-market",
        action="store_true",
        help="train the recipe without odds features (leagues without odds)",
    )
    run.set_defaults(handler=cmd_run)

    publish = commands.add_parser(
        "publish",
        help="re-publish a prediction batch from the warehouse to "
        "Redis, or roll back to the previous version",
    )
    which = publish.add_mutually_exclusive_group()
    which.add_argument("--version", help="publish version to publish (default: the newest batch)")
    which.add_argument("--rollback", action="store_true", help="serve the previous published version again")
    publish.set_defaults(handler=cmd_publish)

    export = commands.add_parser("export", help="write a warehouse table to .csv or .parquet")
    export.add_argument("table", choices=EXPORTABLE)
    export.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    export.set_defaults(handler=cmd_export)

    evaluate = commands.add_parser(
        "evaluate",
        help="walk-forward backtest: the model against the market, Elo and base rates, per league; "
        "results to the backtests table and MLflow",
    )
    evaluate.add_argument(
        "--test-seasons", type=parse_seasons, required=True, help="start years, inclusive: 2021-2024"
    )
    evaluate.add_argument(
        "--leagues", type=parse_leagues, help="as for backfill, e.g. E0,NOR or tier:1 (default: every league)"
    )
    evaluate.add_argument(
        "--trials",
        type=int,
        default=None,
        help="Optuna trials per model and test season (default 0: the recipes' fixed parameters)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of training, tuning and the bootstrap")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON (progress to stderr)")
    evaluate.set_defaults(handler=cmd_evaluate)

    track_record = commands.add_parser(
        "track-record",
        help="score the published predictions after their matches (the prediction live at kickoff "
        "against the result, the market and Elo), update the rolling figures and checks, and print them",
    )
    track_record.add_argument(
        "--leagues", type=parse_leagues, help="as for backfill, e.g. E0,D1 (default: every league)"
    )
    track_record.add_argument(
        "--since", type=parse_date, help="matches that kicked off on or after this date, YYYY-MM-DD (UTC)"
    )
    track_record.add_argument(
        "--limit", type=int, help="the most recent matches at most (default: all with --json, else 20)"
    )
    track_record.add_argument("--json", action="store_true", help='print {"matches", "summary", "excluded"}')
    track_record.set_defaults(handler=cmd_track_record)

    lookup = commands.add_parser("lookup", help="read published predictions from Redis")
    target = lookup.add_mutually_exclusive_group(required=True)
    target.add_argument("match_id", nargs="?", help="one match id")
    target.add_argument("--team", help="a team's fixtures (any alias; case and accent insensitive)")
    target.add_argument("--league", help="a league's fixtures on --date")
    lookup.add_argument("--date", help="UK-local date YYYY-MM-DD (with --league)")
    lookup.add_argument("--json", action="store_true", help="print JSON")
    lookup.set_defaults(handler=cmd_lookup)

    serve = commands.add_parser(
        "serve", help="read-only HTTP API over the predictions in Redis (OpenAPI schema at /openapi.json)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default: up to 2)"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default: costly)")
    serve.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve a non-loopback --host without FOOTCAST_API_KEYS",
    )
    serve.set_defaults(handler=cmd_serve)
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.command == "backfill" and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.command == "demo" and (args.seasons < 2 or args.show < 0):
        parser.error("--seasons must be at least 2 (one to train on, one to validate) and --show at least 0")
    if args.command == "serve" and not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")
    if args.command == "track-record" and args.limit is not None and args.limit < 0:
        parser.error("--limit must be at least 0")
    if args.command in ("evaluate", "run") and (args.trials or 0) < 0:
        parser.error("--trials must be at least 0")
    if args.command == "lookup":
        _validate_lookup(parser, args)


def _validate_lookup(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.team is not None and not args.team.strip():
        parser.error("--team needs a team name")
    if args.league and not args.date:
        parser.error("--league needs --date YYYY-MM-DD")
    if args.date and not args.league:
        parser.error("--date goes with --league")
    if args.date:
        from datetime import date

        try:
            date.fromisoformat(args.date)
        except ValueError:
            parser.error(f"--date {args.date!r} is not a date (YYYY-MM-DD)")


def main(argv: list[str] | None = None) -> int:
    import signal

    # XGBoost's OpenMP workers spin while idle by default, which costs most of their time on a
    # busy machine; set before anything imports xgboost.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # MLflow's INFO lines (creating its tables, registering a model version) are not the
    # command's output; the model's metadata says what was registered.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # `footcast lookup ... | head` ends quietly, like any Unix tool, when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    if args.debug:  # (read by the runs this process and its workers execute)
        os.environ[DEBUG_VARIABLE] = "1"
    try:
        return args.handler(args)
    except CommandError as exc:
        if args.debug:
            raise
        print(f"footcast {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except UsageError as exc:
        print(f"footcast {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILED
    except Exception as exc:  # one clear line, not a traceback, unless --debug
        if args.debug:
            raise
        print(f"footcast {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
