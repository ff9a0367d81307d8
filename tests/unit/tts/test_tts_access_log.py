"""Every HTTP request is counted in ``tts_requests_total`` before its last byte goes out.

A client that has read a whole response and then scrapes /metrics must find that response
counted (the smoke session's metrics check does exactly that). The stream's cleanup takes a
worker-thread hop after the last byte, so counting when the app returns raced with the scrape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from tts_helpers import StubEngine

from vibevoice_platform.tts.app import create_app, service_state
from vibevoice_platform.tts.engines.base import NO_OPTIONS, SynthesisOptions
from vibevoice_platform.tts.settings import Settings

Message = dict[str, Any]


class TwoChunks(StubEngine):
    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        return iter([b"\x01\x00" * 100, b"\x02\x00" * 100])


def _app() -> Starlette:
    app = create_app(Settings(engine="espeak", log_requests=False), TwoChunks())
    service_state(app).mark_ready()
    return app


def _count(app: Starlette, endpoint: str, status: str) -> float:
    value = service_state(app).metrics.requests.labels(endpoint=endpoint, status=status)
    return float(value._value.get())


def _scope(app: Starlette, method: str, path: str) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "app": app,
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/tts", {"text": "Hello there."}, "200"),
        ("POST", "/v1/tts", {"text": ""}, "422"),
        ("GET", "/health", None, "200"),
    ],
)
def test_a_request_is_counted_before_its_last_byte_is_sent(
    method: str, path: str, body: dict[str, str] | None, status: str
) -> None:
    app = _app()
    seen_at_end: list[float] = []
    payload = json.dumps(body).encode() if body is not None else b""

    requested = False

    async def receive() -> Message:
        nonlocal requested
        if requested:  # the client stays connected: the disconnect watcher just waits
            await anyio.sleep_forever()
        requested = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            seen_at_end.append(_count(app, path, status))

    async def run() -> None:
        await app(_scope(app, method, path), receive, send)

    anyio.run(run)

    assert seen_at_end == [1.0]  # already counted when the client got the end
    assert _count(app, path, status) == 1.0  # and counted once, not again at the end
