"""Load plans, the open-loop schedule, prompts and progress output (no service needed)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.loadgen import (
    LoadPlan,
    Progress,
    arrival_schedule,
    heard_by,
    read_prompts,
)

PROMPTS = ("Hello there.",)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0.5, max_value=500.0),
    st.one_of(st.none(), st.integers(1, 300)),
    st.one_of(st.none(), st.floats(min_value=0.1, max_value=20.0)),
    st.integers(0, 2**32),
)
def test_the_open_loop_schedule_is_seeded_ordered_and_bounded(
    rate: float, requests: int | None, duration: float | None, seed: int
) -> None:
    if requests is None and duration is None:
        duration = 1.0
    plan = LoadPlan("http", PROMPTS, rate=rate, requests=requests, duration=duration, seed=seed)
    schedule = arrival_schedule(plan)
    assert schedule == arrival_schedule(plan)
    assert schedule == sorted(schedule)
    assert all(0 < t < (duration or plan.max_seconds) for t in schedule)
    if requests is not None:
        assert len(schedule) <= requests


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"endpoint": "grpc"}, "unknown endpoint"),
        ({"prompts": ()}, "prompt set"),
        ({"prompts": ("  ",)}, "prompt set"),
        ({"concurrency": 0}, "concurrency"),
        ({"rate": 0.0}, "arrival rate"),
        ({"requests": None, "duration": None}, "number of requests, a duration"),
        ({"duration": -1.0}, "duration"),
        ({"warmup": -1}, "warmup"),
    ],
)
def test_a_bad_plan_is_a_usage_error(changes: dict[str, object], message: str) -> None:
    settings_ = {"endpoint": "http", "prompts": PROMPTS, **changes}
    with pytest.raises(UsageError, match=message):
        LoadPlan(**settings_)  # type: ignore[arg-type]


def test_prompts_skip_blank_lines_and_comments() -> None:
    text = "# a comment\nHello there.\n\n  Sure, I can help.  \n"
    assert read_prompts(text) == ("Hello there.", "Sure, I can help.")


def test_progress_prints_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress("espeak", 20, out)
    for _ in range(20):
        progress.step()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[perf] espeak: 2/20 requests"
    assert lines[-1] == "[perf] espeak: 20/20 requests"
    assert len(lines) == 10


seconds = st.floats(min_value=0.0, max_value=60.0, allow_nan=False)


def _result(ttfa: float | None, e2e: float | None, audio_seconds: float) -> Result:
    rate = 24_000
    audio_bytes = round(audio_seconds * rate) * 2
    kind = Kind.OK if ttfa is not None else Kind.HTTP_ERROR
    return Result("http", 0, kind, 200, ttfa, e2e, audio_bytes, rate)


@settings(max_examples=200, deadline=None)
@given(started=seconds, ttfa=seconds, tail=seconds, audio=seconds)
def test_a_listener_is_done_when_it_heard_the_audio_and_never_before_the_last_byte(
    started: float, ttfa: float, tail: float, audio: float
) -> None:
    result = _result(ttfa, ttfa + tail, audio)
    done = heard_by(started, result)
    slack = 1e-9  # the sums round differently
    assert done >= started + ttfa + tail - slack  # never before the last byte arrived
    assert done >= started + ttfa + result.audio_seconds - slack  # nor before it was played
    assert done == pytest.approx(started + max(ttfa + tail, ttfa + result.audio_seconds))


def test_a_listener_that_got_no_audio_asks_again_at_once() -> None:
    refused = _result(None, 0.002, 0.0)
    assert heard_by(10.0, refused) == pytest.approx(10.002)
    assert heard_by(10.0, _result(None, None, 0.0)) == 10.0


def test_listeners_pace_a_closed_loop_only() -> None:
    assert LoadPlan("http", PROMPTS, listen=True).mode == "listeners"
    assert LoadPlan("http", PROMPTS).mode == "closed"
    with pytest.raises(UsageError, match="listeners pace a closed loop"):
        LoadPlan("http", PROMPTS, rate=5.0, listen=True)
