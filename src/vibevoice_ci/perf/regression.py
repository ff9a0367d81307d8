"""The regression gate (pure): current metrics against the baseline.

Checks (thresholds from ``[tool.vibevoice-ci.perf]``, the seed design's defaults):

| metric | rule |
| --- | --- |
| TTFA mean, TTFA p50 | more than ``ttfa_increase`` (10%) above the baseline |
| end-to-end p95 | more than ``e2e_p95_increase`` (15%) above the baseline |
| error rate | above ``max_error_rate`` (1%), whatever the baseline |
| realtime capacity | more than ``capacity_decrease`` (10%) fewer streams than the baseline's |

The realtime capacity is compared only when both runs measured it under the same TTFA
objective on the same number of cores; otherwise the verdict says why it was not
(:attr:`Verdict.skipped`). A capacity is a level sustained on a first attempt or on its
confirmation repeat (``capacity.step_levels``), so one noisy attempt does not lower it.

A rise of exactly the threshold is not a regression; any rise past it is. The comparison is
exact (on the decimal numbers as written, in rational arithmetic), so a rise of exactly 10%
is not lost or invented by binary rounding.

**Threshold mode** is the rule above alone (seed design, Property 1). **Statistical mode**
(the default where both files carry raw samples of a latency) also asks that the slowdown be
statistically clear at ``alpha``: a one-sided Mann-Whitney U test for the median, a seeded
bootstrap lower confidence bound of the ratio current/baseline above 1 for the mean, and for
the p95 a tail-specific quantile test (more of the current run's requests above the pooled
p90 than chance allows; ``stats.tail_exceedance_greater``), which sees a slowdown of the tail
alone where a median test cannot and, being exact, keeps the false alarms at ``alpha``. A
latency past its threshold that is not clear is reported as such, but is not a regression: on
a noisy runner that is what a single slow run looks like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from vibevoice_ci.core.config import PerfConfig
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.perf.metrics import Capacity, Metrics
from vibevoice_ci.perf.reports import PerfVerdict, VerdictCheck
from vibevoice_ci.perf.stats import (
    Significance,
    bootstrap_ratio_greater,
    mann_whitney_greater,
    mean_statistic,
    tail_exceedance_greater,
)


@dataclass(frozen=True)
class Thresholds:
    ttfa_increase: float = 0.10
    e2e_p95_increase: float = 0.15
    max_error_rate: float = 0.01
    alpha: float = 0.01
    capacity_decrease: float = 0.10

    @classmethod
    def from_config(cls, perf: PerfConfig) -> Thresholds:
        return cls(
            perf.ttfa_increase,
            perf.e2e_p95_increase,
            perf.max_error_rate,
            perf.alpha,
            perf.capacity_decrease,
        )


@dataclass(frozen=True)
class _Latency:
    name: str  # as in the table: "TTFA p50"
    metric: str  # "ttfa_ms"
    statistic: str  # "p50"


_LATENCIES = (
    _Latency("TTFA mean", "ttfa_ms", "mean"),
    _Latency("TTFA p50", "ttfa_ms", "p50"),
    _Latency("end-to-end p95", "e2e_latency_ms", "p95"),
)


@dataclass(frozen=True)
class Row:
    """One metric's comparison."""

    name: str
    baseline: float
    current: float
    change: float | None  # (current - baseline) / baseline; None for the error rate
    threshold: str  # "+10%", "<= 1%"
    exceeded: bool
    rule: str  # "threshold", or "threshold + " the test: "mann-whitney-u", "bootstrap",
    # "quantile-test"
    evidence: str  # the p-value or the interval, "" in threshold mode
    regression: bool

    @property
    def verdict(self) -> str:
        if self.regression:
            return "REGRESSION"
        if self.exceeded:
            return "above threshold, not statistically clear"
        return "ok"

    def to_document(self) -> VerdictCheck:
        return VerdictCheck.model_validate(
            {
                "metric": self.name,
                "baseline": self.baseline,
                "current": self.current,
                "change": self.change,
                "threshold": self.threshold,
                "threshold_exceeded": self.exceeded,
                "rule": self.rule,
                "evidence": self.evidence,
                "regression": self.regression,
                "verdict": self.verdict,
            }
        )


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: a row per metric; a regression when any row is one."""

    rows: tuple[Row, ...]
    mode: Literal["statistical", "threshold"]
    skipped: tuple[str, ...] = ()  # why a comparison was not made, one line each

    @property
    def regression(self) -> bool:
        return any(row.regression for row in self.rows)

    @property
    def status(self) -> Status:
        return Status.of(not self.regression)


def nothing_served(thresholds: Thresholds, baseline_error_rate: float, why: str) -> Verdict:
    """The gate's answer for a run in which no request succeeded: an error rate of 100%,
    a regression whatever the baseline (the worst one: it gets its verdict and its issue)."""
    row = Row(
        name="error rate",
        baseline=baseline_error_rate,
        current=1.0,
        change=None,
        threshold=f"<= {_percent(thresholds.max_error_rate)}",
        exceeded=True,
        rule="threshold",
        evidence=why,
        regression=True,
    )
    return Verdict((row,), "threshold")


def verdict_document(
    verdict: Verdict,
    *,
    baseline_updated: bool,
    note: str,
    setting_differences: Sequence[str] | None = None,
) -> PerfVerdict:
    """``verdict.json`` for a comparison (the baseline existed): the rows, the baseline's fate,
    and the run settings the two documents differ in (left out when none)."""
    return PerfVerdict(
        status="fail" if verdict.regression else "pass",
        regression=verdict.regression,
        mode=verdict.mode,
        checks=[row.to_document() for row in verdict.rows],
        baseline_created=False,
        baseline_updated=baseline_updated,
        note=note,
        setting_differences=None if setting_differences is None else list(setting_differences),
        skipped=list(verdict.skipped) or None,
    )


def exceeds_increase(current: float, baseline: float, increase: float) -> bool:
    """``current`` is more than ``increase`` (a fraction) above ``baseline``, exactly: a rise
    of exactly the threshold is not over it. The threshold is taken as written in decimal
    (0.1 is one tenth, not the nearest binary fraction)."""
    limit = _exact(baseline) * (1 + _exact(increase))
    return _exact(current) > limit


def exceeds_ceiling(value: float, ceiling: float) -> bool:
    """``value`` is above ``ceiling`` (exactly, as written)."""
    return _exact(value) > _exact(ceiling)


def _exact(value: float) -> Fraction:
    """The decimal a number is written as in JSON (Python writes the shortest repr), exactly:
    489.5 vs 445 * 1.1 is equal, not off by a rounding error."""
    return Fraction(repr(float(value)))


def compare(
    current: Metrics,
    baseline: Metrics,
    thresholds: Thresholds,
    *,
    statistical: bool = True,
) -> Verdict:
    """Compare ``current`` with ``baseline``. With ``statistical`` and samples of a latency on
    both sides, that latency's regression also needs the statistical test to agree."""
    rows: list[Row] = []
    used_statistics = False
    for latency in _LATENCIES:
        increase = (
            thresholds.ttfa_increase if latency.metric == "ttfa_ms" else thresholds.e2e_p95_increase
        )
        now = _stat(current, latency)
        before = _stat(baseline, latency)
        exceeded = exceeds_increase(now, before, increase)
        samples_now = current.samples.get(latency.metric)
        samples_before = baseline.samples.get(latency.metric)
        rule, evidence, regression = "threshold", "", exceeded
        if statistical and samples_now and samples_before:
            used_statistics = True
            test = _significance(latency, samples_now, samples_before, thresholds.alpha)
            rule = f"threshold + {test.method}"
            evidence = test.detail
            regression = exceeded and test.clear
        rows.append(
            Row(
                name=latency.name,
                baseline=before,
                current=now,
                change=_change(now, before),
                threshold=f"+{_percent(increase)}",
                exceeded=exceeded,
                rule=rule,
                evidence=evidence,
                regression=regression,
            )
        )
    error_exceeded = exceeds_ceiling(current.error_rate, thresholds.max_error_rate)
    rows.append(
        Row(
            name="error rate",
            baseline=baseline.error_rate,
            current=current.error_rate,
            change=None,
            threshold=f"<= {_percent(thresholds.max_error_rate)}",
            exceeded=error_exceeded,
            rule="threshold",
            evidence="",
            regression=error_exceeded,
        )
    )
    capacity = compare_capacity(current.capacity, baseline.capacity, thresholds.capacity_decrease)
    skipped = (capacity,) if isinstance(capacity, str) else ()
    if isinstance(capacity, Row):
        rows.append(capacity)
    return Verdict(tuple(rows), "statistical" if used_statistics else "threshold", skipped)


