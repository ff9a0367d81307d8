"""The HTTP and WebSocket API of the voice agent (Starlette). See docs/agent-service.md.

``create_app(settings, responder, tts)`` returns the ASGI app. ``POST /v1/reply`` answers one
turn as a frame stream (audio frames, then a JSON end-of-turn event); ``WS /v1/converse``
holds a conversation (bounded history per connection) and streams text events, audio frames
and an end-of-turn event per turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from vibevoice_platform.agent import frames
from vibevoice_platform.agent.auth import AccessLog, BearerAuth
from vibevoice_platform.agent.errors import (
    BAD_INPUT,
    DRAINING,
    INTERNAL,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    AgentError,
)
from vibevoice_platform.agent.history import History, Message
from vibevoice_platform.agent.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from vibevoice_platform.agent.metrics import AgentMetrics
from vibevoice_platform.agent.requests import parse_reply_body, parse_turn_message
from vibevoice_platform.agent.responders import Responder
from vibevoice_platform.agent.settings import Settings
from vibevoice_platform.agent.state import AgentState
from vibevoice_platform.agent.tokens import SUBPROTOCOL, TokenChecker
from vibevoice_platform.agent.tts_client import TTSClient
from vibevoice_platform.agent.turn import (
    Audio,
    AudioFormat,
    Event,
    Failed,
    Finished,
    Text,
    run_turn,
)
from vibevoice_platform.common.requests import read_json_body
from vibevoice_platform.tts.errors import InputError, printable

log = logging.getLogger("vibevoice_platform.agent")

AUDIO_FORMAT = {"channels": 1, "sample_width": 2, "encoding": "pcm_s16le"}


def agent_state(app: Starlette) -> AgentState:
    state: AgentState = app.state.agent
    return state


def create_app(
    settings: Settings,
    responder: Responder,
    *,
    tts: TTSClient | None = None,
    tokens: TokenChecker | None = None,
) -> Starlette:
    """Build the agent around ``responder``, speaking through the tts at ``settings.tts_url``."""
    client = tts or TTSClient(
        settings.tts_url, timeout=settings.tts_timeout, voice=settings.tts_voice
    )
    state = AgentState(
        settings=settings,
        responder=responder,
        tts=client,
        metrics=AgentMetrics(responder.name),
        tokens=tokens,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()
            close = getattr(responder, "aclose", None)
            if close is not None:
                await close()

    handlers = _Handlers(state)
    app = Starlette(
        routes=[
            Route("/v1/reply", handlers.reply, methods=["POST"]),
            WebSocketRoute("/v1/converse", handlers.converse),
            Route("/health", handlers.health, methods=["GET"]),
            Route("/ready", handlers.ready, methods=["GET"]),
            Route("/metrics", handlers.metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.agent = state
    app.add_middleware(BearerAuth, state=state)
    app.add_middleware(AccessLog, state=state)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        raise exc
    known = {
        404: (NOT_FOUND, "no such endpoint"),
        405: (METHOD_NOT_ALLOWED, "method not allowed for this endpoint"),
    }
    kind, message = known.get(exc.status_code, (BAD_INPUT, exc.detail))
    return _error_json(AgentError(kind, exc.status_code, message), exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
    return _error_json(AgentError(INTERNAL, 500, "internal error"))


def _error_json(error: AgentError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error body ``{"kind", "error", ...}`` (schema: ``errors.schema.json``)."""
    headers = dict(headers or {})
    if error.retry_after:
        headers["Retry-After"] = error.retry_after
    body = error.to_event()
    del body["type"], body["status"]
    body["error"] = printable(body["error"])
    return JSONResponse(body, status_code=error.status, headers=headers or None)


def _bad_input(exc: InputError) -> AgentError:
    return AgentError(BAD_INPUT, exc.status, printable(exc.message))


class ReplyResponse(StreamingResponse):
    """The frame stream of ``/v1/reply``; gives the turn slot back however the stream ends
    (even when the client left before the body started)."""

    def __init__(self, body: AsyncIterator[bytes], headers: dict[str, str], done: Any) -> None:
        super().__init__(body, media_type=frames.MEDIA_TYPE, headers=headers)
        self._done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._done()


