"""The framing of ``POST /v1/reply``'s body (pure; standard library only, for scripts).

The body is a sequence of frames: one byte of kind, a 4-byte big-endian payload length, the
payload. Kind ``A`` is PCM audio (the tts service's format: signed 16-bit little-endian mono
at the ``X-Sample-Rate`` of the response); kind ``J`` is a UTF-8 JSON event. The last frame
is always a ``J`` frame: ``{"type": "end_of_turn", ...}`` with the reply text, or
``{"type": "error", ...}``. A body that ends without one was cut off.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

AUDIO = b"A"
EVENT = b"J"
HEADER = struct.Struct(">cI")
MEDIA_TYPE = "application/vnd.vibevoice.agent-frames"


def audio_frame(pcm: bytes) -> bytes:
    return HEADER.pack(AUDIO, len(pcm)) + pcm


def event_frame(event: dict[str, Any]) -> bytes:
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return HEADER.pack(EVENT, len(payload)) + payload


class FrameError(ValueError):
    """The body is not a well-formed frame sequence."""


@dataclass(frozen=True)
class Reply:
    """A whole ``/v1/reply`` body, decoded."""

    audio: bytes
    events: list[dict[str, Any]]

    @property
    def final(self) -> dict[str, Any] | None:
        return self.events[-1] if self.events else None


def iter_frames(body: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(kind, payload)`` for each frame; raises FrameError on a truncated or unknown frame."""
    offset = 0
    while offset < len(body):
        if len(body) - offset < HEADER.size:
            raise FrameError(f"truncated frame header at byte {offset}")
        kind, length = HEADER.unpack_from(body, offset)
        offset += HEADER.size
        if kind not in (AUDIO, EVENT):
            raise FrameError(f"unknown frame kind {kind!r} at byte {offset - HEADER.size}")
        if len(body) - offset < length:
            raise FrameError(f"truncated frame at byte {offset}: {length} bytes announced")
        yield kind, body[offset : offset + length]
        offset += length


def decode_reply(body: bytes) -> Reply:
    audio = bytearray()
    events: list[dict[str, Any]] = []
    for kind, payload in iter_frames(body):
        if kind == AUDIO:
            audio += payload
        else:
            try:
                event = json.loads(payload)
            except ValueError as exc:
                raise FrameError(f"an event frame is not JSON: {exc}") from None
            if not isinstance(event, dict):
                raise FrameError("an event frame is not a JSON object")
            events.append(event)
    return Reply(bytes(audio), events)