CAPACITY = "realtime capacity"


def compare_capacity(
    current: Capacity | None, baseline: Capacity | None, decrease: float = 0.10
) -> Row | str | None:
    """The realtime capacity's row: more than ``decrease`` fewer streams than the baseline is
    a regression, fewer by that share or less is not (the capacity is found at the level
    where the TTFA p95 crosses the objective, so two runs of one build differ by a stream).
    When the two were not measured alike (one has no capacity steps, either
    no TTFA objective, or another objective or number of cores), why they are not compared;
    None when neither run had capacity steps (nothing to compare, nothing skipped)."""
    if current is None and baseline is None:
        return None
    if current is None or baseline is None:
        which = "the current run" if current is None else "the baseline"
        return f"{CAPACITY} not compared: {which} has no capacity steps"
    if current.ttfa_slo_ms is None or baseline.ttfa_slo_ms is None:
        which = "the current run" if current.ttfa_slo_ms is None else "the baseline"
        return f"{CAPACITY} not compared: {which} has no TTFA objective (an older document)"
    if current.ttfa_slo_ms != baseline.ttfa_slo_ms:
        return (
            f"{CAPACITY} not compared: measured under another TTFA objective "
            f"({current.ttfa_slo_ms:g} ms, the baseline {baseline.ttfa_slo_ms:g} ms)"
        )
    if current.cores is None or current.cores != baseline.cores:
        return (
            f"{CAPACITY} not compared: measured on other cores "
            f"({current.cores}, the baseline {baseline.cores})"
        )
    fewer = current.streams < baseline.streams * (1 - decrease)
    return Row(
        name=CAPACITY,
        baseline=float(baseline.streams),
        current=float(current.streams),
        change=_change(current.streams, baseline.streams),
        threshold=f"-{_percent(decrease)}",
        exceeded=fewer,
        rule="threshold",
        evidence=f"TTFA p95 <= {current.ttfa_slo_ms:g} ms, {current.cores} cores",
        regression=fewer,
    )


