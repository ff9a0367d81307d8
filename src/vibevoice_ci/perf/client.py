"""One timed request to the tts service: ``POST /v1/tts`` on a raw socket, or ``WS /stream``.

The timing rule is ``scripts/bench_tts.py``'s: TTFA runs from just before the request is
written (or, in an open loop, from the moment it was *scheduled*, so a late start is counted
and not hidden) to the first byte of *audio*, i.e. chunked body data or the first binary
WebSocket frame, never headers or log frames; end-to-end runs to the last byte. Every arrival
of audio is recorded as (seconds since the request started, audio bytes so far), which is what
the realtime check (``realtime.py``) needs.

The HTTP client is a minimal HTTP/1.1 client on a keep-alive socket with TCP_NODELAY, so the
numbers carry as little client time as possible. Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
SAMPLE_WIDTH = 2  # the service streams signed 16-bit mono PCM


class Kind(StrEnum):
    """How a request ended. ``REJECTED`` (429, WebSocket 1013) and ``UNAVAILABLE`` (503) are
    the service shedding load and are counted apart from failures."""

    OK = "ok"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    HTTP_ERROR = "http_error"  # any other status
    TRUNCATED = "truncated"  # the stream ended before its end marker
    NO_AUDIO = "no_audio"
    CONNECTION = "connection"  # refused, reset, closed
    TIMEOUT = "timeout"

    @property
    def is_failure(self) -> bool:
        return self not in (Kind.OK, Kind.REJECTED, Kind.UNAVAILABLE)


@dataclass(frozen=True)
class Result:
    """One request: how it ended and its timings (seconds; ``None`` where it never got there)."""

    endpoint: str  # "http" or "ws"
    prompt: int  # index into the prompt set
    kind: Kind
    status: int | None  # HTTP status or WebSocket close code
    ttfa: float | None
    e2e: float | None
    audio_bytes: int
    sample_rate: int | None
    arrivals: tuple[tuple[float, int], ...] = field(default=(), repr=False)

    @property
    def audio_seconds(self) -> float:
        if not self.sample_rate:
            return 0.0
        return self.audio_bytes / SAMPLE_WIDTH / self.sample_rate


class _Closed(Exception):
    """The server closed the connection."""


class _Truncated(Exception):
    """A malformed or cut-off chunked body."""


class HttpTtsClient:
    """Just enough HTTP/1.1 to POST to ``/v1/tts`` and read its chunked audio, on one
    keep-alive connection (reconnecting after an error or a ``Connection: close``)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> socket.socket:
        if self.sock is None:
            sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
        return self.sock

    def synthesize(self, text: str, prompt: int, started: float | None = None) -> Result:
        """POST ``text`` to ``/v1/tts``; ``started`` (a ``time.perf_counter()`` value) is when
        the request was due, defaulting to now."""
        return self.post("/v1/tts", {"text": text}, prompt, started)

    def post(
        self,
        path: str,
        document: Mapping[str, object],
        prompt: int = 0,
        started: float | None = None,
    ) -> Result:
        """POST ``document`` as JSON to ``path`` and time its chunked body (the agent's
        ``/v1/reply`` streams its audio frames the same way ``/v1/tts`` streams audio)."""
        body = json.dumps(document).encode("utf-8")
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        arrivals: list[tuple[float, int]] = []
        status: int | None = None
        rate: int | None = None
        begin = time.perf_counter() if started is None else started

        def result(kind: Kind, end: float | None = None) -> Result:
            ttfa = arrivals[0][0] if arrivals else None
            e2e = None if end is None else end - begin
            received = arrivals[-1][1] if arrivals else 0
            return Result("http", prompt, kind, status, ttfa, e2e, received, rate, tuple(arrivals))

        try:
            sock = self._connect()
            self.buffer = b""
            sock.sendall(head + body)
            status, headers = self._read_head()
            if status != 200:
                self._discard_body(headers)
                return result(_kind_for_status(status), time.perf_counter())
            rate = int(headers.get("x-sample-rate", "0")) or None
            if headers.get("transfer-encoding", "").lower() != "chunked":
                self.close()
                return result(Kind.HTTP_ERROR, time.perf_counter())
            self._read_chunked(begin, arrivals)
            end = time.perf_counter()
            if headers.get("connection", "").lower() == "close":
                self.close()
        except TimeoutError:
            self.close()
            return result(Kind.TIMEOUT)
        except _Truncated:
            self.close()
            return result(Kind.TRUNCATED)
        except (_Closed, OSError):
            self.close()
            return result(Kind.TRUNCATED if arrivals else Kind.CONNECTION)
        return result(Kind.OK if arrivals else Kind.NO_AUDIO, end)

    def _read_chunked(self, begin: float, arrivals: list[tuple[float, int]]) -> None:
        """Decode the chunked body, recording each arrival of audio bytes."""
        received = 0
        while True:
            line = self._read_line()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise _Truncated from None
            if size == 0:
                self._read_line()  # the empty line after the last chunk (no trailers)
                return
            remaining = size
            while remaining:
                if not self.buffer:
                    self._fill()
                taken = min(remaining, len(self.buffer))
                self.buffer = self.buffer[taken:]
                remaining -= taken
                received += taken
                arrivals.append((time.perf_counter() - begin, received))
            while len(self.buffer) < 2:
                self._fill()
            if self.buffer[:2] != b"\r\n":
                raise _Truncated
            self.buffer = self.buffer[2:]

    def _discard_body(self, headers: dict[str, str]) -> None:
        length = int(headers.get("content-length", "0") or 0)
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()

    def _fill(self) -> None:
        if self.sock is None:
            raise _Closed
        data = self.sock.recv(262144)
        if not data:
            raise _Closed
        self.buffer += data

    def _read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            raise _Truncated from None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers


