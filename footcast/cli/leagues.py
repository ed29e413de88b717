"""`footcast leagues`: the league catalogue, and what the warehouse holds of each league."""

from __future__ import annotations

import argparse
import json
import os

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError


def league_rows() -> list[dict[str, object]]:
    """One row per catalogue league: what the catalogue says and what the warehouse holds."""
    import sqlalchemy as sa

    from footcast import config
    from footcast.adapters.warehouse import Warehouse
    from footcast.data import catalogue
    from footcast.services.leagues import holdings

    store = Warehouse(config.warehouse_url(), os.environ.get("FOOTCAST_WAREHOUSE_SCHEMA") or None)
    try:
        held = holdings(store)
    except sa.exc.OperationalError as exc:
        if "no such table" not in str(exc):  # an empty warehouse holds nothing; anything else fails
            where = store.engine.url.render_as_string(hide_password=True)
            cause = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise CommandError(f"the warehouse {where} is unreachable: {cause}") from exc
        held = {}
    except sa.exc.ProgrammingError:  # PostgreSQL: the tables do not exist yet
        held = {}
    rows = []
    for code, league in catalogue.LEAGUES.items():
        stored = held.get(code, {})
        rows.append(
            {
                "code": code,
                "country": league.country,
                "name": league.name,
                "tier": league.tier,
                "layout": league.layout,
                "source": league.source,
                "season_style": league.season_style,
                "first_season": league.season_key(league.first_season),
                "last_season": league.season_key(catalogue.last_season(code)),
                "seasons_held": stored.get("seasons", 0),
                "matches": stored.get("matches", 0),
                "last_match": stored.get("last_match"),
            }
        )
    return rows


def cmd_leagues(args: argparse.Namespace) -> int:
    prepare_environment()
    rows = league_rows()
    if args.held:
        rows = [row for row in rows if row["matches"]]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    header = f"{'code':<5} {'country':<12} {'league':<18} {'tier':>4} {'layout':<9} {'seasons':<16} " + (
        f"{'held':>4} {'matches':>7}  last match"
    )
    print(header)
    for row in rows:
        span = f"{row['first_season']}..{row['last_season']}"
        last = str(row["last_match"])[:10] if row["last_match"] else "-"
        print(
            f"{row['code']:<5} {row['country']:<12} {row['name']:<18} {row['tier']:>4} {row['layout']:<9} "
            f"{span:<16} {row['seasons_held']:>4} {row['matches']:>7}  {last}"
        )
    return EXIT_OK
