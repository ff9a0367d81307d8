"""The access log: one JSON line and a request count per HTTP request (middleware)."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibevoice_platform.tts.state import ServiceState

access_log = logging.getLogger("vibevoice_platform.tts.access")


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AccessLog:
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
        path: str = scope["path"]
        endpoint = path if path in self.paths else "other"
        counted = False

        def count() -> None:
            nonlocal counted
            if not counted:
                counted = True
                self.state.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()

        async def send_and_note(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    # Counted before the last byte goes out: a client that has read the whole
                    # response and then scrapes /metrics always finds its request counted (the
                    # stream's cleanup, which may take a worker-thread hop, comes after).
                    count()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            count()  # a response that never finished (an error, a client gone) counts too
            if self.state.settings.log_requests and endpoint not in ("/health", "/ready"):
                self._log(scope, status, sent, time.perf_counter() - started)

    def _log(self, scope: Scope, status: int, sent: int, seconds: float) -> None:
        record: dict[str, Any] = {
            "ts": timestamp(),
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
