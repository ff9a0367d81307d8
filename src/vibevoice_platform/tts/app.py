"""The HTTP and WebSocket API of the streaming text-to-speech service (Starlette).

``create_app(settings, engine)`` returns the ASGI app. Engine work runs in worker threads, one
chunk per hop, so the event loop stays responsive and a client that goes away stops the
synthesis at the next chunk. See docs/tts-service.md for the API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from vibevoice_platform.common.requests import (
    check_text,
    parse_object,
    read_json_body,
    refuse_unknown,
)
from vibevoice_platform.tts.access_log import AccessLog
from vibevoice_platform.tts.engines.base import Engine, UnknownVoiceError
from vibevoice_platform.tts.errors import InputError, error_response, retry_headers
from vibevoice_platform.tts.http_stream import AudioResponse
from vibevoice_platform.tts.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from vibevoice_platform.tts.metrics import TTSMetrics
from vibevoice_platform.tts.scheduler import Scheduler
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.state import FORMATS, ServiceState
from vibevoice_platform.tts.synthesis import next_chunk
from vibevoice_platform.tts.text import has_speakable_text
from vibevoice_platform.tts.ws_stream import WebSocketStream

REQUEST_FIELDS = frozenset({"text", "voice", "format"})

log = logging.getLogger("vibevoice_platform.tts")


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
        metrics=TTSMetrics(
            engine.name, count_engine_cpu=engine.computes_in_step and settings.threads == 1
        ),
        on_fatal=on_load_failure,
    )
    if settings.scheduler == "deadline" and engine.schedulable:
        state.scheduler = Scheduler(
            settings.slots,
            settings.ttfa_objective_ms / 1000,
            utilization=settings.admission_utilization,
            on_step=state.metrics.observe_step,
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
    app.add_middleware(AccessLog, state=state)
    return app


async def _warm_up_event_loop_path() -> None:
    """Import what anyio loads lazily, so the first request does not pay for it (~70 ms)."""
    gone = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(gone.wait)
        gone.set()
    await anyio.to_thread.run_sync(next_chunk, iter([b"\0\0"]))


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        raise exc
    messages = {404: "no such endpoint", 405: "method not allowed for this endpoint"}
    return error_response(exc.status_code, messages.get(exc.status_code, exc.detail), exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
    return error_response(500, "internal error")


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
        return JSONResponse({"status": "loading"}, status_code=503, headers=retry_headers())

    async def config(self, request: Request) -> Response:
        if not self.state.ready:
            return error_response(503, "the engine is still loading", retry_headers())
        return JSONResponse(self.state.config_payload)

    async def metrics(self, request: Request) -> Response:
        return Response(self.state.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    async def tts(self, request: Request) -> Response | AudioResponse:
        arrived = time.perf_counter()
        try:
            text, voice, audio_format = await self._parse_tts_request(request)
        except InputError as exc:
            return error_response(exc.status, exc.message)
        except ClientDisconnect:
            return error_response(400, "client disconnected while sending the request")
        state = self.state
        refusal = state.admit(arrived)
        if refusal is not None:
            return error_response(refusal.status, refusal.message, retry_headers())
        try:
            voice_id = state.engine.resolve_voice(voice)
        except UnknownVoiceError as exc:
            state.release()
            return error_response(422, str(exc))
        return AudioResponse(state, text, voice_id, audio_format, arrived)  # owns the slot

    async def _parse_tts_request(self, request: Request) -> tuple[str, str | None, str]:
        limit = self.state.settings.max_text_chars
        body = await read_json_body(
            request, self.max_body_bytes, f"text is limited to {limit} characters"
        )
        payload = parse_object(body)
        refuse_unknown(payload, REQUEST_FIELDS)
        text = self.check_text(payload.get("text"))
        voice = payload.get("voice")
        if voice is not None and (not isinstance(voice, str) or not voice.strip()):
            raise InputError(422, "voice must be a non-empty string (see GET /config)")
        audio_format = payload.get("format", "pcm")
        if audio_format not in FORMATS:
            raise InputError(422, f"format must be one of {', '.join(FORMATS)}")
        return text, voice, audio_format

    def check_text(self, text: object) -> str:
        """Text to synthesise: the shared checks, then something there is to speak."""
        checked = check_text(text, self.state.settings.max_text_chars)
        if not has_speakable_text(checked):
            raise InputError(422, "text has no letters or digits to speak")
        return checked

    async def stream(self, websocket: WebSocket) -> None:
        await WebSocketStream(self.state, self.check_text, websocket).run()
