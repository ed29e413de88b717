"""Fixtures and calendar: the double round robin and the kickoffs of each round (UTC)."""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import lru_cache

import numpy as np

from footcast.data import schema
from footcast.data.simulator.streams import S_CALENDAR, random_stream

KICKOFF_TIMES: tuple[time, ...] = (time(12, 30), time(15, 0), time(17, 30), time(19, 45), time(20, 0))


@lru_cache(maxsize=16)
def _single_round_robin(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Circle method over slots 0..n-1: (round, home_slot, away_slot) for rounds 0..n-2."""
    if n % 2 or n < 2:
        raise ValueError("simulated leagues need an even number of teams")
    rounds, homes, aways = [], [], []
    others = list(range(1, n))
    for r in range(n - 1):
        arrangement = [0] + others[r:] + others[:r]
        for k in range(n // 2):
            a, b = arrangement[k], arrangement[n - 1 - k]
            # Teams move one position per round, so flipping the orientation with the pair index
            # (and with the round for the fixed team) makes every team alternate home and away.
            if (k == 0 and r % 2) or (k > 0 and k % 2 == 0):
                a, b = b, a
            rounds.append(r)
            homes.append(a)
            aways.append(b)
    arrays = np.array(rounds), np.array(homes), np.array(aways)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def round_robin(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Double round robin over slots 0..n-1: (round, home_slot, away_slot), rounds 0..2(n-1)-1.

    The second half replays the first with home and away swapped, in a rotated order."""
    rounds, homes, aways = _single_round_robin(n)
    second = (n - 1) + (rounds - int(rng.integers(n - 1))) % (n - 1)
    return np.concatenate([rounds, second]), np.concatenate([homes, aways]), np.concatenate([aways, homes])


def _saturday_on_or_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7)


@lru_cache(maxsize=16384)
def _uk_noon_ns(day: int) -> int:
    """UTC (int64 ns) of 12:00 UK time on a day (ordinal), via schema.uk_kickoff_to_utc."""
    kickoff, _known = schema.uk_kickoff_to_utc(date.fromordinal(day), time(12, 0))
    return kickoff.as_unit("ns").value


def _uk_kickoff_ns(day: int, at: time) -> int:
    """UTC (int64 ns) of a UK kickoff at or after noon: clocks change at 01:00 UTC, so the
    day's offset at noon holds for every kickoff time of the day."""
    return _uk_noon_ns(day) + ((at.hour - 12) * 3600 + at.minute * 60) * 1_000_000_000


def _blocked_days(season: int) -> set[int]:
    """Days (ordinals) without football: Christmas Eve and Day, and 31 July."""
    return {
        date(season, 12, 24).toordinal(),
        date(season, 12, 25).toordinal(),
        date(season, 7, 31).toordinal(),
    }


def _weekend_rounds(tier: int, season: int, blocked: set[int]) -> list[dict]:
    """Weekend rounds from early August to May, except international and cup breaks, and the
    Boxing Day round (when it falls on a weekday), in date order."""
    y, y1 = season, season + 1
    first = _saturday_on_or_after(date(y, 8, 8 if tier == 1 else 1))
    last_limit = date(y1, 5, 24) if tier == 1 else date(y1, 5, 10)

    breaks = [(y, 9, 5), (y1, 3, 21)]
    if tier == 1:
        breaks += [(y, 10, 10), (y, 11, 14), (y1, 1, 5), (y1, 1, 26)]
    break_saturdays = {_saturday_on_or_after(date(*b)).toordinal() for b in breaks}

    rounds: list[dict] = []
    saturday = first
    while saturday <= last_limit:
        sat = saturday.toordinal()
        core = [d for d in (sat, sat + 1) if d not in blocked]
        if sat not in break_saturdays and core:
            rounds.append({"kind": "weekend", "core": core})
        saturday += timedelta(days=7)

    boxing_day = date(y, 12, 26)
    if boxing_day.weekday() < 5:
        bd = boxing_day.toordinal()
        rounds = [r for r in rounds if min(abs(d - bd) for d in r["core"]) > 1]
        rounds.append({"kind": "holiday", "core": [bd]})
    rounds.sort(key=lambda r: r["core"][0])
    return rounds


