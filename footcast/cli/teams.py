"""`footcast teams`: the team registry's links across sources, the names it cannot place yet with
their proposals, and accepting a name as an alias of a club (which links the league-seasons its
proposals came from again, as Dagster runs of ``understat_links``, unless ``--no-relink``)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError, UsageError


def parse_alias(text: str) -> tuple[str, str]:
    """ "NAME=CANONICAL" -> (name, canonical)."""
    name, sep, canonical = text.partition("=")
    if not sep or not name.strip() or not canonical.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=CANONICAL (e.g. 'Manchester United=Man United')"
        )
    return name.strip(), canonical.strip()


def _warehouse():
    import sqlalchemy as sa

    from footcast import config
    from footcast.adapters.warehouse import Warehouse

    store = Warehouse(config.warehouse_url(), os.environ.get("FOOTCAST_WAREHOUSE_SCHEMA") or None)
    try:
        store.create_all()
    except sa.exc.OperationalError as exc:
        where = store.engine.url.render_as_string(hide_password=True)
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CommandError(f"the warehouse {where} is unreachable: {cause}") from exc
    return store


def _accept(args: argparse.Namespace) -> int:
    from footcast.services import linking

    name, canonical = args.accept
    try:
        row = linking.accept_alias(_warehouse(), name, canonical, args.source)
    except linking.UnknownTeamError as exc:
        raise UsageError(str(exc)) from None
    partitions = row["partitions"]
    relinked = _relink(partitions) if partitions and not args.no_relink else {}
    if args.json:
        accepted = {k: row[k] for k in ("source", "name", "canonical", "origin")}
        print(json.dumps({"accepted": accepted, "relink": partitions, "relinked": relinked}, indent=2))
        return EXIT_OK
    print(f"accepted {row['source']} name {row['name']!r} as {row['canonical']!r}")
    if partitions and args.no_relink:
        print(f"re-materialize understat_links to link its matches: {', '.join(partitions)}")
    for key, links in relinked.items():
        print(f"relinked {key}: {links.get('linked')} of {links.get('played')} played matches linked")
    return EXIT_OK


def _relink(keys: list[str]) -> dict[str, dict[str, Any]]:
    """Link the partitions again (the links asset and its check, one Dagster run per range of
    consecutive partitions, recorded in the instance as any run): partition -> its metadata."""
    from footcast.assets import partitions
    from footcast.cli.runs import partition_metadata, run_partitions
    from footcast.pipelines.jobs import link_understat_job

    relinked: dict[str, dict[str, Any]] = {}
    for span in partitions.key_ranges(keys, link_understat_job.partitions_def):
        result, _seconds = run_partitions(link_understat_job.name, span)
        relinked.update(partition_metadata(result, "understat_links"))
    return {key: relinked.get(key, {}) for key in keys}


def _print_links(links: list[dict[str, Any]]) -> None:
    from footcast.data.catalogue import partition_key

    if not links:
        print("no Understat matches linked yet (materialize understat_links after Understat's matches)")
        return
    print("Understat matches linked to football-data's:")
    print(f"  {'league-season':<14} {'played':>6} {'linked':>6} {'unlinked':>8}")
    for row in links:
        key = partition_key(row["league"], row["season"])
        print(f"  {key:<14} {row['played']:>6} {row['linked']:>6} {len(row['unlinked']):>8}")
        for match in row["unlinked"]:
            print(
                f"      {match['kickoff'][:10]} {match['home_team']} v {match['away_team']} {match['score']} "
                f"(Understat {match['understat_id']}): {match['reason']}"
            )


def _print_unresolved(unresolved: list[dict[str, Any]]) -> None:
    from footcast.data.catalogue import partition_key

    if not unresolved:
        print("unresolved names: none")
        return
    print("unresolved names (accept one with: footcast teams --accept NAME=CANONICAL --source SOURCE):")
    for entry in unresolved:
        print(f"  {entry['source']} {entry['name']!r}")
        for p in entry["proposals"]:
            where = partition_key(p["league"], p["season"])
            if p["canonical"] is None:
                print(f"      {where}: no candidate ({p['status']}): {p['detail']}")
                continue
            print(
                f"      {where}: {p['canonical']!r}, {p['evidence']} of {p['matches']} matches agree "
                f"(confidence {p['confidence']:.2f}, {p['status']})"
            )


def cmd_teams(args: argparse.Namespace) -> int:
    prepare_environment()
    for flag, given in (("--source", args.source is not None), ("--no-relink", args.no_relink)):
        if given and args.accept is None:
            raise UsageError(f"{flag} goes with --accept NAME=CANONICAL")
    if args.accept is not None:
        args.source = args.source or "understat"
        return _accept(args)
    from footcast.services import linking

    report = linking.links_report(_warehouse())
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    _print_links(report["links"])
    _print_unresolved(report["unresolved"])
    return EXIT_OK
