"""Playback underruns and the realtime capacity rule (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.perf.capacity import Level, capacity_report, evaluate_level
from vibevoice_ci.perf.client import Kind, Result
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


def test_a_level_with_an_underrun_or_a_refusal_is_not_sustained() -> None:
    smooth = ok(((0.1, 2000), (1.0, 4000)))
    late = ok(((0.05, 1000), (0.85, 3000)))
    refused = Result("http", 0, Kind.REJECTED, 429, None, None, 0, None)
    assert evaluate_level(1, [smooth, smooth]).sustained
    assert evaluate_level(2, [smooth, late]).underruns == 1
    assert not evaluate_level(2, [smooth, late]).sustained
    assert evaluate_level(3, [smooth, refused]).failed == 1


def test_the_capacity_is_the_last_sustained_level_before_the_first_that_is_not() -> None:
    levels = [
        Level(1, 4, 0, 0, 100.0, 500.0),
        Level(2, 8, 0, 0, 180.0, 300.0),
        Level(3, 12, 0, 2, 400.0, -20.0),
    ]
    report = capacity_report(levels, cores=2)
    assert report.capacity_streams == 2
    assert report.capacity_per_core == 1.0
    assert report.ttfa_p95_ms_at_capacity == 180.0
    assert [level.sustained for level in report.levels] == [True, True, False]
    assert capacity_report([Level(1, 4, 1, 0, None, None)], cores=2).capacity_streams == 0
