"""GitHub's REST API for the workflows executed by act: the stand-in on 127.0.0.1.

A job that comments on a pull request or opens an issue talks to ``$GITHUB_API_URL`` with the
automatic ``GITHUB_TOKEN``, which a runner sets for every job. Here the harness starts the
stand-in the tests already have (``tests/integration/notify_server.py serve``), for the whole
chain, so a comment one run posts is there for a later run to edit; it gives the planned runs
that need it (``PlannedRun.github_api``) its address through ``--env GITHUB_API_URL`` (which
act puts in the job's environment and its ``github.api_url`` instead of api.github.com) and a
token made for this harness run as the ``GITHUB_TOKEN`` secret (act's ``github.token``). What
the stand-in received is kept as JSON lines (never the token) in ``reports/workflows/``.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import UsageError

STAND_IN = Path("tests") / "integration" / "notify_server.py"
RECORD_NAME = "github-api.jsonl"
TOKEN_VARIABLE = "VIBEVOICE_STAND_IN_TOKEN"  # noqa: S105 (a variable name, not a value)


@dataclass(frozen=True)
class GitHubApi:
    """The running stand-in: its base URL and the token it accepts."""

    url: str
    token: str
    record: Path


def stand_in_argv(python: str, script: Path, repository: str, record: Path) -> list[str]:
    """The command that serves the stand-in (pure); the token goes in its environment."""
    return [python, str(script), "serve", "--repository", repository, "--record", str(record)]


@contextmanager
def github_api(root: Path, repository: str, record: Path) -> Iterator[GitHubApi]:
    """The stand-in, serving on 127.0.0.1 until the ``with`` ends (then stopped)."""
    token = f"ghs_{secrets.token_hex(18)}"
    argv = stand_in_argv(sys.executable, root / STAND_IN, repository, record)
    process = subprocess.Popen(
        argv,
        cwd=root,
        env={TOKEN_VARIABLE: token},  # it needs nothing else (the standard library alone)
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = (process.stdout.readline() if process.stdout else "").strip()
        if not first.startswith("http://127.0.0.1:"):
            raise UsageError(f"{STAND_IN}: the GitHub API stand-in did not start ({first!r})")
        print(f"GitHub API stand-in: {first} (requests kept in {record})", flush=True)
        yield GitHubApi(url=first, token=token, record=record)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
