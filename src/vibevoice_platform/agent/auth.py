"""The bearer-token gate (ASGI middleware) and the agent's access log.

With tokens configured, every request but ``/health`` and ``/ready`` needs
``Authorization: Bearer <token>`` (a WebSocket may offer ``bearer.<token>`` as a subprotocol
instead). A missing or wrong token gets 401 with a JSON error (a WebSocket handshake too,
where the server supports denial responses; else close 1008) and is counted in
``agent_auth_failures_total``. Tokens are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from vibevoice_platform.agent.errors import UNAUTHORIZED
from vibevoice_platform.agent.state import AgentState
from vibevoice_platform.agent.tokens import bearer_from_header, bearer_from_subprotocols

OPEN_PATHS = frozenset({"/health", "/ready"})
ENDPOINTS = frozenset({"/v1/reply", "/v1/converse", "/health", "/ready", "/metrics"})

access_log = logging.getLogger("vibevoice_platform.agent.access")


class BearerAuth:
    def __init__(self, app: ASGIApp, state: AgentState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        checker = self.state.tokens
        if (
            checker is None
            or scope["type"] not in ("http", "websocket")
            or scope["path"] in OPEN_PATHS
        ):
            await self.app(scope, receive, send)
            return
        token = bearer_from_header(Headers(scope=scope).get("authorization"))
        if token is None and scope["type"] == "websocket":
            token = bearer_from_subprotocols(scope.get("subprotocols", []))
        if checker.accepts(token):
            await self.app(scope, receive, send)
            return
        reason = "missing" if token is None else "invalid"
        self.state.metrics.auth_failures.labels(reason=reason).inc()
        self.state.metrics.errors.labels(kind=UNAUTHORIZED).inc()
        response = JSONResponse(
            {"error": f"{reason} bearer token", "kind": UNAUTHORIZED},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="vibevoice-agent"'},
        )
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(response)
        else:  # pragma: no cover - uvicorn supports denial responses
            await websocket.close(code=1008)
        self.state.metrics.requests.labels(endpoint=_endpoint(scope), status="401").inc()


class AccessLog:
    """Counts every HTTP request in ``agent_requests_total`` and logs one JSON line for it."""

    def __init__(self, app: ASGIApp, state: AgentState) -> None:
        self.app = app
        self.state = state

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
            endpoint = _endpoint(scope)
            self.state.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            if self.state.settings.log_requests and endpoint not in OPEN_PATHS:
                record: dict[str, Any] = {
                    "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": scope.get("method"),
                    "path": endpoint,
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "bytes": sent,
                }
                for key in ("responder", "ttfa_ms", "error_kind"):
                    value = scope.get(f"vibevoice.{key}")
                    if value is not None:
                        record[key] = value
                access_log.info(json.dumps(record, separators=(",", ":")))


def _endpoint(scope: Scope) -> str:
    path: str = scope["path"]
    return path if path in ENDPOINTS else "other"
