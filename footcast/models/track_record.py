"""The track record: every published prediction scored after its match, against the market and Elo.

Pure (no IO, no Dagster): ``services.track_record`` reads the warehouse, calls these, and writes
what they return.

Which prediction is scored
--------------------------
A batch (one ``publish_version`` of the ``predictions`` table) is published at its
``generated_at``: the predictions asset makes it and the same run publishes it (FOOTCAST_NOW pins
that time for demos and tests). The batch *live* at a moment is the newest batch published
strictly before it (ties broken by publish version, which sorts by wall clock). A played match is
in the track record when some batch published before its kickoff predicted it; then it is

- ``scored`` against its prediction in the batch live at its kickoff, the kickoff it was played
  at (the ``matches`` row): a match postponed after publishing is scored against the prediction
  live at its new kickoff (``kickoff_at_publish`` says what that batch thought the kickoff was);
- ``excluded`` with the reason when the batch live at its kickoff does not hold it (a match
  postponed and not yet rescheduled when that batch was made: nobody was served a prediction of
  it at kickoff). Its row names the last batch that did predict it.

One row per match (its match id), computed from the whole history each time: re-running gives
the same rows, and nothing is scored twice.

References, on the same matches
-------------------------------
- ``market``: the margin-free pre-closing (opening) probabilities known at publish time, those
  the live batch recorded from its features (Shin's method, ``market_source`` "publish"); for a
  batch made before batches recorded them, the opening prices of the results file by the same
  method ("results"); none when the batch recorded that no opening price was known ("none");
- ``close``: the closing market of the results file, where the source has it;
- ``elo``: the Elo probabilities of the features (ratings before the match).

Every predictor is scored per match by RPS, log loss and Brier (:mod:`footcast.models.metrics`).

Rolling figures (``summarise``)
-------------------------------
Per league and overall (``all``), over the last 50 and the last 200 scored matches and the season
to date (each league's latest season; overall: every league's): the model's mean scores, its
calibration error, and the model's RPS minus each reference's on the matches that reference has,
with a percentile bootstrap 95% interval (``backtest_summary.bootstrap_mean_ci``: paired, fixed seed).

Calibration error: the expected calibration error of ``metrics.calibration_error`` (equal-width
bins of 0.1, the gap between mean forecast and observed frequency weighted by the bin's share of
matches, averaged over home, draw and away): the measure the model asset reports at validation.
Over a few hundred matches it is mostly noise (a perfectly calibrated forecaster shows about
0.04-0.06 over 200 matches), so it is judged against ``calibration_limit``: the 99.9th percentile
of the ECE the same forecasts would show if they were perfectly calibrated (outcomes drawn from
the forecasts themselves, ``NULL_RESAMPLES`` times, fixed seed).

Checks (``market_check``, ``calibration_check``), on the last 200 matches of every scope with at
least ``MIN_JUDGED`` of them (fewer give intervals too wide to judge):

- market (warning): the model is worse than the pre-closing market beyond the interval, i.e. the
  whole 95% interval of model-minus-market RPS lies above zero;
- calibration (error): the ECE exceeds its limit. At 99.9% per scope, a calibrated model trips it
  on about 1 run in 1,000 per league, about 4% of runs for 40 leagues; a forecaster whose
  probabilities are off by 0.1 or more on a usual range trips it with near certainty. A
  breakdown, not a drift: that is what the market check is for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from footcast.models import metrics
from footcast.models.backtest_summary import bootstrap_mean_ci
from footcast.models.track_record_report import (
    ALL,
    EXCLUDED,
    IDENTITY,
    REFERENCES,
    SCORED,
    SCORES,
    SPANS,
    SUMMARY_COLUMNS,
    TRACK_RECORD_COLUMNS,
    prob_columns,
)

MARKET_FROM_PUBLISH, MARKET_FROM_RESULTS, NO_MARKET = "publish", "results", "none"
JUDGED_SPAN = "last_200"
MIN_JUDGED = 100
CALIBRATION_BINS = 10
CALIBRATION_LEVEL = 0.999
NULL_RESAMPLES = 2000
BOOTSTRAP_RESAMPLES = 2000

# What ``score`` reads. Predictions: the ``predictions`` table's columns; the market columns are
# NaN in batches made before batches recorded them (``market_open_available`` NaN then).
PREDICTION_INPUT = (
    "publish_version",
    "match_id",
    "generated_at",
    "kickoff",
    "model_version",
    *prob_columns(),
    *prob_columns("market_open_"),
    "market_open_available",
)
# Played matches: identity, result (H/D/A) and the margin-free probabilities of the results
# file's opening (``opening_``) and closing (``close_``) prices and of Elo (``elo_``).
PLAYED_INPUT = (
    *IDENTITY,
    "result",
    *prob_columns("opening_"),
    *prob_columns("close_"),
    *prob_columns("elo_"),
)


def _naive_ns(series: pd.Series) -> np.ndarray:
    """UTC instants as int64 nanoseconds (comparable across frames whatever their unit)."""
    values = pd.to_datetime(series, utc=True).dt.tz_convert(None)
    return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def batches(predictions: pd.DataFrame) -> pd.DataFrame:
    """Each publish version once with its publish time, in publish order."""
    first = predictions.drop_duplicates("publish_version")[["publish_version", "generated_at"]]
    return first.sort_values(["generated_at", "publish_version"], kind="stable").reset_index(drop=True)


def score(predictions: pd.DataFrame, played: pd.DataFrame) -> pd.DataFrame:
    """The track record (TRACK_RECORD_COLUMNS, in kickoff order) of the ``played`` matches
    (PLAYED_INPUT) that a batch of ``predictions`` (PREDICTION_INPUT) predicted before kickoff."""
    published = batches(predictions)
    if published.empty or played.empty:
        return pd.DataFrame(columns=list(TRACK_RECORD_COLUMNS))
    live_at = np.searchsorted(_naive_ns(published["generated_at"]), _naive_ns(played["kickoff"]), "left") - 1
    after_first = live_at >= 0
    candidates = played.loc[after_first, list(PLAYED_INPUT)].reset_index(drop=True)
    candidates["live_version"] = published["publish_version"].to_numpy()[live_at[after_first]]
    served = predictions[list(PREDICTION_INPUT)].rename(
        columns={"kickoff": "kickoff_at_publish", "generated_at": "published_at"}
    )
    live = candidates.merge(
        served, left_on=["live_version", "match_id"], right_on=["publish_version", "match_id"], how="left"
    )
    have = live["publish_version"].notna().to_numpy()
    scored = _scored_rows(live[have].reset_index(drop=True))
    excluded = _excluded_rows(candidates[~have], predictions, published)
    frames = [frame for frame in (scored, excluded) if len(frame)]
    if not frames:
        return pd.DataFrame(columns=list(TRACK_RECORD_COLUMNS))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out.sort_values(["kickoff", "match_id"], kind="stable").reset_index(drop=True)[
        list(TRACK_RECORD_COLUMNS)
    ]


def _market(live: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, source) of the pre-closing market of each live prediction."""
    recorded = live["market_open_available"].to_numpy(dtype=np.float64)
    at_publish = live[prob_columns("market_open_")].to_numpy(dtype=np.float64)
    from_results = live[prob_columns("opening_")].to_numpy(dtype=np.float64)
    use_publish = (recorded == 1.0) & np.isfinite(at_publish).all(axis=1)
    use_results = np.isnan(recorded) & np.isfinite(from_results).all(axis=1)
    probs = np.full((len(live), 3), np.nan)
    probs[use_publish] = at_publish[use_publish]
    probs[use_results] = from_results[use_results]
    source = np.where(use_publish, MARKET_FROM_PUBLISH, np.where(use_results, MARKET_FROM_RESULTS, NO_MARKET))
    return probs, source


