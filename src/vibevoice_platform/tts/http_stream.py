"""``POST /v1/tts``: the chunked audio response, stopped when the client goes away."""

from __future__ import annotations

import logging
import time

import anyio
from starlette.types import Receive, Scope, Send

from vibevoice_platform.tts.audio import (
    CHANNELS,
    SAMPLE_WIDTH,
    pcm_content_type,
    pcm_seconds,
    wav_header,
)
from vibevoice_platform.tts.errors import error_response
from vibevoice_platform.tts.state import ServiceState
from vibevoice_platform.tts.synthesis import Synthesis

log = logging.getLogger("vibevoice_platform.tts")


async def _watch_http_disconnect(receive: Receive, gone: anyio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


class AudioResponse:
    """The ASGI app answering one admitted ``POST /v1/tts``: chunked audio whose first body
    bytes are audio.

    Holds the request (text, resolved voice, format, arrival time) and the synthesis slot that
    :meth:`ServiceState.admit` gave the handler: it releases the slot when it ends, however it
    ends, so it must be called (Starlette calls what an endpoint returns).
    """

    def __init__(
        self, state: ServiceState, text: str, voice: str, audio_format: str, arrived: float
    ) -> None:
        self.state = state
        self.text = text
        self.voice = voice
        self.audio_format = audio_format
        self.arrived = arrived

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._stream(scope, receive, send)
        finally:
            self.state.release()

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        synthesis = self.state.synthesis(self.text, self.voice, arrived=self.arrived)
        gone = anyio.Event()
        completed = False
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(_watch_http_disconnect, receive, gone)
                completed = await self._pump(scope, receive, send, synthesis, gone)
                watchers.cancel_scope.cancel()
        finally:
            try:
                await synthesis.close()  # shielded: runs even when the stream is cancelled
            finally:
                self.state.metrics.observe_synthesis(
                    "/v1/tts",
                    synthesis.elapsed(),
                    pcm_seconds(synthesis.audio_bytes, self.state.engine.sample_rate),
                )
                scope["vibevoice.audio_bytes"] = synthesis.audio_bytes
                scope["vibevoice.completed"] = completed

    async def _pump(
        self, scope: Scope, receive: Receive, send: Send, synthesis: Synthesis, gone: anyio.Event
    ) -> bool:
        """Send the audio; True when the whole stream went out. Never raises Exception."""
        metrics = self.state.metrics
        try:
            first = await synthesis.next_chunk()
        except Exception as exc:
            log.error("synthesis failed before any audio: %r", exc)
            await error_response(500, "synthesis failed")(scope, receive, send)
            return False
        try:
            await send(
                {"type": "http.response.start", "status": 200, "headers": self._audio_headers()}
            )
            head = wav_header(self.state.engine.sample_rate) if self.audio_format == "wav" else b""
            body = head + first if first is not None else head
            await send({"type": "http.response.body", "body": body, "more_body": True})
            ttfa = time.perf_counter() - self.arrived
            scope["vibevoice.ttfa_ms"] = round(ttfa * 1000, 2)
            metrics.time_to_first_audio.labels(endpoint="/v1/tts").observe(ttfa)
            if synthesis.first_chunk_seconds is not None:
                metrics.engine_first_chunk.observe(synthesis.first_chunk_seconds)
            chunk = first
            while chunk is not None and not gone.is_set():
                chunk = await synthesis.next_chunk()
                if chunk is not None and not gone.is_set():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if gone.is_set():
                return False
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception as exc:
            # The headers are out: end the response incomplete, which the client sees as a
            # truncated chunked body rather than a clean end of the audio.
            log.error("synthesis failed mid-stream: %r", exc)
            return False
        return True

    def _audio_headers(self) -> list[tuple[bytes, bytes]]:
        engine = self.state.engine
        rate = engine.sample_rate
        content_type = "audio/wav" if self.audio_format == "wav" else pcm_content_type(rate)
        return [
            (b"content-type", content_type.encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"x-sample-rate", str(rate).encode("latin-1")),
            (b"x-audio-channels", str(CHANNELS).encode("latin-1")),
            (b"x-audio-sample-width", str(SAMPLE_WIDTH).encode("latin-1")),
            (b"x-audio-encoding", b"pcm_s16le"),
            (b"x-engine", engine.name.encode("latin-1")),
            (b"x-voice", self.voice.encode("utf-8")),
        ]
