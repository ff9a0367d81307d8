"""Load plans, the open-loop schedule, prompts and progress output (no service needed)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.perf.loadgen import LoadPlan, Progress, arrival_schedule, read_prompts

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
