"""Real helpers for the release tests: a throwaway registry and a flaky TCP proxy, both on
127.0.0.1 (never mocks: the registry is Debian's docker-registry, the proxy forwards bytes)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capabilities import under_ci


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_tool(name: str) -> str:
    """The tool's path; missing: a failure under CI ($CI or VIBEVOICE_REQUIRE_DOCKER=1: a job
    installs what its tests need), else a skip."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (bash scripts/ci/install-tools.sh {name})"
        if under_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextlib.contextmanager
def running_registry(folder: Path) -> Iterator[str]:
    """Debian's docker-registry on a free 127.0.0.1 port; yields ``127.0.0.1:PORT``."""
    binary = require_tool("docker-registry")
    port = free_port()
    config_file = folder / "registry.yml"
    config_file.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "serve", str(config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            for _ in range(120):
                try:
                    client.get(f"http://127.0.0.1:{port}/v2/")
                    break
                except httpx.HTTPError:
                    time.sleep(0.25)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class FlakyProxy:
    """A TCP proxy on 127.0.0.1 in front of ``upstream``.

    ``drop_first`` connections are accepted and closed at once (a connection reset to the
    client); ``delay_first`` more are held ``delay`` seconds before forwarding; with
    ``forbid`` every connection gets an HTTP 403 instead. ``connections`` counts them all.
    """

    def __init__(
        self,
        upstream: str,
        *,
        drop_first: int = 0,
        delay_first: int = 0,
        delay: float = 0.0,
        forbid: bool = False,
    ) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.drop_first = drop_first
        self.delay_first = delay_first
        self.delay = delay
        self.forbid = forbid
        self.connections = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._server.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._handle, args=(client, number), daemon=True).start()

    def _handle(self, client: socket.socket, number: int) -> None:
        with client:
            if self.forbid:
                with contextlib.suppress(OSError):
                    client.recv(65536)
                    client.sendall(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n"
                        b"Connection: close\r\n\r\nforbidden"
                    )
                return
            if number <= self.drop_first:
                with self._lock:
                    self.dropped += 1
                client.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                return
            if number <= self.drop_first + self.delay_first:
                time.sleep(self.delay)
            try:
                upstream = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                return
            with upstream:
                pump = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
                pump.start()
                _pump(client, upstream)
                pump.join(timeout=60)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
