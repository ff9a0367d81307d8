"""The HTTP and WebSocket API of the streaming text-to-speech service (Starlette).

``create_app(settings, engine)`` returns the ASGI app. Engine work runs in worker threads, one
chunk per hop, so the event loop stays responsive and a client that goes away stops the
synthesis at the next chunk. See docs/tts-service.md for the API.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from vibevoice_platform.tts.audio import (
    CHANNELS,
    SAMPLE_WIDTH,
    pcm_content_type,
    pcm_seconds,
    wav_header,
)
from vibevoice_platform.tts.engines.base import Engine, UnknownVoiceError
from vibevoice_platform.tts.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from vibevoice_platform.tts.metrics import TTSMetrics
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.text import has_lone_surrogate, has_speakable_text

FORMATS = ("pcm", "wav")
RETRY_AFTER_SECONDS = 1
REQUEST_FIELDS = frozenset({"text", "voice", "format"})
WS_CLOSE_NORMAL = 1000
WS_CLOSE_POLICY = 1008
WS_CLOSE_INTERNAL = 1011
WS_CLOSE_TRY_AGAIN = 1013

access_log = logging.getLogger("vibevoice_platform.tts.access")
log = logging.getLogger("vibevoice_platform.tts")


class InputError(Exception):
    """A request the service refuses: the HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ServiceState:
    """What the endpoints share: settings, engine, metrics, readiness and admissions."""

    settings: Settings
    engine: Engine
    metrics: TTSMetrics
    ready: bool = False
    draining: bool = False
    load_error: str | None = None
    inflight: int = 0
    config_payload: dict[str, Any] = field(default_factory=dict)
    on_fatal: Callable[[str], None] | None = None
    """Called (from the loading thread) with the reason when the engine fails to load."""

    def refusal(self) -> tuple[int, str, str] | None:
        """Why a new synthesis cannot start now: (status, metric reason, message), or None."""
        if self.draining:
            return 503, "draining", "the service is shutting down; retry on another instance"
        if not self.ready:
            if self.load_error is not None:
                return 503, "engine_failed", f"the engine failed to load: {self.load_error}"
            return 503, "not_ready", "the engine is still loading; retry shortly"
        if self.inflight >= self.settings.max_concurrency:
            return (
                429,
                "capacity",
                f"over capacity: {self.settings.max_concurrency} syntheses already in progress",
            )
        return None

    def admit(self) -> tuple[int, str, str] | None:
        """Take a synthesis slot (``None``) or say why not; call :meth:`release` after."""
        refusal = self.refusal()
        if refusal is not None:
            self.metrics.rejected.labels(reason=refusal[1]).inc()
            return refusal
        self.inflight += 1
        self.metrics.inflight.inc()
        return None

    def release(self) -> None:
        self.inflight -= 1
        self.metrics.inflight.dec()

    def mark_ready(self) -> None:
        engine = self.engine
        self.config_payload = {
            "engine": engine.name,
            "voices": list(engine.voices),
            "default_voice": engine.default_voice,
            "sample_rate": engine.sample_rate,
            "channels": CHANNELS,
            "sample_width": SAMPLE_WIDTH,
            "formats": list(FORMATS),
            "max_text_chars": self.settings.max_text_chars,
            "max_concurrency": self.settings.max_concurrency,
        }
        self.ready = True


