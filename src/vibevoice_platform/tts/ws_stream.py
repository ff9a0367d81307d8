"""``WS /stream``: the WebSocket protocol (binary PCM frames plus JSON log frames)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from vibevoice_platform.tts.access_log import access_log, timestamp
from vibevoice_platform.tts.audio import CHANNELS, SAMPLE_WIDTH, pcm_seconds
from vibevoice_platform.tts.engines.base import SynthesisOptions, UnknownVoiceError
from vibevoice_platform.tts.errors import InputError, printable
from vibevoice_platform.tts.state import ServiceState
from vibevoice_platform.tts.synthesis import Synthesis

WS_CLOSE_NORMAL = 1000
WS_CLOSE_POLICY = 1008
WS_CLOSE_INTERNAL = 1011
WS_CLOSE_TRY_AGAIN = 1013
MAX_CLOSE_REASON_BYTES = 123
"""RFC 6455 5.5: a close frame's payload (2 bytes of code, then the reason) is at most 125
bytes; the websockets library refuses to send a longer one."""

MAX_CFG = 10.0
"""The largest ``cfg`` accepted (the VibeVoice demo uses 1.5)."""
MAX_STEPS = 50
"""The most diffusion ``steps`` accepted (the VibeVoice demo uses 5): each one costs compute
for every audio frame, so an unbounded value would let one request hold the engine."""

log = logging.getLogger("vibevoice_platform.tts")


def parse_options(params: Mapping[str, str]) -> SynthesisOptions:
    """The ``cfg`` and ``steps`` query parameters, validated; absent or empty means default.

    Raises :class:`InputError` (422) for a value that is not a number, not finite, not
    positive, or over :data:`MAX_CFG` / :data:`MAX_STEPS`; ``steps`` must be an integer.
    """
    cfg = _parse_number(params.get("cfg"), "cfg", float, MAX_CFG)
    steps = _parse_number(params.get("steps"), "steps", int, MAX_STEPS)
    return SynthesisOptions(
        cfg_scale=None if cfg is None else float(cfg),
        inference_steps=None if steps is None else int(steps),
    )


def _parse_number(
    raw: str | None, name: str, parse: Callable[[str], float | int], limit: float
) -> float | int | None:
    if raw is None or raw == "":
        return None
    try:
        value = parse(raw)
    except ValueError:
        raise InputError(422, f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(422, f"{name} must be positive, got {raw!r}")
    if value > limit:
        raise InputError(422, f"{name} must be at most {limit:g}, got {raw!r}")
    return value


def applied_parameters(
    supported: Mapping[str, float | int], options: SynthesisOptions
) -> tuple[dict[str, float | int], list[str]]:
    """What an engine honouring ``supported`` (name to default) does with ``options``.

    Returns the values it uses, by name, and the names of the parameters given but ignored.
    """
    given: dict[str, float | int | None] = {
        "cfg": options.cfg_scale,
        "steps": options.inference_steps,
    }
    used: dict[str, float | int] = {}
    for name, default in supported.items():
        value = given.get(name)
        used[name] = default if value is None else value
    ignored = sorted(
        name for name, value in given.items() if value is not None and name not in supported
    )
    return used, ignored


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
            text, voice, options = self._parse()
        except InputError as exc:
            await self._fail(WS_CLOSE_POLICY, exc.message)
            return
        state = self.state
        refusal = state.admit(arrived)
        if refusal is not None:
            await self._fail(WS_CLOSE_TRY_AGAIN, refusal.message, event="backend_busy")
            return
        try:
            try:
                voice_id = state.engine.resolve_voice(voice)
            except UnknownVoiceError as exc:
                await self._fail(WS_CLOSE_POLICY, str(exc))
                return
            await self._synthesize(text, voice_id, options, arrived)
        finally:
            state.release()

    def _parse(self) -> tuple[str, str | None, SynthesisOptions]:
        """The text, the voice asked for (unchecked: voices are known once the engine is
        loaded) and the options, from the query string; :class:`InputError` when invalid."""
        params = self.ws.query_params
        text = self.check_text(params.get("text"))
        voice = params.get("voice") or None
        return text, voice, parse_options(params)

    async def _synthesize(
        self, text: str, voice: str, options: SynthesisOptions, arrived: float
    ) -> None:
        engine = self.state.engine
        metrics = self.state.metrics
        rate = engine.sample_rate
        used, ignored = applied_parameters(engine.parameters, options)
        await self._log(
            "started",
            engine=engine.name,
            voice=voice,
            sample_rate=rate,
            channels=CHANNELS,
            sample_width=SAMPLE_WIDTH,
            text_length=len(text),
            parameters=used,
            ignored_parameters=ignored,
        )
        synthesis = self.state.synthesis(text, voice, options, arrived=arrived)
        gone = anyio.Event()
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(self._watch_disconnect, gone)
                failure = await self._pump(synthesis, gone, arrived)
                watchers.cancel_scope.cancel()
        finally:
            try:
                await synthesis.close()  # shielded: runs even when the stream is cancelled
            finally:
                self.audio_bytes = synthesis.audio_bytes
                metrics.observe_synthesis(
                    "/stream", synthesis.elapsed(), pcm_seconds(synthesis.audio_bytes, rate)
                )
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
        message = printable(message)
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
            await self.ws.close(code=code, reason=close_reason(reason))


def close_reason(message: str) -> str:
    """``message`` cut to fit a close frame: at most 123 bytes of UTF-8, whole characters."""
    encoded = message.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES]
    return encoded.decode("utf-8", "ignore")
