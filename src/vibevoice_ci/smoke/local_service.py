"""Running a platform service as a local process on 127.0.0.1 (tests, smoke checks, benchmarks).

``running_service()`` starts ``python -m <module> --host 127.0.0.1 --port <free port> ...``,
waits until ``GET /ready`` answers 200, yields a :class:`LocalService`, and always stops the
process on exit (SIGTERM, a bounded wait for its drain, then SIGKILL).
``running_tts_service()`` and ``running_agent_service()`` are its two uses. It is the smoke
session's fallback when no Docker engine is reachable, so it uses only the standard library
and httpx.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from vibevoice_ci.core.errors import CheckFailedError, ToolMissingError
from vibevoice_ci.tools._exec import start_process, stop_process

HOST = "127.0.0.1"
STOP_TIMEOUT = 45.0
"""Seconds to wait after SIGTERM (the service drains in-flight streams) before SIGKILL."""


class ServiceStartError(CheckFailedError):
    """The service exited or did not become ready; the message carries its last log lines."""


@dataclass
class LocalService:
    """A service process started by :func:`running_service`."""

    engine: str
    """The tts engine, or for another service what it runs with (the agent: its tts URL)."""
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the process's combined stdout and stderr."""
        return _tail(self.log_path, lines)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """Send SIGTERM, wait up to ``timeout`` s (then SIGKILL); return the exit status."""
        return stop_process(self.process, timeout=timeout)


def free_port(host: str = HOST) -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_tts_service(
    engine: str = "piper",
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 120.0,
    log_path: Path | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[LocalService]:
    """Run the tts service with ``engine`` on 127.0.0.1 until the ``with`` block ends.

    ``env`` adds to (and overrides) this process's environment, e.g.
    ``{"VIBEVOICE_TTS_MAX_CONCURRENCY": "1"}``. The service's output goes to ``log_path``
    (default: a temporary file, deleted afterwards). Raises :class:`ServiceStartError` when the
    process exits or is not ready within ``ready_timeout`` seconds. ``command`` replaces
    ``python -m vibevoice_platform.tts`` (the host, port and engine flags are appended), e.g.
    a launcher that wraps the engine for the perf gate's A/B evidence.
    """
    with running_service(
        "vibevoice_platform.tts",
        ["--engine", engine],
        label=engine,
        name=f"tts service ({engine})",
        port=port,
        env=env,
        ready_timeout=ready_timeout,
        log_path=log_path,
        command=command,
    ) as service:
        yield service


@contextlib.contextmanager
def running_agent_service(
    tts_url: str,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 60.0,
    log_path: Path | None = None,
) -> Iterator[LocalService]:
    """Run the agent service, speaking through the tts at ``tts_url``, on 127.0.0.1.

    Ready means the agent answers ``/ready`` 200, which it does only once that tts is ready.
    Without ``ANTHROPIC_API_KEY`` in ``env`` it answers with its local responder.
    """
    with running_service(
        "vibevoice_platform.agent",
        ["--tts-url", tts_url],
        label=tts_url,
        name="agent service",
        port=port,
        env=env,
        ready_timeout=ready_timeout,
        log_path=log_path,
    ) as service:
        yield service


@contextlib.contextmanager
def running_service(
    module: str,
    args: Sequence[str],
    *,
    label: str,
    name: str,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 120.0,
    log_path: Path | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[LocalService]:
    """Run ``python -m <module> --host 127.0.0.1 --port <port> <args>`` until the block ends.

    ``command`` replaces ``python -m <module>`` (the host, port and ``args`` are appended)."""
    chosen_port = port if port is not None else free_port()
    url = f"http://{HOST}:{chosen_port}"
    program = list(command) if command else [sys.executable, "-m", module]
    argv = [*program, "--host", HOST, "--port", str(chosen_port), *args]
    child_env = {**(env or {}), "PYTHONUNBUFFERED": "1"}
    temporary = log_path is None
    if log_path is None:
        handle, path = tempfile.mkstemp(prefix=f"{module.rsplit('.', 1)[-1]}-", suffix=".log")
        os.close(handle)
        log_path = Path(path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file: IO[bytes] = log_path.open("wb")
    try:
        process = start_process(argv, output=log_file, env=child_env)
    except ToolMissingError as exc:
        log_file.close()
        raise ServiceStartError(f"could not start the {name}: {exc}") from None
    service = LocalService(label, url, chosen_port, process, log_path)
    try:
        _wait_ready(service, name, ready_timeout)
        yield service
    finally:
        stop_process(process, timeout=STOP_TIMEOUT)
        log_file.close()
        if temporary:
            log_path.unlink(missing_ok=True)


def _wait_ready(service: LocalService, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(base_url=service.url, timeout=2.0, trust_env=False) as client:
        while True:
            status = service.process.poll()
            if status is not None:
                raise ServiceStartError(
                    f"{name} exited with status {status} before it was "
                    f"ready; last log lines:\n{service.log_tail()}"
                )
            try:
                response = client.get("/ready")
                if response.status_code == 200:
                    return
                last = f"/ready answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise ServiceStartError(
                    f"{name} not ready at {service.url} after "
                    f"{timeout:.0f} s ({last}); last log lines:\n{service.log_tail()}"
                )
            time.sleep(0.1)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept) if kept else "(empty log)"
