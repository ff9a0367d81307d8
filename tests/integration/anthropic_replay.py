"""A local Anthropic-compatible Messages API server for tests and benchmarks (127.0.0.1 only).

It speaks the streaming protocol the official SDK expects (``POST /v1/messages`` answering
``text/event-stream``) from recorded streams in ``anthropic_streams/``. The scenario is the
first part of the path, so the SDK picks it with its ``base_url``:
``http://127.0.0.1:<port>/<scenario>``.

| scenario | what it does |
| --- | --- |
| ``greeting`` | the recorded greeting stream, each event as soon as it is asked for |
| ``slow`` | the same stream, ``SLOW_EVENT_SECONDS`` between events |
| ``overloaded`` | 200, a first text delta, then an ``error`` event (``overloaded_error``) |
| ``drop`` | 200, the first events, then the connection is dropped mid-stream |
| ``rate-limited`` | 429 with ``retry-after: 1`` and a ``rate_limit_error`` body, every time |
| ``rate-limited-once`` | 429 (``retry-after: 1``) for the first request, then ``greeting`` |
| ``hang`` | 200 and ``message_start``, then nothing until the client gives up |

A request without an API key (``x-api-key`` or ``Authorization``) gets 401, as the API would.
Every request is recorded (path, headers, JSON body) in :attr:`ReplayServer.requests`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STREAMS = Path(__file__).with_name("anthropic_streams")
SLOW_EVENT_SECONDS = 0.15


def recorded_events(name: str) -> list[str]:
    """The events of a recorded stream, each ``event: ...\\ndata: ...`` (comments dropped)."""
    text = (STREAMS / f"{name}.sse").read_text(encoding="utf-8")
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if lines:
            events.append("\n".join(lines) + "\n\n")
    return events


def recorded_text(name: str) -> str:
    """The reply text a recorded stream carries (its text deltas joined)."""
    parts = []
    for event in recorded_events(name):
        data = json.loads(event.split("data: ", 1)[1])
        if data.get("type") == "content_block_delta":
            parts.append(data["delta"]["text"])
    return "".join(parts)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ReplayServer:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{scenario}/v1/messages", self.messages, methods=["POST"])])

    async def messages(self, request: Request) -> Response:
        scenario = request.path_params["scenario"]
        body = json.loads(await request.body())
        self.requests.append(Recorded(request.url.path, dict(request.headers), body))
        seen = sum(1 for r in self.requests if r.path == request.url.path)
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            return JSONResponse(
                {"type": "error", "error": {"type": "authentication_error", "message": "no key"}},
                status_code=401,
            )
        if scenario == "rate-limited" or (scenario == "rate-limited-once" and seen == 1):
            return JSONResponse(
                {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}},
                status_code=429,
                headers={"retry-after": "1"},
            )
        if scenario in ("greeting", "rate-limited-once"):
            return _sse(_play(recorded_events("greeting")))
        if scenario == "slow":
            return _sse(_play(recorded_events("greeting"), pause=SLOW_EVENT_SECONDS))
        if scenario == "overloaded":
            return _sse(_play(recorded_events("overloaded")))
        if scenario == "drop":
            return _sse(_play(recorded_events("greeting")[:5], then_drop=True))
        if scenario == "hang":
            return _sse(_play(recorded_events("greeting")[:1], then_hang=True))
        return JSONResponse(
            {"type": "error", "error": {"type": "not_found_error", "message": scenario}},
            status_code=404,
        )


class _Dropped(Exception):
    """Raised inside a response body: uvicorn closes the connection mid-stream."""


async def _play(
    events: list[str], *, pause: float = 0.0, then_drop: bool = False, then_hang: bool = False
) -> AsyncIterator[bytes]:
    for event in events:
        if pause:
            await asyncio.sleep(pause)
        yield event.encode("utf-8")
    if then_drop:
        raise _Dropped("dropping the connection mid-stream on purpose")
    if then_hang:
        await asyncio.sleep(3600)


def _sse(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body, media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


@contextmanager
def serve_in_thread(app: Any, port: int = 0) -> Iterator[uvicorn.Server]:
    """Serve an ASGI app on 127.0.0.1 from a background thread; yields the started server."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("test server did not start")
        threading.Event().wait(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


@contextmanager
def running_replay_server() -> Iterator[ReplayServer]:
    replay = ReplayServer()
    with serve_in_thread(replay.app()) as server:
        replay.port = bound_port(server)
        yield replay
