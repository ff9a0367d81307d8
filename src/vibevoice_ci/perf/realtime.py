"""Does a stream stay ahead of real-time playback? (pure)

A listener starts playing at the first audio byte. The stream keeps up when, at every moment
after that byte, the audio received so far (plus a jitter buffer, 200 ms by default) covers
the time elapsed since it. Between two arrivals the received audio is constant and the time
grows, so the worst moment is just before each arrival: the condition is checked there.
After the last arrival the stream is complete and nothing more can run short.

The realtime capacity is the most concurrent streams the service sustains with every stream
ahead of playback (and no failed request), the number a voice platform is sized by.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from vibevoice_ci.perf.client import SAMPLE_WIDTH

JITTER_BUFFER_SECONDS = 0.2


def playback_margin(
    arrivals: Sequence[tuple[float, int]],
    sample_rate: int,
    buffer_seconds: float = JITTER_BUFFER_SECONDS,
) -> float:
    """The smallest lead, in seconds, the received audio ever had over playback that started
    at the first byte; negative means the listener ran dry (an underrun).

    ``arrivals`` are (seconds since the request started, audio bytes so far), in order.
    """
    if not arrivals or sample_rate <= 0:
        raise ValueError("a stream with no audio has no playback")
    bytes_per_second = sample_rate * SAMPLE_WIDTH
    first_time = arrivals[0][0]
    margin = buffer_seconds + arrivals[0][1] / bytes_per_second  # after the first arrival
    for (_, before), (when, _) in itertools.pairwise(arrivals):
        covered = buffer_seconds + before / bytes_per_second
        margin = min(margin, covered - (when - first_time))
    return margin


def keeps_up(
    arrivals: Sequence[tuple[float, int]],
    sample_rate: int,
    buffer_seconds: float = JITTER_BUFFER_SECONDS,
) -> bool:
    """True when playback never runs dry (see :func:`playback_margin`)."""
    return playback_margin(arrivals, sample_rate, buffer_seconds) >= 0
