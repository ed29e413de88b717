"""`footcast demo`: the whole pipeline offline on simulated leagues, replaying the last rounds of
the current season on a scripted clock so that it ends with a track record.

The simulator plays every match up to "now" (FOOTCAST_NOW), so moving the clock back shows the
warehouse as it was then. The demo picks the last ``DEMO_ROUNDS`` rounds played before now (of
the current season, after its first round) and, a day before each, ingests what was known then
and publishes predictions (the first time training the model: the `predict` job; then the
`refresh_predictions` job with that champion). Back at now it ingests the results, publishes
the predictions of the upcoming fixtures, and scores every prediction that was live at a
kickoff: the `update_track_record` job, which `footcast track-record` prints again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from datetime import datetime, timedelta

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError
from footcast.cli.ingest import ingest_every_source
from footcast.cli.predict import PREDICT_LABEL, prediction_store, print_predictions
from footcast.cli.runs import run_job
from footcast.cli.track_record import load_report, print_report, update_track_record

DEMO_ROUNDS = 3
REFRESH_LABEL = "fixtures -> features -> predictions -> redis"


def past_rounds(leagues: list[str], season: int, now: datetime, count: int = DEMO_ROUNDS) -> list[datetime]:
    """First kickoffs of the last ``count`` rounds of ``season`` played before ``now``, oldest
    first, never the season's first round (before it the season has no data). The simulator's
    rounds never share or touch a day: a gap of two days or more starts a new round."""
    import pandas as pd

    from footcast.data import schema
    from footcast.data.simulator.partitions import simulate_partition

    kickoffs = pd.concat(
        [simulate_partition(league, season, as_of=pd.Timestamp(now))[0]["kickoff"] for league in leagues]
    ).sort_values()
    if kickoffs.empty:
        return []
    days = kickoffs.dt.tz_convert(schema.UK).dt.normalize()
    new_round = days.diff().dt.days.fillna(99) >= 2
    firsts = kickoffs[new_round.to_numpy()].tolist()[1:]
    return [moment.to_pydatetime() for moment in firsts[-count:]]


@contextlib.contextmanager
def clock(moment: datetime | None):
    """FOOTCAST_NOW pinned to ``moment`` (None: as it was) in this process and the workers it starts."""
    before = os.environ.get("FOOTCAST_NOW")
    if moment is not None:
        os.environ["FOOTCAST_NOW"] = moment.isoformat()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("FOOTCAST_NOW", None)
        else:
            os.environ["FOOTCAST_NOW"] = before


def _ingest(targets: list[tuple[str, int]], when: str, workers: int) -> None:
    # Every source of the simulated leagues: the results, then the simulator's xG feed (Understat's
    # shape and naming quirks) and its links to the results through the team registry.
    for outcome in ingest_every_source(targets, raw_config={}, workers=workers):
        if outcome["error"]:
            raise CommandError(outcome["error"])
        print(f"  {when}{outcome['what']} {outcome['label']}  ({outcome['seconds']:.1f}s)", flush=True)


def _replay(leagues: list[str], seasons: list[int], publish_times: list[datetime]) -> None:
    """Ingest and publish at each scripted time (training at the first), then catch up to now."""
    current = [(league, seasons[-1]) for league in leagues]
    targets = [(league, season) for season in seasons for league in leagues]
    for number, moment in enumerate([*publish_times, None]):
        when = f"[{moment:%Y-%m-%d %H:%M} UTC] " if moment else "[now] "
        with clock(moment):
            # (a replayed round re-ingests one partition per league: one after the other, so
            # their runs never wait on each other for the source's pool slot)
            if number == 0:
                _ingest(targets, when, workers=min(2, os.cpu_count() or 1))
            else:
                _ingest(current, when, workers=1)
            job, label = ("predict", PREDICT_LABEL) if number == 0 else ("refresh_predictions", REFRESH_LABEL)
            _result, seconds = run_job(job, label)
            print(f"  {when}{label}  ({seconds:.1f}s)", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from footcast import config
    from footcast.data import catalogue
    from footcast.data.simulator.leagues import SIMULATED_LEAGUES

    home = prepare_environment()
    leagues = list(SIMULATED_LEAGUES)
    last = catalogue.current_season()
    seasons = list(range(last - args.seasons + 1, last + 1))
    rounds = past_rounds(leagues, last, config.now())
    print(f"footcast demo: {len(leagues)} simulated leagues x {len(seasons)} seasons in {home}")
    if rounds:
        print(
            f"replaying the last {len(rounds)} rounds: predictions published a day before each "
            f"({', '.join(f'{moment:%a %d %b}' for moment in rounds)}), scored after"
        )
    started = time.perf_counter()
    _replay(leagues, seasons, [moment - timedelta(days=1) for moment in rounds])
    checks = update_track_record()
    report, truncated, record = load_report(None, None, 20)
    print()
    print_report(report, truncated, record, checks)
    store = prediction_store()
    meta = store.meta()
    upcoming = store.by_kickoff(config.now(), config.now() + timedelta(days=365), limit=args.show)
    print(
        f"\npublished version {meta['version']} ({meta['count']} predictions, model {meta['model_version']});"
        f" the next {len(upcoming)} from Redis:"
    )
    print_predictions(upcoming)
    print(
        f"\ndone in {time.perf_counter() - started:.0f}s. Try: footcast lookup {upcoming[0]['match_id']}"
        if upcoming
        else ""
    )
    print("The track record again: footcast track-record [--leagues SIM1] [--since DATE] [--json]")
    print(f"Dagster UI: DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev -w workspace.yaml")
    return EXIT_OK
