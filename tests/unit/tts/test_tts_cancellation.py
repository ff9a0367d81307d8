"""A stream cancelled mid-way (uvicorn's graceful-shutdown timeout, a cancelled task group)
still stops the engine, frees its thread and lock, gives back its slot and records metrics.

The app is driven directly as an ASGI callable, and cancelled once the first audio is out.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from tts_helpers import StubEngine

from vibevoice_platform.tts.app import create_app, service_state
from vibevoice_platform.tts.engines import Engine
from vibevoice_platform.tts.engines.base import NO_OPTIONS, SynthesisOptions
from vibevoice_platform.tts.settings import Settings

LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog, again and again."] * 30)
Message = dict[str, Any]


class _HeldChunks:
    """An engine iterator that holds ``lock`` from its creation until it is closed.

    A plain iterator, not a generator: nothing closes it when it is garbage-collected, so the
    lock is free afterwards only if the service closed it.
    """

    def __init__(self, lock: threading.Lock) -> None:
        if not lock.acquire(blocking=False):
            raise RuntimeError("the engine is still held by an earlier synthesis")
        self._lock = lock
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.closed:
            raise StopIteration
        return b"\x01\x00" * 441  # 10 ms of audio, forever

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._lock.release()


class HeldLockEngine(StubEngine):
    """An endless engine holding one lock per synthesis, like espeak's and VibeVoice's."""

    name = "held-lock"

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        return _HeldChunks(self.lock)


def _ready_app(engine: Engine) -> Starlette:
    app = create_app(Settings(engine="espeak", log_requests=False), engine)
    service_state(app).mark_ready()  # no lifespan here: the engine is already loaded
    return app


def _http_scope(app: Starlette) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/tts",
        "raw_path": b"/v1/tts",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "app": app,
    }


def _ws_scope(app: Starlette) -> Message:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/stream",
        "raw_path": b"/stream",
        "root_path": "",
        "query_string": f"text={LONG_TEXT}".encode(),
        "headers": [],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "app": app,
    }


class _Client:
    """The server side of one ASGI connection whose client never goes away by itself."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.first_audio = anyio.Event()
        self.sent: list[Message] = []
        self._opened = False

    async def receive(self) -> Message:
        if not self._opened:
            self._opened = True
            if self.endpoint == "/v1/tts":
                body = json.dumps({"text": LONG_TEXT}).encode()
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "websocket.connect"}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        body = message.get("body") if message["type"] == "http.response.body" else None
        frame = message.get("bytes") if message["type"] == "websocket.send" else None
        if body or frame:
            self.first_audio.set()
        await anyio.sleep(0.001)  # a client that reads slower than espeak speaks


async def _cancel_after_first_audio_with_a_cancel_scope(
    run: Callable[[], Awaitable[None]], client: _Client
) -> None:
    """Cancel as structured concurrency does: every later await in the stream is cancelled."""
    with anyio.CancelScope() as scope, anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await client.first_audio.wait()
            scope.cancel()
    assert scope.cancelled_caught


async def _cancel_after_first_audio_with_task_cancel(
    run: Callable[[], Awaitable[None]], client: _Client
) -> None:
    """Cancel as uvicorn does after its graceful-shutdown timeout: ``task.cancel()``."""
    task = asyncio.ensure_future(run())
    with anyio.fail_after(30):
        await client.first_audio.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


CANCELLERS = {
    "cancel-scope": _cancel_after_first_audio_with_a_cancel_scope,
    "task-cancel": _cancel_after_first_audio_with_task_cancel,
}


def _cancel_mid_stream(app: Starlette, endpoint: str, how: str) -> _Client:
    client = _Client(endpoint)
    scope = _http_scope(app) if endpoint == "/v1/tts" else _ws_scope(app)

    async def run() -> None:
        await app(scope, client.receive, client.send)

    async def main() -> None:
        await CANCELLERS[how](run, client)

    anyio.run(main, backend="asyncio")
    return client


def _synthesis_count(app: Starlette, endpoint: str) -> float | None:
    registry = service_state(app).metrics.registry
    return registry.get_sample_value("tts_synthesis_seconds_count", {"endpoint": endpoint})


@pytest.mark.parametrize("how", sorted(CANCELLERS))
@pytest.mark.parametrize("endpoint", ["/v1/tts", "/stream"])
def test_a_cancelled_stream_releases_the_engine_lock_and_its_slot(endpoint: str, how: str) -> None:
    engine = HeldLockEngine()
    app = _ready_app(engine)
    client = _cancel_mid_stream(app, endpoint, how)
    assert client.first_audio.is_set()
    assert not engine.lock.locked()  # the engine's iterator was closed, not abandoned
    state = service_state(app)
    assert state.inflight == 0
    assert state.metrics.registry.get_sample_value("tts_inflight_syntheses") == 0
    assert _synthesis_count(app, endpoint) == 1


def _espeak_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "espeak-synth"]


@pytest.mark.parametrize("how", sorted(CANCELLERS))
@pytest.mark.parametrize("endpoint", ["/v1/tts", "/stream"])
def test_a_cancelled_espeak_stream_ends_its_producer_and_records_metrics(
    espeak_engine: Engine, endpoint: str, how: str
) -> None:
    app = _ready_app(espeak_engine)
    client = _cancel_mid_stream(app, endpoint, how)
    assert client.first_audio.is_set()
    assert _espeak_threads() == []
    runtime: Any = getattr(espeak_engine, "_runtime", None)
    assert runtime is not None
    assert not runtime.lock.locked()
    registry = service_state(app).metrics.registry
    assert _synthesis_count(app, endpoint) == 1
    audio_seconds = registry.get_sample_value("tts_audio_seconds_total")
    assert audio_seconds is not None
    assert 0 < audio_seconds < 60  # some audio went out, far from all of the text
    assert service_state(app).inflight == 0
