"""The simulator as a source: deterministic seasons of the SIM leagues, played up to now."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from footcast import config
from footcast.data import catalogue, schema, understat
from footcast.data.simulator.partitions import simulate_partition
from footcast.data.simulator.xg import simulate_understat_partition
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched


def simulated_url(league_code: str, season: int) -> str:
    return f"simulator://{league_code}/{schema.season_key(season)}"


class SimulatorSource:
    """Matches the simulator plays for a league-season; those after ``config.now()`` are fixtures."""

    name = "simulator"

    def fetch_results(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Played matches of one simulated league-season (nothing is archived or refused: a
        simulated season is the same whenever it is asked for)."""
        played, _upcoming = simulate_partition(league_code, season, as_of=config.now())
        return Fetched(
            played,
            self.name,
            simulated_url(league_code, season),
            "simulated",
            content_hash=str(played["content_hash"].iloc[0]) if len(played) else "",
        )

    def fetch_fixtures(self, league_codes: list[str], *, max_age: timedelta = IN_PROGRESS_MAX_AGE) -> Fetched:
        """The current season's matches after now of each league, one simulated "file" per league."""
        season = catalogue.current_season()
        frames = [simulate_partition(code, season, as_of=config.now())[1] for code in league_codes]
        frame = (
            schema.conform(pd.concat(frames, ignore_index=True), schema.FIXTURE_COLUMNS)
            if frames
            else schema.empty_frame(schema.FIXTURE_COLUMNS)
        )
        return Fetched(
            frame,
            self.name,
            " ".join(simulated_url(code, season) for code in league_codes),
            "+".join("simulated" for _code in league_codes),
        )


class SimulatedUnderstatSource:
    """The simulator's xG feed (:mod:`footcast.data.simulator.xg`): a simulated league-season as
    Understat would list it, matches before ``config.now()`` played."""

    name = catalogue.SIMULATOR

    def fetch_season(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Every match of one simulated league-season with its xG (nothing is archived or
        refused: a simulated season is the same whenever it is asked for)."""
        frame = simulate_understat_partition(league_code, season, as_of=config.now())
        played = int(frame["is_result"].sum())
        return Fetched(
            frame.assign(fetched_at=pd.Timestamp(config.now())),
            self.name,
            f"{simulated_url(league_code, season)}/xg",
            "simulated",
            content_hash=str(frame["content_hash"].iloc[0]) if len(frame) else "",
            extra={"requests_made": 0, "played": played, "not_played": len(frame) - played},
            rejected=understat.empty_frame(understat.REJECTED_DTYPES),
        )
