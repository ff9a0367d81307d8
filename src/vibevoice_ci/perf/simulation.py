"""The gate's false-alarm and catch rates on simulated runs (pure, seeded, fast).

A false-alarm rate of at most 1% cannot be shown with the 15 or 20 pairs of real runs a
machine can afford (0 of 300 clean pairs is what puts the 95% upper bound at 1%). Here each
"run" is ``requests`` draws from one fixed latency distribution, and the real gate
(``regression.compare``, the configured thresholds) judges hundreds of pairs:

- **A/A**: both runs from the distribution as it is; a regression verdict is a false alarm;
- **A/B**: every request 20% slower (what ``scripts/perf_slow_tts.py --slowdown 0.2`` does to
  every chunk); a regression verdict is a catch;
- **A/T**: the tail only: the slowest requests slower, ramping from none at the 80th
  percentile to +20% at the 95th and above; the median does not move, the p95 rises 20%.

The distribution is log-normal, the shape of a service's latency under steady load: its
median does not matter (the gate is scale-free) and its spread ``sigma`` is the one fitted to
a real run (docs/performance.md). One uniform draw per request places it in both the TTFA
and the end-to-end distribution, so a slow request is slow in both, as in a real service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vibevoice_ci.perf.metrics import Metrics
from vibevoice_ci.perf.regression import Thresholds, compare
from vibevoice_ci.perf.stats import summarize

SLOWDOWN = 0.20
TAIL_START = 0.80  # the tail slowdown starts at this quantile ...
TAIL_FULL = 0.95  # ... and is the full SLOWDOWN from this one up


def no_slowdown(u: np.ndarray) -> np.ndarray:
    return np.ones_like(u)


def uniform_slowdown(u: np.ndarray) -> np.ndarray:
    """Every request ``SLOWDOWN`` slower."""
    return np.full_like(u, 1 + SLOWDOWN)


def tail_slowdown(u: np.ndarray) -> np.ndarray:
    """Requests at quantile ``u`` of the distribution slowed by a factor ramping from 1 at
    ``TAIL_START`` to ``1 + SLOWDOWN`` at ``TAIL_FULL`` and above: the p95 rises by
    ``SLOWDOWN``, the median not at all. Monotone in ``u``, so the order of requests is kept."""
    ramp = np.clip((u - TAIL_START) / (TAIL_FULL - TAIL_START), 0.0, 1.0)
    return np.asarray(1 + SLOWDOWN * ramp)


@dataclass(frozen=True)
class Scenario:
    name: str  # "A/A", "A/B", "A/T"
    description: str
    expect_regression: bool
    factor: Callable[[np.ndarray], np.ndarray]


SCENARIOS = (
    Scenario("A/A", "the same build twice", False, no_slowdown),
    Scenario("A/B", "every request +20%", True, uniform_slowdown),
    Scenario("A/T", "the tail only: +20% at p95, median unchanged", True, tail_slowdown),
)


@dataclass(frozen=True)
class Population:
    """A log-normal latency distribution: medians in ms and the spread of its logarithm."""

    ttfa_median_ms: float = 101.0
    e2e_median_ms: float = 289.0
    # The nightly run's own spread: log-sd of the TTFA of 1,000 Piper requests at closed-loop
    # concurrency 2 with the built-in prompts (docs/performance.md, "The nightly run").
    sigma: float = 0.32

    def __post_init__(self) -> None:
        if not (self.ttfa_median_ms > 0 and self.e2e_median_ms > 0 and self.sigma > 0):
            raise ValueError("medians and sigma must be above 0")


def draw_run(
    rng: np.random.Generator, population: Population, requests: int, scenario: Scenario
) -> Metrics:
    """One simulated run: ``requests`` requests, summarized and with their samples, as the gate
    reads a metrics file (no errors)."""
    from scipy.stats import norm

    u = rng.random(requests)
    # Uniform draws exactly 0 would be -inf; numpy's [0, 1) makes 0 possible, if unlikely.
    u = np.clip(u, 1e-12, 1 - 1e-12)
    shape = np.exp(population.sigma * norm.ppf(u)) * scenario.factor(u)
    ttfa: list[float] = np.round(population.ttfa_median_ms * shape, 3).tolist()
    e2e: list[float] = np.round(population.e2e_median_ms * shape, 3).tolist()
    return Metrics(
        ttfa_ms=summarize(ttfa),
        e2e_latency_ms=summarize(e2e),
        throughput_rps=1.0,
        error_rate=0.0,
        total_requests=requests,
        samples={"ttfa_ms": tuple(ttfa), "e2e_latency_ms": tuple(e2e)},
    )


def rate_with_interval(hits: int, total: int) -> dict[str, Any]:
    """``hits/total`` with its exact (Clopper-Pearson) 95% interval."""
    from scipy.stats import binomtest

    if total == 0:
        return {"hits": 0, "pairs": 0, "rate": None, "ci95": None}
    interval = binomtest(hits, total).proportion_ci(confidence_level=0.95, method="exact")
    return {
        "hits": hits,
        "pairs": total,
        "rate": round(hits / total, 4),
        "ci95": [round(interval.low, 4), round(interval.high, 4)],
    }


def simulate(
    *,
    pairs: int,
    requests: int,
    thresholds: Thresholds,
    population: Population | None = None,
    seed: int = 20261130,
    scenarios: Sequence[Scenario] = SCENARIOS,
) -> dict[str, Any]:
    """Judge ``pairs`` simulated pairs of each scenario by the statistical rule and by the
    thresholds alone; the rates with their intervals, and which rows decided (pure: the same
    arguments give the same report)."""
    if pairs < 1 or requests < 5:
        raise ValueError("pairs >= 1 and requests >= 5")
    population = population or Population()
    rng = np.random.default_rng(seed)
    report: dict[str, Any] = {}
    for scenario in scenarios:
        hits = {"statistical": 0, "threshold": 0}
        rows: dict[str, int] = {}
        for _ in range(pairs):
            baseline = draw_run(rng, population, requests, SCENARIOS[0])
            current = draw_run(rng, population, requests, scenario)
            statistical = compare(current, baseline, thresholds, statistical=True)
            plain = compare(current, baseline, thresholds, statistical=False)
            hits["statistical"] += statistical.regression
            hits["threshold"] += plain.regression
            for row in statistical.rows:
                if row.regression:
                    rows[row.name] = rows.get(row.name, 0) + 1
        report[scenario.name] = {
            "description": scenario.description,
            "expect_regression": scenario.expect_regression,
            "statistical": rate_with_interval(hits["statistical"], pairs),
            "threshold": rate_with_interval(hits["threshold"], pairs),
            "regression_rows": dict(sorted(rows.items())),
        }
    return {
        "pairs": pairs,
        "requests_per_run": requests,
        "seed": seed,
        "population": {
            "distribution": "log-normal",
            "ttfa_median_ms": population.ttfa_median_ms,
            "e2e_median_ms": population.e2e_median_ms,
            "sigma": population.sigma,
        },
        "slowdown": {"uniform": SLOWDOWN, "tail": [TAIL_START, TAIL_FULL, SLOWDOWN]},
        "thresholds": dict(vars(thresholds)),
        "rates": report,
    }


def render_simulation(report: Mapping[str, Any]) -> str:
    """The simulated rates as a Markdown table."""
    population = report["population"]
    lines = [
        f"Simulated: {report['pairs']} pairs of each kind, {report['requests_per_run']} "
        f"requests per run, log-normal sigma {population['sigma']:g} (seed {report['seed']}).",
        "",
        "| pairs | statistical rule (the gate) | thresholds only | rows that decided |",
        "| --- | --- | --- | --- |",
    ]
    for name, entry in report["rates"].items():
        label = f"{name}: {entry['description']}"
        label += ", caught" if entry["expect_regression"] else ", false alarms"
        cells = [_rate(entry[mode]) for mode in ("statistical", "threshold")]
        decided = ", ".join(f"{row} {n}" for row, n in entry["regression_rows"].items()) or "-"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {decided} |")
    return "\n".join(lines) + "\n"


def _rate(rate: Mapping[str, Any]) -> str:
    if rate["rate"] is None:
        return "-"
    low, high = rate["ci95"]
    return f"{rate['hits']}/{rate['pairs']} = {rate['rate']:.1%} (95% CI {low:.1%}-{high:.1%})"