class _Handlers:
    def __init__(self, state: AgentState) -> None:
        self.state = state
        # JSON may escape every character as \\uXXXX (6 bytes, 12 for a surrogate pair).
        self.max_body_bytes = state.settings.max_turn_chars * 12 + 4096

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "responder": self.state.responder.name})

    async def ready(self, request: Request) -> Response:
        if self.state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        ok, detail = await self.state.tts.ready()
        if not ok:
            return JSONResponse(
                {"status": "tts_not_ready", "tts": detail},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return JSONResponse({"status": "ready", "responder": self.state.responder.name})

    async def metrics(self, request: Request) -> Response:
        return Response(self.state.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    # ---- POST /v1/reply ----------------------------------------------------------------

    async def reply(self, request: Request) -> Response:
        started = time.perf_counter()
        state = self.state
        try:
            text = parse_reply_body(await self._body(request), state.settings.max_turn_chars)
        except InputError as exc:
            state.metrics.errors.labels(kind=BAD_INPUT).inc()
            request.scope["vibevoice.error_kind"] = BAD_INPUT
            return _error_json(_bad_input(exc))
        refusal = state.admit()
        if refusal is not None:
            return _error_json(refusal)
        request.scope["vibevoice.responder"] = state.responder.name
        events = self._turn([Message("user", text)], started)
        released = False

        async def done() -> None:
            nonlocal released
            if not released:
                released = True
                state.release()
                await events.aclose()

        # Everything up to the first audio is answered as a plain status: a turn that fails
        # before any audio is a 502/503/504 with a JSON error, not a broken stream.
        head: list[Event] = []
        try:
            async for event in events:
                if isinstance(event, Failed):
                    request.scope["vibevoice.error_kind"] = event.error.kind
                    await done()
                    return _error_json(event.error)
                head.append(event)
                if isinstance(event, Audio | Finished):
                    break
        except BaseException:
            await done()
            raise
        headers = {"X-Responder": state.responder.name, **_audio_headers(head)}
        return ReplyResponse(self._frames(head, events, request.scope), headers, done)

    async def _frames(
        self, head: list[Event], events: AsyncGenerator[Event, None], scope: Scope
    ) -> AsyncIterator[bytes]:
        async def all_events() -> AsyncIterator[Event]:
            for event in head:
                yield event
            async for event in events:
                yield event

        async for event in all_events():
            if isinstance(event, Audio):
                yield frames.audio_frame(event.pcm)
            elif isinstance(event, Finished):
                scope["vibevoice.ttfa_ms"] = event.ttfa_ms
                yield frames.event_frame(_end_event(event))
            elif isinstance(event, Failed):
                scope["vibevoice.error_kind"] = event.error.kind
                yield frames.event_frame(event.error.to_event())

    async def _body(self, request: Request) -> bytes:
        limit = self.state.settings.max_turn_chars
        try:
            return await read_json_body(
                request, self.max_body_bytes, f"a turn is limited to {limit} characters"
            )
        except ClientDisconnect:
            raise InputError(400, "client disconnected while sending the request") from None

    async def _turn(
        self, messages: list[Message], started: float, endpoint: str = "/v1/reply"
    ) -> AsyncGenerator[Event, None]:
        """``run_turn`` plus the turn's metrics."""
        state = self.state
        metrics = state.metrics
        name = state.responder.name
        outcome = "error"
        try:
            async for event in run_turn(
                state.responder,
                state.tts,
                messages,
                max_sentence_chars=state.settings.max_sentence_chars,
                started=started,
            ):
                if isinstance(event, Finished):
                    outcome = "ok"
                    if event.ttft_ms is not None:
                        metrics.time_to_first_text.labels(responder=name).observe(
                            event.ttft_ms / 1000
                        )
                    if event.ttfa_ms is not None:
                        metrics.time_to_first_audio.labels(responder=name).observe(
                            event.ttfa_ms / 1000
                        )
                elif isinstance(event, Failed):
                    metrics.errors.labels(kind=event.error.kind).inc()
                    log.warning("turn failed (%s): %s", event.error.kind, event.error.message)
                yield event
        finally:
            metrics.turns.labels(responder=name, endpoint=endpoint, outcome=outcome).inc()

    # ---- WS /v1/converse ---------------------------------------------------------------

    async def converse(self, websocket: WebSocket) -> None:
        state = self.state
        settings = state.settings
        offered = websocket.scope.get("subprotocols", [])
        await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        close_code = 1000
        history = History(settings.history_turns, settings.history_chars)
        number = 0
        try:
            await websocket.send_json(
                {
                    "type": "session",
                    "responder": state.responder.name,
                    "max_turn_chars": settings.max_turn_chars,
                    "history_turns": settings.history_turns,
                }
            )
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    close_code = int(message.get("code", 1000))
                    return
                try:
                    if message.get("text") is None:
                        raise InputError(400, "send each turn as a JSON text message")
                    text = parse_turn_message(message["text"], settings.max_turn_chars)
                except InputError as exc:
                    state.metrics.errors.labels(kind=BAD_INPUT).inc()
                    await websocket.send_json(_bad_input(exc).to_event())
                    close_code = 1008
                    await websocket.close(close_code)
                    return
                started = time.perf_counter()
                refusal = state.admit()
                if refusal is not None:
                    await websocket.send_json(refusal.to_event())
                    if refusal.kind == DRAINING:
                        close_code = 1013
                        await websocket.close(close_code)
                        return
                    continue
                number += 1
                try:
                    reply = await self._converse_turn(
                        websocket, history.messages_for(text), number, started
                    )
                finally:
                    state.release()
                if reply is not None:
                    history = history.add(text, reply)
        except WebSocketDisconnect as exc:
            close_code = exc.code
        finally:
            state.metrics.requests.labels(endpoint="/v1/converse", status=str(close_code)).inc()

    async def _converse_turn(
        self, websocket: WebSocket, messages: list[Message], number: int, started: float
    ) -> str | None:
        """Stream one turn to the socket; the reply text when it finished, else ``None``."""
        await websocket.send_json({"type": "turn_started", "turn": number})
        events = self._turn(messages, started, endpoint="/v1/converse")
        try:
            async for event in events:
                if isinstance(event, Text):
                    await websocket.send_json(
                        {"type": "text", "turn": number, "delta": event.delta}
                    )
                elif isinstance(event, AudioFormat):
                    await websocket.send_json(
                        {
                            "type": "audio_format",
                            "turn": number,
                            "sample_rate": event.sample_rate,
                            **AUDIO_FORMAT,
                        }
                    )
                elif isinstance(event, Audio):
                    await websocket.send_bytes(event.pcm)
                elif isinstance(event, Finished):
                    await websocket.send_json({**_end_event(event), "turn": number})
                    return event.text
                else:
                    await websocket.send_json(event.error.to_event(number))
                    return None
        finally:
            await events.aclose()
        return None  # pragma: no cover - run_turn always ends with Finished or Failed


def _audio_headers(head: list[Event]) -> dict[str, str]:
    for event in head:
        if isinstance(event, AudioFormat):
            return {
                "X-Sample-Rate": str(event.sample_rate),
                "X-Audio-Channels": "1",
                "X-Audio-Sample-Width": "2",
                "X-Audio-Encoding": "pcm_s16le",
            }
    return {}


def _end_event(event: Finished) -> dict[str, Any]:
    return {
        "type": "end_of_turn",
        "text": event.text,
        "responder": event.responder,
        "sentences": event.sentences,
        "audio_bytes": event.audio_bytes,
        "audio_seconds": round(event.audio_seconds, 3),
        "sample_rate": event.sample_rate,
        "ttft_ms": event.ttft_ms,
        "first_sentence_ms": event.first_sentence_ms,
        "ttfa_ms": event.ttfa_ms,
    }
