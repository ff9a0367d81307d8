"""Running the app under uvicorn with a graceful, bounded drain on SIGTERM/SIGINT.

On the first signal ``/ready`` turns 503, the listening sockets close (no new connections),
in-flight syntheses (HTTP and WebSocket) get up to ``drain_seconds`` to finish, and then
uvicorn's own shutdown runs. The process then exits 0 instead of re-raising the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Generator
from types import FrameType
from typing import Protocol

import uvicorn
from starlette.applications import Starlette

from vibevoice_platform.tts.app import service_state

EXIT_OK = 0
EXIT_ENGINE_FAILED = 2


class _DrainSettings(Protocol):
    @property
    def drain_seconds(self) -> float: ...


class Drainable(Protocol):
    """What :class:`DrainingServer` needs of a service's state (tts's and the agent's)."""

    draining: bool
    inflight: int

    @property
    def settings(self) -> _DrainSettings: ...


class DrainingServer(uvicorn.Server):
    """A uvicorn server that drains in-flight work (syntheses, turns) before shutting down."""

    def __init__(self, config: uvicorn.Config, state: Drainable) -> None:
        super().__init__(config)
        self.state = state
        self.exit_code = EXIT_OK

    def fail(self, reason: str) -> None:
        """Stop serving because the engine cannot work (called from any thread)."""
        self.exit_code = EXIT_ENGINE_FAILED
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.state.draining = True
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Like uvicorn's, but without re-raising the signal afterwards: a drained shutdown
        # is a clean exit (status 0), not death by SIGTERM.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.state.draining = True
        for server in self.servers:
            server.close()
        deadline = time.monotonic() + self.state.settings.drain_seconds
        while self.state.inflight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        remaining = max(0.5, deadline - time.monotonic())
        self.config.timeout_graceful_shutdown = int(remaining) + 1
        await super().shutdown(sockets)


def request_head_limit(max_text_chars: int) -> int:
    """Bytes a request head may take so that ``WS /stream?text=`` fits any allowed text.

    The text travels in the URL: up to 4 UTF-8 bytes a character, each percent-encoded as 3,
    so 12 bytes a character, plus room for the other parameters and headers. uvicorn's default
    (16 KiB) would make a valid 2,000-character non-Latin text hang the handshake.
    """
    return max(16 * 1024, 12 * max_text_chars + 16 * 1024)


def allow_long_request_lines(limit: int) -> None:
    """Let the WebSocket handshake accept request lines up to ``limit`` bytes.

    The websockets library caps a request line at 8 KiB, set by the documented
    ``WEBSOCKETS_MAX_LINE_LENGTH`` variable that it reads when imported; it is set here for a
    later import and applied to the modules already loaded.
    """
    os.environ["WEBSOCKETS_MAX_LINE_LENGTH"] = str(limit)
    for name in ("websockets.http11", "websockets.legacy.http"):
        module = sys.modules.get(name)
        if module is not None:
            current = int(getattr(module, "MAX_LINE_LENGTH", 0))
            setattr(module, "MAX_LINE_LENGTH", max(current, limit))  # noqa: B010


def serve(app: Starlette, host: str, port: int) -> int:
    """Serve ``app`` until a signal (or an engine failure); return the exit status."""
    state = service_state(app)
    head_limit = request_head_limit(state.settings.max_text_chars)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(state.settings.drain_seconds) + 1,
        server_header=False,
        h11_max_incomplete_event_size=head_limit,
    )
    allow_long_request_lines(head_limit)
    server = DrainingServer(config, state)
    state.on_fatal = server.fail
    server.run()
    return server.exit_code