def _stat(metrics: Metrics, latency: _Latency) -> float:
    table: Mapping[str, float] = getattr(metrics, latency.metric)
    return table[latency.statistic]


def _significance(
    latency: _Latency, current: Sequence[float], baseline: Sequence[float], alpha: float
) -> Significance:
    if latency.statistic == "p50":
        return mann_whitney_greater(current, baseline, alpha)
    if latency.statistic == "mean":
        return bootstrap_ratio_greater(current, baseline, mean_statistic, alpha)
    return tail_exceedance_greater(current, baseline, alpha)


def _change(current: float, baseline: float) -> float | None:
    if baseline == 0:
        return None if current == 0 else float("inf")
    return (current - baseline) / baseline


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


# --------------------------------------------------------------------------------------------
# Rendering


def render_markdown(verdict: Verdict, *, baseline_note: str = "") -> str:
    """The Markdown table for ``$GITHUB_STEP_SUMMARY`` and a PR comment."""
    if verdict.regression:
        failed = [row.name for row in verdict.rows if row.regression]
        headline = f"**REGRESSION** in {', '.join(failed)}"
    else:
        headline = "**No regression**"
    lines = [
        "## Performance regression check",
        "",
        f"{headline} ({verdict.mode} mode)",
        "",
        "| metric | baseline | current | change | threshold | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in verdict.rows:
        baseline, current = _shown(row, row.baseline), _shown(row, row.current)
        change = "" if row.change is None else f"{row.change:+.1%}"
        detail = row.verdict
        if row.evidence:
            detail += f" ({row.rule}: {row.evidence})"
        lines.append(
            f"| {row.name} | {baseline} | {current} | {change} | {row.threshold} | {detail} |"
        )
    lines += [
        "",
        "A latency is a regression when it rises past its threshold"
        + (
            " and the rise is statistically clear (Mann-Whitney U for the median, a bootstrap "
            "lower bound of the ratio for the mean, a quantile test of the tail for the p95)."
            if verdict.mode == "statistical"
            else " (threshold mode: no raw samples on both sides)."
        ),
    ]
    if verdict.skipped:
        lines += ["", *(f"- {reason[0].upper()}{reason[1:]}." for reason in verdict.skipped)]
    if baseline_note:
        lines += ["", baseline_note]
    return "\n".join(lines) + "\n"


def _shown(row: Row, value: float) -> str:
    if row.name == "error rate":
        return f"{value:.2%}"
    if row.name == CAPACITY:
        return f"{value:g} streams"
    return f"{value:.2f} ms"
