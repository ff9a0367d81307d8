"""Realtime capacity: step the concurrency up until streams fall behind or answer too late.

At each level ``concurrency`` listeners (``LoadPlan.listen``: each plays its audio in real time
before asking for the next utterance, so each is one realtime stream) run
``concurrency * per_stream`` requests. A level is sustained
when every request succeeded, every stream stayed ahead of playback with the jitter buffer
(``realtime.keeps_up``) and the level's TTFA p95 is within the objective (``ttfa_slo_ms``).
A level that is not sustained is run once more (the confirmation repeat: on a shared machine
one noisy attempt must not end the steps); when the repeat is sustained the steps go on, when
it is not they end there. The capacity is the highest level before the first whose attempts
all failed (levels above it are not tried). Per core divides by this machine's cores: the
service and the load generator share them, so this is the conservative number.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.engine_limit import EngineLimit
from vibevoice_ci.perf.loadgen import LoadPlan, Progress, run_load
from vibevoice_ci.perf.realtime import JITTER_BUFFER_SECONDS, playback_margin
from vibevoice_ci.perf.reports import CapacityLevel, Realtime
from vibevoice_ci.perf.stats import percentile

MAX_ATTEMPTS = 2  # a level not sustained is run once more before it ends the steps
Step = Literal["next", "repeat", "stop"]


@dataclass(frozen=True)
class Level:
    """One attempt at one concurrency level, and its verdict."""

    concurrency: int
    requests: int
    failed: int
    underruns: int
    ttfa_p95_ms: float | None
    worst_margin_ms: float | None
    ttfa_slo_ms: float
    attempt: int = 1  # 2: the confirmation repeat

    @property
    def sustained(self) -> bool:
        return (
            self.requests > 0
            and self.failed == 0
            and self.underruns == 0
            and self.ttfa_p95_ms is not None
            and self.ttfa_p95_ms <= self.ttfa_slo_ms
        )

    def to_document(self) -> CapacityLevel:
        return CapacityLevel(
            concurrency=self.concurrency,
            requests=self.requests,
            failed=self.failed,
            underruns=self.underruns,
            sustained=self.sustained,
            ttfa_p95_ms=self.ttfa_p95_ms,
            worst_margin_ms=self.worst_margin_ms,
            attempt=self.attempt,
        )


def evaluate_level(
    concurrency: int,
    results: Sequence[Result],
    *,
    ttfa_slo_ms: float,
    attempt: int = 1,
    buffer_seconds: float = JITTER_BUFFER_SECONDS,
) -> Level:
    """The verdict of one attempt at a level from its requests (pure). Any request that did
    not succeed, 429s included, counts as failed: a stream refused is a stream not sustained."""
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
        ttfa_slo_ms=ttfa_slo_ms,
        attempt=attempt,
    )


def next_step(level: Level) -> Step:
    """What follows an attempt (pure): the next level after a sustained one, the confirmation
    repeat after a first attempt that was not, the end after a repeat that was not either."""
    if level.sustained:
        return "next"
    return "repeat" if level.attempt < MAX_ATTEMPTS else "stop"


def step_levels(run_level: Callable[[int, int], Level], max_level: int) -> list[Level]:
    """Every attempt of the steps 1, 2, ... ``max_level``, in order: ``run_level(concurrency,
    attempt)`` runs one (the side effect is there; the order is decided here by
    :func:`next_step`)."""
    levels: list[Level] = []
    concurrency, attempt = 1, 1
    while concurrency <= max_level:
        level = run_level(concurrency, attempt)
        levels.append(level)
        step = next_step(level)
        if step == "stop":
            break
        if step == "repeat":
            attempt += 1
        else:
            concurrency, attempt = concurrency + 1, 1
    return levels


def capacity_of(levels: Sequence[Level]) -> Level | None:
    """The sustained attempt at the capacity (pure): the highest level, in the order run,
    before the first level none of whose attempts was sustained; None when level 1 failed."""
    at_capacity: Level | None = None
    for _, attempts in itertools.groupby(levels, key=lambda level: level.concurrency):
        sustained = [level for level in attempts if level.sustained]
        if not sustained:
            break
        at_capacity = sustained[0]
    return at_capacity


def capacity_report(
    levels: Sequence[Level],
    cores: int,
    ttfa_slo_ms: float,
    engine: EngineLimit | None = None,
) -> Realtime:
    """The ``realtime`` section of the metrics document (pure). ``engine``: the engine's
    limit measured over the same steps (None: the service does not count its engine time)."""
    at_capacity = capacity_of(levels)
    streams = at_capacity.concurrency if at_capacity else 0
    return Realtime(
        capacity_streams=streams,
        capacity_per_core=round(streams / max(cores, 1), 3),
        ttfa_p95_ms_at_capacity=at_capacity.ttfa_p95_ms if at_capacity else None,
        jitter_buffer_ms=JITTER_BUFFER_SECONDS * 1000,
        levels=[level.to_document() for level in levels],
        ttfa_slo_ms=ttfa_slo_ms,
        engine_rtf=engine.rtf if engine else None,
        engine_limit_streams=engine.limit_streams(cores) if engine else None,
        capacity_ratio=engine.capacity_ratio(streams, cores) if engine else None,
    )


def measure_capacity(
    port: int,
    base: LoadPlan,
    *,
    max_level: int,
    ttfa_slo_ms: float,
    per_stream: int = 4,
) -> list[Level]:
    """Run the levels 1, 2, ... ``max_level`` as :func:`step_levels` orders (a side effect)."""

    def run_level(concurrency: int, attempt: int) -> Level:
        plan = LoadPlan(
            endpoint=base.endpoint,
            prompts=base.prompts,
            concurrency=concurrency,
            requests=concurrency * per_stream,
            warmup=base.warmup if concurrency == 1 and attempt == 1 else 0,
            max_seconds=base.max_seconds,
            timeout=base.timeout,
            listen=True,
        )
        label = f"capacity x{concurrency}" + ("" if attempt == 1 else " (repeat)")
        run = run_load(port, plan, progress=Progress(label, plan.requests))
        return evaluate_level(concurrency, run.results, ttfa_slo_ms=ttfa_slo_ms, attempt=attempt)

    return step_levels(run_level, max_level)
