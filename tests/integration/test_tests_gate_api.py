"""Only tested commits move or are signed: ``python -m vibevoice_ci promote`` and ``sign`` under
CI, against a real registry (Debian's docker-registry, crane), a real git checkout, and the
GitHub REST API stand-in on 127.0.0.1 (``notify_server.py``) listing the commit's workflow
runs. A passed CI test run moves the tag and is named in promote.json; a failed or missing one
refuses (exit 1), naming the run; an API that does not answer is unknown, which fails under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notify_server import FakeGitHub, running_stand_in
from release_support import require_tool, running_registry
from test_release_registry import _files, _push_image, _release, _smoke
from test_sign_registry import SHA as SIGNED_SHA
from test_sign_registry import _release as _signed_release

from git_history import History
from loopback import closed_port_url
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.report.read import read_session
from vibevoice_ci.tools import crane

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghs_STANDINTOKEN0123456789"  # noqa: S105 (a test value)
REPOSITORY = "o/r"


def workflow_run(run_id: int, commit: str, conclusion: str | None, **fields: Any) -> dict[str, Any]:
    """A run as GitHub's REST API lists it."""
    return {
        "id": run_id,
        "name": "CI test",
        "head_sha": commit,
        "head_branch": "main",
        "path": ".github/workflows/ci-test.yml",
        "event": "push",
        "status": "completed" if conclusion else "in_progress",
        "conclusion": conclusion,
        "run_number": run_id,
        "run_attempt": 1,
        "created_at": "2026-12-01T10:00:00Z",
        "html_url": f"https://github.com/{REPOSITORY}/actions/runs/{run_id}",
        **fields,
    }


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    require_tool("crane")
    folder = tmp_path / "registry"
    folder.mkdir()
    with running_registry(folder) as address:
        yield address


@pytest.fixture
def api() -> Iterator[tuple[str, FakeGitHub]]:
    with running_stand_in(TOKEN, "/webhook") as (base, state):
        state.repository = REPOSITORY
        yield base, state


@pytest.fixture
def project(tmp_path: Path) -> History:
    """A git checkout holding the real pyproject.toml: the CLI's project root."""
    history = History(tmp_path / "checkout")
    shutil.copyfile(REPO_ROOT / "pyproject.toml", history.root / "pyproject.toml")
    return history


def cli(root: Path, api_url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m vibevoice_ci ARGV`` in ``root`` as a CI job runs it: $CI, the API's URL,
    the token and the repository."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GITHUB_") and key not in ("CI", "PYTHONPATH")
    }
    environ |= {
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "CI": "true",
        "GITHUB_API_URL": api_url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
    }
    return subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", *argv],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _released(registry: str, project: History, tmp_path: Path) -> tuple[str, str, list[str]]:
    """An image of a new commit pushed and smoke-tested; the repository, the commit and the
    promote arguments."""
    repository = f"{registry}/vibevoice/vibevoice-tts"
    commit = project.commit("released")
    digest = _push_image(f"{repository}:new", b"the new build", tmp_path, revision=commit)
    release_file, smoke_file = _files(
        tmp_path, _release(repository, digest), _smoke("pass", {"tts": f"{repository}@{digest}"})
    )
    return (
        repository,
        commit,
        ["promote", "--release", str(release_file), "--smoke", str(smoke_file)],
    )


def _promote_report(project: History) -> Any:
    return json.loads((project.root / "reports" / "promote" / "promote.json").read_text("utf-8"))


def _absent(reference: str) -> bool:
    result = subprocess.run(
        ["crane", "digest", "--insecure", reference], capture_output=True, check=False
    )
    return result.returncode != 0


