"""``WS /stream``'s ``cfg`` and ``steps``: validated, then honoured or reported as ignored."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.tts.engines.base import SynthesisOptions
from vibevoice_platform.tts.errors import InputError
from vibevoice_platform.tts.ws_stream import (
    MAX_CFG,
    MAX_STEPS,
    applied_parameters,
    parse_options,
)


def test_absent_or_empty_parameters_mean_the_defaults() -> None:
    assert parse_options({}) == SynthesisOptions()
    assert parse_options({"cfg": "", "steps": ""}) == SynthesisOptions()


def test_valid_parameters_are_parsed() -> None:
    assert parse_options({"cfg": "1.5", "steps": "5"}) == SynthesisOptions(1.5, 5)
    assert parse_options({"cfg": "10", "steps": "50"}) == SynthesisOptions(MAX_CFG, MAX_STEPS)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cfg": "abc"}, "cfg must be a number"),
        ({"cfg": "nan"}, "cfg must be positive"),
        ({"cfg": "inf"}, "cfg must be positive"),
        ({"cfg": "0"}, "cfg must be positive"),
        ({"cfg": "10.5"}, "cfg must be at most 10"),
        ({"steps": "1.5"}, "steps must be a number"),
        ({"steps": "-2"}, "steps must be positive"),
        ({"steps": "51"}, "steps must be at most 50"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_options(params)
    assert caught.value.status == 422


@settings(max_examples=300)
@given(
    cfg=st.one_of(st.none(), st.text(max_size=8), st.floats().map(repr)),
    steps=st.one_of(st.none(), st.text(max_size=8), st.integers().map(str)),
)
def test_parameters_are_in_range_or_refused_with_a_422(cfg: str | None, steps: str | None) -> None:
    params = {name: value for name, value in (("cfg", cfg), ("steps", steps)) if value is not None}
    try:
        options = parse_options(params)
    except InputError as exc:
        refused: InputError | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.status == 422
        assert refused.message.split(" ", 1)[0] in params
        return
    if options.cfg_scale is not None:
        assert math.isfinite(options.cfg_scale)
        assert 0 < options.cfg_scale <= MAX_CFG
    if options.inference_steps is not None:
        assert isinstance(options.inference_steps, int)
        assert 1 <= options.inference_steps <= MAX_STEPS


@settings(max_examples=200)
@given(
    cfg=st.one_of(st.none(), st.floats(0.1, MAX_CFG)),
    steps=st.one_of(st.none(), st.integers(1, MAX_STEPS)),
    supported=st.sampled_from([{}, {"cfg": 1.5}, {"cfg": 1.5, "steps": 5}]),
)
def test_every_given_parameter_is_either_used_or_reported_ignored(
    cfg: float | None, steps: int | None, supported: dict[str, float | int]
) -> None:
    used, ignored = applied_parameters(supported, SynthesisOptions(cfg, steps))
    assert set(used) == set(supported)
    given_values = {"cfg": cfg, "steps": steps}
    for name, value in given_values.items():
        if value is None:
            assert name not in ignored
            if name in supported:
                assert used[name] == supported[name]
        elif name in supported:
            assert used[name] == value
            assert name not in ignored
        else:
            assert name in ignored
    assert ignored == sorted(ignored)
