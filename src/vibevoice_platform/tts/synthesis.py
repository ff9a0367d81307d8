"""The bridge to the engine: one synthesis, advanced one chunk per worker-thread hop.

With a :class:`~vibevoice_platform.tts.scheduler.Scheduler` each hop (one engine step) waits
for its slot by its deadline (docs/tts-service.md, "Scheduling by deadline"); without one it
runs at once, as many at a time as there are streams.

Nothing of the engine runs on the event loop: the engine's iterator is created (which may
clean and segment the text, in time proportional to its length) and advanced in worker
threads, and :meth:`Synthesis.close` cannot be cancelled, so a cancelled stream still stops
the engine and frees what it holds (espeak's producer thread and lock, VibeVoice's lock).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import anyio
import anyio.to_thread

from vibevoice_platform.tts.audio import pcm_seconds
from vibevoice_platform.tts.deadlines import StreamClock
from vibevoice_platform.tts.engines.base import NO_OPTIONS, Engine, SynthesisOptions
from vibevoice_platform.tts.scheduler import Scheduler


class Synthesis:
    """One engine synthesis, advanced one chunk at a time in worker threads.

    Holds the request (engine, text, voice, options), the engine's iterator once the first
    :meth:`next_chunk` has made it, when it started, how long the first chunk took and how
    many bytes of audio came out.
    """

    def __init__(
        self,
        engine: Engine,
        text: str,
        voice: str,
        options: SynthesisOptions = NO_OPTIONS,
        *,
        scheduler: Scheduler | None = None,
        arrived: float | None = None,
        on_closed: Callable[[Synthesis], None] | None = None,
        on_engine_cpu: Callable[[float], None] | None = None,
    ) -> None:
        self._engine = engine
        self._text = text
        self._voice = voice
        self._options = options
        self._chunks: Iterator[bytes] | None = None
        self._scheduler = scheduler
        self._on_closed = on_closed
        self._on_engine_cpu = on_engine_cpu
        self.generating = True
        """False once the engine has no more audio (or the synthesis is closed)."""
        self.started = time.perf_counter()
        arrival = self.started if arrived is None else arrived
        self.clock = (
            StreamClock(arrival, 0.0) if scheduler is None else scheduler.stream_clock(arrival)
        )
        self.first_chunk_seconds: float | None = None
        self.audio_bytes = 0
        self._step_seconds = 0.0

    async def next_chunk(self) -> bytes | None:
        """The next non-empty chunk, or ``None`` at the end (engine errors propagate)."""
        scheduler = self._scheduler
        first = not self.clock.started
        if scheduler is None:
            chunk = await anyio.to_thread.run_sync(self._next_in_thread)
        else:
            chunk = await scheduler.run(self.clock, self._next_in_thread)
        if chunk is None:
            self.generating = False
        else:
            now = time.perf_counter()
            if self.first_chunk_seconds is None:
                self.first_chunk_seconds = now - self.started
            self.audio_bytes += len(chunk)
            rate = self._engine.sample_rate
            audio_seconds = pcm_seconds(len(chunk), rate) if rate > 0 else 0.0
            self.clock.sent(now, audio_seconds)
            if scheduler is not None:
                scheduler.observe(
                    first=first, seconds=self._step_seconds, audio_seconds=audio_seconds
                )
        return chunk

    def _next_in_thread(self) -> bytes | None:
        # Both paths (scheduled or not) run each step here, in its worker thread: the thread's
        # CPU time is the engine's compute when the engine works on the calling thread.
        began, cpu_began = time.perf_counter(), time.thread_time()
        try:
            if self._chunks is None:
                self._chunks = self._engine.synthesize(self._text, self._voice, self._options)
            return next_chunk(self._chunks)
        finally:
            self._step_seconds = time.perf_counter() - began
            if self._on_engine_cpu is not None:
                self._on_engine_cpu(time.thread_time() - cpu_began)

    async def close(self) -> None:
        """Stop the engine's iterator and wait until it has stopped.

        Shielded: when the stream is being cancelled (uvicorn's graceful-shutdown timeout, a
        cancelled task group) the close still runs to its end, so the engine's thread and
        lock are released here and not whenever the iterator happens to be collected.
        """
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(self._close_in_thread)
            finally:
                self.generating = False
                if self._on_closed is not None:
                    self._on_closed(self)

    def _close_in_thread(self) -> None:
        if self._chunks is not None:
            _close(self._chunks)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    """The next non-empty chunk of ``chunks``, or ``None`` when it is exhausted."""
    for chunk in chunks:
        if chunk:
            return chunk
    return None


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
