"""``WS /stream``: the WebSocket protocol (binary PCM frames plus JSON log frames)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from vibevoice_platform.tts.access_log import access_log, timestamp
from vibevoice_platform.tts.audio import CHANNELS, SAMPLE_WIDTH, pcm_seconds
from vibevoice_platform.tts.engines.base import UnknownVoiceError
from vibevoice_platform.tts.errors import InputError
from vibevoice_platform.tts.state import ServiceState
from vibevoice_platform.tts.synthesis import Synthesis

WS_CLOSE_NORMAL = 1000
WS_CLOSE_POLICY = 1008
WS_CLOSE_INTERNAL = 1011
WS_CLOSE_TRY_AGAIN = 1013

log = logging.getLogger("vibevoice_platform.tts")


class WebSocketStream:
    """``WS /stream``: binary PCM frames plus JSON log frames, as in the VibeVoice demo."""

    def __init__(
        self, state: ServiceState, check_text: Callable[[object], str], websocket: WebSocket
    ) -> None:
        self.state = state
        self.check_text = check_text
        self.ws = websocket
        self.close_code = WS_CLOSE_NORMAL
        self.audio_bytes = 0

    async def run(self) -> None:
        arrived = time.perf_counter()
        await self.ws.accept()
        try:
            await self._serve(arrived)
        except WebSocketDisconnect:
            self.close_code = 1006 if self.close_code == WS_CLOSE_NORMAL else self.close_code
        finally:
            self.state.metrics.requests.labels(
                endpoint="/stream", status=str(self.close_code)
            ).inc()
            if self.state.settings.log_requests:
                record = {
                    "ts": timestamp(),
                    "method": "WS",
                    "path": "/stream",
                    "status": self.close_code,
                    "ms": round((time.perf_counter() - arrived) * 1000, 2),
                    "audio_bytes": self.audio_bytes,
                }
                access_log.info(json.dumps(record, separators=(",", ":")))

    async def _serve(self, arrived: float) -> None:
        try:
            text, voice = self._parse()
        except InputError as exc:
            await self._fail(WS_CLOSE_POLICY, exc.message)
            return
        state = self.state
        refusal = state.admit()
        if refusal is not None:
            await self._fail(WS_CLOSE_TRY_AGAIN, refusal[2], event="backend_busy")
            return
        try:
            await self._synthesize(text, voice, arrived)
        finally:
            state.release()

    def _parse(self) -> tuple[str, str]:
        params = self.ws.query_params
        text = self.check_text(params.get("text"))
        voice = params.get("voice") or None
        for name, parse in (("cfg", float), ("steps", int)):
            raw = params.get(name)
            if raw is None or raw == "":
                continue
            try:
                value = parse(raw)
            except ValueError:
                raise InputError(422, f"{name} must be a number, got {raw!r}") from None
            if not math.isfinite(value) or value <= 0:
                raise InputError(422, f"{name} must be positive, got {raw!r}")
        if not self.state.ready:
            return text, voice or ""
        try:
            return text, self.state.engine.resolve_voice(voice)
        except UnknownVoiceError as exc:
            raise InputError(422, str(exc)) from None

    async def _synthesize(self, text: str, voice: str, arrived: float) -> None:
        engine = self.state.engine
        metrics = self.state.metrics
        rate = engine.sample_rate
        await self._log(
            "started",
            engine=engine.name,
            voice=voice,
            sample_rate=rate,
            channels=CHANNELS,
            sample_width=SAMPLE_WIDTH,
            text_length=len(text),
        )
        synthesis = Synthesis(engine, text, voice)
        gone = anyio.Event()
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(self._watch_disconnect, gone)
                failure = await self._pump(synthesis, gone, arrived)
                watchers.cancel_scope.cancel()
        finally:
            await synthesis.close()
            self.audio_bytes = synthesis.audio_bytes
            metrics.synthesis.labels(endpoint="/stream").observe(synthesis.elapsed())
            metrics.audio_seconds.inc(pcm_seconds(synthesis.audio_bytes, rate))
        if gone.is_set():
            self.close_code = 1006
            return
        if failure is not None:
            log.error("websocket synthesis failed: %r", failure)
            await self._fail(WS_CLOSE_INTERNAL, "synthesis failed")
            return
        await self._log(
            "finished",
            audio_seconds=round(pcm_seconds(synthesis.audio_bytes, rate), 3),
            audio_bytes=synthesis.audio_bytes,
            synthesis_ms=round(synthesis.elapsed() * 1000, 2),
        )
        await self._close(WS_CLOSE_NORMAL)

    async def _pump(
        self, synthesis: Synthesis, gone: anyio.Event, arrived: float
    ) -> Exception | None:
        """Send the audio frames; return the engine's exception, if any. Never raises one."""
        metrics = self.state.metrics
        try:
            chunk = await synthesis.next_chunk()
            if chunk is not None and not gone.is_set():
                await self.ws.send_bytes(chunk)
                ttfa = time.perf_counter() - arrived
                metrics.time_to_first_audio.labels(endpoint="/stream").observe(ttfa)
                if synthesis.first_chunk_seconds is not None:
                    metrics.engine_first_chunk.observe(synthesis.first_chunk_seconds)
                await self._log("first_audio", ttfa_ms=round(ttfa * 1000, 2))
            while chunk is not None and not gone.is_set():
                chunk = await synthesis.next_chunk()
                if chunk is not None and not gone.is_set():
                    await self.ws.send_bytes(chunk)
        except WebSocketDisconnect:
            gone.set()
        except Exception as exc:
            return exc
        return None

    async def _watch_disconnect(self, gone: anyio.Event) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                gone.set()
                return

    async def _log(self, event: str, **fields: Any) -> None:
        frame = {"type": "log", "event": event, **fields, "timestamp": timestamp()}
        await self.ws.send_text(json.dumps(frame, separators=(",", ":")))

    async def _fail(self, code: int, message: str, *, event: str = "error") -> None:
        frame = {"type": "error", "event": event, "error": message, "timestamp": timestamp()}
        try:
            await self.ws.send_text(json.dumps(frame, separators=(",", ":")))
        except WebSocketDisconnect:
            self.close_code = 1006
            return
        await self._close(code, message)

    async def _close(self, code: int, reason: str = "") -> None:
        self.close_code = code
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.ws.close(code=code, reason=reason[:120])
