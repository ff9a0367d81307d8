"""The smoke session end to end, through ``python -m vibevoice_ci smoke`` as nox runs it.

- With CI set and no Docker engine, it exits 3 (never a green job) and still leaves its report.
- With a real engine, ``compose logs`` killed mid-session: the stack is still torn down and
  ``smoke.json`` still written. The kill comes from a docker CLI wrapper that passes every
  call through to the real docker, except ``docker compose ... logs``, which dies by SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import EXIT_OK, EXIT_TOOL_MISSING

pytestmark = pytest.mark.integration

ROOT = load_config().root
KILLING_WRAPPER = """\
#!{python}
import os, signal, sys
args = sys.argv[1:]
if "compose" in args and "logs" in args:
    os.kill(os.getpid(), signal.SIGKILL)
os.execv({docker!r}, [{docker!r}, *args])
"""


def _smoke(reports: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIBEVOICE_SMOKE_MODE", "GITHUB_STEP_SUMMARY", "CI"}
    }
    return subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "smoke", *args],
        cwd=ROOT,
        env={**environ, "VIBEVOICE_REPORTS_DIR": str(reports), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _report(reports: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((reports / "smoke" / "smoke.json").read_text())
    assert (reports / "smoke" / "summary.md").is_file()
    return document


@pytest.mark.parametrize(
    "no_engine",
    [
        {"VIBEVOICE_DOCKER": "/nonexistent/docker"},  # no docker CLI at all
        {"DOCKER_HOST": "unix:///nonexistent/docker.sock"},  # a CLI, but no daemon
    ],
    ids=["no-cli", "no-daemon"],
)
def test_smoke_under_ci_without_an_engine_exits_3_with_a_report(
    tmp_path: Path, no_engine: dict[str, str]
) -> None:
    if "DOCKER_HOST" in no_engine and shutil.which("docker") is None:
        pytest.skip("needs a docker CLI to point at a dead daemon")
    completed = _smoke(tmp_path, {"CI": "true", **no_engine})

    assert completed.returncode == EXIT_TOOL_MISSING, completed.stderr
    assert "Traceback" not in completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "$CI is set" in errors[0]
    document = _report(tmp_path)
    assert document["status"] == "unknown"
    assert document["container"] == "unknown"


@pytest.mark.docker
def test_killed_compose_logs_still_tears_down_and_writes_the_report(
    tmp_path: Path, service_images: object
) -> None:
    # service_images: the session builds its images itself; built once for the run, its
    # build is Docker's cache.
    real_docker = shutil.which("docker")
    assert real_docker is not None
    wrapper = tmp_path / "docker"
    wrapper.write_text(KILLING_WRAPPER.format(python=sys.executable, docker=real_docker))
    wrapper.chmod(0o755)
    project = f"smoke-kill-{uuid.uuid4().hex[:8]}"
    reports = tmp_path / "reports"

    try:
        completed = _smoke(
            reports,
            {"VIBEVOICE_DOCKER": str(wrapper), "VIBEVOICE_COMPOSE_PROJECT": project},
            "--mode",
            "docker",
        )
        left = subprocess.run(
            [
                real_docker,
                "ps",
                "--all",
                "--quiet",
                "--filter",
                f"label=com.docker.compose.project={project}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    finally:
        subprocess.run(
            [real_docker, "compose", "--project-name", project, "down", "--volumes"],
            capture_output=True,
            check=False,
        )

    assert completed.returncode == EXIT_OK, completed.stdout + completed.stderr
    assert left == []  # torn down although compose logs died
    document = _report(reports)
    assert document["status"] == "pass"
    statuses = {check["name"]: check["status"] for check in document["checks"]}
    assert statuses["teardown"] == "pass"
    # The container's audio says the sentences, on both endpoints (Piper, the default).
    assert statuses["speech POST /v1/tts"] == statuses["speech WS /stream"] == "pass"
    # ... and the agent's reply audio says the reply text.
    assert statuses["agent speech"] == "pass"
    assert [check["endpoint"] for check in document["speech"]] == [
        "POST /v1/tts",
        "WS /stream",
        "agent POST /v1/reply",
    ]
    assert any("may be incomplete" in note and "-9" in note for note in document["notes"])
