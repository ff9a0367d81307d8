"""The frame format of POST /v1/reply round-trips and refuses truncated bodies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.agent.frames import FrameError, audio_frame, decode_reply, event_frame

EVENT = st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.integers()))


@settings(max_examples=200)
@given(parts=st.lists(st.one_of(st.binary(max_size=64), EVENT), max_size=12))
def test_frames_round_trip(parts: list[bytes | dict[str, object]]) -> None:
    body = b"".join(
        audio_frame(part) if isinstance(part, bytes) else event_frame(part) for part in parts
    )
    reply = decode_reply(body)
    assert reply.audio == b"".join(part for part in parts if isinstance(part, bytes))
    assert reply.events == [part for part in parts if isinstance(part, dict)]


@settings(max_examples=100)
@given(pcm=st.binary(min_size=1, max_size=64), cut=st.integers(min_value=1, max_value=68))
def test_a_cut_off_body_is_an_error(pcm: bytes, cut: int) -> None:
    body = audio_frame(pcm)
    if cut >= len(body):
        return
    with pytest.raises(FrameError, match="truncated"):
        decode_reply(body[:cut])


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(FrameError, match="unknown frame kind"):
        decode_reply(b"X\x00\x00\x00\x00")
