"""An ASGI app served in-process, message by message, as a server would serve it.

For the services' fuzz tests: every byte of a request (method, path, raw query string,
headers, body pieces, WebSocket messages) is the test's choice, nothing normalises it on the
way, every exchange runs under a time limit (a hung request is a finding, not a hung test),
and what the app sends is checked against what the ASGI spec and RFC 6455 let a server put on
the wire (a text frame that is not UTF-8, a close reason over 123 bytes, a message after the
end). The lifespan runs once, as under uvicorn, on an event loop in a thread of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp, Message

TIMEOUT_SECONDS = 20.0
"""Longer than any exchange of these tests takes; reaching it means the app hung."""

MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 5.5: a control frame's payload is at most 125 bytes


@dataclass
class HTTPExchange:
    """What the app answered one HTTP request."""

    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False
    hung: bool = False
    raised: BaseException | None = None
    violations: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebSocketSession:
    """What the app did with one WebSocket connection."""

    accepted: bool = False
    subprotocol: str | None = None
    frames: list[str | bytes] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    denial: HTTPExchange | None = None
    hung: bool = False
    raised: BaseException | None = None
    violations: list[str] = field(default_factory=list)

    @property
    def events(self) -> list[Any]:
        """The text frames, parsed as JSON."""
        return [json.loads(frame) for frame in self.frames if isinstance(frame, str)]


@dataclass
class Served:
    """An app whose lifespan has started; :meth:`http` and :meth:`websocket` talk to it."""

    app: ASGIApp
    portal: BlockingPortal
    timeout: float = TIMEOUT_SECONDS

    def http(
        self,
        method: str,
        path: str,
        *,
        query: bytes = b"",
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: Sequence[bytes] = (b"",),
        disconnect_early: bool = False,
    ) -> HTTPExchange:
        """One request whose body arrives in the pieces ``body``; with ``disconnect_early``
        the client goes away instead of sending the last piece."""
        return self.portal.call(
            _http, self.app, method, path, query, headers, body, disconnect_early, self.timeout
        )

    def websocket(
        self,
        path: str,
        *,
        query: bytes = b"",
        headers: Sequence[tuple[bytes, bytes]] = (),
        subprotocols: Sequence[str] = (),
        messages: Sequence[str | bytes] = (),
        hold_open: bool = False,
    ) -> WebSocketSession:
        """One connection: the client sends ``messages`` in turn, each when the app asks for
        the next; then it closes (1000), or with ``hold_open`` waits for the app to close."""
        return self.portal.call(
            _websocket,
            self.app,
            path,
            query,
            headers,
            subprotocols,
            messages,
            hold_open,
            self.timeout,
        )


@contextmanager
def served(app: ASGIApp) -> Iterator[Served]:
    """``app`` with its lifespan started, on an event loop in another thread."""
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(_lifespan(app)):
        yield Served(app, portal)


@asynccontextmanager
async def _lifespan(app: ASGIApp) -> AsyncIterator[None]:
    to_app, app_receives = anyio.create_memory_object_stream[Message](4)
    app_sends, from_app = anyio.create_memory_object_stream[Message](4)
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    async with anyio.create_task_group() as group:
        group.start_soon(app, scope, app_receives.receive, app_sends.send)
        await to_app.send({"type": "lifespan.startup"})
        started = await from_app.receive()
        assert started["type"] == "lifespan.startup.complete", started
        try:
            yield
        finally:
            await to_app.send({"type": "lifespan.shutdown"})
            await from_app.receive()


def _scope(kind: str, path: str, query: bytes, headers: Sequence[tuple[bytes, bytes]]) -> Message:
    return {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": "2.3" if kind == "http" else "2.4"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _http(
    app: ASGIApp,
    method: str,
    path: str,
    query: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: Sequence[bytes],
    disconnect_early: bool,
    timeout: float,
) -> HTTPExchange:
    scope = {**_scope("http", path, query, headers), "method": method}
    pieces = list(body)
    if disconnect_early:
        pieces.pop()
    done = anyio.Event()
    result = HTTPExchange()

    async def receive() -> Message:
        if pieces:
            piece = pieces.pop(0)
            more = bool(pieces) or disconnect_early
            return {"type": "http.request", "body": piece, "more_body": more}
        if not disconnect_early:
            await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        kind = message["type"]
        if result.complete:
            result.violations.append(f"{kind} after the response ended")
        elif kind == "http.response.start":
            if result.status is not None:
                result.violations.append("a second http.response.start")
            result.status = message["status"]
            for name, value in message.get("headers", []):
                if not isinstance(name, bytes) or not isinstance(value, bytes):
                    result.violations.append(f"header {name!r} is not bytes")
                elif b"\r" in value or b"\n" in value:
                    result.violations.append(f"header {name!r} has a line break")
            result.headers = list(message.get("headers", []))
        elif kind == "http.response.body":
            if result.status is None:
                result.violations.append("a body before http.response.start")
            result.body += message.get("body", b"")
            if not message.get("more_body", False):
                result.complete = True
                done.set()
        else:
            result.violations.append(f"unexpected message {kind}")

    try:
        with anyio.fail_after(timeout):
            await app(scope, receive, send)
    except TimeoutError:
        result.hung = True
    except Exception as exc:
        result.raised = exc
    return result


async def _websocket(
    app: ASGIApp,
    path: str,
    query: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    subprotocols: Sequence[str],
    messages: Sequence[str | bytes],
    hold_open: bool,
    timeout: float,
) -> WebSocketSession:
    scope = {
        **_scope("websocket", path, query, headers),
        "subprotocols": list(subprotocols),
        "extensions": {"websocket.http.response": {}},
    }
    pending = list(messages)
    connected = False
    closed = anyio.Event()
    result = WebSocketSession()
    denial = HTTPExchange()

    async def receive() -> Message:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        if pending and not closed.is_set():
            message = pending.pop(0)
            key = "text" if isinstance(message, str) else "bytes"
            return {"type": "websocket.receive", key: message}
        if hold_open:
            await closed.wait()
        return {"type": "websocket.disconnect", "code": result.close_code or 1000}

    async def send(message: Message) -> None:
        kind = message["type"]
        if closed.is_set():
            result.violations.append(f"{kind} after the connection closed")
        elif kind == "websocket.accept":
            if result.accepted:
                result.violations.append("a second websocket.accept")
            result.accepted = True
            result.subprotocol = message.get("subprotocol")
            if result.subprotocol is not None and result.subprotocol not in subprotocols:
                result.violations.append(f"subprotocol {result.subprotocol!r} was not offered")
        elif kind == "websocket.send":
            if not result.accepted:
                result.violations.append("websocket.send before websocket.accept")
            text, data = message.get("text"), message.get("bytes")
            if (text is None) == (data is None):
                result.violations.append("websocket.send needs exactly one of text and bytes")
            elif text is not None:
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    result.violations.append(f"a text frame that is not UTF-8: {exc}")
                result.frames.append(text)
            else:
                result.frames.append(data)
        elif kind == "websocket.close":
            result.close_code = message.get("code", 1000)
            result.close_reason = message.get("reason") or ""
            try:
                size = len(result.close_reason.encode("utf-8"))
            except UnicodeEncodeError as exc:
                result.violations.append(f"a close reason that is not UTF-8: {exc}")
            else:
                if size > MAX_CLOSE_REASON_BYTES:
                    result.violations.append(f"a close reason of {size} bytes")
            closed.set()
        elif kind == "websocket.http.response.start":
            denial.status = message["status"]
            denial.headers = list(message.get("headers", []))
        elif kind == "websocket.http.response.body":
            denial.body += message.get("body", b"")
            if not message.get("more_body", False):
                denial.complete = True
                result.denial = denial
                closed.set()
        else:
            result.violations.append(f"unexpected message {kind}")

    try:
        with anyio.fail_after(timeout):
            await app(scope, receive, send)
    except TimeoutError:
        result.hung = True
    except Exception as exc:
        result.raised = exc
    return result
