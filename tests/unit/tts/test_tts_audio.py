"""The WAV header the service sends in front of streamed audio."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.tts.audio import (
    UNKNOWN_LENGTH,
    WAV_HEADER_SIZE,
    pcm_content_type,
    pcm_seconds,
    wav_header,
)


@settings(max_examples=100)
@given(
    st.sampled_from([8000, 16000, 22050, 24000, 44100, 48000]),
    st.binary(max_size=4000).map(lambda b: b[: len(b) // 2 * 2]),
)
def test_header_with_known_size_makes_a_wav_that_python_reads_back(rate: int, pcm: bytes) -> None:
    data = wav_header(rate, data_size=len(pcm)) + pcm
    with wave.open(io.BytesIO(data), "rb") as wav:
        assert wav.getframerate() == rate
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getnframes() == len(pcm) // 2
        assert wav.readframes(wav.getnframes()) == pcm


def test_streaming_header_marks_the_length_unknown() -> None:
    header = wav_header(22050)
    assert len(header) == WAV_HEADER_SIZE
    riff, riff_size, wave_tag, fmt = struct.unpack_from("<4sI4s4s", header)
    assert (riff, wave_tag, fmt) == (b"RIFF", b"WAVE", b"fmt ")
    assert riff_size == UNKNOWN_LENGTH
    fmt_fields = struct.unpack_from("<IHHIIHH", header, 16)
    # fmt size, PCM, channels, rate, byte rate, block align, bits per sample
    assert fmt_fields == (16, 1, 1, 22050, 44100, 2, 16)
    assert header[36:40] == b"data"
    assert struct.unpack_from("<I", header, 40)[0] == UNKNOWN_LENGTH


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"sample_rate": 16000, "data_size": -2}, "data_size"),
        ({"sample_rate": 16000, "data_size": 2**32}, "data_size"),
        ({"sample_rate": 16000, "channels": 0}, "channels"),
    ],
)
def test_bad_header_arguments_are_rejected(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wav_header(**kwargs)


def test_pcm_helpers() -> None:
    assert pcm_seconds(44100, 22050) == pytest.approx(1.0)
    assert pcm_seconds(0, 16000) == 0.0
    assert pcm_content_type(24000) == "audio/L16; rate=24000; channels=1"