def service_state(app: Starlette) -> ServiceState:
    """The :class:`ServiceState` of an app made by :func:`create_app`."""
    state: ServiceState = app.state.service
    return state


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    on_load_failure: Callable[[str], None] | None = None,
) -> Starlette:
    """Build the service around ``engine``.

    At startup the engine is loaded and warmed up in a background thread (``/ready`` answers
    503 until then). An engine that is already loaded is taken as ready. When loading fails,
    ``/ready`` stays 503 with the reason and ``on_load_failure(reason)`` is called (from the
    loading thread; also settable later as ``service_state(app).on_fatal``).
    """
    state = ServiceState(
        settings=settings,
        engine=engine,
        metrics=TTSMetrics(engine.name),
        on_fatal=on_load_failure,
    )

    def load_in_background() -> None:
        try:
            engine.load()
            engine.warm_up()
            state.mark_ready()
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            state.load_error = reason
            log.error("engine %s failed to load: %s", engine.name, reason)
            if state.on_fatal is not None:
                state.on_fatal(reason)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _warm_up_event_loop_path()
        if engine.loaded:
            state.mark_ready()
        else:
            threading.Thread(target=load_in_background, name="engine-load", daemon=True).start()
        yield

    handlers = _Handlers(state)
    app = Starlette(
        routes=[
            Route("/v1/tts", handlers.tts, methods=["POST"]),
            WebSocketRoute("/stream", handlers.stream),
            Route("/config", handlers.config, methods=["GET"]),
            Route("/health", handlers.health, methods=["GET"]),
            Route("/ready", handlers.ready, methods=["GET"]),
            Route("/metrics", handlers.metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.service = state
    app.add_middleware(_AccessLog, state=state)
    return app


async def _warm_up_event_loop_path() -> None:
    """Import what anyio loads lazily, so the first request does not pay for it (~70 ms)."""
    gone = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(gone.wait)
        gone.set()
    await anyio.to_thread.run_sync(_next_chunk, iter([b"\0\0"]))


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        raise exc
    messages = {404: "no such endpoint", 405: "method not allowed for this endpoint"}
    return _error(exc.status_code, messages.get(exc.status_code, exc.detail), exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
    return _error(500, "internal error")


def _retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class _Handlers:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        settings = state.settings
        # JSON may escape every character as \\uXXXX (6 bytes, 12 for a surrogate pair).
        self.max_body_bytes = settings.max_text_chars * 12 + 4096

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        state = self.state
        if state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        if state.ready:
            return JSONResponse({"status": "ready", "engine": state.engine.name})
        if state.load_error is not None:
            return JSONResponse({"status": "failed", "error": state.load_error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503, headers=_retry_headers())

    async def config(self, request: Request) -> Response:
        if not self.state.ready:
            return _error(503, "the engine is still loading", _retry_headers())
        return JSONResponse(self.state.config_payload)

    async def metrics(self, request: Request) -> Response:
        return Response(self.state.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    async def tts(self, request: Request) -> Response:
        arrived = time.perf_counter()
        try:
            text, voice, audio_format = await self._parse_tts_request(request)
        except InputError as exc:
            return _error(exc.status, exc.message)
        except ClientDisconnect:
            return _error(400, "client disconnected while sending the request")
        refusal = self.state.refusal()
        if refusal is not None and refusal[0] == 503:
            self.state.metrics.rejected.labels(reason=refusal[1]).inc()
            return _error(refusal[0], refusal[2], _retry_headers())
        try:
            voice_id = self.state.engine.resolve_voice(voice)
        except UnknownVoiceError as exc:
            return _error(422, str(exc))
        return _AudioResponse(self.state, text, voice_id, audio_format, arrived)

    async def _parse_tts_request(self, request: Request) -> tuple[str, str | None, str]:
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not (
            media_type.startswith("application/") and media_type.endswith("+json")
        ):
            raise InputError(
                415, f"send the request as application/json (got {content_type or 'nothing'})"
            )
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > self.max_body_bytes:
                raise InputError(
                    413,
                    f"request body over {self.max_body_bytes} bytes; text is limited to "
                    f"{self.state.settings.max_text_chars} characters",
                )
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(400, f"malformed JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise InputError(400, "the JSON body must be an object")
        unknown = sorted(set(payload) - REQUEST_FIELDS)
        if unknown:
            raise InputError(
                422,
                f"unknown field(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(sorted(REQUEST_FIELDS))}",
            )
        text = self.check_text(payload.get("text"))
        voice = payload.get("voice")
        if voice is not None and (not isinstance(voice, str) or not voice.strip()):
            raise InputError(422, "voice must be a non-empty string (see GET /config)")
        audio_format = payload.get("format", "pcm")
        if audio_format not in FORMATS:
            raise InputError(422, f"format must be one of {', '.join(FORMATS)}")
        return text, voice, audio_format

    def check_text(self, text: object) -> str:
        if text is None:
            raise InputError(422, "text is required")
        if not isinstance(text, str):
            raise InputError(422, "text must be a string")
        if not text.strip():
            raise InputError(422, "text is empty")
        limit = self.state.settings.max_text_chars
        if len(text) > limit:
            raise InputError(413, f"text is {len(text)} characters; the limit is {limit}")
        if not has_speakable_text(text):
            raise InputError(422, "text has no letters or digits to speak")
        if has_lone_surrogate(text):
            raise InputError(422, "text is not valid Unicode (it has a lone surrogate)")
        return text

    async def stream(self, websocket: WebSocket) -> None:
        await _WebSocketStream(self, websocket).run()


class _Synthesis:
    """One engine synthesis, advanced one chunk at a time in worker threads."""

    def __init__(self, engine: Engine, text: str, voice: str) -> None:
        self._chunks: Iterator[bytes] = engine.synthesize(text, voice)
        self.started = time.perf_counter()
        self.first_chunk_seconds: float | None = None
        self.audio_bytes = 0

    async def next_chunk(self) -> bytes | None:
        chunk = await anyio.to_thread.run_sync(_next_chunk, self._chunks)
        if chunk is not None:
            if self.first_chunk_seconds is None:
                self.first_chunk_seconds = time.perf_counter() - self.started
            self.audio_bytes += len(chunk)
        return chunk

    async def close(self) -> None:
        await anyio.to_thread.run_sync(_close, self._chunks)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    for chunk in chunks:
        if chunk:
            return chunk
    return None


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


async def _watch_http_disconnect(receive: Receive, gone: anyio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


class _AudioResponse(Response):
    """A chunked audio stream whose first body bytes are audio (not a Starlette body)."""

    def __init__(
        self, state: ServiceState, text: str, voice: str, audio_format: str, arrived: float
    ) -> None:
        self.state = state
        self.text = text
        self.voice = voice
        self.audio_format = audio_format
        self.arrived = arrived
        self.status_code = 200
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        refusal = state.admit()
        if refusal is not None:
            status, _, message = refusal
            await _error(status, message, _retry_headers())(scope, receive, send)
            return
        try:
            await self._stream(scope, receive, send)
        finally:
            state.release()

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self.state.metrics
        synthesis = _Synthesis(self.state.engine, self.text, self.voice)
        gone = anyio.Event()
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(_watch_http_disconnect, receive, gone)
                completed = await self._pump(scope, receive, send, synthesis, gone)
                watchers.cancel_scope.cancel()
        finally:
            await synthesis.close()
            rate = self.state.engine.sample_rate
            metrics.synthesis.labels(endpoint="/v1/tts").observe(synthesis.elapsed())
            metrics.audio_seconds.inc(pcm_seconds(synthesis.audio_bytes, rate))
        scope["vibevoice.audio_bytes"] = synthesis.audio_bytes
        scope["vibevoice.completed"] = completed

    async def _pump(
        self, scope: Scope, receive: Receive, send: Send, synthesis: _Synthesis, gone: anyio.Event
    ) -> bool:
        """Send the audio; True when the whole stream went out. Never raises Exception."""
        metrics = self.state.metrics
        try:
            first = await synthesis.next_chunk()
        except Exception as exc:
            log.error("synthesis failed before any audio: %r", exc)
            await _error(500, "synthesis failed")(scope, receive, send)
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


class _WebSocketStream:
    """``WS /stream``: binary PCM frames plus JSON log frames, as in the VibeVoice demo."""

    def __init__(self, handlers: _Handlers, websocket: WebSocket) -> None:
        self.state = handlers.state
        self.handlers = handlers
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
                    "ts": _timestamp(),
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
        text = self.handlers.check_text(params.get("text"))
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
        synthesis = _Synthesis(engine, text, voice)
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
        self, synthesis: _Synthesis, gone: anyio.Event, arrived: float
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
        frame = {"type": "log", "event": event, **fields, "timestamp": _timestamp()}
        await self.ws.send_text(json.dumps(frame, separators=(",", ":")))

    async def _fail(self, code: int, message: str, *, event: str = "error") -> None:
        frame = {"type": "error", "event": event, "error": message, "timestamp": _timestamp()}
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


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _AccessLog:
    """Counts every HTTP request in metrics and logs one JSON line for it."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self.paths = frozenset({"/v1/tts", "/config", "/health", "/ready", "/metrics"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path: str = scope["path"]
            endpoint = path if path in self.paths else "other"
            self.state.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            if self.state.settings.log_requests and endpoint not in ("/health", "/ready"):
                self._log(scope, status, sent, time.perf_counter() - started)

    def _log(self, scope: Scope, status: int, sent: int, seconds: float) -> None:
        record: dict[str, Any] = {
            "ts": _timestamp(),
            "method": scope.get("method"),
            "path": scope["path"],
            "status": status,
            "ms": round(seconds * 1000, 2),
            "bytes": sent,
        }
        for key in ("ttfa_ms", "audio_bytes", "completed"):
            value = scope.get(f"vibevoice.{key}")
            if value is not None:
                record[key] = value
        access_log.info(json.dumps(record, separators=(",", ":")))
