"""The bridge to the engine: one synthesis, advanced one chunk per worker-thread hop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import anyio.to_thread

from vibevoice_platform.tts.engines.base import Engine


class Synthesis:
    """One engine synthesis, advanced one chunk at a time in worker threads."""

    def __init__(self, engine: Engine, text: str, voice: str) -> None:
        self._chunks: Iterator[bytes] = engine.synthesize(text, voice)
        self.started = time.perf_counter()
        self.first_chunk_seconds: float | None = None
        self.audio_bytes = 0

    async def next_chunk(self) -> bytes | None:
        chunk = await anyio.to_thread.run_sync(next_chunk, self._chunks)
        if chunk is not None:
            if self.first_chunk_seconds is None:
                self.first_chunk_seconds = time.perf_counter() - self.started
            self.audio_bytes += len(chunk)
        return chunk

    async def close(self) -> None:
        await anyio.to_thread.run_sync(_close, self._chunks)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    for chunk in chunks:
        if chunk:
            return chunk
    return None


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
