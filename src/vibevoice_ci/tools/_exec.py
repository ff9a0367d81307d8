"""Finding and running external tools: the only place the pipeline starts a subprocess, and
the one comparison of a tool's version with its pin."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError


@dataclass(frozen=True)
class ToolResult:
    """What a finished tool run left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def find_tool(name: str, install_hint: str, *, env_override: str | None = None) -> str:
    """Return the path of ``name`` on PATH (or in ``$<env_override>``), or fail with a hint.

    The environment variable, when given and set, names the binary to use instead.
    """
    override = os.environ.get(env_override, "") if env_override else ""
    candidate = override or name
    found = shutil.which(candidate)
    if found is None:
        where = f"${env_override}={override!r}" if override else "PATH"
        raise ToolMissingError(f"{name} not found on {where}: {install_hint}")
    return found


def require_version(
    tool: str, found: str | None, expected: str, install_hint: str, *, binary: str = ""
) -> str:
    """``expected``, when ``found`` is that pinned version; else a ``ToolMissingError`` naming
    what was found (where), the pin and how to install it (pure)."""
    if found != expected:
        where = f" at {binary}" if binary else ""
        raise ToolMissingError(
            f"{tool} {found or 'of an unknown version'} found{where}, "
            f"[tool.vibevoice-ci.tools] pins {expected}: {install_hint}"
        )
    return expected


def inherited(names: Iterable[str]) -> dict[str, str]:
    """The variables among ``names`` that this process has, to hand on to a child started
    under another user or a clean environment (TLS settings, secrets passed by name)."""
    return {name: os.environ[name] for name in names if name in os.environ}


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    capture: bool = True,
    stdin_data: str | None = None,
    timeout: float,
) -> ToolResult:
    """Run ``argv`` (never through a shell) and return its result.

    With ``capture=False`` the tool's output streams straight to this process's stdout and
    stderr, which is what long builds want for progress; the result then holds empty strings.
    A non-zero exit raises ``ToolFailedError`` when ``check`` is set, naming the command and
    the last lines of its error output.
    """
    merged_env = {**os.environ, **env} if env is not None else None
    try:
        completed = subprocess.run(
            list(argv),
            cwd=cwd,
            env=merged_env,
            input=stdin_data,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(f"{argv[0]} could not be started: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise ToolFailedError(f"{_describe(argv)} did not finish within {timeout:g} s") from None
    result = ToolResult(
        argv=tuple(argv),
        returncode=completed.returncode,
        stdout=completed.stdout or "",
        stderr=completed.stderr or "",
    )
    if check and not result.ok:
        raise ToolFailedError(failure_message(result))
    return result


def start_process(
    argv: Sequence[str], *, output: IO[bytes], env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a long-running process (a service) in the background, never through a shell.

    Its stdout and stderr both go to ``output``; stdin is closed. Stop it with
    :func:`stop_process`. A binary that cannot be started is a ``ToolMissingError``.
    """
    merged_env = {**os.environ, **env} if env is not None else None
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=merged_env,
        )
    except OSError as exc:
        raise ToolMissingError(f"{argv[0]} could not be started: {exc.strerror}") from None


def stop_process(process: subprocess.Popen[bytes], *, timeout: float) -> int:
    """SIGTERM, then up to ``timeout`` s for the process to exit (a service drains in that
    time), then SIGKILL; return its exit status. A process already gone is not an error."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return process.wait()
    return process.returncode


Finding = TypeVar("Finding")


def run_linter(
    argv: Sequence[str], parse: Callable[[str], list[Finding]], *, cwd: Path, timeout: float
) -> list[Finding]:
    """Run a linter that exits 0 when clean and 1 with findings; return the parsed findings.

    Any other exit (a crash, a missing file, a bad flag), or exit 1 with nothing parsed, is a
    ``ToolFailedError``: a linter that did not really run must never look clean.
    """
    result = run_tool(argv, cwd=cwd, check=False, timeout=timeout)
    if result.returncode not in (0, 1):
        raise ToolFailedError(failure_message(result))
    findings = parse(result.stdout) if result.stdout.strip() else []
    if result.returncode == 1 and not findings:
        raise ToolFailedError(failure_message(result))
    return findings


def failure_message(result: ToolResult, *, tail_lines: int = 5) -> str:
    """One readable line (plus the tail of stderr) describing a failed run."""
    tail = [line for line in result.stderr.strip().splitlines() if line.strip()][-tail_lines:]
    detail = ("\n  " + "\n  ".join(tail)) if tail else ""
    return f"{_describe(result.argv)} exited {result.returncode}{detail}"


def _describe(argv: Sequence[str]) -> str:
    shown = [Path(argv[0]).name, *(arg.splitlines()[0] if arg else arg for arg in argv[1:4])]
    return " ".join(shown) + (" ..." if len(argv) > 4 else "")