def _drop_weekends(rounds: list[dict], n_rounds: int, rng: np.random.Generator) -> list[dict]:
    """At least three midweek rounds; drop random weekends (not the first or last two) if needed."""
    min_midweek = 3
    excess = len(rounds) - (n_rounds - min_midweek)
    if excess > 0:
        droppable = [i for i, r in enumerate(rounds) if r["kind"] == "weekend" and 2 <= i < len(rounds) - 2]
        drop = set(rng.choice(droppable, size=excess, replace=False).tolist())
        rounds = [r for i, r in enumerate(rounds) if i not in drop]
    return rounds


def _add_midweek_rounds(
    rounds: list[dict], n_rounds: int, season: int, blocked: set[int], rng: np.random.Generator
) -> list[dict]:
    """Random Tuesday/Wednesday rounds, two days clear of every other round, up to n_rounds."""
    need = n_rounds - len(rounds)
    if need > 0:
        taken = np.array(sorted(d for r in rounds for d in r["core"]))
        candidates = []
        tuesday = date.fromordinal(taken[0]) + timedelta(days=(1 - date.fromordinal(taken[0]).weekday()) % 7)
        while tuesday.toordinal() < taken[-1]:
            core = [tuesday.toordinal(), tuesday.toordinal() + 1]
            if not blocked.intersection(core) and all(np.abs(taken - d).min() >= 2 for d in core):
                candidates.append(core)
            tuesday += timedelta(days=7)
        if len(candidates) < need:
            raise RuntimeError(f"cannot fit {n_rounds} rounds into season {season}")
        for i in sorted(rng.choice(len(candidates), size=need, replace=False).tolist()):
            rounds.append({"kind": "midweek", "core": candidates[i]})
        rounds.sort(key=lambda r: r["core"][0])
    return rounds


def _extra_day_options(r: dict) -> list[int]:
    """Days a round may also use: Friday / Monday for weekends, the 27th after Boxing Day."""
    if r["kind"] == "weekend":
        return [r["core"][0] - 1, r["core"][-1] + 1] if len(r["core"]) == 2 else [r["core"][-1] + 1]
    if r["kind"] == "holiday":
        return [r["core"][0] + 1]
    return []


def _add_extra_days(rounds: list[dict], blocked: set[int]) -> None:
    """Optional extra days (``extra`` of each round): only when the neighbouring rounds play no
    closer than three days (two for their own extra days), so that rounds never share or touch
    a day."""
    assigned = [list(r["core"]) for r in rounds]
    for i, r in enumerate(rounds):
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(rounds)]
        extras = []
        for day in _extra_day_options(r):
            if day in blocked:
                continue
            if all(abs(day - d) >= 3 for j in neighbours for d in rounds[j]["core"]) and all(
                abs(day - d) >= 2 for j in neighbours for d in assigned[j]
            ):
                extras.append(day)
                assigned[i].append(day)
        r["extra"] = extras


def _round_days(tier: int, n_rounds: int, season: int, rng: np.random.Generator) -> list[dict]:
    """The rounds of a season: kind ("weekend", "midweek", "holiday") and core/extra day ordinals."""
    blocked = _blocked_days(season)
    rounds = _drop_weekends(_weekend_rounds(tier, season, blocked), n_rounds, rng)
    rounds = _add_midweek_rounds(rounds, n_rounds, season, blocked, rng)
    _add_extra_days(rounds, blocked)
    return rounds


