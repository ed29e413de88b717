"""Plots of the model layer (PNG files): reliability diagrams, feature importance, RPS by season,
the track record's cumulative RPS difference against its references.

matplotlib with the non-interactive Agg backend (no display needed; safe in Dagster runs and
worker processes). Each function writes one PNG and returns its path. Plain Python, no dagster.
``markdown_images`` embeds PNGs in markdown as data URIs (the Dagster UI shows them inline).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from footcast.models import metrics

OUTCOME_NAMES = ("home win", "draw", "away win")


def reliability_diagram(
    probs: np.ndarray, outcomes: np.ndarray, path: Path, title: str, bins: int = 10
) -> Path:
    """One panel per outcome: mean forecast against observed frequency per equal-width bin
    (marker area ~ matches in the bin), with the diagonal of perfect calibration."""
    probs = np.asarray(probs, dtype=np.float64)
    outcomes = np.asarray(outcomes)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
    for k, ax in enumerate(axes):
        p = probs[:, k]
        hit = (outcomes == k).astype(np.float64)
        which = np.minimum((p * bins).astype(int), bins - 1)
        counts = np.bincount(which, minlength=bins)
        used = counts > 0
        mean_p = np.bincount(which, weights=p, minlength=bins)[used] / counts[used]
        observed = np.bincount(which, weights=hit, minlength=bins)[used] / counts[used]
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        ax.plot(mean_p, observed, color="tab:blue", linewidth=1)
        ax.scatter(mean_p, observed, s=20 + 200 * counts[used] / counts.max(), color="tab:blue")
        error = metrics.calibration_error(probs, outcomes) if k == 0 else None
        ax.set_title(f"{OUTCOME_NAMES[k]} (n={len(p)})")
        ax.set_xlabel("forecast probability")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        if error is not None:
            ax.set_ylabel("observed frequency")
            ax.text(0.02, 0.93, f"mean ECE {error:.4f}", transform=ax.transAxes)
    fig.suptitle(title)
    return _save(fig, path)


def feature_importance(importance: pd.Series, path: Path, title: str, top: int = 25) -> Path:
    """Horizontal bars of the ``top`` largest importances (e.g. XGBoost total gain)."""
    shown = importance.sort_values(ascending=False).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(shown) + 1.2))
    ax.barh(shown.index.astype(str), shown.to_numpy(dtype=np.float64), color="tab:blue")
    ax.set_xlabel("total gain")
    ax.set_title(title)
    return _save(fig, path)


def rps_by_season(frame: pd.DataFrame, path: Path, title: str) -> Path:
    """Lines of RPS by season, one per predictor: ``frame`` indexed by season, a column per
    predictor (NaN where a predictor has no value)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    seasons = [int(s) for s in frame.index]
    for predictor in frame.columns:
        values = frame[predictor].to_numpy(dtype=np.float64)
        ax.plot(seasons, values, marker="o", label=str(predictor))
    ax.set_xticks(seasons)
    ax.set_xticklabels([f"{s}/{(s + 1) % 100:02d}" for s in seasons], rotation=45 if len(seasons) > 6 else 0)
    ax.set_ylabel("RPS (lower is better)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


REFERENCE_LABELS = {
    "market": "pre-closing market",
    "close": "closing market",
    "elo": "Elo",
}


def cumulative_difference(frame: pd.DataFrame, path: Path, title: str) -> Path:
    """One line per reference: the running sum of model-minus-reference RPS by kickoff (below
    zero and falling: the model beats the reference). ``frame``: kickoff, reference, cumulative."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for reference, rows in frame.groupby("reference", sort=False):
        label = REFERENCE_LABELS.get(str(reference), str(reference))
        # A picture 9 inches wide shows no more than a few thousand points of a line.
        shown = rows.iloc[np.unique(np.linspace(0, len(rows) - 1, min(len(rows), 3000)).astype(int))]
        ax.plot(pd.to_datetime(shown["kickoff"]), shown["cumulative"], label=f"vs {label} (n={len(rows)})")
    ax.axhline(0.0, color="grey", linestyle="--", linewidth=1)
    ax.set_ylabel("cumulative RPS difference (model - reference)")
    ax.set_xlabel("kickoff")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(frame):
        ax.legend()
    fig.autofmt_xdate()
    return _save(fig, path)


def markdown_images(images: Mapping[str, bytes]) -> str:
    """Markdown showing each PNG inline (a data URI), titled by its name."""
    return "\n\n".join(
        f"**{name}**\n\n![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
        for name, png in images.items()
    )


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
