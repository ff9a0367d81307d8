"""GitHub's REST API for the workflows executed by act: the stand-in on 127.0.0.1.

A job that comments on a pull request or opens an issue talks to ``$GITHUB_API_URL`` with the
automatic ``GITHUB_TOKEN``, which a runner sets for every job. Here the harness starts the
stand-in the tests already have (``tests/integration/notify_server.py serve``), for the whole
chain, so a comment one run posts is there for a later run to edit; it gives the planned runs
that need it (``PlannedRun.github_api``) its address through ``--env GITHUB_API_URL`` (which
act puts in the job's environment and its ``github.api_url`` instead of api.github.com) and a
token made for this harness run as the ``GITHUB_TOKEN`` secret (act's ``github.token``), or the
``GITHUB_TOKEN`` secret the harness was given (``--secret GITHUB_TOKEN``: the release chain's
registry password), so that one token serves both, as on GitHub. What the stand-in received is
kept as JSON lines (never the token) in ``reports/workflows/``, appended to by a later
invocation of the same CI run (``--append``).

The stand-in also lists workflow runs (``GET /repos/{o}/{r}/actions/runs?head_sha=``, which
promote's and sign's tests gate asks): the runs this harness really executed, as
``workflows.json`` records them, those of earlier invocations kept by ``--append`` included
(:func:`api_runs`). The harness rewrites that list (``github-api-runs.json``) as each run
finishes, and the stand-in reads it for every request.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.workflows.reports import WorkflowRunRecord

STAND_IN = Path("tests") / "integration" / "notify_server.py"
RECORD_NAME = "github-api.jsonl"
RUNS_NAME = "github-api-runs.json"  # the workflow runs the stand-in lists
SERVER_URL = "https://github.com"  # the runs' html_url, as GitHub would spell them
TOKEN_VARIABLE = "VIBEVOICE_STAND_IN_TOKEN"  # noqa: S105 (a variable name, not a value)


@dataclass(frozen=True)
class GitHubApi:
    """The running stand-in: its base URL and the token it accepts."""

    url: str
    token: str
    record: Path


def stand_in_argv(
    python: str, script: Path, repository: str, record: Path, runs: Path | None = None
) -> list[str]:
    """The command that serves the stand-in (pure); the token goes in its environment."""
    argv = [python, str(script), "serve", "--repository", repository, "--record", str(record)]
    return argv + (["--runs", str(runs)] if runs is not None else [])


def api_runs(
    records: Sequence[WorkflowRunRecord], names: Mapping[str, str], repository: str
) -> list[dict[str, Any]]:
    """The workflow runs the stand-in lists (pure): each recorded run that concluded, as
    GitHub's REST API spells a completed run. ``names`` maps a workflow file to its ``name:``
    (the API's ``name``); the harness's run id is the run's id and number. A run act never
    concluded (``not run``) is not listed."""
    runs = []
    for record in records:
        if record.conclusion == "not run":
            continue
        runs.append(
            {
                "id": record.run_id,
                "name": names.get(record.workflow, record.workflow),
                "path": f".github/workflows/{record.workflow}",
                "head_sha": record.head_sha,
                "event": record.event,
                "status": "completed",
                "conclusion": record.conclusion,
                "run_number": record.run_id,
                "run_attempt": 1,
                "html_url": f"{SERVER_URL}/{repository}/actions/runs/{record.run_id}",
            }
        )
    return runs


def write_api_runs(
    path: Path,
    records: Sequence[WorkflowRunRecord],
    names: Mapping[str, str],
    repository: str,
) -> None:
    """Rewrite the list the stand-in serves (atomically: it reads it for each request)."""
    write_json_atomic(path, api_runs(records, names, repository))


@contextmanager
def github_api(
    root: Path,
    repository: str,
    record: Path,
    *,
    runs: Path | None = None,
    token: str | None = None,
) -> Iterator[GitHubApi]:
    """The stand-in, serving on 127.0.0.1 until the ``with`` ends (then stopped); it accepts
    ``token`` (default: one made now) and lists the runs in ``runs``."""
    token = token or f"ghs_{secrets.token_hex(18)}"
    argv = stand_in_argv(sys.executable, root / STAND_IN, repository, record, runs)
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
