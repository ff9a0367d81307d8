"""Percentiles, latency summaries and the two significance tests the regression gate uses."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261130  # fixed: the same files always give the same verdict


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in [0, 1]) of a non-empty sequence (the
    rule ``scripts/bench_tts.py`` uses)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Sequence[float]) -> dict[str, float]:
    """``mean``, ``p50``, ``p95``, ``p99`` of a non-empty sequence, rounded to the microsecond
    when the values are milliseconds."""
    return {
        "mean": round(math.fsum(values) / len(values), 3),
        "p50": round(percentile(values, 0.50), 3),
        "p95": round(percentile(values, 0.95), 3),
        "p99": round(percentile(values, 0.99), 3),
    }


@dataclass(frozen=True)
class Significance:
    """Whether ``current`` is clearly larger than ``baseline``, and the evidence."""

    method: str  # "mann-whitney-u" or "bootstrap"
    clear: bool
    detail: str  # "p=0.0003" or "95% lower bound of the ratio 1.08"
    p_value: float | None = None
    ratio_low: float | None = None


def mann_whitney_greater(
    current: Sequence[float], baseline: Sequence[float], alpha: float
) -> Significance:
    """One-sided Mann-Whitney U test that ``current`` tends to be larger than ``baseline``:
    rank-based, so it neither assumes a distribution nor cares about the scale."""
    from scipy.stats import mannwhitneyu

    result = mannwhitneyu(current, baseline, alternative="greater")
    p_value = float(result.pvalue)
    return Significance(
        "mann-whitney-u", p_value < alpha, f"one-sided p={p_value:.2g}", p_value=p_value
    )


def bootstrap_ratio_greater(
    current: Sequence[float],
    baseline: Sequence[float],
    statistic: Callable[[np.ndarray], np.ndarray],
    alpha: float,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Significance:
    """Percentile-bootstrap lower confidence bound (1 - ``alpha``) of
    ``statistic(current) / statistic(baseline)``; the rise is clear when it is above 1.

    Both samples are divided by the baseline's smallest value first, so multiplying both
    files by one factor leaves every resample, and so the verdict, unchanged. The generator
    is seeded: the same inputs always give the same bound.
    """
    scale = min(baseline)
    if scale <= 0:
        scale = 1.0
    cur = np.asarray(current, dtype=float) / scale
    base = np.asarray(baseline, dtype=float) / scale
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    cur_idx = rng.integers(0, len(cur), size=(resamples, len(cur)))
    base_idx = rng.integers(0, len(base), size=(resamples, len(base)))
    numerators = statistic(cur[cur_idx])
    denominators = statistic(base[base_idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(denominators > 0, numerators / denominators, math.inf)
    low = float(np.quantile(ratios, alpha))
    confidence = round((1 - alpha) * 100, 2)
    return Significance(
        "bootstrap",
        low > 1.0,
        f"{confidence:g}% lower bound of the ratio {low:.3f}",
        ratio_low=low,
    )


def quantile_statistic(fraction: float) -> Callable[[np.ndarray], np.ndarray]:
    """A statistic for :func:`bootstrap_ratio_greater`: the linear-interpolated quantile of
    each resample (one row of a 2-D array)."""

    def statistic(resamples: np.ndarray) -> np.ndarray:
        return np.asarray(np.quantile(resamples, fraction, axis=1))

    return statistic


def mean_statistic(resamples: np.ndarray) -> np.ndarray:
    """A statistic for :func:`bootstrap_ratio_greater`: the mean of each resample."""
    return np.asarray(np.mean(resamples, axis=1))