def _kind_for_status(status: int) -> Kind:
    if status == 429:
        return Kind.REJECTED
    if status == 503:
        return Kind.UNAVAILABLE
    return Kind.HTTP_ERROR


WS_BUSY = 1013  # the service's "over capacity, loading or draining" close code


class WsTtsClient:
    """``WS /stream``: one connection per request (the text travels in the URL), so the
    connection and handshake are part of its TTFA."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout

    def close(self) -> None:
        """Nothing is kept open between requests."""

    def synthesize(self, text: str, prompt: int, started: float | None = None) -> Result:
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        url = f"ws://{HOST}:{self.port}/stream?{urlencode({'text': text})}"
        arrivals: list[tuple[float, int]] = []
        rate: int | None = None
        received = 0
        begin = time.perf_counter() if started is None else started

        def result(kind: Kind, status: int | None, end: float | None) -> Result:
            ttfa = arrivals[0][0] if arrivals else None
            e2e = None if end is None else end - begin
            return Result("ws", prompt, kind, status, ttfa, e2e, received, rate, tuple(arrivals))

        try:
            with connect(
                url, open_timeout=self.timeout, close_timeout=self.timeout, max_size=None
            ) as ws:
                while True:
                    try:
                        message = ws.recv(timeout=self.timeout)
                    except ConnectionClosed as closed:
                        end = time.perf_counter()
                        code = closed.rcvd.code if closed.rcvd is not None else None
                        if code == 1000:
                            return result(Kind.OK if arrivals else Kind.NO_AUDIO, code, end)
                        if code == WS_BUSY:
                            return result(Kind.REJECTED, code, end)
                        return result(Kind.TRUNCATED if arrivals else Kind.HTTP_ERROR, code, end)
                    if isinstance(message, bytes):
                        received += len(message)
                        arrivals.append((time.perf_counter() - begin, received))
                    else:
                        rate = _sample_rate_from_log(message) or rate
        except TimeoutError:
            return result(Kind.TIMEOUT, None, None)
        except InvalidStatus as exc:
            status = exc.response.status_code
            return result(_kind_for_status(status), status, time.perf_counter())
        except (WebSocketException, OSError):
            return result(Kind.CONNECTION, None, None)


def _sample_rate_from_log(message: str) -> int | None:
    try:
        frame: Any = json.loads(message)
    except ValueError:
        return None
    if isinstance(frame, dict) and isinstance(frame.get("sample_rate"), int):
        rate: int = frame["sample_rate"]
        return rate
    return None


ClientFactory = Callable[[int, float], "HttpTtsClient | WsTtsClient"]
CLIENTS: dict[str, ClientFactory] = {"http": HttpTtsClient, "ws": WsTtsClient}
