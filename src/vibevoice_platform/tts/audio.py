"""PCM and WAV helpers for little-endian signed 16-bit mono audio."""

from __future__ import annotations

import struct

SAMPLE_WIDTH = 2
"""Bytes per sample: every engine produces signed 16-bit little-endian PCM."""

CHANNELS = 1

UNKNOWN_LENGTH = 0xFFFFFFFF
"""The RIFF and data sizes used when the stream's length is not known in advance.

Most decoders (ffmpeg, sox, browsers, Python's ``wave`` with a patched length) read such a file
to its end; it is the usual convention for streamed WAV.
"""

WAV_HEADER_SIZE = 44


def wav_header(
    sample_rate: int,
    *,
    data_size: int | None = None,
    channels: int = CHANNELS,
    sample_width: int = SAMPLE_WIDTH,
) -> bytes:
    """A canonical 44-byte PCM WAV header.

    With ``data_size=None`` the RIFF and data chunk sizes are :data:`UNKNOWN_LENGTH`, for a
    stream whose length is not known when the header is sent.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if channels <= 0 or sample_width <= 0:
        raise ValueError("channels and sample_width must be positive")
    if data_size is None:
        riff_size = data_chunk_size = UNKNOWN_LENGTH
    else:
        if not 0 <= data_size <= UNKNOWN_LENGTH - 36:
            raise ValueError(f"data_size out of range for a WAV file: {data_size}")
        riff_size = 36 + data_size
        data_chunk_size = data_size
    block_align = channels * sample_width
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff_size,
        b"WAVE",
        b"fmt ",
        16,  # fmt chunk size
        1,  # PCM
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        sample_width * 8,
        b"data",
        data_chunk_size,
    )


def pcm_seconds(num_bytes: int, sample_rate: int) -> float:
    """Duration of ``num_bytes`` of 16-bit mono PCM at ``sample_rate``."""
    return num_bytes / (SAMPLE_WIDTH * CHANNELS * sample_rate)


def pcm_content_type(sample_rate: int) -> str:
    """The media type of raw 16-bit mono PCM (RFC 2586 ``audio/L16``).

    Strictly ``audio/L16`` is big-endian; the service sends little-endian, which the
    ``X-Audio-*`` headers and the docs state.
    """
    return f"audio/L16; rate={sample_rate}; channels={CHANNELS}"