def _midweek_slots(
    core: list[int], tier: int, per_round: int, rng: np.random.Generator
) -> list[tuple[int, time]]:
    """Tier 1 splits the round over Tuesday and Wednesday; tier 2 plays mostly on Tuesday."""
    _t1230, _t1500, _t1730, t1945, t2000 = KICKOFF_TIMES
    tue, wed = core
    slots = []
    for k in range(per_round):
        if tier == 1:
            day = tue if k < per_round // 2 else wed
            at = t1945 if rng.random() < 0.6 else t2000
        else:
            day = wed if k < max(1, per_round // 5) else tue
            at = t2000 if rng.random() < 0.15 else t1945
        slots.append((day, at))
    return slots


def _holiday_specials(core: list[int], extra: list[int], rng: np.random.Generator) -> list[tuple[int, time]]:
    """Boxing Day kickoffs other than 15:00 (and maybe one on the 27th)."""
    t1230, _t1500, t1730, _t1945, t2000 = KICKOFF_TIMES
    day = core[0]
    special = [(day, t1230), (day, t1730), (day, t2000)]
    if extra and rng.random() < 0.6:
        special.append((extra[0], t2000))
    return special


def _top_flight_weekend_specials(
    fri: int | None, sat: int | None, sun: int, mon: int | None, rng: np.random.Generator
) -> list[tuple[int, time]]:
    """Tier 1 weekend kickoffs other than the main 15:00 slot (televised games)."""
    t1230, t1500, t1730, _t1945, t2000 = KICKOFF_TIMES
    special: list[tuple[int, time]] = []
    if fri is not None and rng.random() < 0.35:
        special.append((fri, t2000))
    if mon is not None and rng.random() < 0.5:
        special.append((mon, t2000))
    if sat is not None:
        special += [(sat, t1230), (sat, t1730)]
    special.append((sun, t1500))
    if rng.random() < 0.6:
        special.append((sun, t1230))
    if rng.random() < 0.3:
        special.append((sun, t1730))
    return special


def _second_tier_weekend_specials(
    fri: int | None, sat: int | None, sun: int, rng: np.random.Generator
) -> list[tuple[int, time]]:
    """Tier 2 weekend kickoffs other than the main 15:00 slot."""
    t1230, _t1500, t1730, t1945, _t2000 = KICKOFF_TIMES
    special: list[tuple[int, time]] = []
    if fri is not None and rng.random() < 0.5:
        special.append((fri, t1945))
    if sat is not None and rng.random() < 0.4:
        special.append((sat, t1230))
    if sat is not None and rng.random() < 0.3:
        special.append((sat, t1730))
    if sat is None or rng.random() < 0.3:
        special.append((sun, t1230))
    return special


def _round_slots(r: dict, tier: int, per_round: int, rng: np.random.Generator) -> list[tuple[int, time]]:
    """(day ordinal, UK local time) of each match of a round."""
    t1500 = KICKOFF_TIMES[1]
    core, extra = r["core"], r["extra"]
    if r["kind"] == "midweek":
        return _midweek_slots(core, tier, per_round, rng)
    if r["kind"] == "holiday":
        special = _holiday_specials(core, extra, rng)
        main = (core[0], t1500)
    else:
        sat = core[0] if len(core) == 2 else None
        sun = core[-1]
        fri = next((d for d in extra if d < core[0]), None)
        if tier == 1:
            mon = next((d for d in extra if d > core[-1]), None)
            special = _top_flight_weekend_specials(fri, sat, sun, mon, rng)
        else:
            special = _second_tier_weekend_specials(fri, sat, sun, rng)
        main = (sat if sat is not None else sun, t1500)
    special = special[: max(0, per_round - 1)]
    return special + [main] * (per_round - len(special))


@lru_cache(maxsize=512)
def kickoff_calendar(tier: int, n_teams: int, season: int, seed: int) -> np.ndarray:
    """UTC kickoffs (int64 ns) of each round's match slots: shape (n_rounds, n_teams // 2), read-only."""
    n_rounds, per_round = 2 * (n_teams - 1), n_teams // 2
    rng = random_stream(seed, S_CALENDAR, tier, season, n_teams)
    rounds = _round_days(tier, n_rounds, season, rng)
    out = np.empty((n_rounds, per_round), dtype=np.int64)
    for i, r in enumerate(rounds):
        slots = _round_slots(r, tier, per_round, rng)
        out[i] = sorted(_uk_kickoff_ns(day, at) for day, at in slots)
    out.flags.writeable = False
    return out
