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

import jsonschema
import pytest

from vibevoice_ci.build.reports import Release, ReleaseImage, ReleasePlatform
from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import EXIT_OK, EXIT_TOOL_MISSING
from vibevoice_ci.core.reports import write_report

pytestmark = pytest.mark.integration

ROOT = load_config().root
SOURCES = ROOT / "src" / "vibevoice_ci"
SMOKE_SCHEMA = json.loads((SOURCES / "smoke" / "smoke.schema.json").read_text())
PROMOTE_SCHEMA = json.loads((SOURCES / "promote" / "promote.schema.json").read_text())
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


def _release(path: Path) -> Path:
    """A passing release.json (through the release build's model) asking to move ``latest``."""
    repository = "127.0.0.1:9/vibevoice/vibevoice-tts"  # never contacted: nothing may move
    digest = "sha256:" + "1" * 64
    image = ReleaseImage(
        service="tts",
        repository=repository,
        tag="0123456789ab",
        digest=digest,
        reference=f"{repository}@{digest}",
        platforms=[
            ReleasePlatform(
                platform="linux/amd64",
                digest=digest,
                sbom="sbom/tts-linux-amd64.spdx.json",
                sbom_referrer="sha256:" + "0" * 64,
            )
        ],
        promote_tags=["latest"],
        build_seconds=0.0,
        log="logs/tts.log",
    )
    release = Release(
        status="pass",
        registry=repository.rsplit("/", 1)[0],
        platforms=["linux/amd64"],
        images=[image],
        retries=[],
        notes=[],
    )
    write_report(path, release)
    return path


def test_promote_reads_a_real_smoke_run_that_tested_no_image_and_moves_nothing(
    tmp_path: Path,
) -> None:
    """promote is fed smoke.json as the smoke session wrote it, in the test: a run under CI
    with no Docker CLI, asked to test the release's image, could test nothing (exit 3,
    unknown); promote refuses on that document (exit 1) and records that nothing moved."""
    reports = tmp_path / "reports"
    release = _release(tmp_path / "release.json")
    smoke = _smoke(
        reports,
        {"CI": "true", "VIBEVOICE_DOCKER": "/nonexistent/docker"},
        "--release",
        str(release),
    )
    assert smoke.returncode == EXIT_TOOL_MISSING, smoke.stderr
    smoke_file = reports / "smoke" / "smoke.json"
    document = _report(reports)
    jsonschema.validate(document, SMOKE_SCHEMA)
    assert (document["status"], document["container"], document["images"]) == (
        "unknown",
        "unknown",
        {},
    )

    environ = {k: v for k, v in os.environ.items() if k not in {"GITHUB_STEP_SUMMARY", "CI"}}
    promote = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "promote", "--release", str(release),
         "--smoke", str(smoke_file)],
        cwd=ROOT, env={**environ, "VIBEVOICE_REPORTS_DIR": str(reports)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert promote.returncode == 1, promote.stderr
    errors = [line for line in promote.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: smoke verdict is 'unknown', not pass: tags left unchanged"]
    moved = json.loads((reports / "promote" / "promote.json").read_text())
    jsonschema.validate(moved, PROMOTE_SCHEMA)
    assert (moved["status"], moved["moves"]) == ("fail", [])


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
