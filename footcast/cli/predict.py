"""The prediction commands: `run` (fixtures -> features -> model -> predictions -> Redis),
`publish` (re-publish or roll back), `lookup` (read what Redis serves) and `demo` (the whole
pipeline offline on simulated leagues)."""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError
from footcast.cli.ingest import ingest_all
from footcast.cli.runs import asset_metadata, run_job

PREDICT_LABEL = "fixtures -> features -> model -> predictions -> redis"


def cmd_demo(args: argparse.Namespace) -> int:
    from footcast.data import catalogue
    from footcast.data.simulator.leagues import SIMULATED_LEAGUES

    home = prepare_environment()
    leagues = list(SIMULATED_LEAGUES)
    last = catalogue.current_season()
    seasons = list(range(last - args.seasons + 1, last + 1))
    print(f"footcast demo: {len(leagues)} simulated leagues x {len(seasons)} seasons in {home}")
    started = time.perf_counter()
    targets = [(league, season) for season in seasons for league in leagues]
    for outcome in ingest_all(targets, raw_config={}, workers=min(2, os.cpu_count() or 1)):
        if outcome["error"]:
            raise CommandError(outcome["error"])
        print(f"  raw + validated {outcome['label']}  ({outcome['seconds']:.1f}s)", flush=True)
    _result, seconds = run_job("predict", PREDICT_LABEL)
    print(f"  {PREDICT_LABEL}  ({seconds:.1f}s)")
    store = _prediction_store()
    meta = store.meta()
    upcoming = store.by_kickoff(_now(), _now() + timedelta(days=365), limit=args.show)
    print(
        f"\npublished version {meta['version']} ({meta['count']} predictions, model {meta['model_version']});"
        f" the next {len(upcoming)} from Redis:"
    )
    _print_predictions(upcoming)
    print(
        f"\ndone in {time.perf_counter() - started:.0f}s. Try: footcast lookup {upcoming[0]['match_id']}"
        if upcoming
        else ""
    )
    print(f"Dagster UI: DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev -w workspace.yaml")
    return EXIT_OK


def _now():
    from footcast import config

    return config.now()


def _prediction_store():
    from footcast import config
    from footcast.adapters.redis.connection import open_store

    return open_store(
        config.redis_url(),
        config.embedded_redis_path(),
        prefix=os.environ.get("FOOTCAST_REDIS_PREFIX", "footcast"),
        max_attempts=2,
    )


def _print_predictions(rows: list[dict]) -> None:
    if not rows:
        print("  (none)")
        return
    print(
        f"  {'match_id':16}  {'league':6} {'kickoff (UTC)':16}  {'home':>22} - {'away':22}  "
        f"{'P(home)':>7} {'P(draw)':>7} {'P(away)':>7}"
    )
    for row in rows:
        print(
            f"  {row['match_id']:16}  {row['league']:6} {row['kickoff'][:16].replace('T', ' '):16}  "
            f"{row['home_team'][:22]:>22} - {row['away_team'][:22]:22}  "
            f"{row['p_home']:7.3f} {row['p_draw']:7.3f} {row['p_away']:7.3f}"
        )


def cmd_lookup(args: argparse.Namespace) -> int:
    import redis as redis_lib

    from footcast.adapters.redis.layout import NotPublishedError

    prepare_environment()
    store = _prediction_store()
    try:
        rows = _lookup_rows(store, args)
    except NotPublishedError as exc:
        raise CommandError(f"{exc}: run `footcast run` or `footcast demo` first") from exc
    except redis_lib.RedisError as exc:
        raise CommandError(f"Redis ({store.description}) is unreachable: {exc}") from exc
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        _print_predictions(rows)
    return EXIT_OK


def _lookup_rows(store, args: argparse.Namespace) -> list[dict]:
    """The published predictions asked for: one match, a team's fixtures or a league's on a date."""
    from footcast.data import teams

    if args.match_id:
        row = store.get(args.match_id)
        if row is None:
            raise CommandError(f"no prediction for match id {args.match_id!r} in the published version")
        return [row]
    if args.team:
        known = store.teams()
        team = teams.resolve_team(args.team, known)
        if team is None:
            raise CommandError(f"unknown team {args.team!r}: no published prediction involves it")
        return store.by_team(team)
    rows = store.by_league_date(args.league, args.date)
    if not rows:
        leagues = store.leagues()
        if args.league not in leagues:
            raise CommandError(f"unknown league {args.league!r}; published leagues: {', '.join(leagues)}")
    return rows


def cmd_run(args: argparse.Namespace) -> int:
    """fixtures -> features -> model -> predictions -> Redis, as one run of the `predict` job."""
    prepare_environment()
    model_config: dict = {"market_features": not args.no_market}
    if args.trials is not None:
        model_config["n_trials"] = args.trials
    result, seconds = run_job(
        "predict",
        PREDICT_LABEL,
        run_config={"ops": {"model": {"config": model_config}}},
    )
    model = asset_metadata(result, "model")
    batch = asset_metadata(result, "predictions")
    published = asset_metadata(result, "published_predictions")
    print(
        f"model version {model.get('model_version')} ({model.get('recipe')} recipe, validation RPS "
        f"{model.get('new_validation_rps')}): {model.get('promotion_decision')}"
    )
    print(
        f"{batch.get('rows')} predictions from champion version {batch.get('model_version')} "
        f"(leagues {batch.get('leagues') or 'none'}), published as {published.get('publish_version')} "
        f"(previous {published.get('previous_version') or 'none'}) in {seconds:.1f}s"
    )
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    import redis as redis_lib

    from footcast.adapters.redis.layout import NotPublishedError

    prepare_environment()
    if args.rollback:
        store = _prediction_store()
        try:
            previous, current = store.rollback()
        except NotPublishedError as exc:
            raise CommandError(str(exc)) from exc
        except redis_lib.RedisError as exc:
            raise CommandError(f"Redis ({store.description}) is unreachable: {exc}") from exc
        print(f"rolled back: {previous} -> {current} is served now")
        return EXIT_OK
    run_config = {"ops": {"published_predictions": {"config": {"publish_version": args.version or ""}}}}
    result, seconds = run_job("publish", "publish to redis", run_config=run_config)
    meta = asset_metadata(result, "published_predictions")
    print(
        f"published {meta.get('rows')} predictions as {meta.get('publish_version')} "
        f"(previous {meta.get('previous_version') or 'none'}) in {seconds:.1f}s"
    )
    return EXIT_OK
