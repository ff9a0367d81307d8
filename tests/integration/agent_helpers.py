"""Real servers on 127.0.0.1 for the agent's tests: the agent app, and a tts that misbehaves."""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from anthropic_replay import bound_port, serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vibevoice_platform.agent.app import create_app
from vibevoice_platform.agent.responders import create_responder
from vibevoice_platform.agent.settings import Settings
from vibevoice_platform.agent.tokens import TokenChecker

RATE = 22050


def tone(seconds: float) -> bytes:
    count = int(RATE * seconds)
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(count))
    )


@dataclass
class FaultyTTS:
    """A tts stand-in whose ``mode`` a test sets: ``ok`` (a tone per sentence), ``429``,
    ``503``, ``stall`` (never answers), ``drop`` (some audio, then the connection drops),
    ``stall-mid`` (some audio, then silence on the wire)."""

    mode: str = "ok"
    port: int = 0
    requests: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/tts", self.tts, methods=["POST"]),
                Route("/ready", self.ready, methods=["GET"]),
            ]
        )

    async def ready(self, request: Request) -> Response:
        ok = self.mode == "ok"
        return JSONResponse({"status": "ready" if ok else "busy"}, status_code=200 if ok else 503)

    async def tts(self, request: Request) -> Response:
        self.requests += 1
        await request.body()
        if self.mode in ("429", "503"):
            return JSONResponse(
                {"error": "over capacity"}, status_code=int(self.mode), headers={"Retry-After": "1"}
            )
        if self.mode == "stall":
            await asyncio.sleep(3600)
        return StreamingResponse(
            self._audio(self.mode),
            media_type=f"audio/L16; rate={RATE}; channels=1",
            headers={"X-Sample-Rate": str(RATE)},
        )

    async def _audio(self, mode: str) -> AsyncIterator[bytes]:
        yield tone(0.1)
        if mode == "drop":
            raise ConnectionAbortedError("dropping mid-stream on purpose")
        if mode == "stall-mid":
            await asyncio.sleep(3600)
        yield tone(0.1)


@contextmanager
def running_faulty_tts() -> Iterator[FaultyTTS]:
    faulty = FaultyTTS()
    with serve_in_thread(faulty.app()) as server:
        faulty.port = bound_port(server)
        yield faulty


@contextmanager
def running_agent(settings: Settings, tokens: tuple[str, ...] | None = None) -> Iterator[str]:
    """The agent app with ``settings`` on 127.0.0.1 (a thread of this process); yields its URL."""
    app = create_app(
        settings,
        create_responder(settings),
        tokens=None if tokens is None else TokenChecker(tokens),
    )
    with serve_in_thread(app) as server:
        yield f"http://127.0.0.1:{bound_port(server)}"
