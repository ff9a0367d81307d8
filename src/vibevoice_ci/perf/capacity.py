"""Realtime capacity: step the concurrency up until a stream falls behind playback.

At each level the closed loop runs ``concurrency * per_stream`` requests. A level is sustained
when every request succeeded and every stream stayed ahead of playback with the jitter
buffer (``realtime.keeps_up``); the capacity is the highest sustained level below the first
that is not (levels above a failed one are not tried). Per core divides by this machine's
cores: the service and the load generator share them, so this is the conservative number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.loadgen import LoadPlan, Progress, run_load
from vibevoice_ci.perf.realtime import JITTER_BUFFER_SECONDS, playback_margin
from vibevoice_ci.perf.reports import CapacityLevel, Realtime
from vibevoice_ci.perf.stats import percentile


@dataclass(frozen=True)
class Level:
    """One concurrency level's verdict."""

    concurrency: int
    requests: int
    failed: int
    underruns: int
    ttfa_p95_ms: float | None
    worst_margin_ms: float | None

    @property
    def sustained(self) -> bool:
        return self.requests > 0 and self.failed == 0 and self.underruns == 0

    def to_document(self) -> CapacityLevel:
        return CapacityLevel(
            concurrency=self.concurrency,
            requests=self.requests,
            failed=self.failed,
            underruns=self.underruns,
            sustained=self.sustained,
            ttfa_p95_ms=self.ttfa_p95_ms,
            worst_margin_ms=self.worst_margin_ms,
        )


def evaluate_level(
    concurrency: int, results: Sequence[Result], buffer_seconds: float = JITTER_BUFFER_SECONDS
) -> Level:
    """The verdict of one level from its requests (pure). Any request that did not succeed,
    429s included, counts as failed: a stream refused is a stream not sustained."""
    ok = [r for r in results if r.kind is Kind.OK and r.arrivals and r.sample_rate]
    margins = [playback_margin(r.arrivals, r.sample_rate or 0, buffer_seconds) for r in ok]
    ttfa = [r.ttfa * 1000 for r in ok if r.ttfa is not None]
    return Level(
        concurrency=concurrency,
        requests=len(results),
        failed=len(results) - len(ok),
        underruns=sum(1 for margin in margins if margin < 0),
        ttfa_p95_ms=round(percentile(ttfa, 0.95), 3) if ttfa else None,
        worst_margin_ms=round(min(margins) * 1000, 3) if margins else None,
    )


def capacity_report(levels: Sequence[Level], cores: int) -> Realtime:
    """The ``realtime`` section of the metrics document (pure)."""
    sustained = 0
    at_capacity: Level | None = None
    for level in levels:
        if not level.sustained:
            break
        sustained, at_capacity = level.concurrency, level
    return Realtime(
        capacity_streams=sustained,
        capacity_per_core=round(sustained / max(cores, 1), 3),
        ttfa_p95_ms_at_capacity=at_capacity.ttfa_p95_ms if at_capacity else None,
        jitter_buffer_ms=JITTER_BUFFER_SECONDS * 1000,
        levels=[level.to_document() for level in levels],
    )


def measure_capacity(
    port: int,
    base: LoadPlan,
    *,
    max_level: int,
    per_stream: int = 4,
) -> list[Level]:
    """Run the levels 1, 2, ... ``max_level`` until one is not sustained (a side effect)."""
    levels: list[Level] = []
    for concurrency in range(1, max_level + 1):
        plan = LoadPlan(
            endpoint=base.endpoint,
            prompts=base.prompts,
            concurrency=concurrency,
            requests=concurrency * per_stream,
            warmup=0 if levels else base.warmup,
            max_seconds=base.max_seconds,
            timeout=base.timeout,
        )
        run = run_load(port, plan, progress=Progress(f"capacity x{concurrency}", plan.requests))
        level = evaluate_level(concurrency, run.results)
        levels.append(level)
        if not level.sustained:
            break
    return levels