def per_match_scores(probs: np.ndarray, outcomes: np.ndarray) -> dict[str, np.ndarray]:
    """RPS, log loss and Brier of each match (NaN where ``probs`` has no complete row)."""
    have = np.isfinite(probs).all(axis=1)
    out = {name: np.full(len(outcomes), np.nan) for name in SCORES}
    if have.any():
        out["rps"][have] = metrics.rps_per_match(probs[have], outcomes[have])
        out["log_loss"][have] = metrics.log_loss_per_match(probs[have], outcomes[have])
        out["brier"][have] = metrics.brier_per_match(probs[have], outcomes[have])
    return out


def _scored_rows(live: pd.DataFrame) -> pd.DataFrame:
    if live.empty:
        return live
    outcomes = metrics.encode_results(live["result"])
    out = live[[*IDENTITY, "result", "publish_version", "model_version", "published_at"]].copy()
    out["kickoff_at_publish"] = live["kickoff_at_publish"]
    out["status"], out["reason"] = SCORED, ""
    market, out["market_source"] = _market(live)
    predictors = {
        "": live[prob_columns()].to_numpy(dtype=np.float64),
        "market_": market,
        "close_": live[prob_columns("close_")].to_numpy(dtype=np.float64),
        "elo_": live[prob_columns("elo_")].to_numpy(dtype=np.float64),
    }
    for prefix, probs in predictors.items():
        for column, values in zip(prob_columns(prefix), probs.T, strict=True):
            out[column] = values
        for name, values in per_match_scores(probs, outcomes).items():
            out[f"{prefix}{name}"] = values
    return out