def test_a_passed_ci_test_run_moves_latest_and_is_named(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    base, state = api
    repository, commit, argv = _released(registry, project, tmp_path)
    state.workflow_runs = [
        workflow_run(7, commit, "failure"),  # an earlier run of the same commit, re-run since
        workflow_run(9, commit, "success"),
        workflow_run(12, "f" * 40, "failure"),  # another commit
        workflow_run(13, commit, "failure", name="CI performance"),  # another workflow
    ]

    completed = cli(project.root, base, *argv)

    assert completed.returncode == 0, completed.stderr
    assert crane.digest(f"{repository}:latest")
    report = _promote_report(project)
    assert report["status"] == "pass"
    assert (report["tests"]["status"], report["tests"]["commit"]) == ("pass", commit)
    assert report["tests"]["run"]["id"] == 9
    assert report["tests"]["run"]["html_url"] == f"https://github.com/{REPOSITORY}/actions/runs/9"
    summary = (project.root / "reports" / "promote" / "summary.md").read_text("utf-8")
    assert f"trusted 'CI test' run 9: https://github.com/{REPOSITORY}/actions/runs/9" in summary
    [asked] = [r for r in state.requests if r.path.endswith("/actions/runs")]
    assert asked.headers["authorization"] == f"Bearer {TOKEN}"
    # the report page reads what promote wrote: the gate's check, the run, the commit
    page = read_session(project.root / "reports" / "promote")
    assert (page.status, page.commit) == (Status.PASS, commit)
    [gate] = [check for check in page.verdict.checks if check.name.startswith("CI test")]
    assert (gate.name, gate.status) == (f"CI test of {commit[:12]}", Status.PASS)
    assert "run 9 (#9, attempt 1)" in gate.detail
    assert page.summary_markdown is not None
    assert "trusted 'CI test' run 9" in page.summary_markdown


def test_a_failed_ci_test_run_refuses_with_exit_1_naming_it(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    base, state = api
    repository, commit, argv = _released(registry, project, tmp_path)
    state.workflow_runs = [workflow_run(9, commit, "success"), workflow_run(10, commit, "failure")]

    completed = cli(project.root, base, *argv)

    assert completed.returncode == 1
    assert "run 10 (#10, attempt 1)" in completed.stderr
    assert "concluded failure: tags left unchanged" in completed.stderr
    assert _absent(f"{repository}:latest")
    report = _promote_report(project)
    assert (report["status"], report["moves"]) == ("fail", [])
    assert (report["tests"]["status"], report["tests"]["run"]["id"]) == ("fail", 10)


def test_a_commit_without_a_ci_test_run_is_untested_and_refused(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    base, state = api
    repository, commit, argv = _released(registry, project, tmp_path)
    state.workflow_runs = [
        workflow_run(9, "f" * 40, "success"),
        workflow_run(10, commit, "success", event="pull_request"),
    ]

    completed = cli(project.root, base, *argv)

    assert completed.returncode == 1
    assert f"no 'CI test' run on a push of {commit}" in completed.stderr
    assert _absent(f"{repository}:latest")
    assert _promote_report(project)["tests"]["run"] is None


def test_an_api_that_does_not_answer_is_unknown_which_fails_under_ci(
    registry: str, project: History, tmp_path: Path
) -> None:
    repository, _, argv = _released(registry, project, tmp_path)

    completed = cli(project.root, closed_port_url(), *argv)

    assert completed.returncode == 1
    assert "connection failed" in completed.stderr
    assert "(unknown fails under CI): tags left unchanged" in completed.stderr
    assert _absent(f"{repository}:latest")
    assert _promote_report(project)["tests"]["status"] == "unknown"


def test_the_skip_flag_moves_without_asking_and_records_its_reason(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    base, state = api
    repository, _, argv = _released(registry, project, tmp_path)

    completed = cli(project.root, base, *argv, "--no-require-tests", "the rollback runbook")

    assert completed.returncode == 0, completed.stderr
    assert crane.digest(f"{repository}:latest")
    assert state.requests == []
    tests = _promote_report(project)["tests"]
    assert (tests["status"], tests["detail"]) == (
        "skipped",
        "--no-require-tests: the rollback runbook",
    )


# --- sign ------------------------------------------------------------------------------------


def _sign_report(project: History) -> Any:
    return json.loads((project.root / "reports" / "sign" / "sign.json").read_text("utf-8"))


def test_sign_signs_nothing_for_a_failed_ci_test_run(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    base, state = api
    release = _signed_release(registry, "refused", tmp_path)
    state.workflow_runs = [workflow_run(21, SIGNED_SHA, "cancelled")]

    completed = cli(project.root, base, "sign", "--release", str(release))

    assert completed.returncode == 1
    report = _sign_report(project)
    assert report["cosign_version"] is None  # cosign was never reached
    assert [check["name"] for check in report["checks"]] == [f"CI test of {SIGNED_SHA[:12]}"]
    assert "run 21 (#21, attempt 1)" in report["checks"][0]["detail"]
    assert "concluded cancelled" in report["checks"][0]["detail"]


def test_sign_signs_after_a_passed_ci_test_run_and_names_it(
    registry: str, project: History, api: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    require_tool("cosign")
    base, state = api
    release = _signed_release(registry, "trusted", tmp_path)
    state.workflow_runs = [workflow_run(22, SIGNED_SHA, "success")]

    completed = cli(project.root, base, "sign", "--release", str(release))

    assert completed.returncode == 0, completed.stderr
    report = _sign_report(project)
    assert report["status"] == "pass"
    assert (report["tests"]["status"], report["tests"]["run"]["id"]) == ("pass", 22)
    assert any("trusted 'CI test' run 22" in note for note in report["notes"])
    page = read_session(project.root / "reports" / "sign")
    assert (page.status, page.commit) == (Status.PASS, SIGNED_SHA)
    assert f"CI test of {SIGNED_SHA[:12]}" in [check.name for check in page.verdict.checks]
