"""`footcast track-record`: bring the track record up to date (a run of the `update_track_record` job:
score, check, publish to Redis) and print it: the rolling figures, the checks and the scored
matches, or the report as JSON (``models.track_record_report``)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError
from footcast.cli.runs import failure_message, run_job

TEXT_MATCHES = 20  # the most recent scored matches the text output shows (unless --limit)


def update_track_record() -> dict:
    """Run the `update_track_record` job; the checks' outcomes by name ({"passed", "severity",
    "description"}). A failed Redis publish is a warning: the warehouse's track record is there."""
    result, _seconds = run_job("update_track_record", "track record", raise_on_failure=False)
    failed = {event.step_key for event in result.all_events if event.is_step_failure}
    if not result.success and failed != {"published_track_record"}:
        raise CommandError(f"track record: {failure_message(result)}")
    if failed:
        print(
            "footcast track-record: not published to Redis (the API serves the previous one)", file=sys.stderr
        )
    checks = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            checks[evaluation.check_name] = {
                "passed": evaluation.passed,
                "severity": evaluation.severity.value,
                "description": evaluation.description or "",
            }
    return checks


def load_report(leagues: list[str] | None, since, limit: int | None) -> tuple[dict, bool, object]:
    """(the report selected by the filters, whether limit cut it, the track record)."""
    from footcast import config
    from footcast.adapters.warehouse import Warehouse
    from footcast.models import track_record_report
    from footcast.services import track_record

    warehouse = Warehouse(config.warehouse_url(), os.environ.get("FOOTCAST_WAREHOUSE_SCHEMA") or None)
    record = track_record.read(warehouse)
    report, truncated = track_record_report.select(track_record.report(record), leagues, since, limit)
    return report, truncated, record


def cmd_track_record(args: argparse.Namespace) -> int:
    prepare_environment()
    checks = update_track_record()
    limit = args.limit if args.limit is not None else (None if args.json else TEXT_MATCHES)
    report, truncated, record = load_report(args.leagues, args.since, limit)
    if args.json:
        print(json.dumps(report, indent=1, allow_nan=False))
        return EXIT_OK
    print_report(report, truncated, record, checks)
    return EXIT_OK


def print_report(report: dict, truncated: bool, record, checks: dict) -> None:
    import pandas as pd

    from footcast.services import track_record

    scored = record.scored
    print(
        f"track record: {len(scored)} published predictions scored, {len(record.excluded)} excluded "
        f"(RPS, lower is better; model minus reference below 0: the model is better)\n"
    )
    if report["summary"]:
        print(track_record.summary_table(pd.DataFrame(report["summary"])))
    for name, check in checks.items():
        verdict = "ok" if check["passed"] else check["severity"]
        print(f"check {name}: {verdict}: {check['description']}")
    shown = report["matches"]
    if shown:
        more = " (most recent; --limit N or --json for more)" if truncated else ""
        print(f"\n{len(shown)} scored matches{more}:")
        print(
            f"  {'kickoff (UTC)':16}  {'league':6} {'match':44} {'result':6} "
            f"{'P(H)':>5} {'P(D)':>5} {'P(A)':>5}  {'RPS':>6} {'market':>6}  version"
        )
    for row in shown:
        market = f"{row['market_rps']:6.3f}" if row["market_rps"] is not None else "     -"
        match = f"{row['home_team']} - {row['away_team']}"[:44]
        print(
            f"  {row['kickoff'][:16].replace('T', ' '):16}  {row['league']:6} {match:44} {row['result']:6} "
            f"{row['p_home']:5.2f} {row['p_draw']:5.2f} {row['p_away']:5.2f}  {row['rps']:6.3f} {market}  "
            f"{row['version']}"
        )
    for row in report["excluded"]:
        print(f"  excluded {row['match_id']} ({row['league']}): {row['reason']}")