def _excluded_rows(missing: pd.DataFrame, predictions: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The matches predicted before kickoff, but not by the batch live at it: excluded, with the
    last batch that predicted them before kickoff and why."""
    if missing.empty:
        return pd.DataFrame()
    earlier = predictions[predictions["match_id"].isin(missing["match_id"])][list(PREDICTION_INPUT)]
    earlier = earlier.merge(
        missing[["match_id", "kickoff", "live_version"]], on="match_id", suffixes=("_at", "")
    )
    earlier = earlier[_naive_ns(earlier["generated_at"]) < _naive_ns(earlier["kickoff"])]
    if earlier.empty:
        return pd.DataFrame()
    last = earlier.sort_values(["generated_at", "publish_version"], kind="stable").groupby("match_id").tail(1)
    rows = missing.drop(columns=["live_version"]).merge(
        last[
            [
                "match_id",
                "live_version",
                "publish_version",
                "model_version",
                "generated_at",
                "kickoff_at",
                *prob_columns(),
            ]
        ],
        on="match_id",
    )
    published_at = dict(zip(published["publish_version"], published["generated_at"], strict=True))
    rows = rows.rename(columns={"generated_at": "published_at", "kickoff_at": "kickoff_at_publish"})
    rows["status"] = EXCLUDED
    rows["reason"] = [
        f"not in batch {live} (published {_iso(published_at[live])}), the one live at kickoff "
        f"{_iso(kickoff)}: postponed, and not yet rescheduled when that batch was made; last "
        f"predicted by {version} (published {_iso(at)}) for kickoff {_iso(planned)}"
        for live, kickoff, version, at, planned in zip(
            rows["live_version"],
            rows["kickoff"],
            rows["publish_version"],
            rows["published_at"],
            rows["kickoff_at_publish"],
            strict=True,
        )
    ]
    rows["market_source"] = ""
    for column in TRACK_RECORD_COLUMNS:
        if column not in rows:
            rows[column] = np.nan
    return rows[list(TRACK_RECORD_COLUMNS)]


def _iso(moment) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


# -- rolling figures -----------------------------------------------------------------------------


def ece_many(probs: np.ndarray, outcomes: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """``metrics.calibration_error`` of the same forecasts ``probs`` (n, 3) against each row of
    ``outcomes`` (r, n) at once: per bin, |sum of forecasts - sum of hits| / n."""
    probs = np.asarray(probs, dtype=np.float64)
    outcomes = np.atleast_2d(outcomes)
    n = len(probs)
    total = np.zeros(len(outcomes))
    for k in range(3):
        p = probs[:, k]
        which = np.minimum((p * bins).astype(int), bins - 1)
        one_hot = np.zeros((n, bins))
        one_hot[np.arange(n), which] = 1.0
        hits = (outcomes == k).astype(np.float64)
        total += np.abs(p @ one_hot - hits @ one_hot).sum(axis=1) / n
    return total / 3.0


def calibration_limit(probs: np.ndarray, resamples: int = NULL_RESAMPLES, seed: int = 0) -> float:
    """The CALIBRATION_LEVEL quantile of the ECE of ``probs`` when outcomes are drawn from ``probs``
    themselves (what a perfectly calibrated forecaster shows by chance on these matches)."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(probs, axis=1)[:, :2]
    draws = rng.random((resamples, len(probs)))
    drawn = (draws[:, :, None] > cumulative[None, :, :]).sum(axis=2)
    return float(np.quantile(ece_many(probs, drawn), CALIBRATION_LEVEL))


@dataclass(frozen=True)
class _Arrays:
    """The scored matches as arrays, in kickoff order."""

    probs: np.ndarray
    outcomes: np.ndarray
    scores: dict[str, np.ndarray]  # "rps", ..., "market_rps", ...
    kickoff: np.ndarray
    league: np.ndarray
    in_season: np.ndarray  # of its league's latest season

    @classmethod
    def of(cls, scored: pd.DataFrame) -> _Arrays:
        latest = scored.groupby("league")["season"].transform("max")
        return cls(
            probs=scored[prob_columns()].to_numpy(dtype=np.float64),
            outcomes=metrics.encode_results(scored["result"]),
            scores={
                name: scored[name].to_numpy(dtype=np.float64)
                for name in (*SCORES, *[f"{reference}_rps" for reference in REFERENCES])
            },
            kickoff=scored["kickoff"].to_numpy(),
            league=scored["league"].astype(str).to_numpy(),
            in_season=(scored["season"] == latest).to_numpy(),
        )


def summarise(track: pd.DataFrame, *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """The rolling figures (SUMMARY_COLUMNS): one row per scope (``all``, then each league) and
    span (SPANS) that has scored matches."""
    scored = track[track["status"] == SCORED].sort_values(["kickoff", "match_id"], kind="stable")
    if scored.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    arrays = _Arrays.of(scored)
    rows = []
    for league in [ALL, *sorted(set(arrays.league))]:
        scope = np.ones(len(scored), dtype=bool) if league == ALL else arrays.league == league
        for span, size in SPANS.items():
            index = (
                np.flatnonzero(scope & arrays.in_season) if size is None else np.flatnonzero(scope)[-size:]
            )
            if len(index):
                figures = _figures(arrays, index, span == JUDGED_SPAN, seed, resamples)
                rows.append({"league": league, "span": span, **figures})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _figures(arrays: _Arrays, index: np.ndarray, judged: bool, seed: int, resamples: int) -> dict:
    probs, outcomes = arrays.probs[index], arrays.outcomes[index]
    model_rps = arrays.scores["rps"][index]
    row = {
        "n": len(index),
        "first_kickoff": arrays.kickoff[index[0]],
        "last_kickoff": arrays.kickoff[index[-1]],
        **{name: float(arrays.scores[name][index].mean()) for name in SCORES},
        "calibration_error": float(ece_many(probs, outcomes)[0]),
        "calibration_limit": calibration_limit(probs, seed=seed)
        if judged and len(index) >= MIN_JUDGED
        else np.nan,
    }
    for reference in REFERENCES:
        reference_rps = arrays.scores[f"{reference}_rps"][index]
        have = np.isfinite(reference_rps)
        difference = model_rps[have] - reference_rps[have]
        low, high = bootstrap_mean_ci(difference, resamples=resamples, seed=seed)
        row.update(
            {
                f"n_{reference}": int(have.sum()),
                f"{reference}_rps": float(reference_rps[have].mean()) if have.any() else np.nan,
                f"diff_vs_{reference}_rps": float(difference.mean()) if have.any() else np.nan,
                f"{reference}_ci_low": float(low[0]),
                f"{reference}_ci_high": float(high[0]),
            }
        )
    return row


# -- checks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    description: str
    failing: list[dict]  # the summary rows that fail the check
    judged: list[str]  # the scopes judged (enough matches)


def _judged(summary: pd.DataFrame, count_column: str) -> pd.DataFrame:
    rows = summary[summary["span"] == JUDGED_SPAN]
    return rows[rows[count_column].fillna(0) >= MIN_JUDGED]


def market_check(summary: pd.DataFrame) -> CheckOutcome:
    """Warning: over its last 200 matches, the model is worse than the pre-closing market beyond
    the bootstrap interval (the interval of model-minus-market RPS lies above zero)."""
    judged = _judged(summary, "n_market")
    failing = judged[judged["market_ci_low"] > 0]
    describe = [
        f"{row.league}: model minus market RPS {row.diff_vs_market_rps:+.4f} "
        f"[{row.market_ci_low:+.4f}, {row.market_ci_high:+.4f}] over {row.n_market} matches"
        for row in failing.itertuples()
    ]
    return CheckOutcome(
        passed=failing.empty,
        description="; ".join(describe)
        if describe
        else _unjudged_or(judged, "the model is not worse than the pre-closing market beyond its interval"),
        failing=failing.to_dict("records"),
        judged=judged["league"].tolist(),
    )


def calibration_check(summary: pd.DataFrame) -> CheckOutcome:
    """Error: over its last 200 matches, the model's calibration error is beyond what a calibrated
    forecaster shows at the 99.9th percentile."""
    judged = _judged(summary, "n")
    failing = judged[judged["calibration_error"] > judged["calibration_limit"]]
    describe = [
        f"{row.league}: calibration error {row.calibration_error:.4f} > limit {row.calibration_limit:.4f} "
        f"over {row.n} matches"
        for row in failing.itertuples()
    ]
    return CheckOutcome(
        passed=failing.empty,
        description="; ".join(describe)
        if describe
        else _unjudged_or(judged, "calibration error within its limit"),
        failing=failing.to_dict("records"),
        judged=judged["league"].tolist(),
    )


def _unjudged_or(judged: pd.DataFrame, verdict: str) -> str:
    if judged.empty:
        return f"not judged yet: no scope has {MIN_JUDGED} scored matches with the reference"
    return f"{verdict} ({', '.join(judged['league'])})"


def cumulative_differences(track: pd.DataFrame) -> pd.DataFrame:
    """Per reference, the running sum of model-minus-reference RPS over the scored matches that
    have it, in kickoff order: columns kickoff, reference, cumulative (for the picture)."""
    scored = track[track["status"] == SCORED].sort_values(["kickoff", "match_id"], kind="stable")
    parts = []
    for reference in REFERENCES:
        have = scored[scored[f"{reference}_rps"].notna()]
        difference = have["rps"].to_numpy(dtype=np.float64) - have[f"{reference}_rps"].to_numpy(
            dtype=np.float64
        )
        parts.append(
            pd.DataFrame(
                {
                    "kickoff": have["kickoff"].to_numpy(),
                    "reference": reference,
                    "cumulative": np.cumsum(difference),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
