"""The prediction commands: `run` (fixtures -> features -> model -> predictions -> Redis),
`publish` (re-publish or roll back) and `lookup` (read what Redis serves); `demo` (cli/demo.py)
prints with these helpers."""

from __future__ import annotations

import argparse
import json
import os

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError
from footcast.cli.runs import asset_metadata, run_job

PREDICT_LABEL = "fixtures -> features -> model -> predictions -> redis"


def prediction_store():
    from footcast import config
    from footcast.adapters.redis.connection import open_store

    return open_store(
        config.redis_url(),
        config.embedded_redis_path(),
        prefix=os.environ.get("FOOTCAST_REDIS_PREFIX", "footcast"),
        max_attempts=2,
    )


def print_predictions(rows: list[dict]) -> None:
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
    store = prediction_store()
    try:
        rows = _lookup_rows(store, args)
    except NotPublishedError as exc:
        raise CommandError(f"{exc}: run `footcast run` or `footcast demo` first") from exc
    except redis_lib.RedisError as exc:
        raise CommandError(f"Redis ({store.description}) is unreachable: {exc}") from exc
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        print_predictions(rows)
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
        store = prediction_store()
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
