"""Playback underruns and the realtime capacity rule (pure)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.perf.capacity import (
    Level,
    capacity_of,
    capacity_report,
    evaluate_level,
    next_step,
    step_levels,
)
from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.engine_limit import EngineLimit
from vibevoice_ci.perf.realtime import keeps_up, playback_margin

RATE = 1000  # samples per second: 2000 bytes are one second of audio


def test_a_stream_ahead_of_playback_keeps_up() -> None:
    # 1 s of audio at once, then another second 0.9 s later: the lead never goes below 0.3 s.
    arrivals = [(0.1, 2000), (1.0, 4000)]
    assert playback_margin(arrivals, RATE) == pytest.approx(0.3)
    assert keeps_up(arrivals, RATE)


def test_a_gap_longer_than_the_audio_plus_the_buffer_is_an_underrun() -> None:
    # 0.5 s of audio, then nothing until 0.8 s after the first byte: 0.1 s short.
    arrivals = [(0.05, 1000), (0.85, 3000)]
    assert playback_margin(arrivals, RATE) == pytest.approx(-0.1)
    assert not keeps_up(arrivals, RATE)
    assert keeps_up(arrivals, RATE, buffer_seconds=0.3)


def test_a_stream_with_no_audio_has_no_playback() -> None:
    with pytest.raises(ValueError, match="no audio"):
        playback_margin([], RATE)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 2.0), st.integers(1, 4000)),
        min_size=1,
        max_size=30,
    ),
    st.floats(0.0, 0.5),
)
def test_the_margin_is_the_worst_moment_before_an_arrival(
    steps: list[tuple[float, int]], buffer: float
) -> None:
    # Build arrivals from gaps and chunk sizes, then check the margin against a brute-force
    # scan of the moment just before each arrival.
    arrivals, now, total = [], 0.0, 0
    for gap, size in steps:
        now += gap
        total += size
        arrivals.append((now, total))
    margin = playback_margin(arrivals, RATE, buffer)
    first = arrivals[0][0]
    worst = buffer + arrivals[0][1] / (2 * RATE)
    for index in range(1, len(arrivals)):
        worst = min(
            worst, buffer + arrivals[index - 1][1] / (2 * RATE) - (arrivals[index][0] - first)
        )
    assert margin == pytest.approx(worst)
    assert keeps_up(arrivals, RATE, buffer) == (margin >= 0)


def ok(arrivals: tuple[tuple[float, int], ...]) -> Result:
    return Result(
        "http", 0, Kind.OK, 200, arrivals[0][0], arrivals[-1][0], arrivals[-1][1], RATE, arrivals
    )


SLO = 250.0


def level(
    concurrency: int, sustained: bool = True, attempt: int = 1, ttfa_p95_ms: float = 100.0
) -> Level:
    """An attempt whose verdict is ``sustained`` (an underrun when it is not)."""
    underruns = 0 if sustained else 1
    return Level(concurrency, 4 * concurrency, 0, underruns, ttfa_p95_ms, 50.0, SLO, attempt)


def test_a_level_with_an_underrun_or_a_refusal_is_not_sustained() -> None:
    smooth = ok(((0.1, 2000), (1.0, 4000)))
    late = ok(((0.05, 1000), (0.85, 3000)))
    refused = Result("http", 0, Kind.REJECTED, 429, None, None, 0, None)
    assert evaluate_level(1, [smooth, smooth], ttfa_slo_ms=SLO).sustained
    assert evaluate_level(2, [smooth, late], ttfa_slo_ms=SLO).underruns == 1
    assert not evaluate_level(2, [smooth, late], ttfa_slo_ms=SLO).sustained
    assert evaluate_level(3, [smooth, refused], ttfa_slo_ms=SLO).failed == 1
    assert not evaluate_level(3, [], ttfa_slo_ms=SLO).sustained


def test_a_level_is_sustained_only_with_its_ttfa_p95_within_the_objective() -> None:
    # Every first byte at 100 ms: the p95 is 100 ms.
    on_time = [ok(((0.1, 2000), (1.0, 4000)))] * 4
    assert evaluate_level(1, on_time, ttfa_slo_ms=100.0).ttfa_p95_ms == 100.0
    assert evaluate_level(1, on_time, ttfa_slo_ms=100.0).sustained  # equal is within
    assert not evaluate_level(1, on_time, ttfa_slo_ms=99.999).sustained
    assert evaluate_level(1, on_time, ttfa_slo_ms=99.999, attempt=2).attempt == 2
    assert not level(1, ttfa_p95_ms=250.001).sustained
    assert level(1, ttfa_p95_ms=250.0).sustained


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 12),
    st.integers(0, 3),
    st.integers(0, 3),
    st.one_of(st.none(), st.floats(0.0, 1000.0)),
    st.floats(1.0, 1000.0),
)
def test_sustained_is_no_failure_no_underrun_and_the_p95_within_the_objective(
    requests: int, failed: int, underruns: int, p95: float | None, slo: float
) -> None:
    attempt = Level(1, requests, min(failed, requests), underruns, p95, None, slo)
    expected = (
        requests > 0 and min(failed, requests) == 0 and underruns == 0 and p95 is not None
    ) and p95 <= slo
    assert attempt.sustained == expected
    assert attempt.to_document().sustained == expected


def test_a_level_not_sustained_is_repeated_once_before_it_ends_the_steps() -> None:
    assert next_step(level(3)) == "next"
    assert next_step(level(3, sustained=False)) == "repeat"
    assert next_step(level(3, sustained=False, attempt=2)) == "stop"
    assert next_step(level(3, attempt=2)) == "next"


def test_the_capacity_is_the_last_sustained_level_before_the_first_that_is_not() -> None:
    levels = [
        Level(1, 4, 0, 0, 100.0, 500.0, SLO),
        Level(2, 8, 0, 0, 180.0, 300.0, SLO),
        Level(3, 12, 0, 2, 400.0, -20.0, SLO),
        Level(3, 12, 0, 0, 260.0, 20.0, SLO, attempt=2),  # too late: not sustained
    ]
    report = capacity_report(levels, cores=2, ttfa_slo_ms=SLO)
    assert report.capacity_streams == 2
    assert report.capacity_per_core == 1.0
    assert report.ttfa_p95_ms_at_capacity == 180.0
    assert report.ttfa_slo_ms == SLO
    assert [entry.sustained for entry in report.levels] == [True, True, False, False]
    assert [entry.attempt for entry in report.levels] == [1, 1, 1, 2]
    assert (report.engine_rtf, report.engine_limit_streams, report.capacity_ratio) == (None,) * 3
    failed_first = [Level(1, 4, 1, 0, None, None, SLO), Level(1, 4, 1, 0, None, None, SLO, 2)]
    assert capacity_report(failed_first, cores=2, ttfa_slo_ms=SLO).capacity_streams == 0


def test_a_repeat_that_is_sustained_counts_and_the_steps_go_on() -> None:
    levels = [level(1), level(2, sustained=False), level(2, attempt=2, ttfa_p95_ms=200.0)]
    levels += [level(3)]
    at_capacity = capacity_of(levels)
    assert at_capacity is not None
    assert (at_capacity.concurrency, at_capacity.ttfa_p95_ms) == (3, 100.0)
    assert capacity_of(levels[:3]) == levels[2]  # the sustained attempt's numbers
    assert capacity_of([]) is None


def test_the_engine_limit_goes_into_the_section() -> None:
    engine = EngineLimit(cpu_seconds=11.0, audio_seconds=200.0)  # RTF 0.055
    report = capacity_report([level(1), level(2)], cores=2, ttfa_slo_ms=SLO, engine=engine)
    assert report.engine_rtf == 0.055
    assert report.engine_limit_streams == 36.36  # 2 cores / 0.055
    assert report.capacity_ratio == 0.055  # 2 / 36.36


def run_table(table: dict[tuple[int, int], bool]) -> Callable[[int, int], Level]:
    """Runs an attempt whose verdict is ``table[(concurrency, attempt)]``."""

    def run_level(concurrency: int, attempt: int) -> Level:
        return level(concurrency, table[(concurrency, attempt)], attempt)

    return run_level


OUTCOMES = st.integers(1, 10).flatmap(
    lambda top: st.tuples(
        st.just(top),
        st.fixed_dictionaries({(c, a): st.booleans() for c in range(1, top + 1) for a in (1, 2)}),
    )
)


@settings(max_examples=200, deadline=None)
@given(OUTCOMES)
def test_the_steps_end_only_at_a_level_failed_twice(
    outcomes: tuple[int, dict[tuple[int, int], bool]],
) -> None:
    top, table = outcomes
    levels = step_levels(run_table(table), top)
    # The level that ends the steps: the first whose both attempts fail (none: all of them).
    ends = next((c for c in range(1, top + 1) if not table[(c, 1)] and not table[(c, 2)]), None)
    capacity = top if ends is None else ends - 1
    report = capacity_report(levels, cores=2, ttfa_slo_ms=SLO)
    assert report.capacity_streams == capacity
    # Every level up to the end was run, in order, repeated exactly when its first failed.
    expected = []
    for concurrency in range(1, (ends or top) + 1):
        expected.append((concurrency, 1))
        if not table[(concurrency, 1)]:
            expected.append((concurrency, 2))
    assert [(entry.concurrency, entry.attempt) for entry in levels] == expected
    # Only the last attempt may be a failed repeat.
    assert all(entry.sustained or entry.attempt == 1 for entry in levels[:-1])


@settings(max_examples=200, deadline=None)
@given(OUTCOMES)
def test_a_single_noisy_attempt_never_lowers_the_capacity(
    outcomes: tuple[int, dict[tuple[int, int], bool]],
) -> None:
    top, table = outcomes
    # Every repeat sustained: whatever the first attempts did, the steps reach the top.
    forgiving = {(c, a): (ok_ if a == 1 else True) for (c, a), ok_ in table.items()}
    levels = step_levels(run_table(forgiving), top)
    assert capacity_report(levels, cores=2, ttfa_slo_ms=SLO).capacity_streams == top
    assert sum(entry.attempt == 2 for entry in levels) == sum(
        not table[(c, 1)] for c in range(1, top + 1)
    )
